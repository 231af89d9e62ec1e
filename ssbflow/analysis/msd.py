"""Trajectories for the MSD: reading, unwrapping, framework drift and the FFT mean-square
displacement.

MSD(t) = ⟨|r_i(t0 + t) − r_i(t0)|²⟩ over the ions of one species and over *all* time origins
t0, from unwrapped coordinates with the centre-of-mass drift of the framework removed. The MSD
here sums the power spectra of the ions of one species before a single inverse FFT, so the cost
is one forward real FFT per ion and Cartesian component. Fits, regimes and D are in
:mod:`ssbflow.analysis.diffusion`.
"""

# FFT MSD kept over pymatgen-analysis-diffusion's DiffusionAnalyzer, bench_msd (float64): 8.7x
# at 10^4 frames x 500 Li + 1000 framework atoms; 7.8x at 4000 x 200 + 400 (rerun 2026-12-04).

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.fft import irfft, next_fast_len, rfft

from ssbflow.errors import InputError

MIN_FRAMES = 5
"""Fewest frames an MSD fit accepts."""


# --------------------------------------------------------------------------------------------
# Trajectory handling
# --------------------------------------------------------------------------------------------
@dataclass
class TrajectoryData:
    """Unwrapped Cartesian positions of a trajectory and what goes with them.

    Attributes
    ----------
    positions_A
        (n_frames, n_atoms, 3) unwrapped Cartesian positions in Å.
    symbols
        Chemical symbol of every atom.
    masses_amu
        Atomic masses (amu).
    time_ps
        (n_frames,) times in ps, evenly spaced and increasing.
    volume_A3
        Mean cell volume (Å³), ``nan`` for a non-periodic trajectory.
    temperature_K
        Temperature stored with the frames (``info["temperature_K"]``), else ``None``.
    """

    positions_A: np.ndarray
    symbols: list[str]
    masses_amu: np.ndarray
    time_ps: np.ndarray
    volume_A3: float
    temperature_K: float | None = None


def unwrap_positions(positions_A: np.ndarray, cells_A: np.ndarray | None) -> np.ndarray:
    """Unwrap positions with minimum-image displacements between consecutive frames.

    Works for wrapped and for already-unwrapped input, provided no atom moves by half a cell
    between two saved frames.

    Parameters
    ----------
    positions_A
        (n_frames, n_atoms, 3) Cartesian positions (Å).
    cells_A
        (n_frames, 3, 3) or (3, 3) cell matrices (rows are lattice vectors), or ``None`` for
        no periodicity (positions are returned as they are).
    """
    pos = np.asarray(positions_A, dtype=float)
    if cells_A is None:
        return pos.copy()
    cells = np.asarray(cells_A, dtype=float)
    if cells.ndim == 2:
        cells = np.broadcast_to(cells, (pos.shape[0], 3, 3))
    inv = np.linalg.inv(cells)
    frac = np.einsum("fni,fij->fnj", pos, inv)
    dfrac = np.diff(frac, axis=0)
    dfrac -= np.round(dfrac)
    # displacement of each step in the cell of the later frame (NPT-safe to first order)
    dcart = np.einsum("fni,fij->fnj", dfrac, cells[1:])
    out = np.empty_like(pos)
    out[0] = pos[0]
    np.cumsum(dcart, axis=0, out=out[1:])
    out[1:] += pos[0]
    return out


def _frame_time_fs(atoms) -> float | None:
    info = atoms.info
    if "time_fs" in info:
        return float(info["time_fs"])
    if "time_ps" in info:
        return 1000.0 * float(info["time_ps"])
    return None


