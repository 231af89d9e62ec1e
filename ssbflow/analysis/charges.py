"""Atomic charges: Bader (Henkelman's program via pymatgen, or on-grid here), Mulliken and
Hirshfeld (CP2K output).

Charges are *net* atomic charges in e (positive = the atom lost electrons), for every method:
Bader net charge = valence electrons of the pseudopotential − Bader population. CP2K's
Hirshfeld analysis should use ``&HIRSHFELD SHAPE_FUNCTION DENSITY`` (atomic densities as
shape functions); the Gaussian default shape gives different numbers.

The change on adsorption of an atom is q(atom in AB) − q(same atom in its isolated fragment),
for atoms chosen by index in AB (:func:`charge_changes`).
"""

from __future__ import annotations

import gzip
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from ssbflow.analysis.volumetric import VolumetricGrid
from ssbflow.analysis.volumetric_io import read_volumetric
from ssbflow.errors import InputError

Method = Literal["hirshfeld", "mulliken", "bader"]

_HEADERS = {
    "mulliken": re.compile(r"Mulliken Population Analysis", re.IGNORECASE),
    "hirshfeld": re.compile(r"Hirshfeld Charges", re.IGNORECASE),
}
_ROW = re.compile(r"^\s*(\d+)\s+([A-Z][a-z]?)\s+\d+\s+(.*)$")


@dataclass
class AtomicCharges:
    """Net atomic charges (e) of one structure.

    Attributes
    ----------
    symbols
        Element of each atom, in the engine's order.
    charges_e
        Net charge of each atom (e); positive = electrons lost.
    method
        ``"hirshfeld"``, ``"mulliken"`` or ``"bader"``.
    source
        The file they were read from.
    spin_moments
        Per-atom spin moments (μB) when the run was spin polarised, else None.
    """

    symbols: list[str]
    charges_e: np.ndarray
    method: str
    source: str = ""
    spin_moments: np.ndarray | None = None

    @property
    def total_e(self) -> float:
        """Sum of the net charges (e): the total charge of the system."""
        return float(np.sum(self.charges_e))


def _read_cp2k_output(path: Path) -> list[str]:
    """Lines of a CP2K output: a file, its gzipped copy (``.gz``, as atomate2 leaves it), or a
    run folder holding ``cp2k.out``/``cp2k.out.gz``."""
    if path.is_dir():
        path = path / "cp2k.out"
    if not path.is_file() and path.with_name(path.name + ".gz").is_file():
        path = path.with_name(path.name + ".gz")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (nor {path.name}.gz)")
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines()
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def _columns(header: str, method: str, n_numbers: int) -> tuple[int, int | None]:
    """Positions (from the end of a row) of the net charge and of the spin moment.

    Read from the table's ``#`` header where there is one: CP2K prints Mulliken UKS rows as
    pop α, pop β, net charge, spin moment and Hirshfeld UKS rows as ref, pop α, pop β, spin
    moment, net charge. Without a header, the number of values decides (UKS rows have one
    population more and a spin column).
    """
    if "Net charge" in header:
        if "Spin moment" not in header:
            return -1, None
        if header.index("Spin moment") < header.index("Net charge"):
            return -1, -2
        return -2, -1
    spin_polarised = n_numbers >= (5 if method == "hirshfeld" else 4)
    if not spin_polarised:
        return -1, None
    return (-1, -2) if method == "hirshfeld" else (-2, -1)


