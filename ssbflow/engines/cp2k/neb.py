"""CP2K climbing-image NEB (``&MOTION/&BAND``): input set, inputs, running, reading the band.

:func:`run_cp2k_band` takes a band of images (endpoints included, already interpolated),
writes one CP2K input with ``RUN_TYPE BAND`` (``BAND_TYPE CI-NEB``, one ``&REPLICA`` per
image read from ``replica_NN.xyz``, DIIS band optimiser with force criteria converted from
eV/Å) and runs it through custodian like every other CP2K job (atomate2's ``run_cp2k``,
the engine's one command setting :func:`ssbflow.engines.cp2k.engine.cp2k_command`). The
``&FORCE_EVAL`` part is the one of ssbflow's CP2K relaxation
(:func:`ssbflow.engines.cp2k.sets.make_generator`): same presets, basis sets,
pseudopotentials, RKS/UKS choice, D3(BJ) and ``&FIXED_ATOMS`` for ``selective_dynamics``;
only ``&GEO_OPT`` is swapped for ``&BAND``. Replica energies and final geometries come from
``*-pos-Replica_nr_K-1.xyz``, the true forces of the final images from the ``NEB|`` blocks
of the main output.

With one MPI rank, CP2K evaluates all replicas in one force environment and each SCF
restarts from the previous *replica's* wavefunction (about 10 OT steps per image and
evaluation for H3); with one rank per replica (``mpi_ranks`` = number of images) every
replica keeps its own wavefunction and later SCFs need 1-5 steps.

Custodian and the band (measured on the H3 band of ``tests/engines/test_dft_neb.py``,
5 replicas, one rank each, 2 shared cores): atomate2's default CP2K handlers and validator
accept the BAND output (no correction, validator passed) and the band is identical to the
one of a bare ``subprocess`` run (same 12 steps, replica energies equal to all printed
digits; 111 s against 94 s wall with custodian's default 10 s polling, 1 s here). The
frozen-job handler is left out of band runs (:func:`run_cp2k_in`).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from contextlib import chdir, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Structure
from pymatgen.io.cp2k.inputs import Keyword, Section, SectionList

from ssbflow.engines.cp2k import sets as cp2k_sets
from ssbflow.engines.cp2k.engine import cp2k_command, mpi_defaults
from ssbflow.engines.cp2k.outputs import abort_message, read_xyz_frames, scf_step_count
from ssbflow.engines.cp2k.presets import CP2K_PRESETS
from ssbflow.engines.geometry import as_atoms, as_structure, check_band_images
from ssbflow.errors import InputError, SsbflowError

#: CODATA 2018 conversion factors (kept: the recorded NEB numbers were made with them;
#: ase.units defaults to CODATA 2014, scipy.constants to CODATA 2022).
HARTREE_EV = 27.211386245988
BOHR_A = 0.529177210903
#: 1 Hartree/Bohr in eV/Å.
HA_PER_BOHR_EV_PER_A = HARTREE_EV / BOHR_A

#: Project name of the CP2K band run (prefix of its output files).
_PROJECT = "NEB"


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
        if self.preset not in CP2K_PRESETS:
            raise InputError(f"preset {self.preset!r} is not known; expected one of "
                             f"{', '.join(CP2K_PRESETS)}")
        if not self.fmax_eV_per_A > 0:
            raise InputError(f"fmax_eV_per_A must be > 0, got {self.fmax_eV_per_A}")
        if self.max_steps < 1:
            raise InputError(f"max_steps must be >= 1, got {self.max_steps}")
        if not self.k_spring_au > 0:
            raise InputError(f"k_spring_au must be > 0, got {self.k_spring_au}")
        if self.cutoff_Ry is not None and not self.cutoff_Ry > 0:
            raise InputError(f"cutoff_Ry must be > 0, got {self.cutoff_Ry}")


def _kw(name: str, *values: Any) -> Keyword:
    return Keyword(name, *values)


def _section(name: str, keywords: dict | None = None, subsections: dict | None = None,
             **kwargs: Any) -> Section:
    return Section(name, keywords=keywords or {}, subsections=subsections or {}, **kwargs)


def cp2k_neb_input_set(images: list[Structure], settings: Cp2kNebSettings | None = None,
                       basis_overrides: dict[str, str] | None = None) -> Any:
    """atomate2 ``Cp2kInputSet`` of a CP2K band run over ``images`` (endpoints included).

    The ``&FORCE_EVAL`` comes from ssbflow's CP2K relaxation generator for the first image
    (so basis, potential, spin, SCF and constraints match every other CP2K job); the stress
    tensor is dropped (fixed cell) and ``&GEO_OPT`` becomes ``&BAND``. The replicas are read
    from ``replica_NN.xyz`` files that :func:`write_cp2k_neb_inputs` writes next to the input.
    """
    settings = settings or Cp2kNebSettings()
    check_band_images(images)
    gen = cp2k_sets.make_generator("relax", settings.preset,
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
    images = [as_structure(s) for s in images]
    input_set = cp2k_neb_input_set(images, settings, basis_overrides)
    input_set.write_input(run_dir)
    for k, image in enumerate(images):
        _write_xyz(image, run_dir / _replica_file(k), f"replica {k}")
    return run_dir


@contextmanager
def _environment(extra: dict[str, str]):
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_cp2k_in(run_dir: Path, command: str, band: bool = False) -> float:
    """Run CP2K on ``run_dir/cp2k.inp`` through custodian (atomate2's ``run_cp2k``, default
    handlers and validator); ``cp2k.out`` is written there. Returns the wall time (s).

    ``band=True`` leaves out custodian's ``FrozenJobErrorHandler``: it calls a run frozen
    when ``cp2k.out`` has not changed for an hour, but a band writes its SCF iterations to
    ``NEB-BAND<k>.out`` (H3 band: 0 SCF lines in ``cp2k.out``, 47 in ``NEB-BAND1.out``) and
    ``cp2k.out`` only once per band step, which can take longer than that.

    Raises
    ------
    SsbflowError
        Custodian gave up; the message names the folder and CP2K's ``[ABORT]`` reason.
    """
    from atomate2.cp2k.run import _DEFAULT_HANDLERS, run_cp2k
    from custodian.cp2k.handlers import FrozenJobErrorHandler

    handlers = tuple(h for h in _DEFAULT_HANDLERS
                     if not (band and isinstance(h, FrozenJobErrorHandler)))
    start = time.perf_counter()
    try:
        # in the folder, as atomate2's jobs run (custodian's handlers read files relative to
        # the working directory); poll every second (custodian's default 10 s adds up to
        # 10 s to every short run)
        with _environment(mpi_defaults()), chdir(run_dir):
            run_cp2k(cp2k_cmd=command, handlers=handlers,
                     custodian_kwargs={"polling_time_step": 1})
    except Exception as err:  # custodian raises its own error types
        reason = abort_message(run_dir / "cp2k.out") or str(err).splitlines()[0]
        raise SsbflowError(f"CP2K failed in {run_dir}: {reason}".strip()) from err
    return time.perf_counter() - start


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
    run_dir = Path(run_dir)
    command = cp2k_command(threads, cp2k_cmd=cp2k_cmd)
    gen = cp2k_sets.make_generator("relax", preset, fmax_eV_per_A=fmax_eV_per_A,
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
    run_cp2k_in(run_dir, command)
    if "GEOMETRY OPTIMIZATION COMPLETED" not in (run_dir / "cp2k.out").read_text():
        raise SsbflowError(f"CP2K GEO_OPT in {run_dir} did not reach fmax {fmax_eV_per_A} "
                           f"eV/Å in {max_steps} steps")
    frames = read_xyz_frames(run_dir / "RELAX-pos-1.xyz")
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
    base = as_atoms(template)
    blocks = _force_blocks(run_dir / "cp2k.out")
    images = []
    steps = 0
    for k in range(1, n_replicas + 1):
        frames = read_xyz_frames(run_dir / f"{_PROJECT}-pos-Replica_nr_{k}-1.xyz")
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


@dataclass
class Cp2kBand:
    """A finished CP2K band: images with energies/forces, optimiser steps, what to record."""

    images: list
    steps: int
    converged: bool
    run_dir: Path
    record: dict[str, Any]


def run_cp2k_band(images: list[Structure] | list[Any], run_dir: str | Path,
                  settings: Cp2kNebSettings | None = None,
                  basis_overrides: dict[str, str] | None = None, threads: int = 1,
                  mpi_ranks: int | None = None, cp2k_cmd: str | None = None) -> Cp2kBand:
    """Write, run (custodian) and read a CP2K CI-NEB over ``images`` in ``run_dir``.

    Parameters
    ----------
    images
        The interpolated band (pymatgen Structures or ASE Atoms), endpoints included and
        fixed; same atoms, order and cell in every image.
    run_dir
        CP2K's folder (emptied first: never mix the files of two band runs).
    settings
        Band and DFT settings (:class:`Cp2kNebSettings`).
    basis_overrides
        ``{element: basis name}`` replacing the preset's basis.
    threads, mpi_ranks, cp2k_cmd
        OpenMP threads; MPI ranks (``None``: one per replica when ``mpirun`` exists, so each
        replica restarts its own SCF; 1: a single process); or the engine's full command
        (``$SSBFLOW_CP2K_CMD``), used as given (see :func:`cp2k_command`).
    """
    settings = settings or Cp2kNebSettings()
    structures = [as_structure(s) for s in images]
    check_band_images(structures)
    run_dir = Path(run_dir)
    if mpi_ranks is None:  # one rank per replica when MPI is there (module docstring)
        mpi_ranks = len(structures) if shutil.which("mpirun") else 1
    command = cp2k_command(threads, mpi_ranks=mpi_ranks, cp2k_cmd=cp2k_cmd)
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    write_cp2k_neb_inputs(structures, run_dir, settings, basis_overrides)
    wall_s = run_cp2k_in(run_dir, command, band=True)
    band, steps = read_cp2k_band(run_dir, structures[0], len(structures))
    record = {
        "settings": {"engine": "cp2k", "band_type": "CI-NEB" if settings.climb else "IT-NEB",
                     "optimizer": "DIIS", "n_images": len(band) - 2, **vars(settings)},
        "engine_settings": _engine_settings(settings, basis_overrides, command, threads),
        "cp2k_wall_s": wall_s,
        "scf_steps_total": scf_step_count(run_dir, f"{_PROJECT}-BAND*.out"),
    }
    return Cp2kBand(band, steps, steps < settings.max_steps, run_dir, record)


def _engine_settings(settings: Cp2kNebSettings, basis_overrides: dict | None,
                     command: str, threads: int) -> dict[str, Any]:
    preset = CP2K_PRESETS[settings.preset]
    out = {"engine": "cp2k", "preset": settings.preset, "cp2k_cmd": command,
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
