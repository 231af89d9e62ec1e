"""Running one job in a worker process, for :func:`ssbflow.runtime.runner.run_flow` with
``workers`` > 1.

The parent resolves the job's inputs from the real store and sends the resolved job as JSON;
the worker runs it in its folder against a store in memory with the same additional stores
(``data``) and sends back the documents the job wrote and its dynamic response. The parent
alone writes to the real store, so a montydb folder never has two writers, and a worker
killed half-way leaves nothing in it (as a killed sequential job leaves nothing).

Each worker gets its share of the run's threads (``$OMP_NUM_THREADS`` or the cores, divided
by the number of workers) for OpenMP, torch, BLAS and CP2K: two one-thread CP2K jobs side by
side did the llto-li flow in 40 min on 2 cores against 91.5 min one job at a time (README).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

from jobflow import Job, JobStore
from maggma.stores import MemoryStore
from monty.json import MontyDecoder, MontyEncoder

#: prctl option: the signal a process gets when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1
#: Thread settings a worker fills in when the environment leaves them unset.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "SSBFLOW_CP2K_THREADS", "MKL_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS")


def worker_threads(workers: int, cores: int | None = None) -> int:
    """Threads per worker: the run's thread budget shared evenly, at least one. The budget
    is ``cores``, else ``$OMP_NUM_THREADS`` (what a SLURM script or the user gave the run),
    else the machine's cores."""
    budget = cores or int(os.environ.get("OMP_NUM_THREADS", "0") or 0) or os.cpu_count() or 1
    return max(1, budget // max(1, workers))


def init_worker(threads: int) -> None:
    """Pool initializer: thread counts for libraries imported later in this process, and
    no orphans: the worker leads a process group with the engines it starts (CP2K under
    custodian), and that group is killed when the worker is told to stop (SIGTERM) or its
    parent dies, even by SIGKILL (Linux ``PR_SET_PDEATHSIG``). Without this a killed run
    left its worker's CP2K running, and the resumed run started a second one in the same
    folder (seen here)."""
    for name in THREAD_VARIABLES:  # the share replaces the run's own setting
        os.environ[name] = str(threads)
    os.setpgrp()
    signal.signal(signal.SIGTERM, _kill_own_group)
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() == 1:  # the parent died before prctl took effect
            _kill_own_group()


def _kill_own_group(*_: object) -> None:
    os.killpg(os.getpgrp(), signal.SIGKILL)


def stop_workers(pool: Any) -> None:
    """Kill every worker of ``pool`` with the engines it started (after an interrupt)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    pool.shutdown(wait=False, cancel_futures=True)


def _memory_store(store_names: list[str]) -> JobStore:
    store = JobStore(MemoryStore(), additional_stores={n: MemoryStore() for n in store_names})
    store.connect()
    return store


def _plain(docs: list[dict]) -> list[dict]:
    return [{k: v for k, v in d.items() if k != "_id"} for d in docs]


def run_job_in_worker(job_json: str, job_dir: str, store_names: list[str]) -> str:
    """Run a resolved job (``Job.as_dict`` as JSON) in ``job_dir``; JSON of what it wrote.

    Returns
    -------
    str
        JSON with ``docs`` (the job store documents), ``blobs`` (additional store name ->
        documents) and ``response`` (``replace``/``addition``/``detour``, each a flow or
        ``None``), or with ``error`` (``"Type: message"``) and ``traceback``.
    """
    job: Job = json.loads(job_json, cls=MontyDecoder)
    store = _memory_store(store_names)
    cwd = Path.cwd()
    try:
        os.chdir(job_dir)
        response = job.run(store=store, job_dir=Path(job_dir))
    except Exception as exc:  # reported to the parent, which records the failure
        return json.dumps({"error": f"{type(exc).__name__}: {exc}",
                           "traceback": traceback.format_exc()})
    finally:
        os.chdir(cwd)
    result: dict[str, Any] = {
        "docs": _plain(list(store.docs_store.query({}))),
        "blobs": {n: _plain(list(s.query({}))) for n, s in store.additional_stores.items()},
        "response": {k: getattr(response, k) for k in ("replace", "addition", "detour")},
    }
    return json.dumps(result, cls=MontyEncoder)


def store_worker_result(store: JobStore, result: dict[str, Any]) -> None:
    """Write a worker's documents into the real store: blobs first, then the job document
    (a job counts as finished only when its document is there)."""
    for name, docs in result["blobs"].items():
        if docs:
            store.additional_stores[name].update(docs, key="blob_uuid")
    if result["docs"]:
        store.docs_store.update(result["docs"], key=["uuid", "index"])
