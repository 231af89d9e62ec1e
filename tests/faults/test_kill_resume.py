"""Real processes killed with SIGKILL: an MLIP MD run (twice) and a store insert.

- ``ssbflow run polymer-li-diffusion`` is killed after a few saved frames, the ``ssbflow
  resume`` that follows is killed too, and a last ``ssbflow resume`` finishes: every saved
  step is in the trajectory exactly once.
- A process writing job documents to the montydb store is killed while SQLite holds an
  open write transaction (its ``-journal``/``-wal`` file exists: the kill lands inside a
  document insert, not between two). The store opens again, holds only whole documents,
  and the run resumes: finished jobs are reused, the rest run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from ase.io import read

from ssbflow.runtime.runner import prepare_run, run_flow
from ssbflow.runtime.store import get_job_store
from tests.faults import big_jobs

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
CLI = "import sys; from ssbflow.cli import main; sys.exit(main(sys.argv[1:]))"


def _start(argv: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CLI, *argv], env=ENV, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_when(proc: subprocess.Popen, ready, timeout_s: float = 300.0) -> None:
    """SIGKILL ``proc`` as soon as ``ready()`` is true (fails if it ends first)."""
    deadline = time.time() + timeout_s
    while not ready():
        assert proc.poll() is None, f"ended before the kill: {proc.communicate()[1][-2000:]}"
        assert time.time() < deadline, "the kill point was never reached"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


def _frames(path: Path) -> int:
    return path.read_text().count("Lattice=") if path.exists() else 0


def test_sigkilled_md_run_and_resume_lose_and_duplicate_no_frame(tmp_path) -> None:
    out, db = tmp_path / "run", tmp_path / "db"
    n_steps, every = 24, 2
    argv = ["run", "polymer-li-diffusion", "--out", str(out), "--db", str(db), "-T", "600",
            "--n-steps", str(n_steps), "--save-every", str(every), "--n-chains", "1",
            "--n-units", "2", "--n-li", "1", "--pre-relax-steps", "0", "--quiet"]

    def trajectory() -> Path | None:
        found = list(out.glob("jobs/md_pvdf_600_K-*/md.extxyz"))
        return found[0] if found else None

    first = _start(argv, tmp_path)
    _kill_when(first, lambda: trajectory() is not None and _frames(trajectory()) >= 3)
    killed_at = _frames(trajectory())

    second = _start(["resume", str(out), "--db", str(db), "--quiet"], tmp_path)
    _kill_when(second, lambda: _frames(trajectory()) >= killed_at + 3)

    last = subprocess.run([sys.executable, "-c", CLI, "resume", str(out), "--db", str(db),
                           "--json"], env=ENV, cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert last.returncode == 0, last.stderr[-3000:]
    doc = json.loads(last.stdout)
    assert {round(r["md_ps"], 4) for r in doc["diffusion"]} == {n_steps / 1000}
    for path in out.glob("jobs/md_*/md.extxyz"):  # both boxes (pvdf killed, dpvdf not)
        steps = [a.info["step"] for a in read(path, index=":")]
        assert steps == list(range(0, n_steps + 1, every)), path.parent.name


def _open_write_transaction(db: Path) -> bool:
    return any(p.name.endswith(("-journal", "-wal")) for p in db.rglob("*"))


def _documents(db: Path) -> list[dict]:
    store = get_job_store(db)
    store.connect()
    try:
        return list(store.query({}, properties=["uuid", "index", "output"]))
    finally:
        store.close()


WRITER = """
import sys
from ssbflow.runtime.runner import prepare_run, run_flow
from ssbflow.runtime.store import get_job_store
from tests.faults import big_jobs
run_dir, db, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
flow = prepare_run(run_dir, lambda: big_jobs.ramps(n), {"study": "ramps", "n": n})
run_flow(flow, get_job_store(db), run_dir,
         on_job_end=lambda job, reused: print("stored", flush=True))
"""


@pytest.mark.filterwarnings("ignore:Some jobs are not connected")
def test_store_killed_inside_an_insert_opens_and_the_run_resumes(tmp_path) -> None:
    run_dir, db, n_jobs = tmp_path / "run", tmp_path / "db", 8
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(run_dir), str(db),
                               str(n_jobs)], env=ENV, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    stored = 0

    def inside_second_insert() -> bool:
        nonlocal stored
        if stored < 1 and writer.stdout.readline().startswith("stored"):
            stored += 1
        return stored >= 1 and _open_write_transaction(db)

    _kill_when(writer, inside_second_insert)
    # the killed insert left its rollback journal / write-ahead log behind (a hot journal)
    assert _open_write_transaction(db), sorted(p.name for p in db.rglob("*"))
    docs = _documents(db)  # the store opens after the kill (SQLite rolls the insert back)
    assert 1 <= len(docs) < n_jobs
    assert all(d["output"] == list(range(d["output"][0], d["output"][0] + big_jobs.N_VALUES))
               for d in docs)  # only whole documents

    flow = prepare_run(run_dir, lambda: big_jobs.ramps(n_jobs), {"study": "ramps",
                                                                 "n": n_jobs})
    summary = run_flow(flow, get_job_store(db), run_dir)
    assert summary.ok
    assert len(summary.reused) == len(docs) and len(summary.ran) == n_jobs - len(docs)
    final = _documents(db)
    assert Counter(d["uuid"] for d in final) == Counter(j.uuid for j in flow.jobs)
    assert sorted(d["output"][0] for d in final) == list(range(n_jobs))
