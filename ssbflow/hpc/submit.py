"""Single-job submission: one SLURM job runs a whole study, with resume.

The job runs ``ssbflow run STUDY ... --out DIR --db DIR``; the study keeps its flow in
``DIR`` and its finished jobs in the store, so when the SLURM job times out or is cancelled,
submitting the same command again continues where it stopped. Every submission is recorded
in ``DIR/slurm/submissions.json`` (job id, script, command, time).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from ssbflow.errors import InputError, SsbflowError
from ssbflow.hpc import slurm
from ssbflow.hpc.profiles import ClusterProfile, check_path, check_word
from ssbflow.hpc.render import render_job_script, shell_command
from ssbflow.io import write_json

SLURM_SUBDIR = "slurm"
SUBMISSIONS_FILE = "submissions.json"


@dataclass
class Submission:
    """One ``sbatch`` of a single-mode job.

    Attributes
    ----------
    job_id : SLURM job id.
    job_name : SLURM job name.
    profile : cluster profile name.
    template : job-script template name.
    command : the command line the job runs.
    script : path of the job script.
    out_dir : the run directory.
    submitted_at : ISO time (UTC).
    """

    job_id: str
    job_name: str
    profile: str
    template: str
    command: str
    script: str
    out_dir: str
    submitted_at: str


def study_command(study: str, study_args: list[str], out_dir: Path, db: Path | None,
                  mongo: bool = False) -> list[str]:
    """The ``ssbflow run`` command line of a study (arguments as a list)."""
    check_word("STUDY", study)
    argv = ["ssbflow", "run", study, *study_args, "--out", str(out_dir)]
    if db is not None and not mongo:
        argv += ["--db", str(db)]
    return argv


def submissions_path(out_dir: Path) -> Path:
    """Where the submissions of a run directory are recorded."""
    return Path(out_dir) / SLURM_SUBDIR / SUBMISSIONS_FILE


def read_submissions(out_dir: str | Path) -> list[Submission]:
    """The submissions recorded for ``out_dir`` (oldest first; empty if none)."""
    path = submissions_path(Path(out_dir))
    if not path.is_file():
        return []
    return [Submission(**rec) for rec in json.loads(path.read_text())]


def _record(out_dir: Path, sub: Submission) -> None:
    path = submissions_path(out_dir)
    records = [asdict(s) for s in read_submissions(out_dir)] + [asdict(sub)]
    write_json(path, records)


def active_submission(out_dir: str | Path) -> tuple[Submission, str] | None:
    """The latest submission of ``out_dir`` if SLURM still has it pending or running."""
    subs = read_submissions(out_dir)
    if not subs:
        return None
    state = slurm.job_state(subs[-1].job_id)
    if state is not None and state not in slurm.FINISHED_STATES:
        return subs[-1], state
    return None


def submit_command(
    argv: list[str],
    profile: ClusterProfile,
    out_dir: str | Path,
    *,
    template: str = "generic",
    job_name: str = "ssbflow",
    dry_run: bool = False,
) -> Submission:
    """Render a job script running ``argv`` in ``out_dir`` and submit it with sbatch.

    Parameters
    ----------
    argv : the command and its arguments (quoted safely into the script).
    profile : cluster profile.
    out_dir : run directory (created); the script and SLURM logs go to ``out_dir/slurm``.
    template : job-script template.
    job_name : SLURM job name.
    dry_run : write the script but do not submit (``job_id`` is ``""``).

    Raises
    ------
    InputError
        Unsafe value in the profile, job name or paths.
    SsbflowError
        A job of the same run directory is still pending or running, or sbatch failed.
    """
    if profile.host:
        raise InputError(
            f"profile {profile.name!r} is a remote cluster (host {profile.host}): run "
            "`ssbflow submit` on its login node, or use --mode jobflow-remote"
        )
    out = Path(out_dir).expanduser().absolute()
    check_path("--out", out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {str(out)!r} is a file; expected a directory")
    if not dry_run:
        active = active_submission(out)
        if active is not None:
            sub, state = active
            raise SsbflowError(
                f"SLURM job {sub.job_id} of {out} is still {state}; wait for it or "
                f"`scancel {sub.job_id}` before submitting again"
            )
    log_dir = out / SLURM_SUBDIR
    command = shell_command(argv)
    script_text = render_job_script(profile, command, template=template, job_name=job_name,
                                    run_dir=out, log_dir=log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)  # after every value was checked
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    script = log_dir / f"{job_name}-{stamp}.sh"
    script.write_text(script_text)
    job_id = "" if dry_run else slurm.sbatch(script)
    sub = Submission(job_id=job_id, job_name=job_name, profile=profile.name,
                     template=template, command=command, script=str(script),
                     out_dir=str(out), submitted_at=datetime.now(UTC).isoformat())
    if not dry_run:
        _record(out, sub)
    return sub


def wait_for_job(job_id: str, timeout_s: float = 600, poll_s: float = 1.0) -> str | None:
    """Wait until SLURM reports the job finished; return its last known state.

    Raises
    ------
    SsbflowError
        Still pending or running after ``timeout_s`` seconds.
    """
    deadline = time.monotonic() + timeout_s
    state = slurm.job_state(job_id)
    while state is not None and state not in slurm.FINISHED_STATES:
        if time.monotonic() > deadline:
            raise SsbflowError(f"SLURM job {job_id} still {state} after {timeout_s:.0f} s")
        time.sleep(poll_s)
        state = slurm.job_state(job_id)
    return state
