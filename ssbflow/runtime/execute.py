"""Execute a study's flow in a run folder with the store, a progress bar and resume.

Used by every ``ssbflow run STUDY`` command: a second call with the same ``--out`` takes each
finished job from the store and runs only the rest (see :mod:`ssbflow.runtime.runner`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jobflow import Flow, Job
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ssbflow.errors import InputError
from ssbflow.io import write_json
from ssbflow.runtime.runner import (
    RunSummary,
    count_jobs,
    prepare_run,
    raise_for_failures,
    run_flow,
)
from ssbflow.runtime.store import check_store, describe_store, get_job_store, read_output

TIMINGS_FILE = "timings.json"
#: Environment variable of the default ``--workers``.
WORKERS_ENV = "SSBFLOW_WORKERS"


def default_workers() -> int:
    """``$SSBFLOW_WORKERS`` or 1.

    Raises
    ------
    InputError
        The variable is not a whole number >= 1.
    """
    text = os.environ.get(WORKERS_ENV, "1")
    if not text.strip().isdigit() or int(text) < 1:
        raise InputError(f"${WORKERS_ENV}={text!r}: expected a whole number >= 1")
    return int(text)


def _merge_timings(out: Path, seconds: dict[str, float]) -> dict[str, float]:
    path = out / TIMINGS_FILE
    timings = json.loads(path.read_text()) if path.exists() else {}
    timings.update(seconds)
    write_json(path, timings)
    return timings


def execute_study(
    make_flow: Callable[[], Flow | Job],
    settings: dict[str, Any],
    out: str | Path,
    db: str | Path | None = None,
    quiet: bool = False,
    workers: int | None = None,
) -> tuple[Any, dict[str, float], RunSummary]:
    """Run (or resume) a study and return its final output.

    Parameters
    ----------
    make_flow : builds the flow; called only when ``out`` holds no run yet.
    settings : what defines the run; a folder holding other settings is refused.
    out : run folder (``flow.json``, job folders, report files).
    db : montydb folder (default ``$SSBFLOW_DB`` or ``./ssbflow-db``); ``$SSBFLOW_MONGO_URI``
        selects MongoDB instead.
    quiet : no progress bar.
    workers : jobs side by side (default ``$SSBFLOW_WORKERS`` or 1; see
        :func:`ssbflow.runtime.runner.run_flow`).

    Returns
    -------
    output, timings_s, summary
        The flow's output resolved from the store (``data`` store items loaded), wall time
        per job (s, accumulated over resumes) and what this call did.

    Raises
    ------
    SsbflowError
        A job failed (its message names the job).
    """
    out = Path(out).absolute()
    workers = workers or default_workers()  # a bad $SSBFLOW_WORKERS fails before any write
    check_store(db)  # an unreachable MongoDB fails here, before anything is written
    flow = prepare_run(out, make_flow, settings)
    store = get_job_store(db)
    console = Console(stderr=True, quiet=quiet)
    console.print(
        f"[bold]{settings.get('study', 'flow')}[/] in {out}  (store: {describe_store(store)})"
    )
    total = count_jobs(flow)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=quiet,
    ) as progress:
        task = progress.add_task("starting", total=total)
        summary = RunSummary()

        def started(job: Job) -> None:
            progress.update(task, description=f"running {job.name}")

        def ended(job: Job, reused: bool) -> None:
            progress.advance(task)
            if reused:
                progress.console.print(f"  reused from store: {job.name}")
            elif job.name in summary.seconds:
                # written as each job ends: a run killed later keeps the times of its
                # finished jobs for the report of the resumed run
                _merge_timings(out, {job.name: summary.seconds[job.name]})

        run_flow(flow, store, out, on_job_start=started, on_job_end=ended, summary=summary,
                 workers=workers)
        progress.update(task, description="done" if summary.ok else "failed")
    timings = _merge_timings(out, summary.seconds)
    raise_for_failures(summary)
    store.connect()
    # large arrays and files of the output live in the data store: loaded for the report
    return read_output(store, flow.output), timings, summary
