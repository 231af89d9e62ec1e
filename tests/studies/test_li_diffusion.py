"""``ssbflow run polymer-li-diffusion`` on tiny boxes with real CHGNet MD: both polymers at
every temperature, Ea for both, and an honest verdict on the (far too short) MSD; the study
flow through ``run_study``, a killed MD job continued from its trajectory on resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from ase.io import read
from pymatgen.core import Structure

from ssbflow.cli import main
from ssbflow.errors import InputError
from ssbflow.runtime.store import get_job_store
from ssbflow.runtime.studies import resume_study, run_study
from ssbflow.studies.registry import get_study

ROOT = Path(__file__).resolve().parents[2]
TINY = {"temperatures_K": (600.0, 1000.0), "n_steps": 10, "save_every": 2, "n_chains": 1,
        "n_units": 2, "n_li": 1, "pre_relax_steps": 2}


def test_polymer_li_diffusion_tiny_reports_both_polymers_and_says_not_diffusive(
    tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("SSBFLOW_DB", str(tmp_path / "db"))
    out = tmp_path / "pld"
    args = ["run", "polymer-li-diffusion", "--out", str(out), "-T", "600", "-T", "1000",
            "--n-steps", "10", "--save-every", "2", "--n-chains", "1", "--n-units", "2",
            "--n-li", "1", "--pre-relax-steps", "5", "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(r["system"], r["T_K"]) for r in doc["diffusion"]] == [
        ("pvdf", 600.0), ("pvdf", 1000.0), ("dpvdf", 600.0), ("dpvdf", 1000.0)]
    for row in doc["diffusion"]:
        assert row["md_ps"] == pytest.approx(0.010)
        assert row["msd_slope_A2_per_ps"] > 0 and row["D_cm2_s"] > 0
        assert row["D_cm2_s"] == pytest.approx(row["msd_slope_A2_per_ps"] / 6 * 1e-4)
        assert row["wall_s_per_step"] > 0
        # 10 fs of MD is ballistic (MSD ∝ t², log–log slope near 2), never diffusive
        assert not row["diffusive"] and row["loglog_slope"] > 1.3
        assert row["regime"] == "ballistic/superdiffusive"
    assert not doc["diffusive"] and len(doc["not_diffusive"]) == 4
    assert {r["system"] for r in doc["arrhenius"]} == {"pvdf", "dpvdf"}
    assert all(r["from_diffusive_msd"] is False for r in doc["arrhenius"])
    # dehydrofluorination removes one HF per monomer unit: 2 units x 2 atoms fewer
    cells = {r["system"]: r for r in doc["systems"]}
    assert cells["pvdf"]["n_atoms"] - cells["dpvdf"]["n_atoms"] == 4
    assert cells["pvdf"]["n_Li"] == cells["dpvdf"]["n_Li"] == 1
    report = (out / "report.md").read_text()
    assert "Not diffusive" in report and "0.20e-3" in report
    # side by side with the study: ballistic MSDs give numbers but no verdict
    assert "## Source study side by side" in report
    # (the three short-window rows: not computed, 10 fs of MD is shorter than 1-10 ps)
    assert [r["agrees"] for r in doc["source_comparison"]] == [None] * 8
    for name in ("msd_pvdf.png", "msd_dpvdf.png", "arrhenius.png", "systems.csv",
                 "structures/pvdf.cif", "structures/dpvdf_relaxed.extxyz"):
        assert (out / name).is_file()
    # each MD ran in its own job folder, 10 steps with a frame every 2
    for path in doc["files"]["trajectories"].values():
        assert [a.info["step"] for a in read(path, index=":")] == [0, 2, 4, 6, 8, 10]

    # the text output states the verdict next to Ea (a second run takes every job from the store)
    args.remove("--json")
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "estimate only" in text and "not diffusive" in text


def _md_outputs(db) -> dict[str, dict]:
    store = get_job_store(db)
    store.connect()
    return {d["name"]: d["output"] for d in store.query({"name": {"$regex": "^md "}},
                                                       properties=["name", "output"])}


def test_killed_md_job_continues_from_its_trajectory_on_resume(tmp_path, monkeypatch) -> None:
    """Kill the second MD job after two saved frames (KeyboardInterrupt, as a SIGINT would:
    no store document), then ``resume_study``: the finished MD comes from the store, the
    killed one continues from step 2 and its trajectory has all 10 steps."""
    import ssbflow.methods.md as md

    db, out = tmp_path / "db", tmp_path / "run"
    calls = {"n": 0}
    append = md._append_frame

    def dying_append(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 9:  # first MD: 6 frames; second MD: frames at steps 0 and 2
            raise KeyboardInterrupt("simulated kill")
        append(*args, **kwargs)

    monkeypatch.setattr(md, "_append_frame", dying_append)
    with pytest.raises(KeyboardInterrupt):
        run_study("polymer-li-diffusion", out, db=db, quiet=True, **TINY)
    monkeypatch.setattr(md, "_append_frame", append)
    assert list(_md_outputs(db)) == ["md pvdf 600 K"]
    (killed_dir,) = out.glob("jobs/md_pvdf_1000_K-*")
    assert [a.info["step"] for a in read(killed_dir / "md.extxyz", index=":")] == [0, 2]
    first_traj = next(out.glob("jobs/md_pvdf_600_K-*")) / "md.extxyz"
    mtime = first_traj.stat().st_mtime_ns

    doc = resume_study(out, db=db, quiet=True)
    outputs = _md_outputs(db)
    assert outputs["md pvdf 1000 K"]["resumed_from_step"] == 2
    assert outputs["md pvdf 600 K"]["resumed_from_step"] == 0
    assert first_traj.stat().st_mtime_ns == mtime  # finished MD not run again
    frames = read(killed_dir / "md.extxyz", index=":")
    assert [a.info["step"] for a in frames] == [0, 2, 4, 6, 8, 10]
    # every MD started from its relaxed box (the relax job's output, from the data store)
    store = get_job_store(db)
    store.connect()
    relax = store.query_one({"name": "relax pvdf"}, properties=["uuid"])
    relaxed = Structure.from_dict(store.get_output(relax["uuid"], load=True)["structure"])
    assert np.allclose(frames[0].positions, relaxed.cart_coords, atol=1e-8)
    assert all(r["md_ps"] == pytest.approx(0.010) for r in doc["diffusion"])
    assert len(doc["diffusion"]) == 4 and {r["system"] for r in doc["arrhenius"]} == {
        "pvdf", "dpvdf"}
    # the main documents stay small: frames and MSD curves are in the data store
    assert set(outputs["md pvdf 1000 K"]["frames"]) >= {"blob_uuid", "store"}

    # a third call reuses everything and writes the same results
    again = resume_study(out, db=db, quiet=True)
    assert repr(again["diffusion"]) == repr(doc["diffusion"])  # repr: nan == nan


def test_diffusion_options_validate_and_keep_cli_defaults() -> None:
    polymer = get_study("polymer-li-diffusion")
    llzo = get_study("llzo-li-diffusion")
    opts = polymer.parse_options({})
    assert (opts.temperatures_K, opts.n_steps, opts.timestep_fs, opts.save_every,
            opts.pre_relax_steps, opts.n_chains, opts.n_units, opts.n_li, opts.mlip_model) == (
        (600.0, 800.0, 1000.0), 200, 1.0, 5, 100, 4, 4, 4, "CHGNet")
    lopts = llzo.parse_options({})
    assert lopts.temperatures_K == (900.0, 1100.0, 1300.0) and lopts.pre_relax_steps == 0
    with pytest.raises(InputError, match="multiple of --save-every"):
        llzo.parse_options({"n_steps": 7, "save_every": 5})
    with pytest.raises(InputError, match="multiple of --save-every"):
        polymer.parse_options({"n_steps": 7})  # against the default save_every (5)
    with pytest.raises(InputError, match="temperature"):
        llzo.parse_options({"temperatures_K": (600.0, -1.0)})
    with pytest.raises(InputError, match="pre-relax-steps"):
        polymer.parse_options({"pre_relax_steps": -1})
    with pytest.raises(InputError, match="n-chains"):
        llzo.parse_options({"n_chains": 2})  # not an LLZO option


def test_sigkilled_cli_run_resumes_from_the_md_checkpoint(tmp_path) -> None:
    """``ssbflow run polymer-li-diffusion`` killed with SIGKILL while the first MD writes
    frames; ``resume_study`` continues that MD from its last whole frame (not from step 0)."""
    out, db = tmp_path / "run", tmp_path / "db"
    argv = ["run", "polymer-li-diffusion", "--out", str(out), "--db", str(db), "-T", "600",
            "--n-steps", "30", "--save-every", "2", "--n-chains", "1", "--n-units", "2",
            "--n-li", "1", "--pre-relax-steps", "0", "--json"]
    code = "import sys; from ssbflow.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", code, *argv], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while True:
        assert proc.poll() is None and time.time() < deadline, "MD never started"
        found = list(out.glob("jobs/md_pvdf_600_K-*/md.extxyz"))
        if found and found[0].read_text().count("Lattice=") >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    doc = resume_study(out, db=db, quiet=True)
    resumed = _md_outputs(db)["md pvdf 600 K"]["resumed_from_step"]
    assert 4 <= resumed < 30
    steps = [a.info["step"] for a in read(found[0], index=":")]
    assert steps == list(range(0, 31, 2))
    assert [r["md_ps"] for r in doc["diffusion"]] == pytest.approx([0.030, 0.030])


def _walk_run(temp_K: float, d_A2_ps: float | None, rng: np.random.Generator) -> dict:
    """An MD output of 24 Li+ (a random walk with D, or caged when ``d_A2_ps`` is None) and
    24 still chain centres, 1,000 frames 1 ps apart."""
    n, frames, dt = 24, 1000, 1.0
    time_ps = dt * np.arange(1, frames + 1)
    if d_A2_ps is None:  # rattling sites that drift straight on: MSD ∝ t², D > 0
        v = rng.normal(0.0, 0.01, (1, n, 3))  # Å/ps
        li = (rng.uniform(0, 30, (1, n, 3)) + v * time_ps[:, None, None]
              + rng.normal(0.0, 0.5, (frames, n, 3)))
    else:
        li = np.cumsum(rng.normal(0.0, np.sqrt(2 * d_A2_ps * dt), (frames, n, 3)), axis=0)
    chains = np.broadcast_to(rng.uniform(0, 30, (1, n, 3)), (frames, n, 3))
    return {"system": "pvdf", "T_K": temp_K, "md": {
        "frames": {"positions_A": np.concatenate([li, chains], axis=1),
                   "symbols": ["Li"] * n + ["chain"] * n,
                   "masses_amu": [6.94] * n + [500.0] * n,
                   "time_ps": time_ps, "volume_A3": 27000.0,
                   "temperature_K": temp_K},
        "n_frames": frames, "mean_temperature_K": temp_K, "steps_done": 250000,
        "timestep_fs": 4.0, "wall_s_per_step": 1e-3, "trajectory": "",
        "engine": {"engine": "test"}}}


def test_arrhenius_fits_only_the_diffusive_temperatures() -> None:
    # random walks with Ea 0.30 eV at 500/450/400 K and a ballistic 300 K run whose
    # apparent D is 40x too high: it is left out of the fit, Ea is recovered and D(300 K)
    # comes with an error that covers the true value
    from ssbflow.analysis.arrhenius import KB_EV_PER_K
    from ssbflow.studies.li_diffusion.jobs import diffusion_analysis_job

    rng = np.random.default_rng(7)
    ea, d500 = 0.30, 0.05  # Å²/ps at 500 K
    d_of = {t: d500 * np.exp(-ea / KB_EV_PER_K * (1 / t - 1 / 500)) for t in (500, 450, 400)}
    runs = [_walk_run(t, d_of.get(t), rng) for t in (500.0, 450.0, 400.0, 300.0)]
    doc = diffusion_analysis_job.original(runs, [], {}, {"species": "Li"}, "t", "t")
    diffusive = {r["T_K"]: r["diffusive"] for r in doc.diffusion}
    assert diffusive == {500.0: True, 450.0: True, 400.0: True, 300.0: False}
    assert [r["D_cm2_s"] > 0 for r in doc.diffusion] == [True] * 4
    (row,) = doc.arrhenius
    assert row["temperatures_K"] == [400.0, 450.0, 500.0] and row["from_diffusive_msd"]
    assert abs(row["Ea_eV"] - ea) < max(3 * row["Ea_stderr_eV"], 0.03)
    true_300 = d500 * np.exp(-ea / KB_EV_PER_K * (1 / 300 - 1 / 500)) * 1e-4  # cm²/s
    assert abs(row["D_300K_cm2_s"] - true_300) < 2 * row["D_300K_stderr_cm2_s"]
    assert 0 < row["D_300K_stderr_cm2_s"] < 0.5 * row["D_300K_cm2_s"]
