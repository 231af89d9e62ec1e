"""``ssbflow submit demo``: a two-job flow that checks a cluster profile in a minute.

The jobs live in an importable module (jobflow must find them again inside the SLURM job).
Each job appends one line to a ``log_file`` when it runs, so a user (or a test) can count
how often a job really ran (a resumed run must not run finished jobs again).

``python -m ssbflow.hpc.demo --out DIR --db DIR [--sleep S]`` runs the two-job flow
locally with resume (``ssbflow.runtime.runner``), as ``ssbflow run STUDY`` does for a
study; the single-job SLURM mode submits exactly that kind of command.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from jobflow import Flow, job


def _log(log_file: str | None, text: str) -> None:
    if log_file:
        with open(log_file, "a") as handle:
            handle.write(f"{text} pid={os.getpid()} job={os.environ.get('SLURM_JOB_ID', '-')}\n")


@job
def add(a: float, b: float, log_file: str | None = None) -> float:
    """Return ``a + b`` (records the call in ``log_file``)."""
    _log(log_file, "add")
    return a + b


@job
def slow_square(x: float, seconds: float = 0.0, log_file: str | None = None) -> float:
    """Return ``x**2`` after sleeping ``seconds`` (records start and end)."""
    _log(log_file, "square-start")
    time.sleep(seconds)
    _log(log_file, "square-end")
    return x * x


@job
def square_if_allowed(x: float, allow_file: str, log_file: str | None = None) -> float:
    """Return ``x**2``, or fail while ``allow_file`` does not exist (a fixable failure)."""
    _log(log_file, "checked")
    if not Path(allow_file).exists():
        raise RuntimeError(f"deliberate failure: {allow_file} does not exist yet")
    return x * x


def two_job_flow(
    a: float = 1.0,
    b: float = 2.0,
    seconds: float = 0.0,
    log_file: str | None = None,
    allow_file: str | None = None,
) -> Flow:
    """``add(a, b)`` then the square of its result: ``(a + b)**2``.

    With ``allow_file`` the second job fails until that file exists.
    """
    first = add(a, b, log_file=log_file)
    if allow_file is None:
        second = slow_square(first.output, seconds=seconds, log_file=log_file)
    else:
        second = square_if_allowed(first.output, allow_file=allow_file, log_file=log_file)
    return Flow([first, second], output=second.output, name="demo-two-jobs")


def main(argv: list[str] | None = None) -> int:
    """Run the two-job flow with resume; print a JSON summary."""
    from ssbflow.io import write_json
    from ssbflow.runtime.runner import prepare_run, raise_for_failures, run_flow
    from ssbflow.runtime.store import get_job_store

    parser = argparse.ArgumentParser(prog="python -m ssbflow.hpc.demo")
    parser.add_argument("--out", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--a", type=float, default=1.0)
    parser.add_argument("--b", type=float, default=2.0)
    args = parser.parse_args(argv)
    out = Path(args.out).absolute()
    log_file = str(out / "calls.log")
    settings = {"study": "demo-two-jobs", "a": args.a, "b": args.b, "sleep": args.sleep}
    out.mkdir(parents=True, exist_ok=True)
    flow = prepare_run(out, lambda: two_job_flow(args.a, args.b, args.sleep, log_file),
                       settings)
    store = get_job_store(args.db)
    summary = run_flow(flow, store, out)
    raise_for_failures(summary)
    result = {"ran": summary.ran, "reused": summary.reused, "flow_uuid": flow.uuid}
    write_json(out / "results.json", result)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