# Own parser, not pymatgen's Cp2kOutput (2026.10.16, checked): its parse_mulliken only prints
# "not yet implemented" and its Hirshfeld row pattern matches atom indices 1-9 only.
def parse_cp2k_charges(path: str | Path, method: Method = "hirshfeld") -> AtomicCharges:
    """Mulliken or Hirshfeld charges from a CP2K output (the last analysis printed).

    Closed-shell (RKS) and spin-polarised (UKS/LSD) tables are both read; for UKS the net
    charge column is taken and the per-atom spin moments are kept.

    Parameters
    ----------
    path
        CP2K output file; ``cp2k.out.gz`` is read too (given, or found next to a missing
        ``cp2k.out``), and a run folder means its ``cp2k.out``. Atom order is the order of the
        input coordinates.
    method
        ``"hirshfeld"`` (needs ``&DFT/&PRINT/&HIRSHFELD``) or ``"mulliken"``.

    Raises
    ------
    InputError
        The analysis is not in the file.
    FileNotFoundError
        No such file (nor a gzipped copy).
    """
    path = Path(path)
    if method not in _HEADERS:
        raise InputError(
            f"method: expected hirshfeld or mulliken for a CP2K output, got {method!r}"
        )
    lines = _read_cp2k_output(path)
    starts = [k for k, line in enumerate(lines) if _HEADERS[method].search(line)]
    if not starts:
        hint = "&HIRSHFELD with SHAPE_FUNCTION DENSITY" if method == "hirshfeld" else "&MULLIKEN"
        raise InputError(f"{path}: no {method} charges in this file (add &DFT/&PRINT/{hint})")
    symbols: list[str] = []
    charges: list[float] = []
    spins: list[float] = []
    header = ""
    started = False
    for line in lines[starts[-1] + 1:]:
        match = _ROW.match(line)
        if match:
            started = True
            numbers = [float(x) for x in match.group(3).split()]
            net, spin = _columns(header, method, len(numbers))
            symbols.append(match.group(2))
            charges.append(numbers[net])
            if spin is not None:
                spins.append(numbers[spin])
        elif started and ("Total" in line or not line.strip()):
            break
        elif not started and line.lstrip().startswith("#"):
            header = line
    if not symbols:
        raise InputError(f"{path}: could not read the {method} table")
    return AtomicCharges(symbols, np.array(charges), method, str(path),
                         np.array(spins) if len(spins) == len(symbols) and spins else None)


def parse_vasp_moments(outcar: str | Path) -> tuple[np.ndarray | None, float | None]:
    """Spin moments of a VASP run from its OUTCAR (``.gz`` too), via pymatgen's ``Outcar``.

    Returns
    -------
    tuple
        (per-site moments in μB, the ``tot`` column of VASP's ``magnetization (x)`` table,
        written only with ``LORBIT`` >= 10, else ``None``; the cell's total moment in μB
        of the last electronic step, ``None`` for a non-spin-polarised run).
    """
    from pymatgen.io.vasp import Outcar

    path = Path(outcar)
    if not path.is_file():
        raise InputError(f"outcar {path}: no such file")
    parsed = Outcar(str(path))
    per_site = (np.array([float(m["tot"]) for m in parsed.magnetization])
                if parsed.magnetization else None)
    total = parsed.total_mag
    return per_site, None if total is None else float(total)


def parse_cp2k_valence_electrons(path: str | Path) -> dict[str, float]:
    """Valence electrons of each element's GTH pseudopotential, read from a CP2K output.

    CP2K lists every atomic kind (``Atomic kind: La_1``) with its pseudopotential
    (``GTH Potential information for GTH-PBE-q11``); the ``q`` number is the valence count.

    Raises
    ------
    InputError
        No GTH pseudopotential listing in the file.
    """
    path = Path(path)
    kind = re.compile(r"Atomic kind:\s+([A-Z][a-z]?)")
    potential = re.compile(r"GTH Potential information for\s+\S*-q(\d+)")
    counts: dict[str, float] = {}
    element = None
    for line in _read_cp2k_output(path):
        if match := kind.search(line):
            element = match.group(1)
        elif (match := potential.search(line)) and element is not None:
            counts[element] = float(match.group(1))
            element = None
    if not counts:
        raise InputError(f"{path}: no 'GTH Potential information for ...-q<n>' lines (expected "
                         "the output of a CP2K run with GTH pseudopotentials)")
    return counts


