"""Thin calls of the SLURM client commands (``sbatch``, ``squeue``, ``scontrol``, ``scancel``).

For whole flows jobflow-remote drives SLURM through qtoolkit; single-job submission needs
only these four commands, called directly with machine-readable output
(``sbatch --parsable``, ``squeue -o``), which is simpler than building qtoolkit objects.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ssbflow.errors import SsbflowError

#: SLURM states after which a job will not run any more.
FINISHED_STATES = frozenset(
    {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY",
     "PREEMPTED", "BOOT_FAIL", "DEADLINE"}
)


def _run(argv: list[str], timeout_s: float = 30) -> subprocess.CompletedProcess[str]:
    if shutil.which(argv[0]) is None:
        raise SsbflowError(f"{argv[0]} not found: is this a SLURM login node?")
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise SsbflowError(f"{argv[0]} did not answer in {timeout_s:.0f} s") from exc


def sbatch(script: str | Path) -> str:
    """Submit a job script; return the SLURM job id.

    Raises
    ------
    SsbflowError
        sbatch failed (its first error line is in the message).
    """
    proc = _run(["sbatch", "--parsable", str(script)])
    if proc.returncode != 0:
        first = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[0]
        raise SsbflowError(f"sbatch {script} failed: {first}")
    return proc.stdout.strip().split(";")[0]


def job_state(job_id: str) -> str | None:
    """The SLURM state of a job (``PENDING``, ``RUNNING``, ``COMPLETED``, ...).

    ``None`` when the controller no longer knows the job (it finished more than
    ``MinJobAge`` ago and no accounting database keeps it).

    Raises
    ------
    SsbflowError
        The controller does not answer.
    """
    proc = _run(["squeue", "-h", "-j", str(job_id), "-o", "%T"])
    if proc.returncode == 0 and proc.stdout.strip():
        return proc.stdout.strip().splitlines()[0]
    proc = _run(["scontrol", "-o", "show", "job", str(job_id)])
    if proc.returncode == 0:
        for word in proc.stdout.split():
            if word.startswith("JobState="):
                return word.split("=", 1)[1]
    if "Invalid job id" in proc.stderr or "Invalid job id" in proc.stdout:
        return None
    if proc.returncode != 0:
        raise SsbflowError(f"SLURM does not answer: {proc.stderr.strip() or 'scontrol failed'}")
    return None


def scancel(job_id: str) -> None:
    """Cancel a job (no error if it has already finished)."""
    _run(["scancel", str(job_id)])


def slurm_available() -> bool:
    """True when ``sbatch`` exists and the controller answers ``squeue``."""
    if shutil.which("sbatch") is None or shutil.which("squeue") is None:
        return False
    try:
        return _run(["squeue", "-h"], timeout_s=10).returncode == 0
    except SsbflowError:
        return False
