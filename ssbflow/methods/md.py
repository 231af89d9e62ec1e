"""MLIP NVT molecular dynamics that writes its trajectory as it goes and resumes.

ASE's Langevin integrator is driven directly (rather than atomate2's ``ForceFieldMDMaker``)
because the trajectory must be appended frame by frame, so that an interrupted run keeps its
frames and a second call continues from the last saved frame (positions, momenta, step).
Every saved frame is one extended-XYZ record carrying ``step``, ``time_fs``,
``temperature_K`` (the thermostat's target) and the potential energy.
"""

from __future__ import annotations

import io
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from jobflow import job
from pymatgen.core import Structure

from ssbflow.engines.geometry import as_atoms
from ssbflow.engines.mlip import energy_forces_calculator, mlip_calculator
from ssbflow.errors import InputError


def engine_settings(mlip_model: str = "CHGNet", device: str | None = None) -> dict:
    """What must be recorded with a force-field result (model, versions, device).

    The engine's optimiser entry is dropped: MD and NEB here drive ASE themselves (the NEB
    records its FIRE optimiser in its own settings).
    """
    from ssbflow.engines import get_engine

    settings = get_engine("mlip", mlip_model=mlip_model, device=device).settings()
    settings.pop("optimizer", None)
    return settings


@dataclass
class MdSummary:
    """What an MD call did; ``complete`` is true once ``n_steps`` steps are on disk.

    ``mean_temperature_K`` is the mean instantaneous temperature of the saved frames after
    the first one (all calls, not just this one); ``wall_s_per_step`` is the mean wall time
    per MD step over the saved chunks (stored with each frame, so it survives a resume).
    """

    trajectory: str
    temperature_K: float
    timestep_fs: float
    save_every: int
    n_steps: int
    steps_done: int
    n_frames: int
    resumed_from_step: int
    complete: bool
    mean_temperature_K: float
    wall_s_per_step: float = float("nan")


def _read_frames(path: Path, n_atoms: int) -> list:
    """All complete frames of an extxyz file; a frame cut off by a crash is dropped."""
    from ase.io import read

    lines = path.read_text().splitlines(keepends=True)
    per_frame = n_atoms + 2
    n_complete = len(lines) // per_frame
    if n_complete * per_frame != len(lines):  # torn final record: keep whole frames only
        path.write_text("".join(lines[: n_complete * per_frame]))
    if n_complete == 0:
        return []
    return read(str(path), index=":", format="extxyz")


def _append_frame(path: Path, atoms, step: int, timestep_fs: float, temperature_K: float,
                  wall_s_per_step: float | None = None) -> None:
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io import write

    frame = atoms.copy()
    frame.calc = SinglePointCalculator(
        frame, energy=float(atoms.get_potential_energy()), forces=atoms.get_forces()
    )
    frame.set_momenta(atoms.get_momenta())
    frame.info.update(
        step=int(step),
        time_fs=float(step * timestep_fs),
        timestep_fs=float(timestep_fs),
        temperature_K=float(temperature_K),
    )
    if wall_s_per_step is not None:
        frame.info["wall_s_per_step"] = float(wall_s_per_step)
    buffer = io.StringIO()
    write(buffer, frame, format="extxyz")
    with path.open("a") as handle:  # one write per frame, flushed to disk
        handle.write(buffer.getvalue())
        handle.flush()