# 26 neighbour steps of a grid point, as (d_a, d_b, d_c)
_STEPS = np.array([(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)
                   if (i, j, k) != (0, 0, 0)])

#: Width (Å) of the model core density added to a valence density for the Bader partition.
CORE_WIDTH_A = 0.1


def model_core_density(grid: VolumetricGrid, valence_electrons: dict[str, float],
                       width_A: float = CORE_WIDTH_A) -> np.ndarray:
    """The core electrons a pseudopotential leaves out, as a Gaussian on each nucleus (e/Å³).

    Z − Z_val electrons per atom in a normalised Gaussian of standard deviation ``width_A``.
    Used as the reference of the Bader partition only (the valence density is what is
    summed), as critic2 augments pseudo densities with cores: a valence (pseudo) density is
    flat or hollow at the nuclei of C, N, O and La, and without a core the steepest-ascent
    paths of a C≡N bond end on N (−2.9 e on a nitrile N of the sn-llzo AB cube). The default
    0.1 Å keeps the core within about one step of a CP2K cube written with STRIDE 2 (real
    cores are more compact still). Measured on the sn-llzo AB cube (width 0.1–0.3 Å): La,
    Li and O charges move by < 0.04 e, Zr by 0.13 e, C and N by up to 0.4 e; the changes on
    adsorption of the surface La and the nitrile N move by < 0.01 e and < 0.07 e and keep
    their signs.
    """
    from pymatgen.core import Element

    shape = np.array(grid.data.shape)
    matrix = grid.structure.lattice.matrix
    steps_A = matrix / shape[:, None]
    heights_A = grid.structure.lattice.volume / np.linalg.norm(
        np.cross(matrix[[1, 2, 0]], matrix[[2, 0, 1]]), axis=1) / shape  # plane spacings
    reach = np.ceil(4.0 * width_A / heights_A).astype(int)
    window = np.stack(np.meshgrid(*[np.arange(-r, r + 1) for r in reach], indexing="ij"),
                      axis=-1).reshape(-1, 3)
    core = np.zeros(grid.data.shape)
    norm = (2.0 * np.pi * width_A**2) ** -1.5
    frac = np.mod(grid.structure.lattice.get_fractional_coords(
        grid.structure.cart_coords - grid.origin_A), 1.0)
    for site, f in zip(grid.structure, frac, strict=True):
        symbol = site.specie.symbol
        n_core = Element(symbol).Z - valence_electrons[symbol]
        if n_core <= 0:
            continue
        nearest = np.round(f * shape).astype(int)
        points = nearest + window
        r2 = np.sum(((points - f * shape) @ steps_A) ** 2, axis=1)
        values = n_core * norm * np.exp(-0.5 * r2 / width_A**2)
        np.add.at(core, tuple(np.mod(points, shape).T), values)
    return core


def _grid_bader_populations(grid: VolumetricGrid, reference: np.ndarray) -> np.ndarray:
    """Bader populations (e) of the atoms of a density grid, on-grid steepest ascent.

    The on-grid method of Henkelman, Arnaldsson and Jónsson (Comput. Mater. Sci. 36, 354,
    2006) on ``reference`` (same shape): every grid point steps to the neighbour (of 26)
    with the steepest rise (ref_neighbour − ref)/distance; a point with no rise is a
    maximum. Following the steps (pointer doubling) gives each point's maximum; each maximum
    belongs to the nearest atom (periodic images included). The density of ``grid`` is
    summed over the basins; the whole cell is assigned (no vacuum cut), so the populations
    sum to the integral of the grid.
    """
    shape = np.array(reference.shape)
    steps_A = grid.structure.lattice.matrix / shape[:, None]  # one grid step along a, b, c
    best_rise = np.zeros(reference.shape)
    best_step = np.full(reference.shape, -1, dtype=np.int8)
    for n, step in enumerate(_STEPS):
        shifted = np.roll(reference, tuple(-step), axis=(0, 1, 2))
        rise = (shifted - reference) / np.linalg.norm(step @ steps_A)
        better = rise > best_rise
        best_rise[better] = rise[better]
        best_step[better] = n
    index = np.indices(reference.shape).reshape(3, -1)
    moves = np.where(best_step.ravel() >= 0, 1, 0) * _STEPS[best_step.ravel()].T
    target = np.ravel_multi_index(tuple(np.mod(index + moves, shape[:, None])), reference.shape)
    while True:  # pointer doubling: target -> target of target, until every path has ended
        nxt = target[target]
        if np.array_equal(nxt, target):
            break
        target = nxt
    maxima, basin = np.unique(target, return_inverse=True)
    frac = np.array(np.unravel_index(maxima, reference.shape)).T / shape
    lattice = grid.structure.lattice
    cart = frac @ lattice.matrix + grid.origin_A
    distances = lattice.get_all_distances(lattice.get_fractional_coords(cart),
                                          grid.structure.frac_coords)
    owner = np.argmin(distances, axis=1)
    return np.bincount(owner[basin], weights=grid.data.ravel(),
                       minlength=len(grid.structure)) * grid.voxel_volume_A3


