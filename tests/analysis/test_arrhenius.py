"""Arrhenius fits: published acceptance value and synthetic data with a known Ea."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ssbflow.analysis.arrhenius import KB_EV_PER_K, fit_arrhenius, read_arrhenius_csv


def test_ncm811_electrolyte_activation_energy() -> None:
    # NCM811 study: 0.61 mS/cm at 30 °C, 1.59 mS/cm at 80 °C, quoted Ea = 0.18 eV (σ form).
    fit = fit_arrhenius([303.15, 353.15], [0.61, 1.59], form="sigma")
    assert fit.Ea_eV == pytest.approx(0.18, abs=0.005)
    assert math.isnan(fit.Ea_stderr_eV)  # two points leave no degree of freedom


def test_synthetic_known_activation_energy_with_noise() -> None:
    rng = np.random.default_rng(7)
    t = np.linspace(300.0, 900.0, 12)
    ea, d0 = 0.35, 2.0e-3
    d = d0 * np.exp(-ea / (KB_EV_PER_K * t)) * np.exp(rng.normal(0.0, 0.05, t.size))
    fit = fit_arrhenius(t, d, form="D")
    assert abs(fit.Ea_eV - ea) < 3 * fit.Ea_stderr_eV + 1e-3
    assert 0 < fit.Ea_stderr_eV < 0.02
    assert fit.prefactor == pytest.approx(d0, rel=0.3)
    assert fit.predict(300.0) == pytest.approx(d0 * math.exp(-ea / (KB_EV_PER_K * 300)), rel=0.2)


def test_sigma_t_form_differs_from_sigma_form() -> None:
    t = np.array([300.0, 350.0, 400.0])
    ea = 0.3
    sigma_t = 1e5 * np.exp(-ea / (KB_EV_PER_K * t))  # σT Arrhenius data
    fit_t = fit_arrhenius(t, sigma_t / t, form="sigmaT")
    fit_s = fit_arrhenius(t, sigma_t / t, form="sigma")
    assert fit_t.Ea_eV == pytest.approx(ea, rel=1e-9)
    # σ = (A/T) exp(−Ea/kT) looks like a smaller Ea in the σ form (by about kT̄).
    assert fit_s.Ea_eV < ea - 0.02


@pytest.mark.parametrize(
    ("temps", "values", "match"),
    [
        ([300.0], [1.0], "two distinct"),
        ([300.0, 300.0], [1.0, 2.0], "two distinct"),
        ([300.0, 400.0], [1.0, -2.0], "> 0"),
        ([-5.0, 400.0], [1.0, 2.0], "> 0 K"),
    ],
)
def test_bad_input_is_one_line_value_error(temps, values, match) -> None:
    with pytest.raises(ValueError, match=match) as info:
        fit_arrhenius(temps, values)
    assert "\n" not in str(info.value)


def test_csv_reader_celsius_and_missing_columns(tmp_path) -> None:
    good = tmp_path / "c.csv"
    good.write_text("T_C,sigma (mS/cm)\n30,0.61\n80,1.59\n")
    t, y, column = read_arrhenius_csv(good)
    assert t.tolist() == pytest.approx([303.15, 353.15])
    assert y.tolist() == [0.61, 1.59]
    assert column == "sigma (mS/cm)"
    bad = tmp_path / "b.csv"
    bad.write_text("x,y\n1,2\n3,4\n")
    with pytest.raises(ValueError, match="expected columns T"):
        read_arrhenius_csv(bad)


def test_standard_errors_weight_the_d_fit() -> None:
    """D with relative errors from 40 % (cold: few hops, short MSD) to 2 % (hot), the errors
    taken from the noisy D as block errors are: over repeated data sets the weighted fit
    scatters less around the true Ea than the unweighted one and than pymatgen-analysis-
    diffusion's weighted mode (``mode="exp"``), which is why that one is not used."""
    from pymatgen.analysis.diffusion.analyzer import fit_arrhenius as pmg_fit_arrhenius

    rng = np.random.default_rng(0)
    t = np.linspace(300.0, 900.0, 12)
    ea, d0 = 0.35, 2.0e-3
    rel = np.linspace(0.4, 0.02, t.size)
    errors: dict[str, list[float]] = {"plain": [], "weighted": [], "pmg_exp": []}
    for _ in range(400):
        d = d0 * np.exp(-ea / (KB_EV_PER_K * t)) * np.exp(rng.normal(0.0, rel))
        errors["plain"].append(fit_arrhenius(t, d, form="D").Ea_eV - ea)
        errors["weighted"].append(fit_arrhenius(t, d, form="D", stderr=rel * d).Ea_eV - ea)
        errors["pmg_exp"].append(pmg_fit_arrhenius(t, d, "exp", rel * d)[0] - ea)
    rms = {k: float(np.sqrt(np.mean(np.square(v)))) for k, v in errors.items()}
    assert rms["weighted"] < 0.8 * rms["plain"]
    assert rms["weighted"] < 0.8 * rms["pmg_exp"]
    plain = fit_arrhenius(t, d, form="D")
    weighted = fit_arrhenius(t, d, form="D", stderr=rel * d)
    assert weighted.weighted and not plain.weighted
    assert abs(weighted.Ea_eV - ea) < 3 * weighted.Ea_stderr_eV
    assert weighted.prefactor == pytest.approx(d0, rel=0.3)
    # a missing error (no block error) gives the unweighted fit
    missing = fit_arrhenius(t, d, form="D", stderr=[math.nan, *(rel * d)[1:]])
    assert not missing.weighted and missing.Ea_eV == pytest.approx(plain.Ea_eV, rel=1e-12)
    # two points: both fits go through them
    two = fit_arrhenius(t[[0, -1]], d[[0, -1]], form="D", stderr=(rel * d)[[0, -1]])
    assert two.Ea_eV == pytest.approx(fit_arrhenius(t[[0, -1]], d[[0, -1]], form="D").Ea_eV)
    # ... and the two errors propagate: σ(Ea) = k sqrt(r1² + r2²) / |1/T1 − 1/T2|
    assert two.Ea_stderr_eV == pytest.approx(
        KB_EV_PER_K * math.hypot(rel[0], rel[-1]) / (1 / t[0] - 1 / t[-1]), rel=1e-9)
    assert math.isnan(fit_arrhenius(t[[0, -1]], d[[0, -1]], form="D").Ea_stderr_eV)
    with pytest.raises(ValueError, match="stderr"):
        fit_arrhenius(t, d, form="D", stderr=[1.0])


