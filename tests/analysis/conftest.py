"""Real CP2K outputs for the electronic-structure analysis tests (session-scoped, run once).

Plain CP2K inputs (no atomate2): Debian's ``cp2k.psmp`` 2023.1, GTH pseudopotentials,
MOLOPT basis sets from /usr/share/cp2k, PBE. Systems are tiny so that the whole set runs in
a few minutes on two cores:

- ``cp2k_cdd``: ammonia borane H3N–BH3 (dative B–N bond) as AB, and its frozen fragments BH3
  ("slab", below) and NH3 ("molecule", above) in the identical cell and grid; density and ELF
  cubes, Mulliken/Hirshfeld charges.
- ``cp2k_n2``: N2 in a box; ELF, density and Hartree-potential cubes and MO eigenvalues.
- ``cp2k_oh``: the OH radical (UKS, doublet): spin-polarised Mulliken/Hirshfeld tables.
- ``cp2k_dipole``: ammonia borane (AB) and its frozen BH3 (A) in a 8x8x16 Å cell with
  CP2K's SURFACE_DIPOLE_CORRECTION: a polar "layer" with two different vacuum levels, as a
  molecule on a slab; Hartree-potential cubes and the MO listing (E(Fermi) = HOMO).
- ``cp2k_al111``: a 4-layer Al(111) 1x1 slab with 8x8x1 k-points, Fermi smearing and
  CP2K's SURFACE_DIPOLE_CORRECTION; Hartree-potential cube and the Fermi energy.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

_BH3_Z_A = 3.80
_BN_A = 1.66
_BOX_A = (8.0, 8.0, 10.0)


def _ring(center: np.ndarray, radius: float, dz: float, phase_deg: float) -> list[np.ndarray]:
    return [
        center + np.array([radius * np.cos(a), radius * np.sin(a), dz])
        for a in np.radians(phase_deg + np.array([0.0, 120.0, 240.0]))
    ]


def ammonia_borane() -> tuple[list[tuple[str, np.ndarray]], list[int], list[int]]:
    """H3N–BH3 (staggered, B–N 1.66 Å, B–H 1.216 Å, N–H 1.014 Å; gas-phase geometry).

    Returns the atoms (symbol, Cartesian Å), the BH3 indices and the NH3 indices.
    """
    b = np.array([_BOX_A[0] / 2, _BOX_A[1] / 2, _BH3_Z_A])
    n = b + np.array([0.0, 0.0, _BN_A])
    hb = _ring(b, 1.216 * np.sin(np.radians(104.7)), 1.216 * np.cos(np.radians(104.7)), 0.0)
    hn = _ring(n, 1.014 * np.sin(np.radians(111.0)), -1.014 * np.cos(np.radians(111.0)), 60.0)
    atoms = [("B", b), *[("H", h) for h in hb], ("N", n), *[("H", h) for h in hn]]
    return atoms, [0, 1, 2, 3], [4, 5, 6, 7]


def _coord_block(atoms: list[tuple[str, np.ndarray]]) -> str:
    return "\n".join(f"      {s} {p[0]:.6f} {p[1]:.6f} {p[2]:.6f}" for s, p in atoms)


def _kinds(symbols: set[str]) -> str:
    valence = {"H": 1, "B": 3, "N": 5, "O": 6, "Al": 3}
    basis = {"Al": "DZVP-MOLOPT-SR-GTH", "B": "DZVP-MOLOPT-SR-GTH"}  # B: only SR in the file
    return "\n".join(
        f"    &KIND {s}\n      BASIS_SET {basis.get(s, 'DZVP-MOLOPT-GTH')}-q{valence[s]}\n"
        f"      POTENTIAL GTH-PBE-q{valence[s]}\n    &END KIND"
        for s in sorted(symbols)
    )


def molecule_input(
    project: str, atoms: list[tuple[str, np.ndarray]], box_A: tuple[float, float, float],
    prints: str, cutoff_Ry: int = 250, dft_extra: str = "",
) -> str:
    """CP2K input for a molecule in a periodic box (Γ only, diagonalisation so that the
    printed MO energies are eigenvalues); closed shell unless ``dft_extra`` (lines for &DFT,
    e.g. ``UKS`` and ``MULTIPLICITY 2``) says otherwise."""
    return f"""&GLOBAL
  PROJECT {project}
  RUN_TYPE ENERGY
  PRINT_LEVEL MEDIUM
