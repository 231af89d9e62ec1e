"""Classical MD protocol (OpenMM): stages in order, and a crash in production resumes from
the last checkpoint without repeating a stage or losing/duplicating a frame."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ssbflow.errors import InputError, SsbflowError
from ssbflow.methods import classical_md as cmd


def _protocol(**kw) -> cmd.MdProtocol:
    base = {"temperature_K": 298.0, "production_ps": 6.0, "npt_ps": 4.0, "compress_ps": 2.0,
            "frame_ps": 0.5, "checkpoint_ps": 1.0, "cutoff_nm": 0.6}
    return cmd.MdProtocol(**{**base, **kw})


def _run(box, protocol):
    return cmd.run_protocol([("CC#N", 30)], box["prmtops"], box["net_charges"],
                            np.asarray(box["positions_A"]), box["box_A"], protocol)


def test_stages_and_bad_protocols() -> None:
    names = [s["name"] for s in _protocol(anneal_ps=2.0, cool_ps=2.0).stages()]
    assert names == ["minimise", "compress", "anneal", "cool", "npt", "production"]
    assert [s["name"] for s in _protocol(npt_ps=0).stages()] == [
        "minimise", "compress", "production"]
    with pytest.raises(InputError, match="production_ps"):
        _protocol(production_ps=0.4).check()
    with pytest.raises(InputError, match=">= 0"):
        _protocol(npt_ps=-1).check()


def test_crash_in_production_resumes_from_checkpoint(box, tmp_path, monkeypatch) -> None:
    protocol = _protocol()
    production = len(protocol.stages()) - 1
    monkeypatch.chdir(tmp_path)
    real = cmd._write_checkpoint

    def crash_at_3_ps(context, progress):
        if progress["stage"] == production and progress["stage_steps"] >= 750:
            raise RuntimeError("killed")  # frames of 2-3 ps are on disk, not checkpointed
        real(context, progress)

    monkeypatch.setattr(cmd, "_write_checkpoint", crash_at_3_ps)
    with pytest.raises(RuntimeError, match="killed"):
        _run(box, protocol)
    saved = json.loads((tmp_path / cmd.CHECKPOINT).read_text())["progress"]
    assert saved["stage"] == production and saved["n_frames"] == 4  # 2 ps of 0.5 ps frames
    assert (tmp_path / cmd.FRAMES).stat().st_size > 4 * 30 * 3 * 8  # frames past the ckpt

    monkeypatch.setattr(cmd, "_write_checkpoint", real)
    minimised = []
    monkeypatch.setattr("openmm.LocalEnergyMinimizer.minimize",
                        lambda *a, **k: minimised.append(a))
    out = _run(box, protocol)
    assert out["resumed"] and out["progress"]["resumes"] == 1
    assert minimised == []  # finished stages are not run again
    frames = out["frames_com_A"]
    assert frames.shape == (12, 30, 3)  # 6 ps / 0.5 ps: none lost, none duplicated
    assert (tmp_path / cmd.FRAMES).stat().st_size == 12 * 30 * 3 * 8
    steps = np.linalg.norm(np.diff(frames, axis=0), axis=2).mean(axis=1)
    assert np.all(steps > 0.05) and np.all(steps < 3.0)  # continuous, no repeated frame
    total = sum(s["steps"] for s in protocol.stages())
    assert out["progress"]["total_steps"] == total


def _argon_run(n: int = 8) -> cmd._Run:
    """Eight LJ particles in a 20 Å box with a barostat: a _Run without AmberTools."""
    import openmm
    from openmm import unit

    system = openmm.System()
    system.setDefaultPeriodicBoxVectors(*(np.eye(3) * 2.0 * unit.nanometer))
    nb = openmm.NonbondedForce()
    nb.setNonbondedMethod(openmm.NonbondedForce.CutoffPeriodic)
    nb.setCutoffDistance(0.8 * unit.nanometer)
    for _ in range(n):
        system.addParticle(39.9)
        nb.addParticle(0.0, 0.34, 0.99)
    system.addForce(nb)
    barostat = openmm.MonteCarloBarostat(1.0 * unit.bar, 298.0 * unit.kelvin, 0)
    system.addForce(barostat)
    platform = openmm.Platform.getPlatformByName("CPU")
    return cmd._Run(None, system, barostat, platform, {"Threads": "1"},
                    [(0, i, 1) for i in range(n)], np.full(n, 39.9), np.zeros(0, dtype=int))


def test_stage_from_a_previous_state_runs_at_its_own_pressure_and_temperature() -> None:
    import openmm

    run = _argon_run()
    protocol = _protocol(anneal_ps=2.0, cool_ps=2.0)
    stages = {s["name"]: s for s in protocol.stages()}
    grid = np.stack(np.meshgrid(*[[2.5, 12.5]] * 3), axis=-1).reshape(-1, 3)
    first, _ = cmd._context(run, stages["npt"], protocol, None, grid, 20.0, 0)
    state = openmm.XmlSerializer.serialize(first.getState(
        getPositions=True, getVelocities=True, getParameters=True))
    for name, p_bar, t_k in (("compress", 1000.0, 500.0), ("anneal", 1.0, 500.0)):
        context, _ = cmd._context(run, stages[name], protocol, state, None, None, 0)
        # the saved state held 1 bar / 298 K: the new stage's values must win
        assert context.getParameter(openmm.MonteCarloBarostat.Pressure()) == p_bar
        assert context.getParameter(openmm.MonteCarloBarostat.Temperature()) == t_k


def test_production_shorter_than_the_msd_fit_needs_is_refused_at_option_time() -> None:
    from ssbflow.analysis.msd import MIN_FRAMES

    _protocol(production_ps=0.5 * MIN_FRAMES).check()
    with pytest.raises(InputError, match=f"production_ps.*{MIN_FRAMES} frames"):
        _protocol(production_ps=0.5 * (MIN_FRAMES - 1)).check()  # 4 frames: analyze_msd fails


@pytest.fixture(scope="module")
def no_npt_run(box, tmp_path_factory):
    """A run without NPT (compress, then production), recording every fsync and checkpoint."""
    import os

    folder = tmp_path_factory.mktemp("no_npt")
    events: list[tuple] = []
    real_fsync, real_ckpt = os.fsync, cmd._write_checkpoint

    def fsync(fd):
        events.append(("fsync", Path(os.readlink(f"/proc/self/fd/{fd}")).name))
        real_fsync(fd)

    def checkpoint(context, progress):
        events.append(("checkpoint", progress["stage"], progress["n_frames"]))
        real_ckpt(context, progress)

    protocol = {"temperature_K": 298.0, "production_ps": 2.5, "npt_ps": 0.0,
                "compress_ps": 2.0, "frame_ps": 0.5, "checkpoint_ps": 1.0, "cutoff_nm": 0.6}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.setattr(os, "fsync", fsync)
        mp.setattr(cmd, "_write_checkpoint", checkpoint)
        md = cmd.md_protocol_job.original(box, [("CC#N", 30)], protocol)
    progress = json.loads((folder / cmd.CHECKPOINT).read_text())["progress"]
    return {"md": md, "events": events, "progress": progress}


def test_production_volume_without_npt_is_the_compressed_box(box, no_npt_run) -> None:
    md, progress = no_npt_run["md"], no_npt_run["progress"]
    assert md["npt_volume_A3"] == []
    production_A3 = float(np.prod(progress["production_box_A"]))
    assert md["volume_A3"] == pytest.approx(production_A3, rel=1e-9)
    assert md["volume_A3"] < 0.9 * box["box_A"] ** 3  # not the loose packmol box


def test_frames_are_on_disk_before_the_checkpoint_counts_them(no_npt_run) -> None:
    events = no_npt_run["events"]
    production = no_npt_run["progress"]["stages"].index("production")
    counted = [i for i, e in enumerate(events) if e[0] == "checkpoint" and e[2] > 0]
    assert len(counted) >= 3  # 1 ps checkpoints of a 2.5 ps production, and its end
    for i in counted:
        assert events[i - 1] == ("fsync", cmd.FRAMES) or (
            events[i - 2:i] == [("fsync", cmd.FRAMES), ("fsync", cmd.SITES)]), events[i - 3:i]
        assert events[i][1] in (production, production + 1)


def test_resume_with_frames_missing_on_disk_stops_in_one_line(box, tmp_path,
                                                              monkeypatch) -> None:
    protocol = _protocol()
    names = [s["name"] for s in protocol.stages()]
    monkeypatch.chdir(tmp_path)
    progress = {"stage": len(names) - 1, "stage_steps": 500, "total_steps": 3000,
                "n_frames": 4, "samples": {}, "wall_s": {}, "stages": names, "resumes": 0}
    (tmp_path / cmd.CHECKPOINT).write_text(json.dumps({"progress": progress, "state_xml": ""}))
    (tmp_path / cmd.FRAMES).write_bytes(np.zeros((1, 30, 3)).tobytes())  # 1 of 4 frames
    (tmp_path / cmd.SITES).write_bytes(b"")
    with pytest.raises(SsbflowError, match=r"frames\.f64: 720 bytes, the checkpoint counts "
                                           r"2880; frames were lost"):
        _run(box, protocol)
    assert (tmp_path / cmd.FRAMES).stat().st_size == 720  # not zero-extended


def test_box_narrower_than_twice_the_cutoff_at_liquid_density_is_refused(
        ff_cache, box, tmp_path, monkeypatch) -> None:
    cache = ff_cache  # parameters made by the box fixture
    monkeypatch.chdir(tmp_path)
    # 30 MeCN: 14.9 Å packed at 0.5 g/cm³ (passes create_system's check at 12 Å for 0.6 nm),
    # 12.7 Å at 1 g/cm³, and the production box measured 13.9 Å: too small for 0.7 nm
    with pytest.raises(InputError, match=r"CC#N:30: at 1.0 g/cm³ the box edge is 12.7 Å, "
                                         r"less than twice cutoff_nm 0.7 \(14.0 Å\): use 1.3x"):
        cmd.build_box_job.original([("CC#N", 30)], cache_dir=str(cache), cutoff_nm=0.7)
    assert not (tmp_path / "pack").exists()  # refused before packing
    cmd.build_box_job.original([("CC#N", 30)], cache_dir=str(cache), cutoff_nm=0.6)
    flow = cmd.ClassicalMdMaker(protocol=_protocol(cutoff_nm=0.7)).make([("CC#N", 30)])
    assert flow.jobs[0].function_args[5:] == (0.7, cmd.LIQUID_DENSITY_G_CM3)  # the MD's cutoff


def test_box_shrinking_below_twice_the_cutoff_stops_in_one_line(tmp_path, monkeypatch) -> None:
    run = _argon_run()  # 8 LJ particles at 1000 bar: the box shrinks below 1.6 nm in 400 fs
    protocol = _protocol(cutoff_nm=0.8)
    compress = protocol.stages()[1]
    run.progress = {"stage": 1, "stage_steps": 0, "total_steps": 0, "n_frames": 0,
                    "samples": {}, "wall_s": {}}
    grid = np.stack(np.meshgrid(*[[2.5, 12.5]] * 3), axis=-1).reshape(-1, 3)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=r"^compress stage: the box shrank below twice "
                                         r"cutoff_nm 0.8 \(16.0 Å\)"):
        cmd._run_stage(run, 1, compress, protocol, None, {"positions_A": grid, "box_A": 20.0})