def test_extrapolated_d_error_matches_the_scatter_of_repeated_fits() -> None:
    """D(300 K) from D at 500 and 400 K with 20 % errors (two points: the errors are
    propagated as given) and from six noisy temperatures (unweighted least squares): the
    predicted relative error of the extrapolation equals the scatter of ln D(300 K) over
    repeated data sets, which it would not without the ln A–Ea correlation (here ≈ 1)."""
    from ssbflow.analysis.arrhenius import KB_EV_PER_K

    rng = np.random.default_rng(1)
    ea, d0 = 0.30, 1.0e-3
    for temps, weighted in (([500.0, 400.0], True), (np.linspace(400.0, 700.0, 6), False)):
        temps = np.asarray(temps)
        true = d0 * np.exp(-ea / (KB_EV_PER_K * temps))
        ln_pred, predicted = [], []
        for _ in range(2000):
            d = true * np.exp(rng.normal(0.0, 0.2, temps.size))
            fit = fit_arrhenius(temps, d, form="D", stderr=0.2 * d if weighted else None)
            ln_pred.append(math.log(fit.predict(300.0)))
            predicted.append(fit.predict_stderr_rel(300.0))
        scatter = float(np.std(ln_pred))
        assert np.median(predicted) == pytest.approx(scatter, rel=0.15)
        naive = math.hypot(fit.prefactor_stderr_rel, fit.Ea_stderr_eV / (KB_EV_PER_K * 300))
        assert naive > 2.0 * fit.predict_stderr_rel(300.0)  # the correlation matters
        assert math.isfinite(fit.to_dict()["ln_a_ea_correlation"])


def test_plot_marks_the_points_the_fit_left_out(tmp_path, monkeypatch) -> None:
    """Fitted points with error bars, a non-diffusive 300-K point open, and the line
    extended (dotted) to it: the extrapolated D is read against the measured one."""
    import matplotlib.axes

    from ssbflow.analysis.arrhenius import plot_arrhenius

    fit = fit_arrhenius([600.0, 700.0], [1.5e-5, 2.7e-5], form="D")
    drawn: list[dict] = []
    real = matplotlib.axes.Axes.errorbar

    def spy(self, x, y, yerr=None, **kwargs):
        drawn.append({"x": list(x), "yerr": list(yerr), **kwargs})
        return real(self, x, y, yerr=yerr, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "errorbar", spy)
    path = plot_arrhenius({"pvdf": fit}, tmp_path / "a.png", data={"pvdf": [
        (700.0, 2.7e-5, 4e-6), (600.0, 1.5e-5, 2e-6), (300.0, 7.9e-8, None)]})
    assert path.stat().st_size > 0
    filled, open_ = drawn
    assert filled["x"] == pytest.approx([1000 / 700, 1000 / 600]) and filled["yerr"] == [4e-6, 2e-6]
    assert open_["x"] == pytest.approx([1000 / 300]) and open_["mfc"] == "none"
    assert open_["yerr"] == [0.0]  # no error known: no bar
