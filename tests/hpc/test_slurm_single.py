"""``ssbflow submit --mode single`` on the real local SLURM: run, cancel, resubmit."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ssbflow.cli import main
from ssbflow.hpc import slurm
from ssbflow.hpc.submit import read_submissions, wait_for_job
from ssbflow.runtime.store import get_job_store

pytestmark = pytest.mark.slurm


def _submit(capsys, out: Path, db: Path, *extra: str) -> dict:
    capsys.readouterr()
    code = main(["submit", "demo", "--profile", "local", "--mode", "single", "--out", str(out),
                 "--db", str(db), "--job-name", "ssbtest", "--json", *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def _calls(out: Path) -> list[str]:
    path = out / "calls.log"
    return path.read_text().splitlines() if path.exists() else []


def test_single_job_runs_study_to_completion(slurm_cluster, isolated_profiles, tmp_path,
                                            capsys):
    out, db = tmp_path / "run", tmp_path / "db"
    doc = _submit(capsys, out, db, "--a", "2", "--b", "5", "--wait", "--timeout", "80")
    assert doc["state"] == "COMPLETED"
    # it really ran inside that SLURM job
    calls = _calls(out)
    assert [c.split()[0] for c in calls] == ["add", "square-start", "square-end"]
    assert all(c.endswith(f"job={doc['job_id']}") for c in calls)
    # the outputs are in the store: (2 + 5)**2
    store = get_job_store(db)
    store.connect()
    outputs = {d["name"]: d["output"] for d in store.query({}, properties=["name", "output"])}
    assert outputs == {"add": 7.0, "slow_square": 49.0}
    script = Path(doc["script"]).read_text()
    assert "#SBATCH --job-name=ssbtest" in script
    assert read_submissions(out)[-1].job_id == doc["job_id"]
    assert (out / "slurm" / f"ssbtest-{doc['job_id']}.out").read_text().count("finished") == 1
    # results and status read the run folder
    capsys.readouterr()
    assert main(["results", "--out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ran"] == ["add", "slow_square"]
    assert main(["status", "--out", str(out)]) == 0
    assert f"SLURM job {doc['job_id']}" in capsys.readouterr().out


def test_cancelled_job_resubmitted_finishes_without_recomputing(slurm_cluster,
                                                                isolated_profiles, tmp_path,
                                                                capsys):
    out, db = tmp_path / "run", tmp_path / "db"
    first = _submit(capsys, out, db, "--sleep", "6")
    deadline = time.monotonic() + 60
    while not any(c.startswith("square-start") for c in _calls(out)):
        assert time.monotonic() < deadline, "second job never started"
        time.sleep(0.3)
    # a second submission of the same run folder while the first runs is refused
    code = main(["submit", "demo", "--profile", "local", "--out", str(out), "--db", str(db),
                 "--sleep", "6"])
    assert code == 1
    assert f"SLURM job {first['job_id']}" in capsys.readouterr().err
    slurm.scancel(first["job_id"])
    assert wait_for_job(first["job_id"], timeout_s=30) == "CANCELLED"
    assert not (out / "results.json").exists()
    second = _submit(capsys, out, db, "--sleep", "6", "--wait", "--timeout", "60")
    assert second["state"] == "COMPLETED"
    assert second["job_id"] != first["job_id"]
    result = json.loads((out / "results.json").read_text())
    assert result == {"ran": ["slow_square"], "reused": ["add"],
                      "flow_uuid": result["flow_uuid"]}
    calls = _calls(out)
    assert sum(c.startswith("add") for c in calls) == 1  # the finished job did not run again
    assert calls[-1].startswith("square-end") and calls[-1].endswith(f"job={second['job_id']}")
    assert [s.job_id for s in read_submissions(out)] == [first["job_id"], second["job_id"]]


def test_dry_run_and_bad_profile(isolated_profiles, tmp_path, capsys):
    out = tmp_path / "run"
    capsys.readouterr()
    assert main(["submit", "demo", "--out", str(out), "--dry-run", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["job_id"] == "" and Path(doc["script"]).is_file()
    bad = tmp_path / "bad.yaml"
    bad.write_text('partition: "debug; rm -rf ~"\n')
    assert main(["submit", "demo", "--profile", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "partition: 'debug; rm -rf ~' is not allowed" in err
    assert main(["submit", "nosuchstudy", "--out", str(out)]) == 2
    assert "unknown study" in capsys.readouterr().err
