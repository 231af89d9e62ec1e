"""Climbing-image NEB of a Li hop with a universal force field, and harmonic TST rates.

ASE's NEB is driven directly (improved tangent, climbing image, IDPP interpolation under the
minimum-image convention) with one shared force-field calculator; atomate2's
``ForceFieldNebFromEndpointsMaker`` fails on our endpoints, and driving ASE keeps the band,
the saddle and the profile in one folder. Endpoints are relaxed first with the same engine
(selective dynamics of slabs become ASE ``FixAtoms`` and are honoured).

Files written to ``out_dir``: ``initial.extxyz``, ``final.extxyz`` (relaxed endpoints),
``neb_images.extxyz`` (final band with energies and true forces), ``saddle.extxyz`` and
``saddle.cif``, ``neb_profile.png``, ``neb_result.json``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ase.io import write
from jobflow import job
from pymatgen.core import Structure
from scipy.constants import physical_constants

from ssbflow.analysis.neb import (
    IMAGES_FILE,
    NebResult,
    analyze_band,
    plot_profiles,
    write_result,
)
from ssbflow.engines.mlip import energy_forces_calculator, mlip_calculator
from ssbflow.errors import InputError, SsbflowError
from ssbflow.io import write_json
from ssbflow.methods.md import engine_settings
from ssbflow.methods.relax import as_atoms, relax, single_point

_KB_EV_PER_K = physical_constants["Boltzmann constant in eV/K"][0]
_H_EV_PS = physical_constants["Planck constant in eV/Hz"][0] * 1e12  # h in eV·ps


# --------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------
def vacancy_hop_endpoints(
    structure: Structure, from_index: int, to_index: int
) -> tuple[Structure, Structure]:
    """Endpoints of a vacancy hop: site ``to_index`` is emptied, then the ion at
    ``from_index`` jumps into it (so the vacancy moves from ``to_index`` to ``from_index``).

    Returns
    -------
    initial, final
        Structures with one atom fewer than ``structure``, same atom order.
    """
    n = len(structure)
    for name, i in (("from_index", from_index), ("to_index", to_index)):
        if not 0 <= i < n:
            raise InputError(f"{name}={i} is not a site index of a {n}-atom structure")
    if from_index == to_index:
        raise InputError("from_index and to_index must differ")
    if structure[from_index].species != structure[to_index].species:
        raise InputError(
            f"sites {from_index} ({structure[from_index].species_string}) and {to_index} "
            f"({structure[to_index].species_string}) hold different species"
        )
    target = structure[to_index].frac_coords.copy()
    initial = structure.copy()
    initial.remove_sites([to_index])
    moving = from_index if from_index < to_index else from_index - 1
    final = initial.copy()
    final.replace(moving, final[moving].species, coords=target, coords_are_cartesian=False,
                  properties=final[moving].properties)
    return initial, final


def move_endpoints(
    structure: Structure, index: int, target_frac: list[float] | np.ndarray
) -> tuple[Structure, Structure]:
    """Endpoints of a hop of the ion at ``index`` to the fractional position ``target_frac``."""
    if not 0 <= index < len(structure):
        raise InputError(f"index={index} is not a site index of a {len(structure)}-atom structure")
    target = np.asarray(target_frac, dtype=float)
    if target.shape != (3,):
        raise InputError("target_frac must be three fractional coordinates")
    final = structure.copy()
    final.replace(index, final[index].species, coords=target, coords_are_cartesian=False,
                  properties=final[index].properties)
    others = [i for i in range(len(final)) if i != index]
    dists = final.lattice.get_all_distances(final[index].frac_coords,
                                            final.frac_coords[others])[0]
    if dists.size and dists.min() < 0.8:
        raise InputError(f"target_frac puts the ion {dists.min():.2f} Å from another atom")
    return structure.copy(), final


def moving_index(initial: Any, final: Any) -> int:
    """Index of the atom that moves most between two endpoints (minimum image)."""
    from ase.geometry import find_mic

    d = final.positions - initial.positions
    if initial.pbc.any():
        d = find_mic(d, initial.cell, initial.pbc)[0]
    return int(np.argmax(np.linalg.norm(d, axis=1)))


# --------------------------------------------------------------------------------------------
# The CI-NEB driver
# --------------------------------------------------------------------------------------------
@dataclass
class NebSettings:
    """Settings recorded with every NEB result."""

    n_images: int = 5
    fmax_eV_per_A: float = 0.05
    max_steps: int = 400
    relax_endpoints: bool = True
    climb: bool = True
    interpolation: str = "idpp"
    method: str = "improvedtangent"
    engine: str = "mlip"
    mlip_model: str = "CHGNet"
    optimizer: str = "FIRE"
    climb_start_eV_per_A: float | None = None


def run_neb(
    initial: Structure | Any,
    final: Structure | Any,
    out_dir: str | Path,
    n_images: int = 5,
    fmax_eV_per_A: float = 0.05,
    max_steps: int = 400,
    relax_endpoints: bool = True,
    climb: bool = True,
    engine: str = "mlip",
    mlip_model: str = "CHGNet",
    device: str | None = None,
    calculator: Any = None,
    label: str = "NEB",
    require_convergence: bool = True,
    engine_options: dict[str, Any] | None = None,
    climb_start_eV_per_A: float | None = None,
    climb_optimizer: str = "FIRE",
) -> NebResult:
    """CI-NEB (improved tangent, IDPP under the minimum image) between two endpoints,
    checkpointed so that an interrupted band continues where it stopped.

    Stage 1 is a plain band with FIRE (robust far from the path) down to
    ``climb_start_eV_per_A``; stage 2 switches the climbing image on and converges to
    ``fmax_eV_per_A`` with ``climb_optimizer``: FIRE (the default), or BFGS (``maxstep``
    0.1 Å: quasi-Newton steps once the band is near the path; measured faster on slabs with
    chains). The band is written to ``band_checkpoint.extxyz`` every 5 steps and read back
    by a later call in the same folder (same image count); each stage logs its steps
    (``neb_stage1.log``, ``neb_stage2.log``).

    Parameters
    ----------
    initial, final
        Endpoints (pymatgen Structures or ASE Atoms) with the same atoms in the same order;
        constraints (selective dynamics) hold in every image.
    out_dir
        Folder for the band, saddle, profile, checkpoint and result files.
    n_images
        Intermediate images (the band has ``n_images + 2``).
    fmax_eV_per_A, max_steps
        Force criterion for endpoints and band, and the step limit of each stage.
    relax_endpoints
        Relax the endpoints first (FIRE, fixed cell); otherwise they are evaluated as given.
    climb
        Climbing image in stage 2 (without it, stage 1 runs to ``fmax_eV_per_A``).
    engine, mlip_model, device, calculator
        ``mlip`` (ASE NEB with a force field; ``calculator`` overrides it), ``cp2k``
        (CP2K ``&BAND`` CI-NEB) or ``vasp`` (inputs only): see
        :func:`ssbflow.engines.neb.run_dft_neb`.
    engine_options
        Extra options of the ``cp2k``/``vasp`` engines (``preset``, ``mpi_ranks``,
        ``threads``, ``cutoff_Ry``, ...), passed to ``run_dft_neb``.
    require_convergence
        Raise :class:`SsbflowError` when the band does not converge (the files are written
        first); otherwise return the result with ``converged=False``.
    climb_start_eV_per_A
        Force at which the climbing image starts; default ``max(4 fmax, 0.2)``.
    climb_optimizer
        ``FIRE`` or ``BFGS`` for stage 2.

    Returns
    -------
    NebResult
        With ``converged``, ``optimizer_steps`` and ``files`` set; ``neb_result.json``
        also holds the settings, the engine and the wall time.
    """
    if engine != "mlip":  # cp2k runs a CP2K &BAND; vasp writes inputs (ssbflow.engines.neb)
        from ssbflow.engines.neb import run_dft_neb

        return run_dft_neb(initial, final, out_dir, engine, write_band_outputs,
                           n_images=n_images,
                           fmax_eV_per_A=fmax_eV_per_A, max_steps=max_steps,
                           relax_endpoints=relax_endpoints, climb=climb, label=label,
                           require_convergence=require_convergence, **(engine_options or {}))
    if n_images < 1:
        raise InputError(f"n_images must be >= 1, got {n_images}")
    if climb_optimizer not in ("FIRE", "BFGS"):
        raise InputError(f"climb_optimizer must be FIRE or BFGS, got {climb_optimizer!r}")
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    calc = energy_forces_calculator(
        calculator if calculator is not None else mlip_calculator(mlip_model, device))
    a0, a1 = as_atoms(initial), as_atoms(final)
    if a0.get_chemical_symbols() != a1.get_chemical_symbols():
        raise InputError("initial and final hold different atoms (order must match)")
    if relax_endpoints:
        a0, a1 = (relax(a, calc, fmax_eV_per_A=fmax_eV_per_A, max_steps=max_steps).atoms
                  for a in (a0, a1))
    else:
        a0, a1 = single_point(a0, calc), single_point(a1, calc)
    write(out / "initial.extxyz", a0)
    write(out / "final.extxyz", a1)
    climb_start = (max(4 * fmax_eV_per_A, 0.2) if climb_start_eV_per_A is None
                   else max(climb_start_eV_per_A, fmax_eV_per_A))
    images, converged, steps = _drive_band(a0, a1, calc, out, n_images, fmax_eV_per_A,
                                           max_steps, climb, climb_start, climb_optimizer)
    band = [images[0]] + [single_point(img, calc) for img in images[1:-1]] + [images[-1]]
    result = write_band_outputs(band, out, label, converged, steps)
    settings = NebSettings(n_images, fmax_eV_per_A, max_steps, relax_endpoints, climb, "idpp",
                           "improvedtangent", engine, mlip_model,
                           f"FIRE (plain band) then {climb_optimizer} (climbing image)"
                           if climb else "FIRE", climb_start if climb else None)
    record = json.loads((out / "neb_result.json").read_text())
    record.update(label=label, moving_index=moving_index(a0, a1), settings=asdict(settings),
                  engine_settings=(engine_settings(mlip_model, device) if calculator is None
                                   else {"calculator": type(calculator).__name__}),
                  wall_time_s=time.perf_counter() - t0)
    write_json(out / "neb_result.json", record, indent=2)
    if not converged and require_convergence:
        raise SsbflowError(
            f"NEB '{label}' did not reach fmax {fmax_eV_per_A} eV/Å in {max_steps} steps "
            f"(band kept in {out}); raise max_steps or loosen fmax"
        )
    return result


def _drive_band(a0: Any, a1: Any, calc: Any, out: Path, n_images: int, fmax: float,
                max_steps: int, climb: bool, climb_start: float,
                climb_optimizer: str) -> tuple[list, bool, int]:
    """Stages 1 and 2 of :func:`run_neb` with the checkpoint; returns images, convergence
    and optimiser steps."""
    from ase.io import read
    from ase.mep import NEB
    from ase.optimize import BFGS, FIRE

    images = [a0] + [a0.copy() for _ in range(n_images)] + [a1]
    for img in images[1:-1]:
        img.calc = calc
    checkpoint = out / "band_checkpoint.extxyz"
    stage, steps_done, resumed = 1, 0, False
    if checkpoint.is_file():
        saved = read(checkpoint, index=":")
        if len(saved) == len(images):  # a band with another image count is started afresh
            for img, frame in zip(images[1:-1], saved[1:-1], strict=True):
                img.positions = frame.positions
            stage = int(saved[0].info.get("stage", 1))
            steps_done = int(saved[0].info.get("steps", 0))
            resumed = True
    band = NEB(images, climb=climb and stage == 2, method="improvedtangent",
               allow_shared_calculator=True)
    if not resumed:
        band.interpolate(method="idpp", mic=True)

    def save(stage_now: int, steps_now: int) -> None:
        frames = [img.copy() for img in images]
        frames[0].info.update(stage=stage_now, steps=steps_now)
        tmp = checkpoint.with_suffix(".tmp.extxyz")
        write(tmp, frames)
        tmp.replace(checkpoint)

    def run_stage(opt: Any, stage_now: int, fmax_now: float) -> bool:
        before = steps_done
        opt.attach(lambda: save(stage_now, before + opt.nsteps), interval=5)
        ok = bool(opt.run(fmax=fmax_now, steps=max_steps))
        save(stage_now, before + opt.nsteps)
        return ok

    converged = False
    if stage == 1 or not climb:
        opt = FIRE(band, logfile=str(out / "neb_stage1.log"))
        converged = run_stage(opt, 1, climb_start if climb else fmax)
        steps_done += opt.nsteps
    if climb:
        band.climb = True
        log = str(out / "neb_stage2.log")
        opt = BFGS(band, logfile=log, maxstep=0.1) if climb_optimizer == "BFGS" else FIRE(
            band, logfile=log)
        converged = run_stage(opt, 2, fmax)
        steps_done += opt.nsteps
    return images, converged, steps_done


def write_band_outputs(band: list, out: Path, label: str, converged: bool, steps: int,
                       extra_files: dict[str, str] | None = None) -> NebResult:
    """Analyse a finished band (images with energies and forces) and write its files.

    Writes ``neb_images.extxyz``, ``saddle.extxyz``/``saddle.cif``, ``neb_profile.png`` and
    ``neb_result.json`` into ``out``; every NEB driver (ASE, CP2K, the studies' checkpointed
    one) ends here, so ``ssbflow analyze neb`` reads all of them the same way.
    """
    from ase.io import write
    from pymatgen.io.ase import AseAtomsAdaptor

    for img in band:
        img.info["neb_n_images"] = len(band)
    write(out / IMAGES_FILE, band, format="extxyz")
    result = analyze_band(band)
    saddle = band[result.saddle_index]
    write(out / "saddle.extxyz", saddle)
    AseAtomsAdaptor.get_structure(saddle).to(filename=str(out / "saddle.cif"))
    result.files = {
        "band": str(out / IMAGES_FILE),
        "saddle": str(out / "saddle.extxyz"),
        "initial": str(out / "initial.extxyz"),
        "final": str(out / "final.extxyz"),
        "profile_png": str(plot_profiles({label: result}, out / "neb_profile.png")),
        "result_json": str(out / "neb_result.json"),
        **(extra_files or {}),
    }
    result.converged = converged
    result.optimizer_steps = int(steps)
    write_result(result, out / "neb_result.json")
    return result


# --------------------------------------------------------------------------------------------
# Harmonic transition-state theory
# --------------------------------------------------------------------------------------------
@dataclass
class VineyardRate:
    """Harmonic TST (Vineyard) hop rate from the modes of the moving ion.

    ``prefactor_THz`` = Π ν(minimum) / Π ν(saddle, real modes); ``rate_per_s`` =
    ν* exp(−Ea / kT); ``D_hop_cm2_s`` = z Γ a² / 6 for ``n_paths`` = z equivalent hops of
    length ``hop_length_A`` = a (an estimate limited by this one hop type).
    """

    prefactor_THz: float
    barrier_eV: float
    temperature_K: float
    rate_per_s: float
    hop_length_A: float
    n_paths: int
    D_hop_cm2_s: float
    frequencies_min_THz: list[float]
    frequencies_saddle_THz: list[float]


def _frequencies_THz(atoms: Any, calc: Any, indices: list[int], name: Path) -> np.ndarray:
    """Finite-difference frequencies (THz) of the partial Hessian of ``indices``;
    imaginary modes are returned as negative numbers."""
    from ase.vibrations import Vibrations

    work = atoms.copy()
    work.calc = calc
    vib = Vibrations(work, indices=indices, delta=0.01, nfree=2, name=str(name))
    vib.clean()
    vib.run()
    energies = vib.get_energies()  # eV, complex for imaginary modes
    vib.clean()
    thz = np.where(np.abs(energies.imag) > np.abs(energies.real), -np.abs(energies.imag),
                   energies.real) / _H_EV_PS
    return np.sort(thz)


def vineyard_rate(
    initial: Any,
    saddle: Any,
    barrier_eV: float,
    temperature_K: float,
    indices: list[int],
    calculator: Any = None,
    mlip_model: str = "CHGNet",
    work_dir: str | Path = ".",
    n_paths: int = 1,
) -> VineyardRate:
    """Vineyard rate and hop-limited D from frequencies at the minimum and the saddle.

    Only the atoms in ``indices`` (usually the migrating ion) are displaced: the partial
    Hessian approximation, adequate when the host relaxes little during the hop.
    """
    calc = calculator if calculator is not None else mlip_calculator(mlip_model)
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    nu_min = _frequencies_THz(initial, calc, indices, work / "vib_min")
    nu_sad = _frequencies_THz(saddle, calc, indices, work / "vib_saddle")
    if np.any(nu_min <= 0):
        raise SsbflowError("the initial state has an imaginary mode: it is not a minimum")
    real_sad = nu_sad[nu_sad > 0]
    if real_sad.size != nu_min.size - 1:
        raise SsbflowError(
            f"the saddle has {nu_min.size - real_sad.size} imaginary modes (expected 1)"
        )
    log_prefactor = float(np.sum(np.log(nu_min)) - np.sum(np.log(real_sad)))
    prefactor = math.exp(log_prefactor)
    rate = prefactor * 1e12 * math.exp(-barrier_eV / (_KB_EV_PER_K * temperature_K))
    k = indices[0]
    from ase.geometry import find_mic

    d = saddle.positions[k] - initial.positions[k]
    hop = 2.0 * float(np.linalg.norm(find_mic(d, initial.cell, initial.pbc)[0]))
    d_hop = n_paths * rate * (hop * 1e-8) ** 2 / 6.0
    return VineyardRate(prefactor, barrier_eV, temperature_K, rate, hop, n_paths, d_hop,
                        nu_min.tolist(), nu_sad.tolist())


@job(data="band", metadata={"resumable": True})  # the band checkpoint survives a kill
def neb_job(
    initial: Structure,
    final: Structure,
    n_images: int = 5,
    fmax_eV_per_A: float = 0.05,
    max_steps: int = 400,
    mlip_model: str = "CHGNet",
    label: str = "NEB",
    relax_endpoints: bool = True,
    climb_start_eV_per_A: float | None = None,
    climb_optimizer: str = "FIRE",
    require_convergence: bool = True,
) -> dict:
    """One CI-NEB as a jobflow job: :func:`run_neb` in the job's own folder (resumable:
    the local runner keeps the folder of a killed band, which continues from its checkpoint).

    Returns
    -------
    dict
        ``result``: the :class:`NebResult` as a dictionary (with the fitted profile, the
        settings and the wall time); ``band``: the final images as Structures (stored in the
        ``data`` store). The band files and the checkpoint stay in the job folder.
    """
    from pymatgen.io.ase import AseAtomsAdaptor

    out = Path.cwd()
    result = run_neb(initial, final, out, n_images=n_images, fmax_eV_per_A=fmax_eV_per_A,
                     max_steps=max_steps, relax_endpoints=relax_endpoints,
                     mlip_model=mlip_model, label=label,
                     require_convergence=require_convergence,
                     climb_start_eV_per_A=climb_start_eV_per_A,
                     climb_optimizer=climb_optimizer)
    record = json.loads((out / "neb_result.json").read_text())
    from ase.io import read

    band = [AseAtomsAdaptor.get_structure(a) for a in read(out / IMAGES_FILE, index=":")]
    return {"result": {**result.to_dict(include_fit=True), "label": label,
                       "settings": record["settings"], "wall_time_s": record["wall_time_s"]},
            "band": band}


def neb_result_from_dict(doc: dict) -> NebResult:
    """The :class:`NebResult` of a dictionary written by ``NebResult.to_dict``."""
    fields = NebResult.__dataclass_fields__
    values = {k: v for k, v in doc.items() if k in fields}
    if values.get("max_perp_force_eV_per_A") is None:
        values["max_perp_force_eV_per_A"] = math.nan
    return NebResult(**values)