def run_nvt_md(
    structure: Structure | Any,
    trajectory: str | Path,
    temperature_K: float,
    n_steps: int,
    timestep_fs: float = 1.0,
    save_every: int = 10,
    friction_per_fs: float = 0.01,
    mlip_model: str = "CHGNet",
    device: str | None = None,
    calculator: Any = None,
    seed: int = 0,
    max_new_steps: int | None = None,
    progress: bool = True,
) -> MdSummary:
    """Langevin NVT MD with a force field, appending frames to an extended-XYZ file.

    If ``trajectory`` already holds frames of this system, the run continues from the last
    one (positions, momenta and step counter) until ``n_steps`` steps are done in total.

    Parameters
    ----------
    structure
        Starting structure (ignored when resuming, except for its atom count).
    trajectory
        Output ``.extxyz`` file (frames are appended).
    temperature_K, n_steps, timestep_fs, save_every, friction_per_fs
        Thermostat target, total steps, time step, steps between saved frames and the
        Langevin friction (1/fs).
    mlip_model, device, calculator
        Force field (see :func:`mlip_calculator`) or an explicit ASE calculator.
    seed
        Seed of the initial velocities and of the Langevin noise (the noise is reseeded with
        ``seed + step`` on resume).
    max_new_steps
        Stop after this many steps in this call (chunks within a wall-time limit).
    progress
        Show a rich progress bar.
    """
    from ase.constraints import FixCom
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary
    from ase.units import fs

    if temperature_K <= 0 or n_steps < 1 or timestep_fs <= 0 or save_every < 1:
        raise InputError(
            "MD needs temperature_K > 0, n_steps >= 1, timestep_fs > 0 and save_every >= 1"
        )
    if n_steps % save_every:
        raise InputError(f"n_steps ({n_steps}) must be a multiple of save_every ({save_every})")
    path = Path(trajectory)
    path.parent.mkdir(parents=True, exist_ok=True)
    atoms = as_atoms(structure)
    frames = _read_frames(path, len(atoms)) if path.exists() else []
    start_step = 0
    if frames:
        last = frames[-1]
        if len(last) != len(atoms) or last.get_chemical_symbols() != atoms.get_chemical_symbols():
            raise InputError(f"{path}: holds frames of another system; choose a new file")
        if abs(float(last.info.get("timestep_fs", timestep_fs)) - timestep_fs) > 1e-9 or (
            abs(float(last.info.get("temperature_K", temperature_K)) - temperature_K) > 1e-6
        ):
            raise InputError(
                f"{path}: was written with another temperature or time step; choose a new file"
            )
        start_step = int(last.info["step"])
        atoms = last.copy()
        atoms.set_momenta(last.get_momenta())
    atoms.calc = energy_forces_calculator(
        calculator if calculator is not None else mlip_calculator(mlip_model, device)
    )
    rng = np.random.default_rng(seed + start_step)
    if not frames:
        MaxwellBoltzmannDistribution(atoms, temperature_K=temperature_K, rng=rng)
        Stationary(atoms)
        _append_frame(path, atoms, 0, timestep_fs, temperature_K)

    remaining = max(n_steps - start_step, 0)
    if max_new_steps is not None:
        remaining = min(remaining, max(int(max_new_steps), 0))
    # total momentum fixed by a constraint (ASE deprecates Langevin's own fixcm)
    atoms.set_constraint([*atoms.constraints, FixCom()])
    dyn = Langevin(
        atoms,
        timestep=timestep_fs * fs,
        temperature_K=temperature_K,
        friction=friction_per_fs / fs,
        fixcm=False,
        rng=rng,
    )
    n_chunks = remaining // save_every
    step = start_step

    def chunk() -> None:
        nonlocal step
        t0 = time.perf_counter()
        dyn.run(save_every)
        step += save_every
        _append_frame(path, atoms, step, timestep_fs, temperature_K,
                      wall_s_per_step=(time.perf_counter() - t0) / save_every)

    if progress and n_chunks:
        from rich.console import Console
        from rich.progress import Progress

        with Progress(transient=True, console=Console(stderr=True)) as bar:
            task = bar.add_task(f"MD {temperature_K:.0f} K", total=n_chunks)
            for _ in range(n_chunks):
                chunk()
                bar.advance(task)
    else:
        for _ in range(n_chunks):
            chunk()
    done = step
    saved = _read_frames(path, len(atoms))
    temps = [float(f.get_temperature()) for f in saved[1:]]
    walls = [float(f.info["wall_s_per_step"]) for f in saved if "wall_s_per_step" in f.info]
    return MdSummary(
        trajectory=str(path),
        temperature_K=temperature_K,
        timestep_fs=timestep_fs,
        save_every=save_every,
        n_steps=n_steps,
        steps_done=done,
        n_frames=len(saved),
        resumed_from_step=start_step,
        complete=done >= n_steps,
        mean_temperature_K=float(np.mean(temps)) if temps else float("nan"),
        wall_s_per_step=float(np.mean(walls)) if walls else float("nan"),
    )


#: ``Job.metadata`` key the local runner reads (:mod:`ssbflow.runtime.runner`): a job marked
#: resumable keeps its folder when it runs again, so a killed MD continues from its last frame.
RESUMABLE = "resumable"


@job(data="frames", metadata={RESUMABLE: True})
def nvt_md_job(
    structure: Structure,
    trajectory: str,
    temperature_K: float,
    n_steps: int,
    timestep_fs: float = 1.0,
    save_every: int = 10,
    mlip_model: str = "CHGNet",
    seed: int = 0,
) -> dict:
    """jobflow job around :func:`run_nvt_md`; re-running it resumes the trajectory.

    The job is marked resumable (``metadata["resumable"]``): the local runner keeps its
    folder after a kill, so a relative ``trajectory`` (e.g. ``"md.extxyz"`` in the job folder)
    is continued from its last saved frame.

    Returns
    -------
    dict
        The :class:`MdSummary` fields, and ``frames`` (stored in the ``data`` store): the
        unwrapped trajectory as :func:`ssbflow.analysis.diffusion.read_trajectory` reads it
        (``positions_A`` (frames, atoms, 3), ``symbols``, ``masses_amu``, ``time_ps``,
        ``volume_A3``, ``temperature_K``), so that analysis jobs need no other job's folder;
        ``None`` with fewer than :data:`~ssbflow.analysis.diffusion.MIN_FRAMES` frames.
    """
    from ssbflow.analysis.msd import MIN_FRAMES, read_trajectory

    summary = run_nvt_md(
        structure, trajectory, temperature_K, n_steps, timestep_fs=timestep_fs,
        save_every=save_every, mlip_model=mlip_model, seed=seed, progress=False,
    )
    doc = asdict(summary)
    doc["trajectory"] = str(Path(summary.trajectory).absolute())
    doc["frames"] = None
    if summary.n_frames < MIN_FRAMES:  # too short for an MSD; the summary is still useful
        return doc
    frames = read_trajectory(summary.trajectory)
    doc["frames"] = {
        "positions_A": frames.positions_A.tolist(),
        "symbols": list(frames.symbols),
        "masses_amu": np.asarray(frames.masses_amu, dtype=float).tolist(),
        "time_ps": frames.time_ps.tolist(),
        "volume_A3": float(frames.volume_A3),
        "temperature_K": frames.temperature_K,
    }
    return doc