def read_trajectory(
    path: str | Path,
    timestep_fs: float | None = None,
    frame_interval: int = 1,
    index: str = ":",
) -> TrajectoryData:
    """Read an ASE-readable trajectory (extxyz, .traj, ...) and unwrap it.

    Times come from ``info["time_fs"]`` (or ``time_ps``) of every frame when present (as
    written by :mod:`ssbflow.methods.md`), else from ``timestep_fs * frame_interval``.

    Raises
    ------
    InputError
        Fewer than :data:`MIN_FRAMES` frames, changing atom counts, times that are not
        strictly increasing and evenly spaced, or no time information at all.
    """
    from ase.io import read

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        frames = read(str(path), index=index)
    except Exception as exc:  # ASE raises many types for unreadable files
        raise InputError(f"{path}: not a trajectory ASE can read ({type(exc).__name__})") from exc
    if not isinstance(frames, list):
        frames = [frames]
    if len(frames) < MIN_FRAMES:
        raise InputError(
            f"{path}: trajectory has {len(frames)} frame(s); an MSD fit needs at least "
            f"{MIN_FRAMES}"
        )
    n_atoms = len(frames[0])
    if any(len(a) != n_atoms for a in frames):
        raise InputError(f"{path}: the number of atoms changes between frames")
    times = [_frame_time_fs(a) for a in frames]
    if all(t is not None for t in times):
        time_ps = np.array(times, dtype=float) / 1000.0
    elif timestep_fs is not None:
        if timestep_fs <= 0 or frame_interval < 1:
            raise InputError("--timestep-fs must be > 0 and --frame-interval >= 1")
        time_ps = np.arange(len(frames)) * timestep_fs * frame_interval / 1000.0
    else:
        raise InputError(f"{path}: frames carry no time; give --timestep-fs (fs between steps)")
    check_time(time_ps, str(path))
    positions = np.array([a.get_positions() for a in frames])
    periodic = bool(frames[0].pbc.any()) and frames[0].cell.rank == 3
    cells = np.array([a.cell.array for a in frames]) if periodic else None
    temperature = frames[0].info.get("temperature_K")
    return TrajectoryData(
        positions_A=unwrap_positions(positions, cells),
        symbols=frames[0].get_chemical_symbols(),
        masses_amu=frames[0].get_masses(),
        time_ps=time_ps,
        volume_A3=float(np.mean([a.cell.volume for a in frames])) if periodic else math.nan,
        temperature_K=float(temperature) if temperature is not None else None,
    )


def check_time(time_ps: np.ndarray, what: str = "trajectory") -> float:
    """Check that times increase strictly with a constant step; return the step (ps)."""
    t = np.asarray(time_ps, dtype=float)
    steps = np.diff(t)
    if steps.size == 0 or np.any(steps <= 0):
        raise InputError(f"{what}: frame times are not strictly increasing (non-monotonic time)")
    dt = float(np.median(steps))
    if np.any(np.abs(steps - dt) > 1e-6 * max(dt, 1e-12) + 1e-9):
        raise InputError(f"{what}: frame times are not evenly spaced (needed for the MSD)")
    return dt