&END GLOBAL
&FORCE_EVAL
  METHOD QS
  &DFT
    BASIS_SET_FILE_NAME BASIS_MOLOPT
    POTENTIAL_FILE_NAME GTH_POTENTIALS
{dft_extra + chr(10) if dft_extra else ""}    &MGRID
      CUTOFF {cutoff_Ry}
      REL_CUTOFF 40
    &END MGRID
    &SCF
      SCF_GUESS ATOMIC
      EPS_SCF 1.0E-6
      MAX_SCF 50
      ADDED_MOS 2
      &DIAGONALIZATION
        ALGORITHM STANDARD
      &END DIAGONALIZATION
      &MIXING
        METHOD BROYDEN_MIXING
        ALPHA 0.4
        NBROYDEN 8
      &END MIXING
    &END SCF
    &XC
      &XC_FUNCTIONAL PBE
      &END XC_FUNCTIONAL
    &END XC
    &PRINT
{prints}
    &END PRINT
  &END DFT
  &SUBSYS
    &CELL
      ABC {box_A[0]} {box_A[1]} {box_A[2]}
    &END CELL
    &COORD
{_coord_block(atoms)}
    &END COORD
{_kinds({s for s, _ in atoms})}
  &END SUBSYS
&END FORCE_EVAL
"""


AL_A_A = 4.05 / np.sqrt(2.0)  # Al fcc a = 4.05 Å (near the PBE 4.04 Å) → (111) in-plane 2.864 Å
AL_LAYER_A = 4.05 / np.sqrt(3.0)  # (111) interlayer spacing
AL_LAYERS = 4
AL_CELL_C_A = 26.0


def al111_input(project: str = "al111") -> str:
    """CP2K input: Al(111) 1x1, AL_LAYERS layers (ABC stacking), 8x8x1 k-points, dipole corr.

    The slab is centred in the cell; the dipole sheet is fixed at z = 1 Å, in the middle of
    the vacuum (CP2K's default puts it at the plane of lowest density, which moves from one
    SCF step to the next in a wide vacuum and spoils convergence). Broyden mixing with Kerker
    damping (BETA) against charge sloshing along the normal. EPS_SCF 1e-4 (largest change of
    a density-matrix element): the k-point SCF of this slab creeps slowly below that, while
    the vacuum level and the Fermi energy are already settled to meV.
    """
    a = AL_A_A
    z0 = AL_CELL_C_A / 2 - (AL_LAYERS - 1) * AL_LAYER_A / 2
    stack = [np.array([0.0, 0.0]), np.array([a / 2, a / (2 * np.sqrt(3))]),
             np.array([a, a / np.sqrt(3)])]
    coords = "\n".join(
        f"      Al {stack[i % 3][0]:.6f} {stack[i % 3][1]:.6f} {z0 + i * AL_LAYER_A:.6f}"
        for i in range(AL_LAYERS)
    )
    return f"""&GLOBAL
  PROJECT {project}
  RUN_TYPE ENERGY
  PRINT_LEVEL MEDIUM
&END GLOBAL
&FORCE_EVAL
  METHOD QS
  &DFT
    BASIS_SET_FILE_NAME BASIS_MOLOPT
    POTENTIAL_FILE_NAME GTH_POTENTIALS
    SURFACE_DIPOLE_CORRECTION .TRUE.
    SURF_DIP_DIR Z
    SURF_DIP_POS 1.0
    &MGRID
      CUTOFF 250
      REL_CUTOFF 40
    &END MGRID
    &KPOINTS
      SCHEME MONKHORST-PACK 8 8 1
    &END KPOINTS
    &SCF
      SCF_GUESS ATOMIC
      EPS_SCF 1.0E-4
      MAX_SCF 60
      ADDED_MOS 10
      &SMEAR ON
        METHOD FERMI_DIRAC
        ELECTRONIC_TEMPERATURE [K] 1000
      &END SMEAR
      &DIAGONALIZATION
        ALGORITHM STANDARD
      &END DIAGONALIZATION
      &MIXING
        METHOD BROYDEN_MIXING
        ALPHA 0.2
        BETA 1.5
        NBROYDEN 8
      &END MIXING
    &END SCF
    &XC
      &XC_FUNCTIONAL PBE
      &END XC_FUNCTIONAL
    &END XC
    &PRINT
      &V_HARTREE_CUBE
        STRIDE 2
      &END V_HARTREE_CUBE
    &END PRINT
  &END DFT
  &SUBSYS
    &CELL
      A {a:.6f} 0.0 0.0
      B {a / 2:.6f} {a * np.sqrt(3) / 2:.6f} 0.0
      C 0.0 0.0 {AL_CELL_C_A}
    &END CELL
    &COORD
{coords}
    &END COORD
{_kinds({"Al"})}
  &END SUBSYS
