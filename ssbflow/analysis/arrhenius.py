"""Arrhenius fits of conductivities and diffusion coefficients.

The source studies fit experimental conductivities with σ = A exp(−Ea / kT) (``form="sigma"``);
the other common convention, σT = A exp(−Ea / kT), is available as ``form="sigmaT"``.
Diffusion coefficients from MD are fitted with D = D0 exp(−Ea / kT), weighted by their
standard errors when those are given.

Without errors the fit is pymatgen-analysis-diffusion's ``fit_arrhenius`` (``"linear"``
mode: least squares of ln y against 1/T). With errors it is a weighted least-squares line in
ln y against 1/T, weights (y/σ_y)², i.e. σ(ln y) = σ_y/y (``numpy.polyfit``). pymatgen's
weighted mode (``"exp"``: y against T through ``curve_fit``, its ``"linear"`` mode ignores
errors) is not used: with errors estimated from the data, as block errors of D are
(σ_D ∝ D), it biases Ea and scatters more than no weighting at all (measured below).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from scipy import constants

from ssbflow.errors import InputError

#: Boltzmann constant in eV/K (scipy's CODATA value, as pymatgen-analysis-diffusion uses).
KB_EV_PER_K: float = constants.k / constants.e

ArrheniusForm = Literal["sigma", "sigmaT", "D"]


@dataclass(frozen=True)
class ArrheniusFit:
    """Result of a straight-line fit of ln(y) against 1/T.

    Attributes
    ----------
    Ea_eV, Ea_stderr_eV
        Activation energy and its standard error (``nan`` with two points and no errors of
        the values: no degree of freedom left to estimate it).
    prefactor
        A (or D0) in the units of the fitted quantity (times K for ``form="sigmaT"``).
    prefactor_stderr_rel
        Relative standard error of the prefactor (standard error of ln A).
    r_squared
        Coefficient of determination of the linear fit in ln(y) vs 1/T.
    form
        ``"sigma"``, ``"sigmaT"`` or ``"D"``.
    temperatures_K, values
        The data that were fitted.
    weighted
        True when the fit was weighted by the standard errors of the values.
    ln_a_ea_correlation
        Correlation coefficient of ln A and Ea (their errors are strongly correlated when
        the temperatures lie far from 1/T = 0); used by :meth:`predict_stderr_rel`.
    """

    Ea_eV: float
    Ea_stderr_eV: float
    prefactor: float
    prefactor_stderr_rel: float
    r_squared: float
    form: str
    temperatures_K: tuple[float, ...]
    values: tuple[float, ...]
    weighted: bool = False
    ln_a_ea_correlation: float = math.nan

    def predict(self, temperature_K: float | np.ndarray) -> float | np.ndarray:
        """The fitted quantity (σ, or D) at ``temperature_K``."""
        t = np.asarray(temperature_K, dtype=float)
        y = self.prefactor * np.exp(-self.Ea_eV / (KB_EV_PER_K * t))
        if self.form == "sigmaT":
            y = y / t
        return float(y) if y.ndim == 0 else y

    def predict_stderr_rel(self, temperature_K: float) -> float:
        """Relative standard error of :meth:`predict` at ``temperature_K`` (first order in
        the errors of ln A and Ea and their correlation); ``nan`` without them."""
        kt = KB_EV_PER_K * float(temperature_K)
        se_a, se_ea, rho = self.prefactor_stderr_rel, self.Ea_stderr_eV / kt, \
            self.ln_a_ea_correlation
        return math.sqrt(max(se_a**2 + se_ea**2 - 2.0 * rho * se_a * se_ea, 0.0))

    def to_dict(self) -> dict:
        """JSON-ready dictionary (``nan`` becomes ``None``)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, float) and not math.isfinite(value):
                out[key] = None
        out["temperatures_K"] = list(self.temperatures_K)
        out["values"] = list(self.values)
        return out