# --------------------------------------------------------------------------------------------
# MSD
# --------------------------------------------------------------------------------------------
def msd_fft(
    positions_A: np.ndarray,
    n_groups: int = 1,
    single_precision: bool = False,
    block_atoms: int = 64,
    indices: np.ndarray | None = None,
    drift_A: np.ndarray | None = None,
) -> np.ndarray:
    """All-time-origin MSD of each Cartesian component, averaged over groups of particles.

    MSD(m) = 1/(N−m) Σ_t |x(t+m) − x(t)|² is split into Σ x² terms (prefix sums) minus twice
    the autocorrelation, which is computed for all lags at once from the power spectrum
    (Wiener–Khinchin). The power spectra of all particles in a group are summed before one
    inverse FFT per group and component.

    Parameters
    ----------
    positions_A
        (n_frames, n_atoms, 3) unwrapped positions (Å).
    n_groups
        Number of contiguous groups of particles whose MSDs are returned separately (for
        block uncertainties); ``n_groups <= n_particles``.
    single_precision
        Do the forward FFTs in float32 (faster; positions are centred first so the relative
        error of the MSD stays ~1e-5).
    block_atoms
        Particles transformed at once (bounds the transient memory).
    indices
        Atoms to use (all when ``None``); taken block by block, so no full copy is made.
    drift_A
        (n_frames, 3) displacement to subtract from every particle (framework drift).

    Returns
    -------
    numpy.ndarray
        (n_groups, n_frames, 3) MSD per group, lag and component (Å²).
    """
    pos = np.asarray(positions_A)
    n_frames, n_atoms, dim = pos.shape
    idx = np.arange(n_atoms) if indices is None else np.asarray(indices, dtype=int)
    n_part = idx.size
    if not 1 <= n_groups <= n_part:
        raise InputError(f"n_groups must be between 1 and {n_part}, got {n_groups}")
    n_fft = next_fast_len(2 * n_frames, real=True)
    group_of = (np.arange(n_part) * n_groups) // n_part
    spectra = np.zeros((n_groups, dim, n_fft // 2 + 1))
    sq = np.zeros((n_groups, dim, n_frames))
    dtype = np.float32 if single_precision else np.float64
    drift_t = None if drift_A is None else np.asarray(drift_A, dtype=dtype).T  # (dim, frames)
    for start in range(0, n_part, block_atoms):
        stop = min(start + block_atoms, n_part)
        # (particles, dim, frames), contiguous in time for the FFT
        xt = np.ascontiguousarray(np.take(pos, idx[start:stop], axis=1).transpose(1, 2, 0),
                                  dtype=dtype)
        if drift_t is not None:
            xt -= drift_t
        xt -= xt.mean(axis=-1, keepdims=True)  # MSD is shift-invariant; keeps cancellation small
        f = rfft(xt, n=n_fft, axis=-1)
        power = np.square(f.real, dtype=np.float64) + np.square(f.imag, dtype=np.float64)
        sq_block = np.square(xt, dtype=np.float64)
        groups = group_of[start:stop]
        for g in np.unique(groups):
            sel = groups == g
            spectra[g] += power[sel].sum(axis=0)
            sq[g] += sq_block[sel].sum(axis=0)
    counts = np.bincount(group_of, minlength=n_groups).astype(float)
    lags = np.arange(n_frames)
    norm = (n_frames - lags)[None, :, None]
    autocorr = irfft(spectra, n=n_fft, axis=-1)[..., :n_frames].transpose(0, 2, 1)
    sq = sq.transpose(0, 2, 1)
    prefix = np.concatenate([np.zeros((n_groups, 1, dim)), np.cumsum(sq, axis=1)], axis=1)
    total = prefix[:, -1:, :]
    # Σ_{t<N−m} x(t+m)² + Σ_{t<N−m} x(t)²
    s1 = (total - prefix[:, lags, :]) + prefix[:, n_frames - lags, :]
    msd = (s1 - 2.0 * autocorr) / norm / counts[:, None, None]
    msd[:, 0, :] = 0.0
    return np.maximum(msd, 0.0)


def framework_drift(
    positions_A: np.ndarray, weights: np.ndarray | None, framework: np.ndarray
) -> np.ndarray:
    """(n_frames, 3) displacement of the (weighted) centre of the ``framework`` atoms
    since the first frame; zeros when there is no framework atom."""
    pos = np.asarray(positions_A, dtype=float)
    mask = np.asarray(framework, dtype=bool)
    if not mask.any():
        return np.zeros((pos.shape[0], 3))
    w = np.ones(pos.shape[1]) if weights is None else np.asarray(weights, dtype=float)
    w = np.where(mask, w, 0.0) / np.where(mask, w, 0.0).sum()
    # batched matrix-vector product: no copy of the trajectory (boolean indexing would copy)
    com = np.matmul(pos.transpose(0, 2, 1), w)
    return com - com[0]


def remove_drift(
    positions_A: np.ndarray,
    weights: np.ndarray | None,
    framework: np.ndarray,
    targets: np.ndarray | None = None,
) -> np.ndarray:
    """Positions of the ``targets`` atoms (all when ``None``) minus the framework drift."""
    pos = np.asarray(positions_A, dtype=float)
    sel = pos if targets is None else pos[:, targets, :]
    return sel - framework_drift(pos, weights, framework)[:, None, :]
