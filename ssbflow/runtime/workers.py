"""Running one job in a worker process, for :func:`ssbflow.runtime.runner.run_flow` with
``workers`` > 1.

The parent resolves the job's inputs from the real store and sends the resolved job as JSON;
the worker runs it in its folder against a store in memory with the same additional stores
(``data``) and sends back the documents the job wrote and its dynamic response. The parent
alone writes to the real store, so a montydb folder never has two writers, and a worker
killed half-way leaves nothing in it (as a killed sequential job leaves nothing).

Each worker gets ``cores // workers`` threads (OpenMP, torch, CP2K) unless the environment
sets them: two one-thread CP2K jobs side by side do more per second than one two-thread
job (``ssbflow run llto-li``: measured in the README).
"""

from __future__ import annotations

import json
import os
import traceback
from pathlib import Path
from typing import Any

from jobflow import Job, JobStore
from maggma.stores import MemoryStore
from monty.json import MontyDecoder, MontyEncoder

#: Thread settings a worker fills in when the environment leaves them unset.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "SSBFLOW_CP2K_THREADS", "MKL_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS")


def worker_threads(workers: int, cores: int | None = None) -> int:
    """Threads per worker: the cores shared evenly, at least one."""
    return max(1, (cores or os.cpu_count() or 1) // max(1, workers))


def init_worker(threads: int) -> None:
    """Pool initializer: thread counts for libraries imported later in this process."""
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(threads))


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
