"""Running flows locally with resume.

jobflow's ``run_locally`` runs every job again, whatever the store holds. Here the flow
definition is saved in the run directory (``flow.json``) the first time, and every later
run of the same directory loads that definition (same job UUIDs) and takes each job whose
output is already in the store from the store; only the rest run. A job killed half-way
(SIGKILL in a DFT step) left no document (jobflow writes a job's document only when the job
has finished), so it simply runs again, in a cleaned folder — unless the job is marked
resumable (``job.metadata["resumable"]`` true, as :func:`ssbflow.methods.md.nvt_md_job` is):
its folder is kept, so it continues from the checkpoint it left there (an MD trajectory
continues from its last saved frame).

Dynamic responses (``replace``, ``addition``, ``detour``) are followed as jobflow does; a
replaced job counts as finished only when its replacement has finished.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobflow import Flow, Job, JobStore
from jobflow.core.flow import get_flow
from monty.json import MontyDecoder, MontyEncoder

from ssbflow.errors import InputError, SsbflowError
from ssbflow.io import write_json

FLOW_FILE = "flow.json"
RUN_FILE = "run.json"
#: ``Job.metadata`` key of jobs that resume from files in their own folder (kept on a rerun).
RESUMABLE = "resumable"


@dataclass
class RunSummary:
    """What one call of :func:`run_flow` did.

    Attributes
    ----------
    ran : names of the jobs that ran in this call.
    reused : names of the jobs whose outputs were taken from the store.
    failed : names of the jobs that raised, with the error message.
    seconds : wall time of each job that ran (s).
    """

    ran: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no job failed."""
        return not self.failed


def prepare_run(run_dir: Path, make_flow: Callable[[], Flow | Job], settings: dict) -> Flow:
    """The flow of the run in ``run_dir``: loaded when it exists, else made and saved.

    Parameters
    ----------
    run_dir : the run directory (created if needed).
    make_flow : called only for a new run.
    settings : what defines the run (study name and options). A directory that holds a run
        with other settings is refused, so a resume never mixes two studies.

    Raises
    ------
    InputError
        ``run_dir`` holds a run made with different settings, or is not a directory.
    """
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise InputError(f"run directory --out {str(run_dir)!r} is a file; expected a directory")
    flow_path, run_path = run_dir / FLOW_FILE, run_dir / RUN_FILE
    wanted = json.loads(json.dumps(settings, cls=MontyEncoder))
    if flow_path.exists() and run_path.exists():
        saved = read_run_json(run_path)
        if saved.get("settings") != wanted:
            changed = sorted(
                k
                for k in set(saved.get("settings", {})) | set(wanted)
                if saved.get("settings", {}).get(k) != wanted.get(k)
            )
            raise InputError(
                f"--out {str(run_dir)!r} holds a run with other settings ({', '.join(changed)}); "
                "use another --out directory or delete that one"
            )
        return get_flow(read_run_json(flow_path, cls=MontyDecoder))
    flow = get_flow(make_flow())  # before the folder is made: a flow that fails leaves none
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"run directory --out {str(run_dir)!r} cannot be created: "
                         f"{exc.strerror}") from None
    write_json(flow_path, flow.as_dict())
    write_json(run_path, {"settings": wanted, "flow_uuid": flow.uuid})
    return flow


def read_run_json(path: Path, cls: type[json.JSONDecoder] | None = None) -> Any:
    """A JSON file of a run folder (``run.json``, ``flow.json``).

    Raises
    ------
    InputError
        The file is not valid JSON (e.g. edited by hand), naming it.
    """
    try:
        return json.loads(Path(path).read_text(), cls=cls)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{str(path)!r} is not a valid ssbflow run file ({exc}); "
                         "use another --out directory or delete that one") from None


def _finished(store: JobStore, job: Job) -> bool:
    """True when the store holds the job's final output (following replacements)."""
    # a replacement shares its uuid with the job it replaces, at a higher index: only its
    # own index or later counts (the replaced job's document is not the replacement's)
    docs = list(store.query({"uuid": job.uuid, "index": {"$gte": job.index}},
                            properties=["index", "output"]))
    if not docs:
        return False
    latest = max(docs, key=lambda d: d["index"])
    return not _holds_reference(latest.get("output"))


