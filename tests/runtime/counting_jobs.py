"""Jobs for the runner tests: each call leaves a mark in a folder, so tests can count runs.

They live in an importable module because jobflow re-imports job functions when a saved
flow is loaded again.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from jobflow import Response, job


def _mark(log_dir: str, name: str) -> None:
    with open(Path(log_dir) / "calls.log", "a") as fh:
        fh.write(name + "\n")


@job
def add(log_dir: str, a: float, b: float) -> float:
    """a + b, leaving a mark."""
    _mark(log_dir, "add")
    return a + b


@job
def square_unless_flag(log_dir: str, x: float) -> float:
    """x², failing while the file ``fail`` exists in ``log_dir``."""
    _mark(log_dir, "square")
    if (Path(log_dir) / "fail").exists():
        raise RuntimeError("injected failure")
    return x * x


@job
def slow_then_double(log_dir: str, x: float) -> float:
    """2x, after sleeping while the file ``hold`` exists (so a test can kill us)."""
    _mark(log_dir, "slow")
    Path(log_dir, "started").write_text(str(os.getpid()))
    while (Path(log_dir) / "hold").exists():
        time.sleep(0.1)
    return 2 * x


@job
def meet(log_dir: str, name: str, other: str, timeout_s: float = 120.0) -> dict:
    """Say "started", then wait for ``other`` to start too: ``met`` is True only when both
    jobs ran at the same time (one after the other, the first one times out)."""
    _mark(log_dir, name)
    Path(log_dir, f"started_{name}").touch()
    deadline = time.time() + timeout_s
    while not Path(log_dir, f"started_{other}").exists() and time.time() < deadline:
        time.sleep(0.05)
    return {"name": name, "pid": os.getpid(), "met": Path(log_dir, f"started_{other}").exists(),
            "threads": os.environ.get("OMP_NUM_THREADS"), "cwd": os.getcwd()}


@job(data="values")
def big_output(n: int) -> dict:
    """An output whose ``values`` go to the ``data`` store."""
    return {"values": list(range(n)), "n": n}


@job
def replaced_by_add(log_dir: str, a: float) -> Response:
    """Replaced by ``add(a, 10)``: its output is the replacement's."""
    return Response(replace=add(log_dir, a, 10.0))


@job
def child_sleep(log_dir: str, name: str) -> int:
    """Start a child process (as engines start CP2K) and wait while ``hold`` exists."""
    _mark(log_dir, name)
    proc = subprocess.Popen(["sleep", "300"])
    Path(log_dir, f"{name}.pids").write_text(f"{os.getpid()} {proc.pid}")
    while (Path(log_dir) / "hold").exists():
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    return proc.pid
