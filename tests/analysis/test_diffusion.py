"""MSD and diffusion coefficients: synthetic walks with known D, unwrapping, drift, errors,
and agreement with pymatgen-analysis-diffusion on a real CHGNet trajectory."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from ssbflow.analysis.diffusion import (
    analyze_msd,
    analyze_trajectory,
    find_diffusive_range,
    nernst_einstein_sigma_mS_cm,
    plot_msd,
)
from ssbflow.analysis.msd import msd_fft, read_trajectory, unwrap_positions
from ssbflow.cli import main


def _walk(n_frames, n_ions, d_A2_ps, dt_ps, seed=0):
    rng = np.random.default_rng(seed)
    steps = rng.normal(scale=np.sqrt(2 * d_A2_ps * dt_ps), size=(n_frames, n_ions, 3))
    steps[0] = 0.0
    return np.cumsum(steps, axis=0) + rng.uniform(0, 10, size=(1, n_ions, 3))


def test_fft_msd_equals_direct_average_over_time_origins() -> None:
    x = _walk(300, 5, 0.1, 0.01, seed=3)
    direct = np.array(
        [np.mean(np.sum((x[k:] - x[: len(x) - k]) ** 2, axis=2)) for k in range(len(x))]
    )
    fast = msd_fft(x)[0].sum(axis=1)
    assert np.allclose(fast, direct, rtol=1e-9, atol=1e-12)
    single = msd_fft(x, single_precision=True)[0].sum(axis=1)
    assert np.allclose(single[1:], direct[1:], rtol=1e-4)
    # groups: ion-weighted mean of group MSDs is the total
    groups = msd_fft(x, n_groups=2).sum(axis=2)
    assert np.allclose((3 * groups[0] + 2 * groups[1]) / 5, direct, rtol=1e-9, atol=1e-12)


def test_random_walk_recovers_known_D_within_5_percent() -> None:
    d_A2_ps, dt_ps = 0.05, 0.01
    li = _walk(4000, 200, d_A2_ps, dt_ps)
    framework = np.random.default_rng(1).normal(scale=0.1, size=(4000, 50, 3)) + 5.0
    pos = np.concatenate([li, framework], axis=1)
    symbols = ["Li"] * 200 + ["O"] * 50
    res = analyze_msd(pos, symbols, np.arange(4000) * dt_ps, temperature_K=300, volume_A3=8000)
    assert res.D_cm2_s == pytest.approx(d_A2_ps * 1e-4, rel=0.05)
    assert res.msd_slope_A2_per_ps == pytest.approx(6 * d_A2_ps, rel=0.05)
    assert res.diffusive and res.stderr_method == "ion groups" and res.regime == "diffusive"
    assert 0 < res.D_stderr_cm2_s < 0.05 * res.D_cm2_s
    expected = nernst_einstein_sigma_mS_cm(res.D_cm2_s, 200, 8000, 300)
    assert res.sigma_mS_cm == pytest.approx(expected)


def test_result_round_trips_through_its_stored_dict() -> None:
    import json

    from ssbflow.analysis.diffusion import DiffusionResult

    res = analyze_msd(_walk(200, 10, 0.05, 0.1), ["Li"] * 10, np.arange(200) * 0.1)
    res.sigma_mS_cm = float("nan")  # stored as None
    back = DiffusionResult.from_dict(json.loads(json.dumps(res.to_dict(include_msd=True))))
    assert back.to_dict(include_msd=True) == res.to_dict(include_msd=True)
    assert back.fit_range_ps == res.fit_range_ps and back.msd_A2.dtype == float
    assert np.isnan(back.sigma_mS_cm)


def test_common_drift_is_removed_and_wrapping_is_undone() -> None:
    dt_ps, box = 0.01, 12.0
    li = _walk(2000, 50, 0.05, dt_ps, seed=5)
    fw = np.random.default_rng(2).uniform(0, box, size=(1, 30, 3)).repeat(2000, axis=0)
    pos = np.concatenate([li, fw], axis=1)
    symbols = ["Li"] * 50 + ["La"] * 30
    t = np.arange(2000) * dt_ps
    ref = analyze_msd(pos, symbols, t)
    drift = np.linspace(0, 40.0, 2000)[:, None, None] * np.array([1.0, 0.5, 0.0])
    drifted = analyze_msd(pos + drift, symbols, t)
    assert drifted.D_cm2_s == pytest.approx(ref.D_cm2_s, rel=1e-6)
    assert analyze_msd(pos + drift, symbols, t, drift="none").D_cm2_s > 2 * ref.D_cm2_s
    wrapped = np.mod(pos, box)
    unwrapped = unwrap_positions(wrapped, np.eye(3) * box)
    assert np.allclose(unwrapped - unwrapped[0], pos - pos[0], atol=1e-9)


def test_ballistic_to_caged_crossover_is_not_called_diffusive() -> None:
    """A short run that goes from ballistic (MSD ∝ t²) to a cage plateau has an overall
    log–log slope near 1 over the crossover; it must not be reported as diffusive, while
    a Langevin particle (ballistic, then MSD = 6 D t) is."""
    t = np.arange(200) * 0.005  # 1 ps in 5 fs frames
    for tau_ps in (0.08, 0.1, 0.15, 0.2):
        caged = (t / tau_ps) ** 2 / (1.0 + (t / tau_ps) ** 2)  # plateau 1 Å²
        *_, diffusive = find_diffusive_range(t, caged)
        assert not diffusive
    tau_ps, d_A2_ps = 0.02, 0.1
    langevin = 6 * d_A2_ps * (t - tau_ps * (1.0 - np.exp(-t / tau_ps)))
    i0, _, beta, diffusive = find_diffusive_range(t, langevin)
    assert diffusive and abs(beta - 1.0) < 0.15 and t[i0] >= tau_ps
    # the same cage seen through analyze_msd: named caged, D only an estimate
    rng = np.random.default_rng(4)
    cage_A = rng.normal(scale=0.5, size=(2000, 20, 3))  # ions rattling in fixed cages
    res = analyze_msd(cage_A, ["Li"] * 20, np.arange(2000) * 0.005)
    assert not res.diffusive and res.regime == "caged/subdiffusive"
    assert res.late_loglog_slope < 0.5
    # a linear MSD that stays below one hop (RMS < 2 Å) is local motion, not diffusion
    short = _walk(400, 50, 0.05, 0.01, seed=6)  # MSD reaches only ~0.6 Å² at half the run
    res = analyze_msd(short, ["Li"] * 50, np.arange(400) * 0.01)
    assert res.loglog_slope == pytest.approx(1.0, abs=0.15)
    assert not res.diffusive and res.regime.startswith("local")
    assert analyze_msd(short, ["Li"] * 50, np.arange(400) * 0.01, min_msd_A2=0.1).diffusive


def _write_frames(path, n_frames, times_fs=None, symbols=("Li", "O")):
    from ase import Atoms
    from ase.io import write

    rng = np.random.default_rng(0)
    frames = []
    for i in range(n_frames):
        atoms = Atoms(list(symbols), positions=rng.uniform(0, 4, (len(symbols), 3)),
                      cell=[5, 5, 5], pbc=True)
        if times_fs is not None:
            atoms.info["time_fs"] = times_fs[i]
        frames.append(atoms)
    write(path, frames, format="extxyz")
    return path


def test_bad_trajectories_give_one_line_errors(tmp_path, capsys) -> None:
    one = _write_frames(tmp_path / "one.extxyz", 1)
    with pytest.raises(ValueError, match="1 frame"):
        read_trajectory(one, timestep_fs=1.0)
    no_li = _write_frames(tmp_path / "noli.extxyz", 6, symbols=("Na", "O"))
    with pytest.raises(ValueError, match="no Li"):
        analyze_trajectory(no_li, timestep_fs=1.0)
    back = _write_frames(tmp_path / "back.extxyz", 6, times_fs=[0, 10, 20, 15, 30, 40])
    with pytest.raises(ValueError, match="non-monotonic"):
        read_trajectory(back)
    for path, extra in ((one, ["--timestep-fs", "1"]), (no_li, ["--timestep-fs", "1"]),
                        (back, [])):
        assert main(["analyze", "diffusion", str(path), *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("ssbflow: error:") and "\n" not in err


@pytest.fixture(scope="session")
def chgnet_trajectory(tmp_path_factory):
    """A short real CHGNet NVT trajectory of Li2O (12 atoms, 1500 K, 60 fs)."""
    from ssbflow.methods.md import run_nvt_md

    li2o = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.63), ["Li", "O"], [[0.25, 0.25, 0.25], [0, 0, 0]]
    )
    path = tmp_path_factory.mktemp("md") / "li2o.extxyz"
    summary = run_nvt_md(li2o, path, 1500.0, 60, timestep_fs=1.0, save_every=2, progress=False)
    assert summary.complete and summary.n_frames == 31
    return path


def test_agrees_with_diffusion_analyzer_on_chgnet_md(chgnet_trajectory, tmp_path, capsys) -> None:
    from ase.io import read
    from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer
    from pymatgen.io.ase import AseAtomsAdaptor

    frames = read(chgnet_trajectory, index=":")
    structures = [AseAtomsAdaptor.get_structure(a) for a in frames]
    # DiffusionAnalyzer starts its lags at 1 ps; give it 1 ps per frame so that it sees the
    # short run, and do the same here: both then report D in the same (scaled) time unit.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        da = DiffusionAnalyzer.from_structures(structures, "Li", 1500, 1000, 1, smoothed="max")
    # the trajectory's own time_fs wins over a time step given by hand
    assert analyze_trajectory(chgnet_trajectory, timestep_fs=1000.0).dt_ps == pytest.approx(0.002)
    traj = read_trajectory(chgnet_trajectory)
    res = analyze_msd(traj.positions_A, traj.symbols, np.arange(len(frames)) * 1.0,
                      masses_amu=traj.masses_amu,
                      fit_range_ps=(da.dt[0] / 1000, da.dt[-1] / 1000))
    lags = np.rint(da.dt / 1000).astype(int)
    assert np.allclose(res.msd_A2[lags], da.msd, rtol=1e-8)
    assert res.D_cm2_s == pytest.approx(da.diffusivity, rel=0.15)
    # the CLI reads the same file and reports the same slope in Å²/ps
    assert main(["analyze", "diffusion", str(chgnet_trajectory), "--json",
                 "--plot", str(tmp_path / "msd.png")]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert {"D_cm2_s", "D_stderr_cm2_s", "msd_slope_A2_per_ps", "fit_range_ps"} <= set(data)
    assert data["msd_slope_A2_per_ps"] > 0 and (tmp_path / "msd.png").stat().st_size > 1000


def test_msd_plot_has_a_log_log_panel_with_a_slope_one_guide(tmp_path, monkeypatch) -> None:
    """The caged 300-K MSD lay flat on the linear axis next to 600/700 K; the log–log
    panel shows each curve with a slope-1 guide through the end of its fit window."""
    import matplotlib.axes

    drawn: list[tuple] = []
    real = matplotlib.axes.Axes.loglog

    def spy(self, x, y, *args, **kwargs):
        drawn.append((np.asarray(x), np.asarray(y), args))
        return real(self, x, y, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "loglog", spy)
    res = analyze_msd(_walk(200, 10, 0.05, 0.1), ["Li"] * 10, np.arange(200) * 0.1)
    assert plot_msd({"walk": res}, tmp_path / "m.png").stat().st_size > 0
    (t, msd, _), (gt, gy, style) = drawn
    assert (t > 0).all() and (msd > 0).all() and style == (":",)
    assert np.log(gy[1] / gy[0]) / np.log(gt[1] / gt[0]) == pytest.approx(1.0)
    hi = res.fit_range_ps[1]
    at = int(np.argmin(np.abs(np.asarray(res.time_ps) - hi)))
    assert np.interp(res.time_ps[at], gt, gy) == pytest.approx(res.msd_A2[at], rel=1e-6)
