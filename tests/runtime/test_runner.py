"""Resume: a second run of the same directory reuses every finished job from the store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jobflow import Flow

from ssbflow.errors import InputError
from ssbflow.runtime.runner import prepare_run, run_flow
from ssbflow.runtime.store import get_job_store
from tests.runtime import counting_jobs as cj

ROOT = Path(__file__).resolve().parents[2]


def _calls(log_dir: Path) -> list[str]:
    path = log_dir / "calls.log"
    return path.read_text().split() if path.exists() else []


def _chain(log_dir: str) -> Flow:
    first = cj.add(log_dir, 1.0, 2.0)
    second = cj.square_unless_flag(log_dir, first.output)
    third = cj.add(log_dir, second.output, 1.0)
    return Flow([first, second, third], output=third.output)


def test_failed_job_reruns_alone_after_the_fix(tmp_path):
    log = tmp_path / "log"
    log.mkdir()
    (log / "fail").touch()
    run_dir, store = tmp_path / "run", get_job_store(tmp_path / "db")
    settings = {"study": "chain"}

    flow = prepare_run(run_dir, lambda: _chain(str(log)), settings)
    first = run_flow(flow, store, run_dir)
    assert not first.ok and list(first.failed) == ["square_unless_flag"]
    assert _calls(log) == ["add", "square"]

    (log / "fail").unlink()
    flow_again = prepare_run(run_dir, lambda: _chain(str(log)), settings)
    assert flow_again.uuid == flow.uuid  # loaded from flow.json, not made anew
    second = run_flow(flow_again, store, run_dir)
    assert second.ok
    assert second.reused == ["add"]
    assert _calls(log) == ["add", "square", "square", "add"]  # first add not repeated
    store.connect()
    assert store.get_output(flow.output.uuid) == (1 + 2) ** 2 + 1

    third = run_flow(prepare_run(run_dir, lambda: _chain(str(log)), settings), store, run_dir)
    assert third.ran == [] and len(third.reused) == 3


def test_other_settings_in_the_same_directory_are_refused(tmp_path):
    log = str(tmp_path)
    prepare_run(tmp_path / "run", lambda: _chain(log), {"study": "chain", "miller": [0, 0, 1]})
    with pytest.raises(InputError, match="miller"):
        prepare_run(tmp_path / "run", lambda: _chain(log), {"study": "chain", "miller": [1, 1, 0]})


KILLABLE = """
import sys
from jobflow import Flow
from ssbflow.runtime.execute import execute_study
from tests.runtime import counting_jobs as cj

log, run_dir, db = sys.argv[1:4]

def make():
    a = cj.add(log, 1.0, 1.0)
    b = cj.slow_then_double(log, a.output)
    c = cj.add(log, b.output, 10.0)
    return Flow([a, b, c], output=c.output)

execute_study(make, {"study": "kill"}, run_dir, db, quiet=True)
"""


def test_sigkill_mid_job_resumes_without_recomputing(tmp_path):
    log, run_dir, db = tmp_path / "log", tmp_path / "run", tmp_path / "db"
    log.mkdir()
    (log / "hold").touch()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-c", KILLABLE, str(log), str(run_dir), str(db)]
    proc = subprocess.Popen(args, env=env, cwd=tmp_path)
    deadline = time.time() + 120
    while not (log / "started").exists():
        assert proc.poll() is None and time.time() < deadline, "job never started"
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _calls(log) == ["add", "slow"]
    # the time of the job that finished before the kill is kept for the resumed report
    assert list(json.loads((run_dir / "timings.json").read_text())) == ["add"]

    (log / "hold").unlink()
    subprocess.run(args, env=env, cwd=tmp_path, check=True, timeout=300)
    assert _calls(log) == ["add", "slow", "slow", "add"]  # the first add came from the store

    store = get_job_store(db)
    store.connect()
    docs = list(store.query({}, properties=["uuid", "index"]))
    assert len(docs) == 3 == len({(d["uuid"], d["index"]) for d in docs})  # no duplicates
    final = [d for d in store.query({"name": "add"}, properties=["output"])]
    assert sorted(d["output"] for d in final) == [2.0, 14.0]
