"""A screen on a cluster: ``ssbflow screen FILE --submit PROFILE`` and ``--status``.

The screen's flow (the one ``ssbflow screen`` runs locally: one job per phase, one for the
slab, one per candidate, one ranking) goes through the jobflow-remote code path of
``ssbflow submit --mode jobflow-remote`` (:func:`ssbflow.hpc.remote.submit_flow_remote`):
each job is its own SLURM job, so the candidates run in parallel once the shared slab or
phases are relaxed. Each candidate's job output is one document in the project's job store.

The run folder (``--out``) keeps ``submission.json`` (flow uuid, project, settings) and the
flow itself (``submitted-flow.json``), both written before the flow is submitted.
Submitting the same screen to the same folder again does not add a new flow (the saved one
is submitted only when the queue lacks it, after a crash during submission): failed jobs
are rerun, jobs stopped by a remote error (a killed SLURM job, SLURM
down) retried, finished candidates kept. ``--status`` reads the queue and the store: per
candidate its state; the ranking of the finished candidates (queried from the store; for a
model committee those finished with every model), final when the flow is complete.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ssbflow.errors import InputError
from ssbflow.hpc import remote
from ssbflow.io import write_json

SUBMISSION_FILE = "submission.json"
FLOW_FILE = "submitted-flow.json"
#: Queue states of a job that a resubmission repairs.
REPAIRABLE = ("FAILED", "REMOTE_ERROR")


def drive(project: str, timeout_s: float | None) -> bool:
    """Run jobflow-remote's runner here until nothing can advance or ``timeout_s`` passed
    (then the SLURM jobs go on; the next call or ``jf runner start`` carries on). True when
    it stopped before the time limit."""
    try:
        remote.run_until_done(project, max_seconds=timeout_s)
    except RuntimeError as exc:  # jobflow-remote's "could not execute ... within the time"
        if "amount of time" not in str(exc):
            raise
        return False
    return True


def _read_submission(out: Path) -> dict[str, Any] | None:
    path = out / SUBMISSION_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"--out {str(out)!r}: {SUBMISSION_FILE} cannot be read: {exc}") from None


def _load_flow(out: Path) -> Any:
    from jobflow.core.flow import get_flow
    from monty.json import MontyDecoder

    try:
        return get_flow(json.loads((out / FLOW_FILE).read_text(), cls=MontyDecoder))
    except (OSError, ValueError) as exc:
        raise InputError(f"--out {str(out)!r}: {FLOW_FILE} cannot be read: {exc}") from None


def _in_queue(project: str, flow_id: str) -> bool:
    try:
        remote.flow_status(project, flow_id)
    except InputError:  # "no flow ... in project"
        return False
    return True


def submit_screen(study: Any, options: Any, profile: Any, out: Path, *, run: bool = False,
                  timeout_s: float | None = None, template: str = "generic") -> dict[str, Any]:
    """Add the screen's flow to the profile's jobflow-remote queue, or repair the one already
    submitted from ``out``; with ``run`` drive the runner here. The collected state
    (:func:`collect_screen`) with ``submitted`` (new flow) or ``repaired`` (queue ids)."""
    from ssbflow.studies.committee import study_flow

    out.mkdir(parents=True, exist_ok=True)
    settings = json.loads(json.dumps(study.settings(options), default=str))
    previous = _read_submission(out)
    project = remote.project_name(profile)
    if previous is not None:
        if previous["settings"] != settings or previous["project"] != project:
            raise InputError(f"--out {str(out)!r} holds another screen or profile; give a new "
                             "--out for a changed screening file")
        flow_id = previous["flow_id"]
        if _in_queue(project, flow_id):
            extra: dict[str, Any] = {"repaired": remote.resume_remote(flow_id, project=project)}
        else:  # the last call stopped between writing the files and submitting
            extra = {"submitted": remote.submit_flow_remote(
                _load_flow(out), profile, template=template, project=project)}
    else:
        flow = study_flow(study, options)
        flow_id = flow.uuid
        write_json(out / FLOW_FILE, flow.as_dict())
        write_json(out / SUBMISSION_FILE, {"flow_id": flow_id, "project": project,
                                           "profile": profile.name, "settings": settings})
        extra = {"submitted": remote.submit_flow_remote(flow, profile, template=template,
                                                        project=project)}
    start = time.monotonic()
    if run and drive(project, timeout_s):
        (status,) = remote.flow_status(project, flow_id)
        if any(j.state in REPAIRABLE for j in status.jobs):  # e.g. a SLURM job killed now
            remote.resume_remote(flow_id, project=project)
            left = None if timeout_s is None else timeout_s - (time.monotonic() - start)
            if left is None or left >= 1:  # the rest of timeout_s, not a second one
                drive(project, left)
    return {**collect_screen(study, options, out), **extra}


def _partial_output(project: str, flow: Any, options: Any) -> Any | None:
    """The ranking of the candidates finished so far, from the project's job store."""
    from jobflow_remote import ConfigManager

    from ssbflow.studies.screening.partial import partial_output

    store = ConfigManager().get_project(project).get_jobstore()
    store.connect()
    try:
        return partial_output(flow, options, store)
    finally:
        store.close()


def collect_screen(study: Any, options: Any, out: Path) -> dict[str, Any]:
    """State of the screen submitted from ``out``: flow and per-candidate queue states, the
    finished candidates' documents from the store, and the report in ``out`` (final when
    the flow completed, else the ranking of the candidates finished so far)."""
    from ssbflow.studies.committee import write_study_report

    submission = _read_submission(out)
    if submission is None:
        raise InputError(f"--out {str(out)!r}: no screen submitted from here "
                         f"({SUBMISSION_FILE} missing); submit with --submit PROFILE")
    project, flow_id = submission["project"], submission["flow_id"]
    flow = _load_flow(out)
    (status,) = remote.flow_status(project, flow_id)
    prefix = "candidate "
    states = {j.name[len(prefix):]: j.state for j in status.jobs if j.name.startswith(prefix)}
    doc: dict[str, Any] = {"flow_id": flow_id, "project": project, "state": status.state,
                           "candidates": states, "slurm_ids": {
                               j.name: j.slurm_id for j in status.jobs}}
    if status.state == "COMPLETED":
        results = write_study_report(study, options, remote.flow_output(project, flow), out, {})
        doc.update(results=results, final=True)
        return doc
    partial = _partial_output(project, flow, options)
    if partial is not None:  # the ranking so far (a committee's: each model's and the spread)
        doc["results"] = write_study_report(study, options, partial, out, {})
    doc["final"] = False
    return doc
