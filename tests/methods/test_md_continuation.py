"""Extending a finished OpenMM production (``--continue-from``): the new job starts from the
old job's last checkpoint, runs no equilibration again, keeps the old frames bit for bit and
continues them smoothly; a run of another protocol is refused in one line. Real OpenMM on
30 acetonitrile molecules."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from ssbflow.errors import InputError
from ssbflow.methods import classical_md as cmd
from tests.methods.test_classical_md import _protocol

COMPS = [("CC#N", 30)]


def _job(folder: Path, protocol: cmd.MdProtocol, box, monkeypatch, **kw) -> dict:
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)
    return cmd.md_protocol_job.original(box, COMPS, asdict(protocol), **kw)


def _digest(folder: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(folder.iterdir())
                                   if p.is_file())).hexdigest()


def test_finished_production_is_extended_without_equilibrating_again(
        box, tmp_path, monkeypatch) -> None:
    old_dir = tmp_path / "old" / "jobs" / "md_mecn_298_K-0a1b2c3d-1"
    old = _job(old_dir, _protocol(production_ps=3.0), box, monkeypatch)
    assert old["n_frames"] == 6
    before = _digest(old_dir)

    minimised = []
    monkeypatch.setattr("openmm.LocalEnergyMinimizer.minimize",
                        lambda *a, **k: minimised.append(a))
    longer = _protocol(production_ps=6.0)
    new = _job(tmp_path / "new" / "jobs" / "md_mecn_298_K-4e5f6a7b-1", longer, box,
               monkeypatch, continue_from=str(tmp_path / "old"), job_name="md mecn 298 K")
    assert minimised == []  # no stage before the production ran again
    assert new["continued_from"] == str(old_dir.absolute())
    assert new["n_frames"] == 12 and new["frames"]["time_ps"][-1] == pytest.approx(6.0)
    frames = np.asarray(new["frames"]["com_A"])
    assert np.array_equal(frames[:6], np.asarray(old["frames"]["com_A"]))  # bit for bit
    steps = np.linalg.norm(np.diff(frames, axis=0), axis=2).mean(axis=1)
    assert np.all(steps > 0.05) and np.all(steps < 3.0)  # no jump where the old run ended
    assert steps[5] < 3 * np.median(steps)
    checkpoint = (tmp_path / "new" / "jobs" / "md_mecn_298_K-4e5f6a7b-1" / cmd.CHECKPOINT)
    total = sum(s["steps"] for s in longer.stages())
    assert json.loads(checkpoint.read_text())["progress"]["total_steps"] == total
    assert _digest(old_dir) == before  # the old job's folder is only read


def test_continuing_another_protocol_is_refused_in_one_line(box, tmp_path,
                                                            monkeypatch) -> None:
    _job(tmp_path / "old" / "jobs" / "md_mecn_298_K-0a1b2c3d-1", _protocol(production_ps=3.0),
         box, monkeypatch)
    for bad, match in ((_protocol(production_ps=6.0, npt_ps=2.0), "equilibration steps"),
                       (_protocol(production_ps=2.0), "more than the new production"),
                       (_protocol(production_ps=6.0, frame_ps=1.0), "steps per frame")):
        folder = tmp_path / f"new-{match.split()[0]}"
        with pytest.raises(InputError, match=match) as err:
            _job(folder, bad, box, monkeypatch, continue_from=str(tmp_path / "old"),
                 job_name="md mecn 298 K")
        assert "\n" not in str(err.value)
        assert not (folder / cmd.CHECKPOINT).exists() and not (folder / cmd.FRAMES).exists()
    with pytest.raises(InputError, match="expected one folder of job 'md mecn 400 K'"):
        _job(tmp_path / "none", _protocol(), box, monkeypatch,
             continue_from=str(tmp_path / "old"), job_name="md mecn 400 K")
