"""``run_flow(..., workers=2)``: independent jobs side by side in worker processes, the store
written by the parent only, dynamic responses followed, failures reported as in one process."""

from __future__ import annotations

from pathlib import Path

from jobflow import Flow

from ssbflow.runtime.runner import prepare_run, run_flow
from ssbflow.runtime.store import get_job_store, read_output
from ssbflow.runtime.workers import worker_threads
from tests.runtime import counting_jobs as cj


def _flow(log_dir: str, meet_timeout_s: float = 120.0) -> Flow:
    a = cj.meet(log_dir, "a", "b", meet_timeout_s)
    b = cj.meet(log_dir, "b", "a", meet_timeout_s)
    big = cj.big_output(5000)
    replaced = cj.replaced_by_add(log_dir, 1.0)
    last = cj.add(log_dir, replaced.output, big.output["n"])
    return Flow([a, b, big, replaced, last],
                output={"a": a.output, "b": b.output, "big": big.output, "last": last.output})


def test_two_workers_overlap_and_fill_the_store(tmp_path) -> None:
    log = tmp_path / "log"
    log.mkdir()
    run_dir, store = tmp_path / "run", get_job_store(tmp_path / "db")
    flow = prepare_run(run_dir, lambda: _flow(str(log)), {"study": "workers"})
    summary = run_flow(flow, store, run_dir, workers=2)
    assert summary.ok, summary.failed
    store.connect()
    out = read_output(store, flow.output)
    a, b = out["a"], out["b"]
    assert a["pid"] != b["pid"]  # two processes ...
    assert a["met"] and b["met"]  # ... at the same time
    assert a["threads"] == str(worker_threads(2))
    assert Path(a["cwd"]).parent == run_dir / "jobs"  # each in its own folder
    assert out["big"]["values"] == list(range(5000))  # the data store blob came back
    assert out["last"] == (1.0 + 10.0) + 5000  # replace followed before the child ran
    again = run_flow(prepare_run(run_dir, lambda: _flow(str(log)), {"study": "workers"}),
                     store, run_dir, workers=2)
    assert again.ran == [] and len(again.reused) == len(summary.ran) - 1  # replacement inside


def test_a_failing_worker_job_is_reported_and_stops_its_children(tmp_path) -> None:
    log = tmp_path / "log"
    log.mkdir()
    (log / "fail").touch()
    first = cj.add(str(log), 1.0, 2.0)
    second = cj.square_unless_flag(str(log), first.output)
    third = cj.add(str(log), second.output, 1.0)
    store = get_job_store(tmp_path / "db")
    summary = run_flow(Flow([first, second, third]), store, tmp_path / "run", workers=2)
    assert summary.failed == {"square_unless_flag": "RuntimeError: injected failure"}
    assert summary.ran == ["add"]  # the third never started


def test_one_process_follows_the_replacement_too(tmp_path) -> None:
    log = tmp_path / "log"
    log.mkdir()
    flow = _flow(str(log), meet_timeout_s=0.1)  # one process: the first never meets
    store = get_job_store(tmp_path / "db")
    assert run_flow(flow, store, tmp_path / "run").ok
    store.connect()
    out = read_output(store, flow.output)
    assert out["last"] == 11.0 + 5000
    assert not out["a"]["met"]  # the overlap check can fail


def test_workers_setting_is_checked(monkeypatch, tmp_path) -> None:
    import pytest

    from ssbflow.errors import InputError
    from ssbflow.runtime.execute import default_workers

    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("SSBFLOW_WORKERS", bad)
        with pytest.raises(InputError, match="SSBFLOW_WORKERS"):
            default_workers()
    from ssbflow.runtime.execute import execute_study

    with pytest.raises(InputError, match="SSBFLOW_WORKERS"):  # refused before any write
        execute_study(lambda: Flow([]), {"study": "x"}, tmp_path / "out", db=tmp_path / "db")
    assert not (tmp_path / "out").exists() and not (tmp_path / "db").exists()
    monkeypatch.setenv("SSBFLOW_WORKERS", "3")
    assert default_workers() == 3
    with pytest.raises(InputError, match="--workers must be >= 1"):
        run_flow(Flow([]), get_job_store(tmp_path / "db"), tmp_path / "run", workers=0)


KILLABLE = """
import sys
from jobflow import Flow
from ssbflow.runtime.runner import prepare_run, run_flow
from ssbflow.runtime.store import get_job_store
from tests.runtime import counting_jobs as cj

log, run_dir, db = sys.argv[1:4]
make = lambda: Flow([cj.child_sleep(log, "a"), cj.child_sleep(log, "b")])
flow = prepare_run(run_dir, make, {"study": "kill"})
assert run_flow(flow, get_job_store(db), run_dir, workers=2).ok
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited


def test_sigkill_of_the_parent_kills_the_workers_and_their_engines(tmp_path) -> None:
    """A SIGKILLed `ssbflow run --workers 2` leaves no worker and no engine process behind
    (they would go on writing into the folders a resumed run uses); the rerun finishes."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[2]
    log = tmp_path / "log"
    log.mkdir()
    (log / "hold").touch()
    args = [sys.executable, "-c", KILLABLE, str(log), str(tmp_path / "run"), str(tmp_path / "db")]
    env = {**os.environ, "PYTHONPATH": str(root)}
    parent = subprocess.Popen(args, cwd=root, env=env)
    deadline = time.time() + 120
    while not all((log / f"{n}.pids").exists() for n in "ab") and time.time() < deadline:
        time.sleep(0.2)
    pids = [int(p) for n in "ab" for p in (log / f"{n}.pids").read_text().split()]
    assert all(_alive(p) for p in pids)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 15
    while any(_alive(p) for p in pids) and time.time() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in pids), "a worker or its child outlived the run"

    (log / "hold").unlink()
    again = subprocess.run(args, cwd=root, env=env, timeout=180)
    assert again.returncode == 0


def test_workers_share_the_runs_threads(monkeypatch) -> None:
    import os

    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert worker_threads(2) == 2 and worker_threads(8) == 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert worker_threads(2) == max(1, (os.cpu_count() or 1) // 2)
    assert worker_threads(3, cores=12) == 4
