"""Arrhenius fits of conductivities and diffusion coefficients.

The source studies fit experimental conductivities with σ = A exp(−Ea / kT) (``form="sigma"``);
the other common convention, σT = A exp(−Ea / kT), is available as ``form="sigmaT"``.
Diffusion coefficients from MD are fitted with D = D0 exp(−Ea / kT).
"""

from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from scipy import stats

from ssbflow.errors import InputError

#: Boltzmann constant in eV/K (CODATA 2018).
KB_EV_PER_K = 8.617333262e-5

ArrheniusForm = Literal["sigma", "sigmaT", "D"]


@dataclass(frozen=True)
class ArrheniusFit:
    """Result of a straight-line fit of ln(y) against 1/T.

    Attributes
    ----------
    Ea_eV, Ea_stderr_eV
        Activation energy and its standard error (``nan`` with two points: no degrees of
        freedom left to estimate it).
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
    """

    Ea_eV: float
    Ea_stderr_eV: float
    prefactor: float
    prefactor_stderr_rel: float
    r_squared: float
    form: str
    temperatures_K: tuple[float, ...]
    values: tuple[float, ...]

    def predict(self, temperature_K: float | np.ndarray) -> float | np.ndarray:
        """The fitted quantity (σ, or D) at ``temperature_K``."""
        t = np.asarray(temperature_K, dtype=float)
        y = self.prefactor * np.exp(-self.Ea_eV / (KB_EV_PER_K * t))
        if self.form == "sigmaT":
            y = y / t
        return float(y) if y.ndim == 0 else y

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
    temperatures_K: np.ndarray | list[float],
    values: np.ndarray | list[float],
    form: ArrheniusForm = "sigma",
) -> ArrheniusFit:
    """Fit y = A exp(−Ea / kT) (or σT = A exp(−Ea / kT) with ``form="sigmaT"``).

    Parameters
    ----------
    temperatures_K
        Temperatures in K (at least two distinct values).
    values
        Conductivities (any unit) or diffusion coefficients, all positive.
    form
        ``"sigma"`` and ``"D"`` fit ln(y) vs 1/T; ``"sigmaT"`` fits ln(yT) vs 1/T.

    Returns
    -------
    ArrheniusFit
        Ea in eV with its standard error from the least-squares slope.
    """
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
    ln_y = np.log(y * t) if form == "sigmaT" else np.log(y)
    fit = stats.linregress(1.0 / t, ln_y)
    dof = t.size - 2
    slope_se = float(fit.stderr) if dof > 0 else math.nan
    intercept_se = float(fit.intercept_stderr) if dof > 0 else math.nan
    return ArrheniusFit(
        Ea_eV=float(-fit.slope * KB_EV_PER_K),
        Ea_stderr_eV=slope_se * KB_EV_PER_K,
        prefactor=float(np.exp(fit.intercept)),
        prefactor_stderr_rel=intercept_se,
        r_squared=float(fit.rvalue**2),
        form=form,
        temperatures_K=tuple(float(v) for v in t),
        values=tuple(float(v) for v in y),
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
    fits: dict[str, ArrheniusFit], path: str | Path, ylabel: str = "D (cm²/s)"
) -> Path:
    """Plot ln-scale data against 1000/T with the fitted lines; one series per entry."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    for label, fit in fits.items():
        t = np.array(fit.temperatures_K)
        y = np.array(fit.values)
        (line,) = ax.plot(1000.0 / t, y, "o", label=f"{label}: Ea = {fit.Ea_eV:.2f} eV")
        grid = np.linspace(t.min(), t.max(), 50)
        ax.plot(1000.0 / grid, fit.predict(grid), "-", color=line.get_color())
    ax.set_yscale("log")
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path
