"""Diffusion coefficients from the MSD: diffusive-regime detection, fits, block errors, plots.

Definitions (see the team's science notes): D = slope / (2 d) of the MSD (see
:mod:`ssbflow.analysis.msd`) in the diffusive (linear) regime, d = 3; the "Li+ migration rate"
in Å²/ps of the source studies is the MSD slope itself; Nernst–Einstein σ = n q² D / (k T) with
Haven ratio 1.

pymatgen-analysis-diffusion's ``DiffusionAnalyzer`` is the reference implementation and is
used to cross-check this module in the tests. It is not used here because it needs one
pymatgen ``Structure`` per frame (slow and memory-hungry for long MLIP trajectories), it
transforms every atom (framework included) and it has no diffusive-regime detection or
block uncertainty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from scipy import constants

from ssbflow.analysis.msd import MIN_FRAMES, check_time, framework_drift, msd_fft, read_trajectory
from ssbflow.errors import InputError

#: 1 Å²/ps in cm²/s.
A2_PER_PS_TO_CM2_PER_S = 1.0e-4
#: Smallest MSD (Å²) at the end of the fit window for a linear MSD to count as diffusive:
#: an RMS displacement of 2 Å, below one Li hop between sites (2.5-3 Å).
MIN_DIFFUSIVE_MSD_A2 = 4.0



# --------------------------------------------------------------------------------------------
# Diffusion coefficient
# --------------------------------------------------------------------------------------------
@dataclass
class DiffusionResult:
    """Diffusion of one species from one trajectory (units in the names).

    ``msd_slope_A2_per_ps`` is the slope of the MSD in the fit range; ``D_cm2_s`` =
    slope / (2 × 3) × 1e-4. ``D_stderr_cm2_s`` is the standard error over independent blocks
    (``stderr_method``: groups of ions, or consecutive time blocks when there are too few
    ions). ``diffusive`` is false when no window with log–log slope 1 ± ``tolerance`` was
    found (the fit range is then the closest one and D is an estimate only).
    ``late_loglog_slope`` is the log–log slope over the later half (in log t) of the fit
    window and ``regime`` names what the MSD does there: ``"diffusive"``,
    ``"ballistic/superdiffusive"`` (slope above 1 + tolerance), ``"caged/subdiffusive"``
    (below 1 − tolerance), ``"crossover"`` (late slope near 1 but not the whole window) or
    ``"local (MSD < … Å²)"`` (linear, but the ions moved less than about one hop, see
    ``min_msd_A2`` of :func:`analyze_msd`).
    """

    species: str
    n_ions: int
    n_frames: int
    dt_ps: float
    D_cm2_s: float
    D_stderr_cm2_s: float
    msd_slope_A2_per_ps: float
    msd_slope_stderr_A2_per_ps: float
    fit_range_ps: tuple[float, float]
    loglog_slope: float
    diffusive: bool
    stderr_method: str
    n_blocks: int
    temperature_K: float | None = None
    volume_A3: float | None = None
    sigma_mS_cm: float | None = None
    late_loglog_slope: float = math.nan
    regime: str = ""
    D_components_cm2_s: tuple[float, float, float] = (math.nan, math.nan, math.nan)
    time_ps: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    msd_A2: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    intercept_A2: float = 0.0

    @classmethod
    def from_dict(cls, doc: dict) -> DiffusionResult:
        """The result back from :meth:`to_dict` (``include_msd=True``; ``None`` → ``nan``)."""
        fields = cls.__dataclass_fields__
        values = {k: (np.nan if v is None else v) for k, v in doc.items() if k in fields}
        values["time_ps"] = np.asarray(doc["time_ps"], dtype=float)
        values["msd_A2"] = np.asarray(doc["msd_A2"], dtype=float)
        values["fit_range_ps"] = tuple(doc["fit_range_ps"])
        return cls(**values)

    def to_dict(self, include_msd: bool = False) -> dict:
        """JSON-ready dictionary (``nan`` → ``None``)."""
        out: dict = {}
        for key in self.__dataclass_fields__:
            if key in ("time_ps", "msd_A2"):
                continue
            value = getattr(self, key)
            if isinstance(value, tuple):
                value = [float(v) for v in value]
            out[key] = value
        if include_msd:
            out["time_ps"] = self.time_ps.tolist()
            out["msd_A2"] = self.msd_A2.tolist()
        return _nan_to_none(out)


def _nan_to_none(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    if isinstance(value, np.floating | np.integer):
        return _nan_to_none(value.item())
    return value


def find_diffusive_range(
    time_ps: np.ndarray,
    msd_A2: np.ndarray,
    max_lag_fraction: float = 0.5,
    tolerance: float = 0.15,
) -> tuple[int, int, float, bool]:
    """Choose the fit window [i0, i1] of lag indices for the linear MSD fit.

    The window ends at ``max_lag_fraction`` of the run (longer lags have few time origins).
    Its start is the earliest lag (on a logarithmic grid up to a quarter of the end) from
    which the log–log slope of MSD(t) up to the end is 1 ± ``tolerance``, i.e. after the
    ballistic and caged regimes. The slope must also be 1 ± ``tolerance`` on each half of the
    window (in log t): a short run that goes from ballistic (slope 2) to caged (slope < 1)
    can have an overall slope near 1 without any linear part. If there is no such start,
    the start with the overall slope closest to 1 is returned with ``diffusive=False``.

    Returns
    -------
    i0, i1, loglog_slope, diffusive
    """
    n = len(time_ps)
    i1 = max(int(max_lag_fraction * (n - 1)), 2)
    i1 = min(i1, n - 1)
    starts = np.unique(np.geomspace(1, max(i1 // 4, 1), 30).astype(int))
    best: tuple[float, int, float] | None = None
    for i0 in starts:
        idx = np.unique(np.geomspace(i0, i1, 40).astype(int))
        y = msd_A2[idx]
        if idx.size < 2 or np.any(y <= 0):
            continue
        log_t, log_y = np.log(time_ps[idx]), np.log(y)
        beta = float(np.polyfit(log_t, log_y, 1)[0])
        if abs(beta - 1.0) <= tolerance:
            mid = 0.5 * (log_t[0] + log_t[-1])
            halves = [log_t <= mid, log_t >= mid]
            if all(
                h.sum() < 2 or abs(np.polyfit(log_t[h], log_y[h], 1)[0] - 1.0) <= tolerance
                for h in halves
            ):
                return int(i0), i1, beta, True
        if best is None or abs(beta - 1.0) < best[0]:
            best = (abs(beta - 1.0), int(i0), beta)
    if best is None:
        return 1, i1, math.nan, False
    return best[1], i1, best[2], False


def _late_regime(t: np.ndarray, msd: np.ndarray, i0: int, i1: int, diffusive: bool,
                 tolerance: float) -> tuple[float, str]:
    """Log–log slope over the later half (in log t) of lags i0..i1, and the regime name."""
    idx = np.unique(np.geomspace(i0, i1, 40).astype(int))
    log_t = np.log(t[idx])
    late = log_t >= 0.5 * (log_t[0] + log_t[-1])
    if late.sum() < 2:  # very short window: the whole of it
        late = np.ones_like(log_t, dtype=bool)
    y = msd[idx][late]
    if late.sum() < 2 or np.any(y <= 0):
        return math.nan, "diffusive" if diffusive else "unknown"
    beta = float(np.polyfit(log_t[late], np.log(y), 1)[0])
    if diffusive:
        return beta, "diffusive"
    if beta > 1.0 + tolerance:
        return beta, "ballistic/superdiffusive"
    if beta < 1.0 - tolerance:
        return beta, "caged/subdiffusive"
    return beta, "crossover"


def _linear_slope(t: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    slope, intercept = np.polyfit(t, y, 1)
    return float(slope), float(intercept)


def nernst_einstein_sigma_mS_cm(
    D_cm2_s: float, n_ions: int, volume_A3: float, temperature_K: float, charge: float = 1.0
) -> float:
    """Nernst–Einstein conductivity σ = n q² D / (k T) in mS/cm (Haven ratio 1)."""
    n_per_cm3 = n_ions / (volume_A3 * 1e-24)
    sigma_S_cm = n_per_cm3 * (charge * constants.e) ** 2 * D_cm2_s / (constants.k * temperature_K)
    return 1000.0 * sigma_S_cm


def analyze_msd(
    positions_A: np.ndarray,
    symbols: Sequence[str],
    time_ps: np.ndarray,
    species: str = "Li",
    masses_amu: np.ndarray | None = None,
    temperature_K: float | None = None,
    volume_A3: float | None = None,
    charge: float = 1.0,
    drift: Literal["framework", "none"] = "framework",
    fit_range_ps: tuple[float, float] | None = None,
    n_blocks: int = 5,
    max_lag_fraction: float = 0.5,
    tolerance: float = 0.15,
    single_precision: bool = False,
    min_msd_A2: float = MIN_DIFFUSIVE_MSD_A2,
) -> DiffusionResult:
    """Diffusion coefficient of ``species`` from unwrapped positions.

    Parameters
    ----------
    positions_A
        (n_frames, n_atoms, 3) unwrapped Cartesian positions (Å).
    symbols
        Chemical symbols of the atoms.
    time_ps
        Frame times (ps), strictly increasing and evenly spaced.
    species
        Diffusing element.
    masses_amu
        Masses for the framework centre of mass (equal weights if ``None``).
    temperature_K, volume_A3, charge
        For the Nernst–Einstein conductivity (skipped when T or V is missing).
    drift
        ``"framework"``: subtract the centre-of-mass drift of all other atoms (if any).
    fit_range_ps
        Fix the fit window (ps) instead of detecting the diffusive regime.
    n_blocks
        Number of blocks for the standard error (groups of ions when there are at least
        ``n_blocks`` ions, otherwise consecutive time blocks).
    max_lag_fraction, tolerance
        See :func:`find_diffusive_range`.
    min_msd_A2
        A linear MSD counts as diffusive only if it reaches this value (Å²) at the end of
        the fit window: below about one ion hop (2.5-3 Å between sites) a linear stretch
        is local motion, not long-range diffusion.
    single_precision
        float32 FFTs (see :func:`msd_fft`).
    """
    pos = np.asarray(positions_A, dtype=float)
    if pos.ndim != 3 or pos.shape[2] != 3:
        raise InputError(f"positions must have shape (frames, atoms, 3), got {pos.shape}")
    n_frames = pos.shape[0]
    if n_frames < MIN_FRAMES:
        raise InputError(
            f"trajectory has {n_frames} frame(s); an MSD fit needs at least {MIN_FRAMES}"
        )
    t = np.asarray(time_ps, dtype=float)
    if t.shape != (n_frames,):
        raise InputError(f"time_ps has {t.size} values for {n_frames} frames")
    dt = check_time(t)
    t = t - t[0]
    sym = np.asarray(symbols)
    mobile = sym == species
    n_ions = int(mobile.sum())
    if n_ions == 0:
        raise InputError(f"trajectory has no {species} atoms (species={species!r})")
    if drift == "framework":
        drift_A = framework_drift(pos, masses_amu, ~mobile)
    elif drift == "none":
        drift_A = None
    else:
        raise InputError(f"drift must be 'framework' or 'none', got {drift!r}")
    ion_idx = np.flatnonzero(mobile)
    n_blocks = max(int(n_blocks), 2)
    use_groups = n_ions >= n_blocks
    # One FFT pass gives the per-group MSDs; the total is their ion-weighted mean.
    grouped = msd_fft(pos, n_groups=n_blocks if use_groups else 1,
                      single_precision=single_precision, indices=ion_idx, drift_A=drift_A)
    counts = np.bincount((np.arange(n_ions) * grouped.shape[0]) // n_ions).astype(float)
    msd_comp = np.einsum("g,gfk->fk", counts, grouped) / n_ions
    msd = msd_comp.sum(axis=1)

    if fit_range_ps is not None:
        lo, hi = (float(v) for v in fit_range_ps)
        if not 0 <= lo < hi <= t[-1]:
            raise InputError(f"fit_range_ps must satisfy 0 <= start < end <= {t[-1]:.4g} ps")
        i0 = int(np.searchsorted(t, lo))
        i1 = int(np.searchsorted(t, hi, side="right") - 1)
        if i1 - i0 < 1:
            raise InputError("fit_range_ps holds fewer than two frames")
        idx = np.arange(max(i0, 1), i1 + 1)
        beta = float(np.polyfit(np.log(t[idx]), np.log(np.maximum(msd[idx], 1e-300)), 1)[0])
        diffusive = abs(beta - 1.0) <= tolerance
    else:
        i0, i1, beta, diffusive = find_diffusive_range(t, msd, max_lag_fraction, tolerance)
    sel = slice(i0, i1 + 1)
    slope, intercept = _linear_slope(t[sel], msd[sel])
    late_beta, regime = _late_regime(t, msd, max(i0, 1), i1, diffusive, tolerance)
    if diffusive and msd[i1] < min_msd_A2:
        diffusive = False
        regime = f"local (MSD < {min_msd_A2:g} Å²)"
    d_comp = tuple(
        _linear_slope(t[sel], msd_comp[sel, k])[0] / 2.0 * A2_PER_PS_TO_CM2_PER_S
        for k in range(3)
    )

    # --- block standard error ---------------------------------------------------------
    block_slopes: list[float] = []
    if use_groups:
        method = "ion groups"
        block_slopes = [_linear_slope(t[sel], g[sel])[0] for g in grouped.sum(axis=2)]
    else:
        method = "time blocks"
        length = n_frames // n_blocks
        j1 = min(i1, length // 2)
        j0 = min(i0, max(j1 - 1, 1))
        if j1 - j0 >= 1:
            for b in range(n_blocks):
                part = slice(b * length, (b + 1) * length)
                m = msd_fft(pos[part], indices=ion_idx,
                            drift_A=None if drift_A is None else drift_A[part],
                            single_precision=single_precision)[0].sum(axis=1)
                block_slopes.append(_linear_slope(t[j0 : j1 + 1], m[j0 : j1 + 1])[0])
    if len(block_slopes) >= 2:
        slope_se = float(np.std(block_slopes, ddof=1) / math.sqrt(len(block_slopes)))
    else:
        slope_se = math.nan
    d = slope / 6.0 * A2_PER_PS_TO_CM2_PER_S
    sigma = None
    if temperature_K and volume_A3 and math.isfinite(volume_A3):
        sigma = nernst_einstein_sigma_mS_cm(max(d, 0.0), n_ions, volume_A3, temperature_K, charge)
    return DiffusionResult(
        species=species,
        n_ions=n_ions,
        n_frames=n_frames,
        dt_ps=dt,
        D_cm2_s=d,
        D_stderr_cm2_s=slope_se / 6.0 * A2_PER_PS_TO_CM2_PER_S,
        msd_slope_A2_per_ps=slope,
        msd_slope_stderr_A2_per_ps=slope_se,
        fit_range_ps=(float(t[i0]), float(t[i1])),
        loglog_slope=beta,
        diffusive=bool(diffusive),
        stderr_method=method,
        n_blocks=len(block_slopes),
        temperature_K=temperature_K,
        volume_A3=volume_A3,
        sigma_mS_cm=sigma,
        late_loglog_slope=late_beta,
        regime=regime,
        D_components_cm2_s=d_comp,
        time_ps=t,
        msd_A2=msd,
        intercept_A2=intercept,
    )


def analyze_trajectory(
    path: str | Path,
    species: str = "Li",
    timestep_fs: float | None = None,
    frame_interval: int = 1,
    temperature_K: float | None = None,
    **kwargs,
) -> DiffusionResult:
    """Read ``path`` with ASE and run :func:`analyze_msd` (keyword arguments pass through)."""
    traj = read_trajectory(path, timestep_fs=timestep_fs, frame_interval=frame_interval)
    if species not in traj.symbols:
        raise InputError(f"{path}: trajectory has no {species} atoms (--species {species})")
    return analyze_msd(
        traj.positions_A,
        traj.symbols,
        traj.time_ps,
        species=species,
        masses_amu=traj.masses_amu,
        temperature_K=temperature_K if temperature_K is not None else traj.temperature_K,
        volume_A3=traj.volume_A3,
        **kwargs,
    )


# --------------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------------
def plot_msd(results: dict[str, DiffusionResult], path: str | Path) -> Path:
    """MSD vs time for each labelled result, with the fitted line over its fit range (left),
    and on log–log axes with a slope-1 guide (right: caged or subdiffusive MSDs bend below
    it, and stay visible next to fast ones)."""
    from ssbflow.analysis.plots import new_figure, save_png

    fig, axes = new_figure(1, 2, (10.0, 4.0))
    ax, log = axes[0, 0], axes[0, 1]
    for label, res in results.items():
        (line,) = ax.plot(res.time_ps, res.msd_A2, lw=1.2, label=label)
        lo, hi = res.fit_range_ps
        tt = np.linspace(lo, hi, 20)
        ax.plot(tt, res.intercept_A2 + res.msd_slope_A2_per_ps * tt, "--", color=line.get_color(),
                label=f"slope {res.msd_slope_A2_per_ps:.3g} Å²/ps")
        t, m = np.asarray(res.time_ps), np.asarray(res.msd_A2)
        keep = (t > 0) & (m > 0)
        log.loglog(t[keep], m[keep], lw=1.2, color=line.get_color(), label=label)
        if keep.sum() > 1:  # slope 1 through the curve at the end of the fit window
            at = int(np.argmin(np.abs(t - hi)))
            guide = t[keep][[0, -1]]
            log.loglog(guide, m[at] * guide / t[at], ":", color=line.get_color())
    ax.set_xlabel("t (ps)")
    ax.set_ylabel("MSD (Å²)")
    ax.legend(fontsize=7)
    log.set_xlabel("t (ps)")
    log.set_ylabel("MSD (Å²); dotted: slope 1")
    return save_png(fig, path)