def bader_charges(
    density: str | Path,
    valence_electrons: dict[str, float] | None = None,
    potcar: str | Path | None = None,
    bader_exe: str | None = None,
) -> AtomicCharges:
    """Bader net charges: Henkelman's ``bader`` program through pymatgen, or on-grid here.

    With a ``bader`` executable (given, or found on PATH) pymatgen's ``BaderAnalysis`` runs
    it; without one, the same partition is computed here by the on-grid steepest-ascent
    method (:func:`_grid_bader_populations`; cubes and CHGCARs, read by
    :func:`~ssbflow.analysis.volumetric_io.read_volumetric`). For CP2K GPW the cube holds the
    valence (pseudo) density, so the charges are valence count − population.

    Parameters
    ----------
    density
        CHGCAR (ideally with AECCAR0+2 summed as reference) or a density cube (``.gz`` too
        without the executable).
    valence_electrons
        Valence electrons of each element's pseudopotential (e.g. ``{"N": 5, "La": 11}`` for
        GTH, see :func:`parse_cp2k_valence_electrons`); needed for cubes unless ``potcar``
        is given.
    potcar
        VASP POTCAR for the valence counts (CHGCAR input, with the executable).
    bader_exe
        Path of the ``bader`` executable (default: found on PATH; none: on-grid here).
    """
    density = Path(density)
    if not density.is_file():
        raise FileNotFoundError(f"{density}: no such file")
    exe = bader_exe or shutil.which("bader") or shutil.which("bader.exe")
    nelects = None
    if exe is None:
        # own partition, not a library's (measured on the sn-llzo AB cube, 106 atoms,
        # 70x70x120): pybader 0.3.12 does not import with setuptools >= 81 (pkg_resources)
        # and installs a `bader` script that shadows Henkelman's; baderkit 0.10.2 pins
        # pymatgen <= 2025.10.7 and pandas < 3 and gave 50 electrons to one H atom
        if valence_electrons is None:
            raise InputError("valence_electrons: needed without a bader executable (e.g. "
                             "{'La': 11, 'N': 5} for GTH potentials)")
        grid = read_volumetric(density, kind="density")
        symbols = [site.species_string for site in grid.structure]
        missing = sorted(set(symbols) - set(valence_electrons))
        if missing:
            raise InputError(f"valence_electrons: no count for {missing}")
        reference = grid.data + model_core_density(grid, valence_electrons)
        populations = _grid_bader_populations(grid, reference)
    else:
        from pymatgen.command_line.bader_caller import BaderAnalysis

        if density.suffix.lower() in {".cube", ".cub"}:
            analysis = BaderAnalysis(cube_filename=str(density), bader_path=exe)
        else:
            analysis = BaderAnalysis(chgcar_filename=str(density),
                                     potcar_filename=str(potcar) if potcar else "",
                                     bader_path=exe)
        symbols = [site.species_string for site in analysis.structure]
        populations = np.array([analysis.data[k]["charge"] for k in range(len(symbols))])
        nelects = getattr(analysis, "nelects", None)
    if valence_electrons is not None:
        missing = sorted(set(symbols) - set(valence_electrons))
        if missing:
            raise InputError(f"valence_electrons: no count for {missing}")
        zval = np.array([valence_electrons[s] for s in symbols], dtype=float)
    elif nelects:
        zval = np.array(nelects, dtype=float)
    else:
        raise InputError("valence_electrons: needed to turn Bader populations into charges "
                         "(e.g. {'La': 11, 'N': 5} for GTH potentials), or give a POTCAR")
    return AtomicCharges(symbols, zval - populations, "bader", str(density))


