"""Every job of a flow as its own SLURM job, through jobflow-remote.

:func:`build_project` turns a cluster profile into a jobflow-remote project: one worker
(``type: local`` on this machine, ``type: remote`` over SSH when the profile names a
``host``; ``scheduler_type: slurm``, qtoolkit underneath), the queue database and the
output store from the user's MongoDB URI (outputs in montydb when there is none), and one
execution configuration per job-script template (modules, and the template's
``environment`` block as ``pre_run``). :func:`write_project` saves it where ``jf`` finds it
(``~/.jfremote/ssbflow-PROFILE.yaml``, or ``$JFREMOTE_PROJECTS_FOLDER``).

Flows are then added with :func:`submit_flow_remote`; jobflow-remote's runner
(``jf runner start``, or :func:`run_until_done` in the foreground) uploads, submits with
sbatch, watches squeue and stores the outputs. :func:`flow_status` and
:func:`resume_remote` read and repair the queue: failed jobs are rerun, jobs stopped by a
remote error (e.g. SLURM down at submission) are retried.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ssbflow.errors import InputError, SsbflowError
from ssbflow.hpc.profiles import ClusterProfile, check_word
from ssbflow.hpc.render import TEMPLATES, environment_lines, job_resources
from ssbflow.runtime.store import (
    DATA_COLLECTION,
    DATABASE_NAME,
    OUTPUTS_COLLECTION,
    mask_uri,
    resolve_db_dir,
)

PROJECT_PREFIX = "ssbflow-"
QUEUE_COLLECTION = "jf_jobs"


def project_name(profile: ClusterProfile) -> str:
    """The jobflow-remote project name of a profile (``ssbflow-NAME``)."""
    return PROJECT_PREFIX + profile.name


def projects_folder() -> Path:
    """Where jobflow-remote looks for project files."""
    from jobflow_remote import SETTINGS

    return Path(SETTINGS.projects_folder).expanduser()


def qtoolkit_resources(profile: ClusterProfile, template: str = "generic") -> dict[str, Any]:
    """The profile's resources in qtoolkit's SLURM names (for the ``#SBATCH`` header)."""
    res = job_resources(profile, template)
    out: dict[str, Any] = {
        "nodes": res["nodes"],
        "ntasks_per_node": res["tasks"],
        "cpus_per_task": res["cpus_per_task"],
        "time": profile.walltime,
    }
    for key in ("partition", "account", "qos"):
        if getattr(profile, key):
            out[key] = getattr(profile, key)
    if profile.memory:
        out["mem"] = profile.memory
    if res["gpus"]:
        if profile.gpu_request == "gpus":
            out["gpus_per_node"] = res["gpus"]
        else:
            out["gres"] = f"gpu:{res['gpus']}"
    return out


def _store_specs(profile: ClusterProfile, db: str | Path | None) -> tuple[dict, dict | None]:
    """(jobstore spec, queue store spec or None) for the profile."""
    uri = profile.resolved_mongo_uri()
    if uri:
        jobstore = {
            "docs_store": {"type": "MongoStore", "uri": uri, "database": DATABASE_NAME,
                           "collection_name": OUTPUTS_COLLECTION},
            "additional_stores": {
                "data": {"type": "GridFSStore", "uri": uri, "database": DATABASE_NAME,
                         "collection_name": DATA_COLLECTION},
            },
        }
        queue = {"type": "MongoStore", "uri": uri, "database": DATABASE_NAME,
                 "collection_name": QUEUE_COLLECTION}
        return jobstore, queue
    path = str(resolve_db_dir(db))
    common = {"database_path": path, "database_name": DATABASE_NAME, "storage": "sqlite"}
    jobstore = {
        "docs_store": {"type": "MontyStore", "collection_name": OUTPUTS_COLLECTION, **common},
        "additional_stores": {
            "data": {"type": "MontyStore", "collection_name": DATA_COLLECTION, **common},
        },
    }
    return jobstore, None


def build_project(
    profile: ClusterProfile,
    *,
    db: str | Path | None = None,
    queue_store: dict | None = None,
    runner: dict | None = None,
) -> dict[str, Any]:
    """The jobflow-remote project (as a dict) for ``profile``.

    Parameters
    ----------
    profile : cluster profile.
    db : montydb folder for the outputs when the profile has no MongoDB URI.
    queue_store : queue store spec replacing the one from the MongoDB URI (tests use
        :class:`ssbflow.hpc.testing.mockqueue.SharedMongomockStore`, in-process).
    runner : jobflow-remote runner options (delays, attempts) replacing the defaults.

    Raises
    ------
    InputError
        No MongoDB URI (profile ``mongo_uri`` or ``$SSBFLOW_MONGO_URI``) and no
        ``queue_store``: jobflow-remote's queue needs MongoDB.
    """
    jobstore, queue = _store_specs(profile, db)
    queue = queue_store or queue
    if queue is None:
        raise InputError(
            f"profile {profile.name!r}: jobflow-remote needs a MongoDB queue database; set "
            "mongo_uri in the profile or $SSBFLOW_MONGO_URI (or use --mode single)"
        )
    worker: dict[str, Any] = {
        "type": "remote" if profile.host else "local",
        "scheduler_type": "slurm",
        "work_dir": profile.resolved_work_dir(),
        "resources": qtoolkit_resources(profile),
        "timeout_execute": 60,
    }
    if profile.host:
        worker["host"] = profile.host
        if profile.user:
            worker["user"] = profile.user
    if profile.pre_commands:
        worker["pre_run"] = "\n".join(profile.pre_commands)
    bin_dir = profile.bin_dir()
    if bin_dir:
        worker["execution_cmd"] = f"{bin_dir}/jf -fe execution run {{}}"
    exec_config = {
        template: {
            "modules": list(profile.modules) or None,
            "pre_run": environment_lines(profile, template) or None,
        }
        for template in TEMPLATES
    }
    project: dict[str, Any] = {
        "name": project_name(profile),
        "workers": {profile.name: worker},
        "queue": {"store": queue},
        "exec_config": exec_config,
        "jobstore": jobstore,
        "metadata": {"written_by": "ssbflow hpc init", "profile": profile.name},
    }
    if runner:
        project["runner"] = dict(runner)
    return project


def write_project(project: dict[str, Any], folder: str | Path | None = None) -> Path:
    """Validate ``project`` with jobflow-remote and write it as YAML (mode 0600).

    Returns
    -------
    Path
        The project file.
    """
    from jobflow_remote.config.base import Project

    try:
        Project.model_validate(project)
    except Exception as exc:  # pydantic's message is multi-line
        first = " ".join(str(exc).split())[:300]
        raise InputError(f"jobflow-remote project {project.get('name')!r}: {first}") from None
    target = Path(folder).expanduser() if folder else projects_folder()
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{project['name']}.yaml"
    tmp = path.with_suffix(".tmp")
    # the file may hold MongoDB credentials: readable by the user only
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        yaml.safe_dump(project, handle, sort_keys=False)
    os.replace(tmp, path)
    return path


def describe_project(project: dict[str, Any]) -> str:
    """One line about a project, with credentials masked."""
    queue = project["queue"]["store"]
    where = mask_uri(queue["uri"]) if "uri" in queue else queue.get("@class", queue.get("type"))
    worker_name, worker = next(iter(project["workers"].items()))
    return (f"project {project['name']}: worker {worker_name} ({worker['type']}, slurm, "
            f"{worker['work_dir']}), queue {where}")


def _controller(project: str):
    from jobflow_remote import ConfigManager
    from jobflow_remote.jobs.jobcontroller import JobController

    try:
        proj = ConfigManager().get_project(project)
    except Exception as exc:
        raise SsbflowError(
            f"jobflow-remote project {project!r} not found in {projects_folder()}: run "
            "`ssbflow hpc init --profile P` first"
        ) from exc
    return JobController.from_project(proj)


def ensure_queue_ready(project: str) -> bool:
    """Initialise an empty queue database (what ``jf admin reset`` does on a new one).

    Only a database with no ``next_id`` counter is touched; an initialised one (holding
    flows) is never reset. Returns True when it was initialised now.
    """
    jc = _controller(project)
    try:
        if jc.auxiliary.find_one({"next_id": {"$exists": True}}) is not None:
            return False
        if jc.count_jobs() or jc.count_flows():
            raise SsbflowError(
                f"queue database of {project!r} holds jobs but no id counter; check it "
                "with `jf admin check` before using it"
            )
        # montydb outputs cannot build jobflow-remote's indexes; it logs that at ERROR
        # level although the store works without them: keep that noise out of the CLI
        jc_logger = logging.getLogger("jobflow_remote.jobs.jobcontroller")
        level = jc_logger.level
        jc_logger.setLevel(logging.CRITICAL)
        try:
            return bool(jc.reset(reset_output=False, max_limit=0))
        finally:
            jc_logger.setLevel(level)
    finally:
        jc.close()


def submit_flow_remote(
    flow: Any,
    profile: ClusterProfile,
    *,
    template: str = "generic",
    project: str | None = None,
) -> list[str]:
    """Add ``flow`` to the jobflow-remote queue; each job becomes one SLURM job.

    Parameters
    ----------
    flow : a jobflow ``Flow`` or ``Job`` (job functions importable on the cluster).
    profile : cluster profile (its worker runs the jobs).
    template : execution configuration (template name) for the jobs.
    project : project name (default ``ssbflow-PROFILE``).

    Returns
    -------
    list of str
        The queue ``db_id`` of each job.
    """
    from jobflow_remote import submit_flow

    check_word("template", template)
    if template not in TEMPLATES:
        raise InputError(f"--template: unknown template {template!r}")
    ensure_queue_ready(project or project_name(profile))
    return submit_flow(
        flow,
        worker=profile.name,
        project=project or project_name(profile),
        exec_config=template,
        resources=qtoolkit_resources(profile, template),
    )


def run_until_done(project: str, max_seconds: float | None = None) -> None:
    """Drive jobflow-remote's runner in this process until no job can advance.

    Stops when every job is completed, failed, in a remote error, or waiting for
    something only the user can fix.
    """
    from jobflow_remote.jobs.runner import Runner

    runner = Runner(project_name=project)
    try:
        runner.run_all_jobs(max_seconds=int(max_seconds) if max_seconds else None)
    finally:
        runner.cleanup()


@dataclass
class JobStatus:
    """State of one job of a flow in the queue."""

    db_id: str
    name: str
    state: str
    slurm_id: str | None = None
    error: str | None = None


@dataclass
class FlowStatus:
    """State of a flow and its jobs."""

    flow_id: str
    name: str
    state: str
    jobs: list[JobStatus] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"flow_id": self.flow_id, "name": self.name, "state": self.state,
                "jobs": [vars(j) for j in self.jobs]}