&END FORCE_EVAL
"""


_RUNS: dict[str, object] = {}
"""One CP2K run per system and process, even when the fixtures are imported elsewhere (the
CLI tests in tests/commands reuse them)."""


def run_cp2k(exe: str, workdir: Path, text: str, name: str = "in") -> Path:
    """Run CP2K on ``text`` in ``workdir`` (2 OpenMP threads); return the output log path.

    With ``SSBFLOW_CP2K_CACHE=DIR`` set (developer machines), runs are kept in
    ``DIR/<hash of the input>`` and a finished run there is reused instead of recomputed;
    CI leaves it unset and always runs CP2K.
    """
    cache = os.environ.get("SSBFLOW_CP2K_CACHE")
    if cache:
        workdir = Path(cache) / hashlib.sha256(text.encode()).hexdigest()[:16]
        log = workdir / f"{name}.out"
        if log.exists() and "PROGRAM ENDED AT" in log.read_text(errors="replace"):
            return log
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / f"{name}.inp").write_text(text)
    log = workdir / f"{name}.out"
    log.unlink(missing_ok=True)  # CP2K appends to an existing output
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    proc = subprocess.run(
        [exe, "-i", f"{name}.inp", "-o", log.name], cwd=workdir, env=env,
        capture_output=True, text=True, timeout=1800, check=False,
    )
    if proc.returncode != 0 or "PROGRAM ENDED AT" not in log.read_text(errors="replace"):
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else proc.stderr[-2000:]
        raise RuntimeError(f"CP2K failed in {workdir}:\n{tail}")
    return log


DENSITY_PRINT = """      &E_DENSITY_CUBE
        STRIDE 2
      &END E_DENSITY_CUBE"""
ELF_PRINT = """      &ELF_CUBE
        STRIDE 2
      &END ELF_CUBE"""
CHARGES_PRINT = """      &MULLIKEN
      &END MULLIKEN
      &HIRSHFELD
        SHAPE_FUNCTION DENSITY
      &END HIRSHFELD"""

HARTREE_PRINT = """      &V_HARTREE_CUBE
        STRIDE 2
      &END V_HARTREE_CUBE"""
MO_PRINT = """      &MO
        EIGENVALUES .TRUE.
        OCCUPATION_NUMBERS .TRUE.
      &END MO"""

@dataclass(frozen=True)
class CddRun:
    """Paths of the three CP2K runs for the CDD (AB, A = BH3, B = NH3)."""

    total: Path
    part_a: Path
    part_b: Path
    log_total: Path
    log_a: Path
    log_b: Path
    slab_indices: list[int]
    molecule_indices: list[int]
    elf_total: Path
    elf_a: Path
    elf_b: Path


@pytest.fixture(scope="session")
def cp2k_cdd(cp2k_exe: str, tmp_path_factory: pytest.TempPathFactory) -> CddRun:
    """Ammonia borane and its frozen BH3 / NH3 fragments, identical cell and grid."""
    if "cdd" in _RUNS:
        return _RUNS["cdd"]  # type: ignore[return-value]
    root = tmp_path_factory.mktemp("cp2k_cdd")
    atoms, a_idx, b_idx = ammonia_borane()
    prints = "\n".join((DENSITY_PRINT, ELF_PRINT, CHARGES_PRINT))
    logs = {}
    cubes = {}
    for name, subset in (("ab", a_idx + b_idx), ("a", a_idx), ("b", b_idx)):
        sub = [atoms[i] for i in subset]
        logs[name] = run_cp2k(cp2k_exe, root / name, molecule_input(name, sub, _BOX_A, prints))
        cubes[name] = next(logs[name].parent.glob("*ELECTRON_DENSITY*.cube"))
    elfs = [next(logs[name].parent.glob("*ELF*.cube")) for name in ("ab", "a", "b")]
    _RUNS["cdd"] = CddRun(cubes["ab"], cubes["a"], cubes["b"], logs["ab"], logs["a"],
                          logs["b"], a_idx, b_idx, *elfs)
    return _RUNS["cdd"]  # type: ignore[return-value]


@dataclass(frozen=True)
class N2Run:
    """Cubes and log of N2 in a box (bond along z)."""

    elf: Path
    density: Path
    hartree: Path
    log: Path
    bond_center_A: np.ndarray


N2_BOND_A = 1.10
N2_BOX_A = (7.0, 7.0, 9.0)


@pytest.fixture(scope="session")
def cp2k_n2(cp2k_exe: str, tmp_path_factory: pytest.TempPathFactory) -> N2Run:
    """N2 in a 7x7x9 Å box: ELF, density and V_HARTREE cubes, MO eigenvalues."""
    if "n2" in _RUNS:
        return _RUNS["n2"]  # type: ignore[return-value]
    root = tmp_path_factory.mktemp("cp2k_n2")
    center = np.array(N2_BOX_A) / 2
    half = np.array([0.0, 0.0, N2_BOND_A / 2])
    atoms = [("N", center - half), ("N", center + half)]
    prints = "\n".join((DENSITY_PRINT, ELF_PRINT, HARTREE_PRINT, MO_PRINT))
    log = run_cp2k(cp2k_exe, root, molecule_input("n2", atoms, N2_BOX_A, prints))
    folder = log.parent
    _RUNS["n2"] = N2Run(
        next(folder.glob("*ELF*.cube")), next(folder.glob("*ELECTRON_DENSITY*.cube")),
        next(folder.glob("*v_hartree*.cube")), log, center,
    )
    return _RUNS["n2"]  # type: ignore[return-value]


OH_BOND_A = 0.97
OH_BOX_A = (6.0, 6.0, 7.0)


@pytest.fixture(scope="session")
def cp2k_oh(cp2k_exe: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Output log of the OH radical (UKS, multiplicity 2) with Mulliken and Hirshfeld charges."""
    if "oh" not in _RUNS:
        root = tmp_path_factory.mktemp("cp2k_oh")
        center = np.array(OH_BOX_A) / 2
        atoms = [("O", center), ("H", center + np.array([0.0, 0.0, OH_BOND_A]))]
        _RUNS["oh"] = run_cp2k(cp2k_exe, root, molecule_input(
            "oh", atoms, OH_BOX_A, CHARGES_PRINT, cutoff_Ry=200,
            dft_extra="    UKS\n    MULTIPLICITY 2"))
    return _RUNS["oh"]  # type: ignore[return-value]