@dataclass
class ChargeChange:
    """Charges of chosen atoms in AB, in their isolated fragment, and the change (e)."""

    indices: list[int]
    symbols: list[str]
    charges_e: np.ndarray
    reference_e: np.ndarray
    change_e: np.ndarray
    method: str
    files: dict[str, str] = field(default_factory=dict)

    def rows(self) -> list[dict[str, object]]:
        """One dict per atom (index, element, charge_e, reference_charge_e, change_e)."""
        return [
            {"index": i, "element": s, "charge_e": float(q), "reference_charge_e": float(r),
             "change_e": float(d)}
            for i, s, q, r, d in zip(self.indices, self.symbols, self.charges_e,
                                     self.reference_e, self.change_e, strict=True)
        ]


def charge_changes(
    combined: AtomicCharges,
    references: list[AtomicCharges],
    atoms: list[int] | None = None,
) -> ChargeChange:
    """Change of the net charges on adsorption: q(AB) − q(fragment), atom by atom.

    Parameters
    ----------
    combined
        Charges of AB.
    references
        Charges of the isolated fragments, in the order their atoms appear in AB (e.g. slab
        then molecule): the concatenation must have AB's atoms and elements.
    atoms
        AB atom indices to report (default all).

    Raises
    ------
    InputError
        Fragment atoms do not match AB's, or indices out of range.
    """
    ref_symbols = [s for r in references for s in r.symbols]
    if ref_symbols != combined.symbols:
        raise InputError(
            f"references: the fragments' atoms ({len(ref_symbols)}: {''.join(ref_symbols)[:40]}) "
            f"do not match AB's ({len(combined.symbols)}: {''.join(combined.symbols)[:40]}) in "
            "order; list the fragments in the order of their atoms in AB"
        )
    ref = np.concatenate([r.charges_e for r in references])
    indices = list(range(len(combined.symbols))) if atoms is None else list(atoms)
    bad = [i for i in indices if not 0 <= i < len(combined.symbols)]
    if bad:
        raise InputError(f"atoms: indices {bad} out of range (0..{len(combined.symbols) - 1})")
    q = combined.charges_e[indices]
    r = ref[indices]
    return ChargeChange(indices, [combined.symbols[i] for i in indices], q, r, q - r,
                        combined.method)


def write_charges(
    table: AtomicCharges | ChargeChange, out_dir: str | Path, stem: str = "charges"
) -> dict[str, str]:
    """Write a per-atom table as ``<stem>.csv`` and ``<stem>.json``; return the paths."""
    from ssbflow.io import write_json, write_table

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(table, ChargeChange):
        rows = table.rows()
    else:
        rows = [{"index": i, "element": s, "charge_e": float(q)}
                for i, (s, q) in enumerate(zip(table.symbols, table.charges_e, strict=True))]
    csv_path = out / f"{stem}.csv"
    write_table(rows, csv_path)
    json_path = write_json(out / f"{stem}.json", {"method": table.method, "atoms": rows})
    files = {"csv": str(csv_path), "json": str(json_path)}
    if isinstance(table, ChargeChange):
        table.files.update(files)
    return files