def _first_line(text: Any) -> str | None:
    if not text:
        return None
    lines = [ln for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else None


def flow_status(project: str, flow_id: str | None = None) -> list[FlowStatus]:
    """States of the flows (all, or the one with uuid ``flow_id``) and of their jobs."""
    jc = _controller(project)
    try:
        flows = jc.get_flows_info(flow_ids=[flow_id] if flow_id else None)
        if flow_id and not flows:
            raise InputError(f"--flow: no flow {flow_id!r} in project {project!r}")
        result = []
        for info in flows:
            status = FlowStatus(info.flow_id, info.name, info.state.value)
            for job in jc.get_jobs_info(flow_ids=[info.flow_id]):
                status.jobs.append(JobStatus(
                    db_id=str(job.db_id), name=job.name, state=job.state.value,
                    slurm_id=job.remote.process_id if getattr(job, "remote", None) else None,
                    error=_first_line(job.error or (job.remote.error if job.remote else None)),
                ))
            result.append(status)
        return result
    finally:
        jc.close()


def flow_output(project: str, flow: Any) -> Any:
    """The output of ``flow`` (a finished flow of ``project``) from the project's job store,
    ``data`` store items loaded."""
    from jobflow_remote import ConfigManager

    from ssbflow.runtime.store import read_output

    store = ConfigManager().get_project(project).get_jobstore()
    store.connect()
    try:
        return read_output(store, flow.output)
    finally:
        store.close()


def resume_remote(flow_id: str | None = None, project: str = PROJECT_PREFIX + "local") -> dict:
    """Resume the flows of ``project`` (or only ``flow_id``) in the jobflow-remote queue.

    Jobs in a remote error (e.g. SLURM did not answer at submission) are retried from the
    step that failed; failed jobs are rerun (finished jobs are kept); paused or stopped
    jobs are resumed. The runner then carries on (``jf runner start`` or
    :func:`run_until_done`).

    Returns
    -------
    dict
        ``{"retried": [...], "rerun": [...], "resumed": [...]}``: queue ids per action.
    """
    from jobflow_remote.jobs.state import JobState

    jc = _controller(project)
    try:
        flows = [flow_id] if flow_id else None
        retried = jc.retry_jobs(flow_ids=flows, states=[JobState.REMOTE_ERROR],
                                raise_on_error=False)
        rerun = jc.rerun_jobs(flow_ids=flows, states=[JobState.FAILED], raise_on_error=False)
        resumed = jc.resume_jobs(
            flow_ids=flows,
            states=[JobState.PAUSED, JobState.STOPPED, JobState.USER_STOPPED],
            raise_on_error=False,
        )
        return {"retried": list(retried), "rerun": list(rerun), "resumed": list(resumed)}
    finally:
        jc.close()