def fit_arrhenius(
    temperatures_K: np.ndarray | Sequence[float],
    values: np.ndarray | Sequence[float],
    form: ArrheniusForm = "sigma",
    stderr: np.ndarray | Sequence[float] | None = None,
) -> ArrheniusFit:
    """Fit y = A exp(−Ea / kT) (or σT = A exp(−Ea / kT) with ``form="sigmaT"``).

    Parameters
    ----------
    temperatures_K
        Temperatures in K (at least two distinct values).
    values
        Conductivities (any unit) or diffusion coefficients, all positive.
    form
        ``"sigma"`` and ``"D"`` fit y; ``"sigmaT"`` fits yT.
    stderr
        Standard errors of ``values`` (same unit), e.g. ``D_stderr_cm2_s`` of the MSD fits.
        With them the fit of ln y is weighted by (y/σ_y)² and the standard errors are scaled
        by the scatter of the points (errors as relative weights); if any is missing, not
        finite or not > 0, the fit is unweighted (``weighted`` False).

    Returns
    -------
    ArrheniusFit
        Ea in eV with its standard error: from the scatter of more than two points (scaled
        by it when weighted), from the values' errors alone with two points (``nan`` with
        two points and no errors).
    """
    from pymatgen.analysis.diffusion.analyzer import fit_arrhenius as pmg_fit_arrhenius

    t = np.asarray(temperatures_K, dtype=float).ravel()
    y = np.asarray(values, dtype=float).ravel()
    if form not in ("sigma", "sigmaT", "D"):
        raise InputError(f"form must be 'sigma', 'sigmaT' or 'D', got {form!r}")
    if t.shape != y.shape:
        raise InputError(f"temperatures ({t.size}) and values ({y.size}) differ in length")
    if t.size < 2 or np.unique(t).size < 2:
        raise InputError("Arrhenius fit needs at least two distinct temperatures")
    if not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise InputError("temperatures must be finite and > 0 K")
    if not np.all(np.isfinite(y)) or np.any(y <= 0):
        raise InputError("values to fit must be finite and > 0 (ln of them is taken)")
    err = None
    if stderr is not None:
        err = np.array([math.nan if e is None else e for e in stderr], dtype=float).ravel()
        if err.shape != y.shape:
            raise InputError(f"stderr: {err.size} standard errors for {y.size} values")
        if not (np.all(np.isfinite(err)) and np.all(err > 0)):
            err = None
    scale = t if form == "sigmaT" else np.ones_like(t)
    y_fit = y * scale
    x = 1.0 / t
    ln_y = np.log(y_fit)
    dof = t.size - 2
    if err is None:
        ea, prefactor, ea_se = pmg_fit_arrhenius(t, y_fit, mode="linear")
        ea_se = float(ea_se) if ea_se is not None else math.nan
        residual = ln_y - (math.log(prefactor) - ea / KB_EV_PER_K * x)
        if dof > 0:  # standard error of the intercept ln A of the straight line
            s2 = float(np.sum(residual**2)) / dof
            ln_a_se = math.sqrt(s2 * np.sum(x**2) / (t.size * np.sum((x - x.mean()) ** 2)))
        else:
            ln_a_se = math.nan
        # least squares: corr(ln A, Ea) = mean(x) / sqrt(mean(x²)) whatever the scatter
        rho = float(x.mean() / math.sqrt(np.mean(x**2)))
    else:
        # Weighted ln-space fit, not pymatgen's mode="exp": 12 T, σ_D/D 40 % -> 2 %, σ_D from
        # the noisy D, 400 data sets: RMS error of Ea 7.9 meV here vs 12.3 meV (bias +8 meV)
        # for mode="exp" and 11.5 meV unweighted (see test_standard_errors_weight_the_d_fit).
        weights = y_fit / (err * scale)  # polyfit squares them: 1/σ(ln y)²
        # more points than parameters: errors scaled by the scatter (the values' errors as
        # relative weights); two points: the values' errors propagated as they are
        (slope, intercept), cov = np.polyfit(x, ln_y, 1, w=weights,
                                             cov=True if dof > 0 else "unscaled")
        ea_se = math.sqrt(cov[0, 0]) * KB_EV_PER_K
        ln_a_se = math.sqrt(cov[1, 1])
        rho = float(-cov[0, 1] / math.sqrt(cov[0, 0] * cov[1, 1]))
        ea, prefactor = -slope * KB_EV_PER_K, math.exp(intercept)
        residual = ln_y - (intercept + slope * x)
    # goodness of fit (unweighted) in ln y against 1/T, the Arrhenius plot
    spread = float(np.sum((ln_y - ln_y.mean()) ** 2))
    r_squared = 1.0 - float(np.sum(residual**2)) / spread if spread > 0 else 1.0
    return ArrheniusFit(
        Ea_eV=float(ea),
        Ea_stderr_eV=float(ea_se),
        prefactor=float(prefactor),
        prefactor_stderr_rel=float(ln_a_se),
        r_squared=r_squared,
        form=form,
        temperatures_K=tuple(float(v) for v in t),
        values=tuple(float(v) for v in y),
        weighted=err is not None,
        ln_a_ea_correlation=rho,
    )


