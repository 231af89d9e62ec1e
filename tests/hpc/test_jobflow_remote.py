"""``--mode jobflow-remote``: every job its own SLURM job, failures rerun, remote errors
retried after SLURM comes back. Real SLURM and jobflow-remote; the queue database is the
in-process mongomock-ng store (no MongoDB server here)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ssbflow.cli import main
from ssbflow.hpc import remote
from tests.hpc.conftest import cluster

pytestmark = pytest.mark.slurm


def _cli_json(capsys, *argv: str) -> dict:
    capsys.readouterr()
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def _submit_demo(capsys, project: dict, *extra: str) -> dict:
    out = project["tmp"] / "demo"
    return _cli_json(capsys, "submit", "demo", "--mode", "jobflow-remote", "--profile", "local",
                     "--out", str(out), "--run", "--timeout", "80", *extra)


def _jobs(project: dict, flow_id: str) -> dict[str, dict]:
    (status,) = remote.flow_status(project["name"], flow_id)
    return {job.name: vars(job) for job in status.jobs}


def _calls(project: dict) -> list[str]:
    return (project["tmp"] / "demo" / "calls.log").read_text().splitlines()


def test_two_job_flow_runs_as_two_slurm_jobs(jfr_project, capsys):
    doc = _submit_demo(capsys, jfr_project, "--a", "3", "--b", "4")
    assert doc["state"] == "COMPLETED"
    jobs = _jobs(jfr_project, doc["flow_id"])
    assert {j["state"] for j in jobs.values()} == {"COMPLETED"}
    slurm_ids = {jobs["add"]["slurm_id"], jobs["slow_square"]["slurm_id"]}
    assert len(slurm_ids) == 2 and None not in slurm_ids
    # each job ran inside its own SLURM job
    ran_in = {line.split()[0]: line.split("job=")[1] for line in _calls(jfr_project)}
    assert ran_in["add"] == jobs["add"]["slurm_id"]
    assert ran_in["square-end"] == jobs["slow_square"]["slurm_id"]
    # outputs went to the montydb store: (3 + 4)**2
    res = _cli_json(capsys, "results", "--flow", doc["flow_id"], "--db",
                    str(jfr_project["db"]))
    assert {j["name"]: j["output"] for j in res["jobs"]} == {"add": 7.0, "slow_square": 49.0}
    status = _cli_json(capsys, "status", "--flow", doc["flow_id"], "--profile", "local")
    assert status["flows"][0]["state"] == "COMPLETED"


def test_failed_job_rerun_after_fix_completes_flow(jfr_project, capsys):
    allow = jfr_project["tmp"] / "allow"
    doc = _submit_demo(capsys, jfr_project, "--allow-file", str(allow))
    assert doc["state"] == "FAILED"
    jobs = _jobs(jfr_project, doc["flow_id"])
    assert jobs["add"]["state"] == "COMPLETED"
    assert jobs["square_if_allowed"]["state"] == "FAILED"
    assert "deliberate failure" in jobs["square_if_allowed"]["error"]
    allow.touch()  # the fix
    res = _cli_json(capsys, "hpc", "resume", "--flow", doc["flow_id"], "--profile", "local",
                    "--run", "--timeout", "80")
    assert res["rerun"] and not res["retried"]
    assert res["flows"] == {doc["flow_id"]: "COMPLETED"}
    calls = [c.split()[0] for c in _calls(jfr_project)]
    assert calls == ["add", "checked", "checked"]  # the finished job was not run again
    out = _cli_json(capsys, "results", "--flow", doc["flow_id"], "--db", str(jfr_project["db"]))
    assert {j["name"]: j["output"] for j in out["jobs"]} == {"add": 3.0,
                                                            "square_if_allowed": 9.0}


def test_submission_while_slurm_down_is_remote_error_then_resumed(jfr_project, capsys):
    cluster("stop-ctld")
    try:
        doc = _submit_demo(capsys, jfr_project)
        jobs = _jobs(jfr_project, doc["flow_id"])
        assert jobs["add"]["state"] == "REMOTE_ERROR"
        assert "slurm controller" in jobs["add"]["error"].lower() or \
            "submission failed" in jobs["add"]["error"].lower()
        assert jobs["slow_square"]["state"] == "WAITING"
    finally:
        cluster("start")
    res = _cli_json(capsys, "hpc", "resume", "--flow", doc["flow_id"], "--profile", "local",
                    "--run", "--timeout", "80")
    assert res["retried"] and not res["rerun"]
    assert res["flows"] == {doc["flow_id"]: "COMPLETED"}
    assert [c.split()[0] for c in _calls(jfr_project)] == ["add", "square-start", "square-end"]


def test_hpc_init_writes_project_that_jf_accepts(slurm_cluster, isolated_profiles, capsys,
                                                 monkeypatch, tmp_path):
    assert main(["hpc", "init", "--profile", "local"]) == 2
    assert "needs a MongoDB queue database" in capsys.readouterr().err
    monkeypatch.setenv("SSBFLOW_MONGO_URI", "mongodb://alice:s3cret@127.0.0.1:9/ssb")
    capsys.readouterr()
    assert main(["hpc", "init", "--profile", "local"]) == 0
    printed = capsys.readouterr().out
    assert "s3cret" not in printed and "alice:***@" in printed
    path = isolated_profiles / "ssbflow-local.yaml"
    assert path.stat().st_mode & 0o077 == 0  # credentials: readable by the user only
    jf = shutil.which("jf") or str(Path(sys.executable).parent / "jf")
    env = {**os.environ, "JFREMOTE_PROJECTS_FOLDER": str(isolated_profiles)}
    # the worker check runs squeue on the local SLURM and checks the work directory;
    # the queue/jobstore checks need the MongoDB server (none here)
    check = subprocess.run([jf, "-p", "ssbflow-local", "project", "check", "--worker",
                            "local", "--errors"], capture_output=True, text=True, env=env,
                           timeout=80)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Worker local" in check.stdout and "Error" not in check.stdout
    assert "s3cret" not in check.stdout + check.stderr


def test_registered_study_runs_one_slurm_job_per_job_and_reports(jfr_project, capsys,
                                                                 monkeypatch):
    """Any registered study (here the toy one of tests/cli) goes to jobflow-remote with its
    `ssbflow run` options; with --run the report is written from the store."""
    from tests.cli import toy_study

    toy_study.register(monkeypatch)
    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(root), *filter(None, [os.environ.get("PYTHONPATH")])]))  # tests.* in the jobs
    log = jfr_project["tmp"] / "log"
    log.mkdir()
    out = jfr_project["tmp"] / "report"
    doc = _cli_json(capsys, "submit", "toy", "--mode", "jobflow-remote", "--profile", "local",
                    "--out", str(out), "--run", "--timeout", "120", "--log-dir", str(log),
                    "--a", "2", "-T", "100", "-T", "200")
    assert doc["state"] == "COMPLETED", _jobs(jfr_project, doc["flow_id"])
    jobs = _jobs(jfr_project, doc["flow_id"])
    assert len({j["slurm_id"] for j in jobs.values()}) == 3
    assert doc["results"]["value"] == (2 + 300) ** 2
    saved = json.loads((out / "results.json").read_text())
    assert saved["value"] == (2 + 300) ** 2 and saved["options"]["temperatures_K"] == [100, 200]
    assert (log / "calls.log").read_text().split() == ["add", "square"]