def _holds_reference(obj: Any) -> bool:
    """True when a stored output still points at another job (a replaced job's output)."""
    if isinstance(obj, dict):
        if obj.get("@class") == "OutputReference":
            return True
        return any(_holds_reference(v) for v in obj.values())
    if isinstance(obj, list):
        return any(_holds_reference(v) for v in obj)
    return False


@dataclass(eq=False)
class _Node:
    """A job waiting to run, and the dynamic jobs it added (it is done when they are)."""

    job: Job
    parents: set[str]
    owner: _Node | None = None
    ran: bool = False
    open_extras: int = 0


def run_flow(
    flow: Flow | Job,
    store: JobStore,
    run_dir: str | Path,
    on_job_start: Callable[[Job], None] | None = None,
    on_job_end: Callable[[Job, bool], None] | None = None,
    stop_on_error: bool = True,
    summary: RunSummary | None = None,
    workers: int = 1,
) -> RunSummary:
    """Run ``flow`` in ``run_dir``, reusing every job output already in ``store``.

    Each job runs in its own folder ``run_dir/jobs/<name>-<uuid8>-<index>`` (engines write
    their files there). Callbacks report progress.

    Parameters
    ----------
    flow : the flow (use :func:`prepare_run` to get the same flow back on a resume).
    store : the job store; jobs found there are not run again.
    run_dir : directory for the job folders.
    on_job_start, on_job_end : progress callbacks (``on_job_end(job, reused)``).
    stop_on_error : launch nothing new after the first failing job (its children could
        not run anyway); jobs already running finish.
    summary : filled in place as jobs end (callbacks may read it); a new one by default.
    workers : jobs run at once. 1: one after the other in this process, in the flow's
        order. More: independent jobs side by side in worker processes
        (:mod:`ssbflow.runtime.workers`, each with its share of the threads); the store
        is written by this process only.

    Returns
    -------
    RunSummary
    """
    if workers < 1:
        raise InputError(f"--workers must be >= 1, got {workers}")
    run_dir = Path(run_dir).absolute()
    jobs_dir = run_dir / "jobs"
    jobs_dir.mkdir(parents=True, exist_ok=True)
    store.connect()
    summary = RunSummary() if summary is None else summary
    failed_uuids: set[str] = set()
    done_uuids: set[str] = set()
    pending: list[_Node] = [_Node(job, set(parents))
                            for job, parents in get_flow(flow).iterflow()]
    running: dict[Any, tuple[_Node, float]] = {}
    pool = None
    if workers > 1:
        import multiprocessing

        from ssbflow.runtime.workers import init_worker, worker_threads

        # spawn: torch and OpenMP runtimes already loaded here do not survive a fork
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=init_worker,
                                   initargs=(worker_threads(workers),))

    def finish(node: _Node) -> None:
        done_uuids.add(node.job.uuid)
        owner = node.owner
        if owner is not None:
            owner.open_extras -= 1
            if owner.ran and owner.open_extras == 0:
                finish(owner)

    def job_folder(job: Job) -> Path:
        safe_name = re.sub(r"[^A-Za-z0-9._-]+", "_", job.name)  # engines dislike blanks
        job_dir = jobs_dir / f"{safe_name}-{job.uuid[:8]}-{job.index}"
        if job_dir.exists() and not job.metadata.get(RESUMABLE):
            shutil.rmtree(job_dir)  # left by a killed or failed attempt: start clean
        job_dir.mkdir(parents=True, exist_ok=True)  # a resumable job continues in its folder
        return job_dir

    def ended(node: _Node, seconds: float, error: str | None, extras: list[Any]) -> None:
        job = node.job
        if error is not None:
            failed_uuids.add(job.uuid)
            summary.failed[job.name] = error
            return
        summary.seconds[job.name] = round(seconds, 2)
        summary.ran.append(job.name)
        if on_job_end:
            on_job_end(job, False)
        node.ran = True
        new = [_Node(j, set(p), owner=node) for extra in extras if extra is not None
               for j, p in get_flow(extra).iterflow()]
        node.open_extras = len(new)
        pending[:0] = new  # dynamic jobs next, as jobflow runs them
        if not new:
            finish(node)

    def run_here(node: _Node) -> None:
        job_dir = job_folder(node.job)
        cwd = Path.cwd()
        start = time.perf_counter()
        try:
            os.chdir(job_dir)
            response = node.job.run(store=store, job_dir=job_dir)
        except Exception as exc:  # any job error is recorded and reported
            ended(node, 0.0, f"{type(exc).__name__}: {exc}", [])
            return
        finally:
            os.chdir(cwd)
        ended(node, time.perf_counter() - start, None,
              [response.replace, response.detour, response.addition])

    def launch(node: _Node) -> None:
        from ssbflow.runtime.workers import run_job_in_worker

        job = node.job
        try:
            # the worker has no store: its inputs are resolved here, from the real one
            resolved = (job.resolve_args(store=store, inplace=False)
                        if job.config.resolve_references else job)
        except Exception as exc:  # a missing parent output, as job.run would raise it
            ended(node, 0.0, f"{type(exc).__name__}: {exc}", [])
            return
        job_json = json.dumps(resolved.as_dict(), cls=MontyEncoder)
        future = pool.submit(run_job_in_worker, job_json, str(job_folder(job)),
                             list(store.additional_stores))
        running[future] = (node, time.perf_counter())

    def collect(future: Any) -> None:
        from ssbflow.runtime.workers import store_worker_result

        node, start = running.pop(future)
        try:
            result = json.loads(future.result())  # documents stay as the store holds them
        except Exception as exc:  # the worker process died (killed, out of memory)
            ended(node, 0.0, f"{type(exc).__name__}: {exc}", [])
            return
        if "error" in result:
            ended(node, 0.0, result["error"], [])
            return
        store_worker_result(store, result)
        extras = MontyDecoder().process_decoded(result["response"])
        ended(node, time.perf_counter() - start, None,
              [extras["replace"], extras["detour"], extras["addition"]])

    # side by side, the job heading the longest chain of jobs still to come starts first
    # (llto-li: a localised DFT+U run before a delocalised one, as two restarts follow it)
    depth = downstream_depth(flow) if workers > 1 else {}

    def next_ready() -> _Node | None:
        ready = [n for n in pending if n.parents <= done_uuids or n.parents & failed_uuids]
        if not ready:
            return None
        node = max(ready, key=lambda n: depth.get(n.job.uuid, 0) if n.owner is None
                   else len(depth) + 1)  # dynamic jobs first, as jobflow runs them
        pending.remove(node)
        return node

    try:
        while pending or running:
            stopped = stop_on_error and summary.failed
            node = None if stopped or len(running) >= workers else next_ready()
            if node is not None:
                if on_job_start:
                    on_job_start(node.job)
                if _finished(store, node.job):
                    summary.reused.append(node.job.name)
                    if on_job_end:
                        on_job_end(node.job, True)
                    finish(node)
                elif node.parents & failed_uuids:
                    failed_uuids.add(node.job.uuid)
                elif pool is None:
                    run_here(node)
                else:
                    launch(node)
                continue
            if not running:
                if not stopped:  # every job of a flow has its parents in it: a bug
                    raise SsbflowError("jobs left that cannot start: "
                                       + ", ".join(n.job.name for n in pending))
                break  # stopped after a failure
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in finished:
                collect(future)
    except BaseException:  # interrupted (Ctrl-C) or a bug: no job left running behind us
        if pool is not None:
            from ssbflow.runtime.workers import stop_workers

            stop_workers(pool)
        raise
    if pool is not None:
        pool.shutdown(wait=True)
    return summary


def downstream_depth(flow: Flow | Job) -> dict[str, int]:
    """Per job uuid: the number of jobs on the longest chain that starts with it."""
    import networkx as nx

    graph = get_flow(flow).graph
    depth: dict[str, int] = {}
    for uuid in reversed(list(nx.topological_sort(graph))):
        depth[uuid] = 1 + max((depth[v] for v in graph.successors(uuid)), default=0)
    return depth


def count_jobs(flow: Flow | Job) -> int:
    """Number of jobs in a flow, including nested flows."""
    return sum(1 for _ in get_flow(flow).iterflow())


def raise_for_failures(summary: RunSummary) -> None:
    """Raise ``SsbflowError`` naming the failed jobs, if any."""
    if summary.failed:
        name, message = next(iter(summary.failed.items()))
        more = f" (and {len(summary.failed) - 1} more)" if len(summary.failed) > 1 else ""
        raise SsbflowError(f"job {name!r} failed{more}: {message}")