_T_NAMES = ("t", "t_k", "temperature", "temperature_k", "temp", "temp_k")
_T_CELSIUS = ("t_c", "temperature_c", "t_degc")
_Y_NAMES = ("sigma", "σ", "conductivity", "d", "d_cm2_s", "diffusivity")


def _normalise(name: str) -> str:
    clean = name.strip().lower().replace(" ", "_").replace("(", "_").replace(")", "")
    clean = clean.replace("/", "_").replace("°", "deg").strip("_")
    return clean


def read_arrhenius_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray, str]:
    """Read temperatures (K) and values from a CSV file with a header row.

    The temperature column is named ``T`` (also ``T_K``, ``temperature``; ``T_C`` is read in
    °C and converted); the value column is the first whose name starts with ``sigma``, ``σ``,
    ``conductivity`` or ``D``.

    Returns
    -------
    temperatures_K, values, value_column
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row and any(c.strip() for c in row)]
    if len(rows) < 3:
        raise InputError(f"{path}: expected a header row (T, sigma) and at least two data rows")
    header = [_normalise(h) for h in rows[0]]
    t_col = next((i for i, h in enumerate(header) if h in _T_NAMES), None)
    celsius = False
    if t_col is None:
        t_col = next((i for i, h in enumerate(header) if h in _T_CELSIUS), None)
        celsius = t_col is not None
    y_col = next(
        (
            i
            for i, h in enumerate(header)
            if i != t_col and any(h == n or h.startswith(n + "_") for n in _Y_NAMES)
        ),
        None,
    )
    if t_col is None or y_col is None:
        raise InputError(
            f"{path}: expected columns T (K) and sigma (or D), found {', '.join(rows[0])}"
        )
    try:
        t = np.array([float(r[t_col]) for r in rows[1:]])
        y = np.array([float(r[y_col]) for r in rows[1:]])
    except (ValueError, IndexError) as exc:
        raise InputError(f"{path}: non-numeric or missing value in the T/sigma columns") from exc
    if celsius:
        t = t + 273.15
    return t, y, rows[0][y_col].strip()


def plot_arrhenius(
    fits: dict[str, ArrheniusFit], path: str | Path, ylabel: str = "D (cm²/s)",
    data: dict[str, list[tuple[float, float, float | None]]] | None = None,
) -> Path:
    """Plot ln-scale data against 1000/T with the fitted lines; one series per entry.

    ``data`` (label -> ``(T_K, value, stderr)`` of every run, stderr may be ``None``): the
    points get error bars; those the fit left out (not diffusive) are drawn open, and the
    line is extended (dotted) down to the lowest of them, so an extrapolated value can be
    read against the measured one.
    """
    from ssbflow.analysis.plots import new_figure, save_png

    fig, axes = new_figure(1, 1, (5.0, 4.0))
    ax = axes[0, 0]
    for label, fit in fits.items():
        t = np.array(fit.temperatures_K)
        points = (data or {}).get(label)
        if not points:
            points = [(tk, v, None) for tk, v in zip(t, fit.values, strict=True)]
        fitted = [p for p in points if np.isclose(t, p[0]).any()]
        left_out = [p for p in points if not np.isclose(t, p[0]).any()]
        line = ax.errorbar(*_bars(fitted), fmt="o", capsize=3,
                           label=f"{label}: Ea = {fit.Ea_eV:.2f} eV").lines[0]
        color = line.get_color()
        if left_out:
            ax.errorbar(*_bars(left_out), fmt="o", mfc="none", color=color, capsize=3,
                        label=f"{label}: not fitted (MSD not diffusive)")
            low = min(p[0] for p in left_out)
            if low < t.min():
                ext = np.linspace(low, t.min(), 50)
                ax.plot(1000.0 / ext, fit.predict(ext), ":", color=color)
        grid = np.linspace(t.min(), t.max(), 50)
        ax.plot(1000.0 / grid, fit.predict(grid), "-", color=color)
    ax.set_yscale("log")
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return save_png(fig, path)


def _bars(points: list[tuple[float, float, float | None]]) -> tuple[np.ndarray, ...]:
    """x = 1000/T, y and its error bars (none where stderr is missing) for ``errorbar``."""
    x = np.array([1000.0 / p[0] for p in points])
    y = np.array([p[1] for p in points], dtype=float)
    err = np.array([0.0 if p[2] is None else p[2] for p in points], dtype=float)
    return x, y, err
