"""NEB with the DFT engines: CP2K climbing-image NEB (``&MOTION/&BAND``) and VASP NEB inputs.

CP2K
    :func:`run_cp2k_neb` takes a band of images (endpoints included, already interpolated,
    e.g. by :func:`idpp_images`, the same IDPP interpolation the MLIP path uses), writes one
    CP2K input with ``RUN_TYPE BAND`` (``BAND_TYPE CI-NEB``, one ``&REPLICA`` per image
    read from ``replica_NN.xyz``, DIIS band optimiser with force criteria converted from
    eV/Å) and runs ``cp2k.psmp``. The ``&FORCE_EVAL`` part is the one of ssbflow's CP2K
    relaxation (:func:`ssbflow.engines.cp2k.sets.make_generator`): same presets,
    basis sets, pseudopotentials, RKS/UKS choice, D3(BJ) and ``&FIXED_ATOMS`` for
    ``selective_dynamics``; only ``&GEO_OPT`` is swapped for ``&BAND``. Replica energies and
    final geometries come from ``*-pos-Replica_nr_K-1.xyz``, the true forces of the final
    images from the ``NEB|`` blocks of the main output. The folder gets the same files as
    the MLIP path (``neb_images.extxyz``, ``saddle.extxyz``/``.cif``, ``neb_profile.png``,
    ``neb_result.json``), so ``ssbflow analyze neb DIR`` reads it.

    With one MPI rank, CP2K evaluates all replicas in one force environment and each SCF
    restarts from the previous *replica's* wavefunction (about 10 OT steps per image and
    evaluation for H3); with one rank per replica (``mpi_ranks`` = number of images) every
    replica keeps its own wavefunction and later SCFs need 1-5 steps.

VASP
    :func:`write_vasp_neb_inputs` writes what atomate2's ``NebFromImagesMaker`` writes before
    it starts VASP (head folder with INCAR/KPOINTS/POTCAR.spec, image folders ``00`` ..
    ``NN`` with POSCAR and KPOINTS), with ssbflow's VASP tags (PBE+D3(BJ), GGA+U and
    ISPIN=2 only with MP-U transition metals) on top of atomate2's NEB tags (IMAGES, SPRING,
    LCLIMB, IBRION=3/IOPT=1). :func:`vasp_neb_maker` returns the maker itself for runs where
    VASP exists.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from atomate2.vasp.sets.core import NebSetGenerator
from pymatgen.core import Structure

from ssbflow.analysis.neb import NebResult
from ssbflow.engines.cp2k import sets as cp2k_inputs
from ssbflow.engines.vasp import sets as vasp_inputs
from ssbflow.errors import EngineUnavailableError, InputError, SsbflowError

#: CODATA 2018 conversion factors.
HARTREE_EV = 27.211386245988
BOHR_A = 0.529177210903
#: 1 Hartree/Bohr in eV/Å.
HA_PER_BOHR_EV_PER_A = HARTREE_EV / BOHR_A

NEB_ENGINES = ("mlip", "cp2k", "vasp")

#: Project name of the CP2K band run (prefix of its output files).
_PROJECT = "NEB"


# --------------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------------
def _atoms(structure: Structure | Any) -> Any:
    from ase import Atoms
    from pymatgen.io.ase import AseAtomsAdaptor

    if isinstance(structure, Atoms):
        return structure.copy()
    return AseAtomsAdaptor.get_atoms(structure)


def _structure(atoms: Any) -> Structure:
    from pymatgen.io.ase import AseAtomsAdaptor

    if isinstance(atoms, Structure):
        return atoms.copy()
    return AseAtomsAdaptor.get_structure(atoms)


def idpp_images(initial: Structure | Any, final: Structure | Any, n_images: int) -> list[Structure]:
    """Band of ``n_images + 2`` structures from IDPP interpolation (ASE, minimum image).

    The same interpolation as :func:`ssbflow.methods.neb.run_neb`. Positions are made
    continuous along the band (no image jumps across a cell boundary), which CP2K's
    band needs: it takes replica distances in Cartesian space without periodic images.
    """
    from ase.mep import NEB

    if n_images < 1:
        raise InputError(f"n_images must be >= 1, got {n_images}")
    a0, a1 = _atoms(initial), _atoms(final)
    if a0.get_chemical_symbols() != a1.get_chemical_symbols():
        raise InputError("initial and final hold different atoms (order must match)")
    band = [a0] + [a0.copy() for _ in range(n_images)] + [a1]
    NEB(band, method="improvedtangent").interpolate(method="idpp", mic=True)
    return [_structure(a) for a in unwrap_band(band)]


def unwrap_band(images: list) -> list:
    """Copies of ASE images whose positions follow each other by minimum-image steps."""
    from ase.geometry import find_mic

    out = [images[0].copy()]
    for img in images[1:]:
        step = img.positions - out[-1].positions
        if img.pbc.any():
            step = find_mic(step, img.cell, img.pbc)[0]
        new = img.copy()
        new.positions = out[-1].positions + step
        out.append(new)
    return out


def _check_images(images: list[Structure]) -> None:
    if len(images) < 3:
        raise InputError(f"images must hold at least 3 structures (2 endpoints + 1), "
                         f"got {len(images)}")
    species = [s.species for s in images]
    if any(sp != species[0] for sp in species):
        raise InputError("images hold different species or atom orders")
    if any(not np.allclose(s.lattice.matrix, images[0].lattice.matrix) for s in images):
        raise InputError("images have different cells (NEB runs at fixed cell)")


# --------------------------------------------------------------------------------------------
# CP2K: input
# --------------------------------------------------------------------------------------------
def _kw(name: str, *values: Any) -> Any:
    from pymatgen.io.cp2k.inputs import Keyword

    return Keyword(name, *values)


def _section(name: str, keywords: dict | None = None, subsections: dict | None = None,
             **kwargs: Any) -> Any:
    from pymatgen.io.cp2k.inputs import Section

    return Section(name, keywords=keywords or {}, subsections=subsections or {}, **kwargs)


@dataclass
class Cp2kNebSettings:
    """Band settings of a CP2K CI-NEB (recorded in ``neb_result.json``).

    Parameters
    ----------
    preset
        ssbflow CP2K preset (``fast`` or ``production``).
    fmax_eV_per_A
        Band convergence: ``MAX_FORCE`` (and ``RMS_FORCE`` = fmax/1.5, as for ssbflow's
        CP2K relaxations), converted to Hartree/Bohr.
    max_steps
        Band optimiser steps (``&DIIS MAX_STEPS``).
    climb
        ``CI-NEB`` (climbing image after ``nsteps_it`` improved-tangent steps) or ``IT-NEB``.
    k_spring_au
        Spring constant (Hartree/Bohr², CP2K's default 0.02).
    nsteps_it
        Improved-tangent NEB steps before the climbing image is switched on.
    cutoff_Ry
        Overrides the preset's plane-wave cutoff (a reduction, recorded).
    dispersion
        D3(BJ) on/off; ``None``: the preset's choice.
    """

    preset: str = "fast"
    fmax_eV_per_A: float = 0.05
    max_steps: int = 100
    climb: bool = True
    k_spring_au: float = 0.02
    nsteps_it: int = 5
    cutoff_Ry: float | None = None
    dispersion: bool | None = None

    def __post_init__(self) -> None:
        if self.preset not in cp2k_inputs.CP2K_PRESETS:
            raise InputError(f"preset {self.preset!r} is not known; expected one of "
                             f"{', '.join(cp2k_inputs.CP2K_PRESETS)}")
        if not self.fmax_eV_per_A > 0:
            raise InputError(f"fmax_eV_per_A must be > 0, got {self.fmax_eV_per_A}")
        if self.max_steps < 1:
            raise InputError(f"max_steps must be >= 1, got {self.max_steps}")
        if not self.k_spring_au > 0:
            raise InputError(f"k_spring_au must be > 0, got {self.k_spring_au}")
        if self.cutoff_Ry is not None and not self.cutoff_Ry > 0:
            raise InputError(f"cutoff_Ry must be > 0, got {self.cutoff_Ry}")


def cp2k_neb_input_set(images: list[Structure], settings: Cp2kNebSettings | None = None,
                       basis_overrides: dict[str, str] | None = None) -> Any:
    """atomate2 ``Cp2kInputSet`` of a CP2K band run over ``images`` (endpoints included).

    The ``&FORCE_EVAL`` comes from ssbflow's CP2K relaxation generator for the first image
    (so basis, potential, spin, SCF and constraints match every other CP2K job); the stress
    tensor is dropped (fixed cell) and ``&GEO_OPT`` becomes ``&BAND``. The replicas are read
    from ``replica_NN.xyz`` files that :func:`write_cp2k_neb_inputs` writes next to the input.
    """
    from pymatgen.io.cp2k.inputs import SectionList

    settings = settings or Cp2kNebSettings()
    _check_images(images)
    gen = cp2k_inputs.make_generator("relax", settings.preset,
                                     fmax_eV_per_A=settings.fmax_eV_per_A,
                                     max_steps=settings.max_steps,
                                     basis_overrides=dict(basis_overrides or {}),
                                     dispersion=settings.dispersion)
    input_set = gen.get_input_set(images[0])
    cp2k_input = input_set.cp2k_input
    cp2k_input["GLOBAL"]["RUN_TYPE"] = _kw("RUN_TYPE", "BAND")
    cp2k_input["GLOBAL"]["PROJECT_NAME"] = _kw("PROJECT_NAME", _PROJECT)
    force_eval = cp2k_input["FORCE_EVAL"]
    force_eval.keywords.pop("STRESS_TENSOR", None)
    if force_eval.check("PRINT"):
        force_eval["PRINT"].subsections.pop("STRESS_TENSOR", None)
    if settings.cutoff_Ry is not None:
        force_eval["DFT"]["MGRID"]["CUTOFF"] = _kw("CUTOFF", float(settings.cutoff_Ry))
    # band steps (and line-search trial points) are no smooth trajectory for ASPC to
    # extrapolate: start each SCF from the previous wavefunction of its force environment
    # (the replica's own one with one MPI group per replica)
    force_eval["DFT"]["QS"]["EXTRAPOLATION"] = _kw("EXTRAPOLATION", "USE_PREV_WF")

    motion = cp2k_input["MOTION"]
    motion.subsections.pop("GEO_OPT", None)
    motion.subsections.pop("PRINT", None)
    max_force_au = settings.fmax_eV_per_A / HA_PER_BOHR_EV_PER_A
    replicas = SectionList([
        _section("REPLICA", {"COORD_FILE_NAME": _kw("COORD_FILE_NAME", _replica_file(k))})
        for k in range(len(images))
    ])
    band = _section("BAND", {
        "BAND_TYPE": _kw("BAND_TYPE", "CI-NEB" if settings.climb else "IT-NEB"),
        "NUMBER_OF_REPLICA": _kw("NUMBER_OF_REPLICA", len(images)),
        "K_SPRING": _kw("K_SPRING", settings.k_spring_au),
        # periodic cells: never rotate or align the frames (CP2K's defaults are for molecules)
        "ROTATE_FRAMES": _kw("ROTATE_FRAMES", False),
        "ALIGN_FRAMES": _kw("ALIGN_FRAMES", False),
    }, {
        "CI_NEB": _section("CI_NEB", {"NSTEPS_IT": _kw("NSTEPS_IT", settings.nsteps_it)}),
        "CONVERGENCE_CONTROL": _section("CONVERGENCE_CONTROL", {
            "MAX_FORCE": _kw("MAX_FORCE", max_force_au),
            "RMS_FORCE": _kw("RMS_FORCE", max_force_au / 1.5),
            # displacement criteria as loose as the forces allow: forces decide
            "MAX_DR": _kw("MAX_DR", 0.01),
            "RMS_DR": _kw("RMS_DR", 0.005),
        }),
        "OPTIMIZE_BAND": _section("OPTIMIZE_BAND", {"OPT_TYPE": _kw("OPT_TYPE", "DIIS")}, {
            # 3 history vectors: DIIS starts after 3 line-searched SD steps instead of 7
            # (CP2K's default), which halved the band evaluations of the H3 test
            "DIIS": _section("DIIS", {"MAX_STEPS": _kw("MAX_STEPS", settings.max_steps),
                                      "N_DIIS": _kw("N_DIIS", 3)}),
        }),
        "REPLICA": replicas,
    })
    motion.insert(band)
    return input_set


def _replica_file(k: int) -> str:
    return f"replica_{k:02d}.xyz"


def _write_xyz(structure: Structure, path: Path, comment: str) -> None:
    """Plain XYZ (Å) in the site order of ``structure``; CP2K reads replicas from it."""
    lines = [str(len(structure)), comment]
    lines += [f"{site.specie.symbol} {x:.10f} {y:.10f} {z:.10f}"
              for site, (x, y, z) in zip(structure, structure.cart_coords, strict=True)]
    path.write_text("\n".join(lines) + "\n")


def write_cp2k_neb_inputs(images: list[Structure], run_dir: str | Path,
                          settings: Cp2kNebSettings | None = None,
                          basis_overrides: dict[str, str] | None = None) -> Path:
    """Write ``cp2k.inp``, ``BASIS``, ``POTENTIAL`` and ``replica_NN.xyz`` into ``run_dir``."""
    run_dir = Path(run_dir)
    images = [_structure(s) for s in images]
    input_set = cp2k_neb_input_set(images, settings, basis_overrides)
    input_set.write_input(run_dir)
    for k, image in enumerate(images):
        _write_xyz(image, run_dir / _replica_file(k), f"replica {k}")
    return run_dir


# --------------------------------------------------------------------------------------------
# CP2K: running
# --------------------------------------------------------------------------------------------
def cp2k_command(threads: int = 1, mpi_ranks: int | None = None,
                 cp2k_cmd: str | None = None) -> tuple[list[str], dict[str, str]]:
    """Command line (without ``-i/-o``) and environment of a CP2K run.

    ``cp2k_cmd`` (or ``$SSBFLOW_CP2K_NEB_CMD``) replaces the whole launcher, e.g.
    ``"srun cp2k.psmp"``. Otherwise ``cp2k.psmp`` (found as the engines find it), under
    ``mpirun -np mpi_ranks`` when ``mpi_ranks`` > 1, with ``OMP_NUM_THREADS=threads``.
    """
    import shlex

    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    explicit = cp2k_cmd or os.environ.get("SSBFLOW_CP2K_NEB_CMD")
    if explicit:
        return shlex.split(explicit), env
    exe = cp2k_inputs.find_cp2k_executable()
    if exe is None:
        raise EngineUnavailableError(
            "engine cp2k: no CP2K executable found (install Debian's cp2k package, or set "
            "SSBFLOW_CP2K_EXE)"
        )
    if not mpi_ranks or mpi_ranks <= 1:
        return [exe], env
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        raise EngineUnavailableError("mpi_ranks > 1 needs mpirun (Debian: openmpi-bin)")
    # Open MPI: allow more ranks than cores (replicas wait for each other) and root
    env.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    return [mpirun, "-np", str(int(mpi_ranks)), exe], env


def _run_cp2k(run_dir: Path, command: list[str], env: dict[str, str]) -> float:
    """Run CP2K in ``run_dir`` (``cp2k.inp`` → ``cp2k.out``); returns the wall time (s)."""
    start = time.perf_counter()
    with open(run_dir / "cp2k.stdout", "w") as log:
        proc = subprocess.run([*command, "-i", "cp2k.inp", "-o", "cp2k.out"], cwd=run_dir,
                              env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    wall_s = time.perf_counter() - start
    if proc.returncode != 0:
        tail = ""
        out = run_dir / "cp2k.out"
        if out.is_file():
            abort = re.findall(r"\[ABORT\]\s*\*\s*\n((?:.*\n){1,4})", out.read_text())
            tail = " ".join(abort[-1].replace("*", " ").split()) if abort else ""
        raise SsbflowError(f"CP2K failed in {run_dir} (exit {proc.returncode}) {tail}".strip())
    return wall_s


def relax_endpoint_cp2k(structure: Structure, run_dir: str | Path, preset: str = "fast",
                        fmax_eV_per_A: float = 0.05, max_steps: int = 200,
                        basis_overrides: dict[str, str] | None = None,
                        dispersion: bool | None = None, cutoff_Ry: float | None = None,
                        threads: int = 1, cp2k_cmd: str | None = None) -> Structure:
    """CP2K GEO_OPT (ssbflow's relaxation input) of one endpoint; returns the final structure.

    Same ``&FORCE_EVAL`` as the band (``cutoff_Ry`` too), so endpoint and band energies
    are comparable. The final energy (eV) is in ``properties["energy_eV"]`` of the result;
    ``selective_dynamics`` become ``&FIXED_ATOMS``.
    """
    from pymatgen.io.cp2k.inputs import Keyword

    run_dir = Path(run_dir)
    gen = cp2k_inputs.make_generator("relax", preset, fmax_eV_per_A=fmax_eV_per_A,
                                     max_steps=max_steps,
                                     basis_overrides=dict(basis_overrides or {}),
                                     dispersion=dispersion)
    input_set = gen.get_input_set(structure)
    cp2k_input = input_set.cp2k_input
    cp2k_input["GLOBAL"]["PROJECT_NAME"] = Keyword("PROJECT_NAME", "RELAX")
    cp2k_input["FORCE_EVAL"].keywords.pop("STRESS_TENSOR", None)
    if cutoff_Ry is not None:
        cp2k_input["FORCE_EVAL"]["DFT"]["MGRID"]["CUTOFF"] = Keyword("CUTOFF", float(cutoff_Ry))
    input_set.write_input(run_dir)
    command, env = cp2k_command(threads=threads, cp2k_cmd=cp2k_cmd)
    _run_cp2k(run_dir, command, env)
    if "GEOMETRY OPTIMIZATION COMPLETED" not in (run_dir / "cp2k.out").read_text():
        raise SsbflowError(f"CP2K GEO_OPT in {run_dir} did not reach fmax {fmax_eV_per_A} "
                           f"eV/Å in {max_steps} steps")
    frames = _read_xyz_frames(run_dir / "RELAX-pos-1.xyz")
    symbols, positions, energy_ha = frames[-1]
    if symbols != [s.specie.symbol for s in structure]:
        raise SsbflowError(f"{run_dir}: relaxed structure has other atoms than the input")
    relaxed = structure.copy()
    for i, xyz in enumerate(positions):
        relaxed.replace(i, relaxed[i].species, coords=xyz, coords_are_cartesian=True,
                        properties=relaxed[i].properties)
    relaxed.properties["energy_eV"] = (None if energy_ha is None else energy_ha * HARTREE_EV)
    relaxed.properties["geo_opt_steps"] = len(frames) - 1
    return relaxed


# --------------------------------------------------------------------------------------------
# CP2K: reading the band
# --------------------------------------------------------------------------------------------
_ENERGY_RE = re.compile(r"E\s*=\s*(-?\d+\.\d+(?:[eE][-+]?\d+)?)")


def _read_xyz_frames(path: Path) -> list[tuple[list[str], np.ndarray, float | None]]:
    """Frames of a CP2K xyz trajectory: (symbols, positions Å, energy Ha from the comment).

    Written here because ASE's xyz reader drops CP2K's ``i = n, E = x`` comment.
    """
    if not path.is_file():
        raise SsbflowError(f"{path.name} not found in {path.parent}: the CP2K run wrote no "
                           "trajectory (see cp2k.out)")
    lines = path.read_text().splitlines()
    frames = []
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        n = int(lines[i].split()[0])
        match = _ENERGY_RE.search(lines[i + 1])
        rows = [line.split() for line in lines[i + 2:i + 2 + n]]
        if len(rows) < n:
            break  # a frame cut short by an interrupted run
        frames.append(([r[0] for r in rows], np.array([[float(v) for v in r[1:4]] for r in rows]),
                       float(match.group(1)) if match else None))
        i += 2 + n
    if not frames:
        raise SsbflowError(f"{path}: no complete frame")
    return frames


_FORCE_BLOCK_RE = re.compile(
    r"NEB\| REPLICA Nr\.\s+(\d+)- Energy and Forces\s*\n"
    r"\s*NEB\|\s+Total energy:\s+(-?\d+\.\d+)\s*\n"
    r"\s*NEB\|\s+ATOM\s+X\s+Y\s+Z\s*\n"
    r"((?:\s*NEB\|\s+\S+\s+-?\d+\.\d+\s+-?\d+\.\d+\s+-?\d+\.\d+\s*\n)+)"
)


def _force_blocks(cp2k_out: Path) -> dict[int, list[tuple[float, np.ndarray]]]:
    """Every ``NEB| REPLICA Nr. k`` block of the main output: replica → [(E Ha, F Ha/Bohr)]."""
    blocks: dict[int, list[tuple[float, np.ndarray]]] = {}
    for match in _FORCE_BLOCK_RE.finditer(cp2k_out.read_text()):
        rows = [line.split()[2:5] for line in match.group(3).strip().splitlines()]
        blocks.setdefault(int(match.group(1)), []).append(
            (float(match.group(2)), np.array(rows, dtype=float)))
    return blocks


def read_cp2k_band(run_dir: str | Path, template: Structure | Any,
                   n_replicas: int) -> tuple[list, int]:
    """Final band of a CP2K BAND run as ASE images with energies (eV) and forces (eV/Å).

    Parameters
    ----------
    run_dir
        The run folder (``NEB-pos-Replica_nr_K-1.xyz`` and ``cp2k.out``).
    template
        A structure (or ASE Atoms) giving the cell, periodicity and atom order.
    n_replicas
        Number of replicas (endpoints included).

    Returns
    -------
    images, steps
        The images, and the number of band optimisation steps CP2K made.
    """
    from ase.calculators.singlepoint import SinglePointCalculator

    run_dir = Path(run_dir)
    base = _atoms(template)
    blocks = _force_blocks(run_dir / "cp2k.out")
    images = []
    steps = 0
    for k in range(1, n_replicas + 1):
        frames = _read_xyz_frames(run_dir / f"{_PROJECT}-pos-Replica_nr_{k}-1.xyz")
        symbols, positions, energy_ha = frames[-1]
        if symbols != base.get_chemical_symbols():
            raise SsbflowError(f"{run_dir}: replica {k} holds other atoms than the band")
        if energy_ha is None:
            raise SsbflowError(f"{run_dir}: replica {k} trajectory carries no energies")
        steps = max(steps, len(frames) - 1)
        # true forces of the final geometry: the last evaluation with the final energy
        # (line-search trial points are evaluated too, at other energies)
        forces_au = next((f for e, f in reversed(blocks.get(k, []))
                          if abs(e - energy_ha) < 1e-8), None)
        if forces_au is None or forces_au.shape != positions.shape:
            raise SsbflowError(f"{run_dir}: no forces for the final geometry of replica {k} "
                               "in cp2k.out")
        atoms = base.copy()
        atoms.positions = positions
        atoms.calc = SinglePointCalculator(atoms, energy=energy_ha * HARTREE_EV,
                                           forces=forces_au * HA_PER_BOHR_EV_PER_A)
        images.append(atoms)
    return images, steps


# --------------------------------------------------------------------------------------------
# CP2K: the whole NEB
# --------------------------------------------------------------------------------------------
def run_cp2k_neb(
    images: list[Structure] | list[Any],
    out_dir: str | Path,
    settings: Cp2kNebSettings | None = None,
    basis_overrides: dict[str, str] | None = None,
    threads: int = 1,
    mpi_ranks: int | None = None,
    cp2k_cmd: str | None = None,
    label: str = "NEB",
    require_convergence: bool = True,
    extra_record: dict | None = None,
) -> NebResult:
    """CP2K climbing-image NEB over ``images`` (endpoints included, fixed during the run).

    Parameters
    ----------
    images
        The interpolated band (pymatgen Structures or ASE Atoms), e.g. from
        :func:`idpp_images`; same atoms, order and cell in every image.
    out_dir
        Result folder; CP2K runs in ``out_dir/cp2k_band``.
    settings
        Band and DFT settings (:class:`Cp2kNebSettings`).
    basis_overrides
        ``{element: basis name}`` replacing the preset's basis.
    threads, mpi_ranks, cp2k_cmd
        OpenMP threads; MPI ranks (``None``: one per replica when ``mpirun`` exists, so each
        replica restarts its own SCF; 1: a single process); or a full launcher replacing
        both (see :func:`cp2k_command`).
    require_convergence
        Raise :class:`SsbflowError` (after writing the files) when CP2K used all
        ``max_steps`` without meeting its force criteria.

    Returns
    -------
    NebResult
        Barrier, reaction energy, profile, ``files`` as in the MLIP path; ``converged`` is
        True when CP2K stopped before ``max_steps``.
    """
    from ase.io import write

    from ssbflow.methods.neb import write_band_outputs  # neb imports this module lazily

    settings = settings or Cp2kNebSettings()
    structures = [_structure(s) for s in images]
    _check_images(structures)
    out = Path(out_dir)
    run_dir = out / "cp2k_band"
    if run_dir.exists():
        shutil.rmtree(run_dir)  # never mix the files of two band runs
    run_dir.mkdir(parents=True)
    write_cp2k_neb_inputs(structures, run_dir, settings, basis_overrides)
    if mpi_ranks is None:  # one rank per replica when MPI is there (module docstring)
        mpi_ranks = len(structures) if shutil.which("mpirun") else 1
    command, env = cp2k_command(threads=threads, mpi_ranks=mpi_ranks, cp2k_cmd=cp2k_cmd)
    wall_s = _run_cp2k(run_dir, command, env)
    band, steps = read_cp2k_band(run_dir, structures[0], len(structures))
    converged = steps < settings.max_steps

    write(out / "initial.extxyz", band[0])
    write(out / "final.extxyz", band[-1])
    result = write_band_outputs(band, out, label, converged, steps,
                                extra_files={"cp2k_dir": str(run_dir)})
    scf_steps = _scf_step_count(run_dir)
    record = {
        "label": label,
        "settings": {"engine": "cp2k", "band_type": "CI-NEB" if settings.climb else "IT-NEB",
                     "optimizer": "DIIS", "n_images": len(band) - 2,
                     **{k: v for k, v in vars(settings).items()}},
        "engine_settings": _cp2k_engine_settings(settings, basis_overrides, command, threads),
        "cp2k_wall_s": wall_s,
        "scf_steps_total": scf_steps,
        **(extra_record or {}),
    }
    data = json.loads((out / "neb_result.json").read_text())
    data.update(record)
    (out / "neb_result.json").write_text(json.dumps(data, indent=2))
    if not converged and require_convergence:
        raise SsbflowError(
            f"CP2K NEB '{label}' did not reach fmax {settings.fmax_eV_per_A} eV/Å in "
            f"{settings.max_steps} band steps (band kept in {out}); raise max_steps or "
            "loosen fmax"
        )
    return result


def _scf_step_count(run_dir: Path) -> int:
    """OT/diagonalisation steps of all SCF runs of all replicas (the cost of the band)."""
    total = 0
    for path in run_dir.glob(f"{_PROJECT}-BAND*.out"):
        total += sum(int(m) for m in re.findall(r"SCF run converged in\s+(\d+) steps",
                                                path.read_text(errors="replace")))
    return total


def _cp2k_engine_settings(settings: Cp2kNebSettings, basis_overrides: dict | None,
                          command: list[str], threads: int) -> dict[str, Any]:
    preset = cp2k_inputs.CP2K_PRESETS[settings.preset]
    out = {"engine": "cp2k", "preset": settings.preset, "cp2k_cmd": " ".join(command),
           "threads": threads, **preset.as_dict()}
    if settings.cutoff_Ry is not None and settings.cutoff_Ry != preset.cutoff_Ry:
        out["cutoff_Ry"] = settings.cutoff_Ry
        out["reductions"] = [*out["reductions"],
                             f"cutoff {settings.cutoff_Ry:g} Ry instead of {preset.cutoff_Ry:g} Ry"]
    if basis_overrides:
        out["basis_overrides"] = dict(basis_overrides)
    if settings.dispersion is not None:
        out["dispersion"] = "DFTD3(BJ)" if settings.dispersion else None
    return out


# --------------------------------------------------------------------------------------------
# VASP: inputs only
# --------------------------------------------------------------------------------------------
@dataclass
class SsbflowVaspNebGenerator(vasp_inputs._SsbflowVaspMixin, NebSetGenerator):
    """atomate2's NEB set (IMAGES, SPRING, LCLIMB, IBRION=3/IOPT=1) with ssbflow's VASP tags.

    Electronic convergence at least 1e-6 eV (atomate2's NEB value; NEB forces need it), the
    force criterion ``EDIFFG = -fmax_eV_per_A`` and no AECCAR/LOCPOT per image.
    """

    fmax_eV_per_A: float = 0.05

    @property
    def incar_updates(self) -> dict:
        """atomate2's NEB tags, then ssbflow's tags, then EDIFF/EDIFFG."""
        updates = super().incar_updates
        updates["EDIFF"] = min(1e-6, vasp_inputs.VASP_PRESETS[self.preset].ediff_eV)
        updates["EDIFFG"] = -abs(self.fmax_eV_per_A)
        # no volumetric files per image (atomate2's base set writes AECCAR*/LOCPOT)
        updates.update({"LAECHG": False, "LVTOT": False})
        return updates


def vasp_neb_maker(preset: str = "fast", climb: bool = True, fmax_eV_per_A: float = 0.05,
                   slab: bool | None = None) -> Any:
    """atomate2 ``NebFromImagesMaker`` with ssbflow's VASP tags (needs VASP to run)."""
    from atomate2.vasp.jobs.neb import NebFromImagesMaker

    if preset not in vasp_inputs.VASP_PRESETS:
        raise InputError(f"preset {preset!r} is not known; expected one of "
                         f"{', '.join(vasp_inputs.VASP_PRESETS)}")
    gen = SsbflowVaspNebGenerator(preset=preset, climbing_image=climb, slab=slab,
                                  fmax_eV_per_A=fmax_eV_per_A)
    return NebFromImagesMaker(name="vasp neb", input_set_generator=gen)


def sort_images(images: list[Structure]) -> list[Structure]:
    """Images with their sites in VASP (electronegativity) order, one permutation for all.

    atomate2 sorts the first image for POSCAR/POTCAR but writes the image POSCARs as given;
    sorting all images the same way keeps them consistent with the POTCAR.
    """
    order = sorted(range(len(images[0])), key=lambda i: images[0][i])  # stable, Site.__lt__
    return [Structure.from_sites([img[i] for i in order]) for img in images]


def write_vasp_neb_inputs(images: list[Structure] | list[Any], out_dir: str | Path,
                          preset: str = "fast", climb: bool = True,
                          fmax_eV_per_A: float = 0.05, slab: bool | None = None) -> Path:
    """Write the inputs of a VASP NEB without running VASP.

    Layout as atomate2's ``NebFromImagesMaker``: ``out_dir/INCAR``, ``KPOINTS``,
    ``POTCAR.spec`` (symbols only, no licensed POTCAR), ``POSCAR`` (first image), and image
    folders ``00`` .. ``NN`` (endpoints included) each with ``POSCAR`` and a copy of
    ``KPOINTS``. Sites are sorted by electronegativity (the same permutation in every image).
    """
    from atomate2.vasp.files import write_vasp_input_set
    from pymatgen.io.vasp.inputs import Kpoints

    structures = sort_images([_structure(s) for s in images])
    _check_images(structures)
    maker = vasp_neb_maker(preset, climb, fmax_eV_per_A, slab)
    maker.input_set_generator.num_images = len(structures) - 2
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_vasp_input_set(structures[0], maker.input_set_generator, directory=out,
                         potcar_spec=True, apply_incar_updates=False)
    kpoints = Kpoints.from_file(out / "KPOINTS") if (out / "KPOINTS").is_file() else None
    for k, image in enumerate(structures):
        folder = out / f"{k:02d}"
        folder.mkdir(exist_ok=True)
        image.to(filename=str(folder / "POSCAR"), fmt="poscar")
        if kpoints is not None:
            kpoints.write_file(folder / "KPOINTS")
    return out


# --------------------------------------------------------------------------------------------
# Engine dispatch (called by ssbflow.methods.neb.run_neb for engine != "mlip")
# --------------------------------------------------------------------------------------------
def run_dft_neb(
    initial: Structure | Any,
    final: Structure | Any,
    out_dir: str | Path,
    engine: str,
    n_images: int = 5,
    fmax_eV_per_A: float = 0.05,
    max_steps: int = 100,
    relax_endpoints: bool = True,
    climb: bool = True,
    label: str = "NEB",
    require_convergence: bool = True,
    preset: str = "fast",
    **options: Any,
) -> NebResult:
    """NEB from two endpoints with a DFT engine: relax endpoints, IDPP, band.

    ``engine="cp2k"`` relaxes the endpoints with CP2K GEO_OPT (same settings as the band)
    when ``relax_endpoints``, interpolates with IDPP and runs :func:`run_cp2k_neb`.
    ``options``: ``basis_overrides``, ``threads``, ``mpi_ranks``, ``cp2k_cmd``,
    ``k_spring_au``, ``cutoff_Ry``, ``dispersion``.

    ``engine="vasp"`` writes the inputs (:func:`write_vasp_neb_inputs`, endpoints as given)
    into ``out_dir/vasp_neb`` and raises :class:`EngineUnavailableError` naming the folder:
    VASP does not run here.
    """
    if engine not in NEB_ENGINES or engine == "mlip":
        raise InputError(f"engine {engine!r} is not a DFT NEB engine; expected cp2k or vasp")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if engine == "vasp":
        folder = write_vasp_neb_inputs(idpp_images(initial, final, n_images), out / "vasp_neb",
                                       preset=preset, climb=climb, fmax_eV_per_A=fmax_eV_per_A,
                                       slab=options.get("slab"))
        raise EngineUnavailableError(
            f"VASP NEB inputs written to {folder}; run VASP there (VASP is not available here)"
        )
    known = {"basis_overrides", "threads", "mpi_ranks", "cp2k_cmd", "k_spring_au",
             "cutoff_Ry", "dispersion"}
    unknown = set(options) - known
    if unknown:
        raise InputError(f"unknown cp2k NEB option(s) {', '.join(sorted(unknown))}; expected "
                         f"{', '.join(sorted(known))}")
    settings = Cp2kNebSettings(preset=preset, fmax_eV_per_A=fmax_eV_per_A, max_steps=max_steps,
                               climb=climb, k_spring_au=options.get("k_spring_au", 0.02),
                               cutoff_Ry=options.get("cutoff_Ry"),
                               dispersion=options.get("dispersion"))
    a, b = _structure(initial), _structure(final)
    if relax_endpoints:
        common = {"preset": preset, "fmax_eV_per_A": fmax_eV_per_A,
                  "basis_overrides": options.get("basis_overrides"),
                  "dispersion": options.get("dispersion"), "cutoff_Ry": options.get("cutoff_Ry"),
                  "threads": options.get("threads", 1), "cp2k_cmd": options.get("cp2k_cmd")}
        a = relax_endpoint_cp2k(a, out / "cp2k_relax_initial", **common)
        b = relax_endpoint_cp2k(b, out / "cp2k_relax_final", **common)
    images = idpp_images(a, b, n_images)
    return run_cp2k_neb(images, out, settings, basis_overrides=options.get("basis_overrides"),
                        threads=options.get("threads", 1), mpi_ranks=options.get("mpi_ranks"),
                        cp2k_cmd=options.get("cp2k_cmd"), label=label,
                        require_convergence=require_convergence,
                        extra_record={"relax_endpoints": relax_endpoints})
