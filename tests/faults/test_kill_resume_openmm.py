"""A real ``ssbflow run electrolyte-md`` (OpenMM) killed with SIGKILL in its NVT production,
then ``ssbflow resume``: it continues from the last checkpoint, no stage is run again and
every production frame is saved exactly once."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.faults.test_kill_resume import CLI, ENV, _kill_when, _start


def _progress(out) -> dict | None:
    found = list(out.glob("jobs/electrolyte_md_298_K-*/checkpoint.json"))
    if not found:
        return None
    try:
        return json.loads(found[0].read_text())["progress"]
    except (OSError, ValueError):  # replaced between glob and read
        return None


def test_sigkilled_openmm_production_resumes_from_its_checkpoint(tmp_path) -> None:
    out, db = tmp_path / "run", tmp_path / "db"
    argv = ["run", "electrolyte-md", "--out", str(out), "--db", str(db), "--component",
            "CC#N:30", "-T", "298", "--ns", "0.01", "--npt-ps", "2", "--compress-ps", "2",
            "--frame-ps", "0.2", "--checkpoint-ps", "1", "--cutoff-nm", "0.6",
            "--cache-dir", str(tmp_path / "cache"), "--quiet"]
    first = _start(argv, tmp_path)

    def in_production() -> bool:
        prog = _progress(out)
        return bool(prog) and prog["stages"][prog["stage"]] == "production" and (
            prog["n_frames"] >= 10)

    _kill_when(first, in_production)
    killed = _progress(out)
    assert 10 <= killed["n_frames"] < 50

    last = subprocess.run([sys.executable, "-c", CLI, "resume", str(out), "--db", str(db),
                           "--json"], env=ENV, cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert last.returncode == 0, last.stderr[-3000:]
    doc = json.loads(last.stdout)
    assert doc["resumes"] == 1
    assert doc["n_frames"] == 50  # 10 ps / 0.2 ps: none lost, none duplicated
    final = _progress(out)
    steps = {"compress": 500, "npt": 500, "production": 2500}  # 4 fs steps
    assert final["total_steps"] == sum(steps.values())  # nothing ran twice
    (frames,) = out.glob("jobs/electrolyte_md_298_K-*/frames.f64")
    assert frames.stat().st_size == 50 * 30 * 3 * 8