@dataclass(frozen=True)
class SlabRun:
    """V_HARTREE cube and log of the Al(111) slab."""

    hartree: Path
    log: Path


@pytest.fixture(scope="session")
def cp2k_al111(cp2k_exe: str, tmp_path_factory: pytest.TempPathFactory) -> SlabRun:
    """4-layer Al(111) slab, 8x8x1 k-points, surface dipole correction."""
    if "al111" not in _RUNS:
        root = tmp_path_factory.mktemp("cp2k_al111")
        log = run_cp2k(cp2k_exe, root, al111_input())
        _RUNS["al111"] = SlabRun(next(log.parent.glob("*v_hartree*.cube")), log)
    return _RUNS["al111"]  # type: ignore[return-value]


@dataclass(frozen=True)
class DipoleRun:
    """Hartree-potential cubes and logs of AB = H3N–BH3 and A = BH3 (dipole corrected)."""

    hartree_ab: Path
    log_ab: Path
    hartree_a: Path
    log_a: Path


DIPOLE_BOX_A = (8.0, 8.0, 16.0)
DIPOLE_SHIFT_A = np.array([0.0, 0.0, 3.3])  # ammonia_borane() spans z 3.5–5.9 Å: to 6.8–9.2


@pytest.fixture(scope="session")
def cp2k_dipole(cp2k_exe: str, tmp_path_factory: pytest.TempPathFactory) -> DipoleRun:
    """H3N–BH3 (NH3 on top, along +z) and BH3 alone, surface dipole correction along z.

    The molecule is centred in the cell and the dipole sheet fixed at z = 1 Å, in the
    vacuum (as for Al(111); CP2K refuses a sheet with too little vacuum above the atoms),
    so that each side keeps a flat vacuum plateau.
    """
    if "dipole" not in _RUNS:
        root = tmp_path_factory.mktemp("cp2k_dipole")
        atoms, a_idx, _ = ammonia_borane()
        atoms = [(symbol, xyz + DIPOLE_SHIFT_A) for symbol, xyz in atoms]
        dipole = ("    SURFACE_DIPOLE_CORRECTION .TRUE.\n    SURF_DIP_DIR Z\n"
                  "    SURF_DIP_POS 1.0")
        prints = HARTREE_PRINT + "\n" + MO_PRINT
        logs = {}
        for name, sub in (("dab", atoms), ("da", [atoms[i] for i in a_idx])):
            logs[name] = run_cp2k(cp2k_exe, root / name, molecule_input(
                name, sub, DIPOLE_BOX_A, prints, dft_extra=dipole))
        _RUNS["dipole"] = DipoleRun(
            next(logs["dab"].parent.glob("*v_hartree*.cube")), logs["dab"],
            next(logs["da"].parent.glob("*v_hartree*.cube")), logs["da"])
    return _RUNS["dipole"]  # type: ignore[return-value]
