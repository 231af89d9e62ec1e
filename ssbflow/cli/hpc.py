"""``ssbflow submit``, ``status``, ``results`` and ``hpc init|resume|script``: SLURM execution.

``--mode single`` submits one SLURM job that runs ``ssbflow run STUDY ... --out DIR``
(resumable: submitting again continues from the store). ``--mode jobflow-remote`` makes
every job of the study's flow its own SLURM job through jobflow-remote (project written
by ``ssbflow hpc init``). Any registered study (:mod:`ssbflow.studies.registry`) goes both
ways; its options are parsed as ``ssbflow run STUDY`` parses them (:mod:`ssbflow.cli.options`;
this module never imports the ``ssbflow.cli`` package's app). ``ssbflow resume DIR`` (local
runs) belongs to the studies module; flows in the jobflow-remote queue are resumed with
``ssbflow hpc resume``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ssbflow.cli._groups import CliGroups
from ssbflow.errors import InputError

#: ``demo`` is a two-job flow (:mod:`ssbflow.hpc.demo`): a smoke test of a cluster profile
#: in a minute. Every registered study (:mod:`ssbflow.studies.registry`) can be submitted
#: in both modes.
DEMO = "demo"
MODES = ("single", "jobflow-remote")

ProfileOpt = Annotated[
    str,
    typer.Option("--profile", "-p",
                 help="Cluster profile name (clusters.yaml) or YAML file (FILE or FILE:NAME)."),
]


def _emit(doc: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(doc, default=str))
    else:
        for line in lines:
            typer.echo(line)


def known_studies() -> list[str]:
    """The registered studies and ``demo``."""
    from ssbflow.studies.registry import study_names

    return [*study_names(), DEMO]


def _study(name: str) -> Any:
    """The registered study ``name`` (``None`` for the demo)."""
    from ssbflow.studies.registry import get_study

    studies = known_studies()
    if name not in studies:
        raise InputError(f"STUDY: unknown study {name!r}; expected one of {', '.join(studies)}")
    return None if name == DEMO else get_study(name)


def _study_options(study: Any, extra: list[str]) -> Any:
    """The study's validated options from the words after STUDY (as `ssbflow run` reads
    them): a bad option is refused at submission, not inside the SLURM job."""
    from ssbflow.cli.options import parse_study_args

    return study.parse_options(parse_study_args(study, extra))


def _study_argv(study: str, extra: list[str], out: Path, db: Path | None) -> list[str]:
    from ssbflow.hpc.submit import study_command
    from ssbflow.runtime.store import MONGO_ENV, resolve_db_dir

    found = _study(study)
    if found is None:
        argv = [sys.executable, "-m", "ssbflow.hpc.demo", *extra, "--out", str(out)]
        return [*argv, "--db", str(resolve_db_dir(db))]
    _study_options(found, extra)
    mongo = bool(os.environ.get(MONGO_ENV))
    return study_command(study, extra, out, None if mongo else resolve_db_dir(db), mongo)


def _demo_flow(extra: list[str], out: Path) -> Any:
    import argparse

    from ssbflow.hpc.demo import two_job_flow

    parser = argparse.ArgumentParser(prog="ssbflow submit demo", exit_on_error=False)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--a", type=float, default=1.0)
    parser.add_argument("--b", type=float, default=2.0)
    parser.add_argument("--allow-file", default=None)
    try:
        args = parser.parse_args(extra)
    except (argparse.ArgumentError, SystemExit) as exc:
        raise InputError(f"demo options: {exc}") from None
    out.mkdir(parents=True, exist_ok=True)
    return two_job_flow(args.a, args.b, args.sleep, str(out / "calls.log"), args.allow_file)


def _study_flow(study: str, extra: list[str], out: Path) -> tuple[Any, Any]:
    """The study and its jobflow ``Flow``, options parsed as ``ssbflow run STUDY`` parses them.

    The flow is built here (a login node): no engine is run or looked for.
    """
    found = _study(study)
    if found is None:
        return None, _demo_flow(extra, out)
    from ssbflow.studies.committee import study_flow

    return found, study_flow(found, _study_options(found, extra))


def submit_command(
    ctx: typer.Context,
    study: Annotated[
        str, typer.Argument(help="A study of `ssbflow run` (e.g. sn-llzo), or demo.")
    ],
    profile: ProfileOpt = "local",
    mode: Annotated[str, typer.Option(help="single or jobflow-remote.")] = "single",
    out: Annotated[Path, typer.Option(
        help="Run and report folder (single mode; jobflow-remote mode with --run: the "
             "report folder).")] = Path("ssbflow-runs/submitted"),
    db: Annotated[
        Path | None,
        typer.Option(help="montydb store folder (default $SSBFLOW_DB or ./ssbflow-db)."),
    ] = None,
    template: Annotated[
        str, typer.Option(help="Job-script template (see `ssbflow hpc script --list`).")
    ] = "generic",
    job_name: Annotated[str, typer.Option(help="SLURM job name.")] = "ssbflow",
    dry_run: Annotated[bool, typer.Option(help="Write the job script, do not submit.")] = False,
    wait: Annotated[
        bool, typer.Option(help="Wait until the job (single) or the flow (--run) ends.")
    ] = False,
    run: Annotated[
        bool,
        typer.Option(help="jobflow-remote mode: drive the runner here until the flow ends "
                     "(instead of `jf runner start`)."),
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait at most.")] = 3600.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Submit a study to SLURM (extra options after STUDY go to the study).

    --mode single: one SLURM job runs `ssbflow run STUDY ... --out DIR` (submit again to
    resume). --mode jobflow-remote: every job of the study's flow is its own SLURM job; with
    --run the flow is driven here and, when it completes, the report is written to --out.
    """
    from ssbflow.hpc.profiles import load_profile

    if mode not in MODES:
        raise InputError(f"--mode: {mode!r} is not one of {', '.join(MODES)}")
    prof = load_profile(profile)
    extra = list(ctx.args)
    if mode == "single":
        from ssbflow.hpc.submit import submit_command as submit_single
        from ssbflow.hpc.submit import wait_for_job

        out_abs = out.expanduser().absolute()
        argv = _study_argv(study, extra, out_abs, db)
        sub = submit_single(argv, prof, out_abs, template=template, job_name=job_name,
                            dry_run=dry_run)
        state = None
        if wait and not dry_run:
            state = wait_for_job(sub.job_id, timeout_s=timeout)
        doc = {"mode": mode, "job_id": sub.job_id, "script": sub.script,
               "out": sub.out_dir, "command": sub.command, "state": state}
        lines = [f"script: {sub.script}"]
        if not dry_run:
            lines.append(f"submitted SLURM job {sub.job_id} ({prof.name}): {sub.command}")
        if state:
            lines.append(f"SLURM job {sub.job_id}: {state}")
        _emit(doc, as_json, lines)
        return
    from ssbflow.hpc import remote

    out_abs = out.expanduser().absolute()
    found, flow = _study_flow(study, extra, out_abs)
    project = remote.project_name(prof)
    ids = remote.submit_flow_remote(flow, prof, template=template, project=project)
    flow_id = flow.uuid
    if run:
        remote.run_until_done(project, max_seconds=timeout)
    status = remote.flow_status(project, flow_id)[0]
    doc = {"mode": mode, "flow_id": flow_id, "project": project, "db_ids": ids,
           "state": status.state}
    lines = [f"flow {flow_id} ({len(ids)} jobs) added to {project}: {status.state}"]
    if not run:
        lines.append(f"start the runner with `jf -p {project} runner start` (or use --run)")
    elif found is not None and status.state == "COMPLETED":
        # the report, from the store: nothing is read from the jobs' folders
        from ssbflow.studies.committee import write_study_report

        results = write_study_report(found, _study_options(found, extra),
                                     remote.flow_output(project, flow), out_abs, {})
        doc["report"] = str(out_abs / "report.md")
        doc["results"] = results
        lines += [*found.summary_lines(results), f"report folder: {out_abs}"]
    _emit(doc, as_json, lines)


def hpc_init_command(
    profile: ProfileOpt = "local",
    db: Annotated[
        Path | None, typer.Option(help="montydb folder for outputs when there is no MongoDB URI.")
    ] = None,
    folder: Annotated[
        Path | None,
        typer.Option(help="Projects folder (default $JFREMOTE_PROJECTS_FOLDER or ~/.jfremote)."),
    ] = None,
) -> None:
    """Write the jobflow-remote project of a profile (queue/outputs from the MongoDB URI)."""
    from ssbflow.hpc import remote
    from ssbflow.hpc.profiles import load_profile

    prof = load_profile(profile)
    project = remote.build_project(prof, db=db)
    path = remote.write_project(project, folder)
    typer.echo(f"wrote {path}")
    typer.echo(remote.describe_project(project))
    typer.echo(f"check it with: jf -p {project['name']} project check --worker {prof.name}")


def hpc_resume_command(
    flow: Annotated[str | None, typer.Option(help="Flow uuid (default: every flow).")] = None,
    profile: ProfileOpt = "local",
    run: Annotated[bool, typer.Option(help="Drive the runner here until the flow ends.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to run at most.")] = 3600.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Resume flows in the jobflow-remote queue: retry remote errors, rerun failed jobs."""
    from ssbflow.hpc import remote
    from ssbflow.hpc.profiles import load_profile

    project = remote.project_name(load_profile(profile))
    actions = remote.resume_remote(flow, project=project)
    if run:
        remote.run_until_done(project, max_seconds=timeout)
    states = {s.flow_id: s.state for s in remote.flow_status(project, flow)}
    doc = {**actions, "flows": states}
    _emit(doc, as_json, [
        f"retried {len(actions['retried'])}, rerun {len(actions['rerun'])}, "
        f"resumed {len(actions['resumed'])} jobs",
        *(f"flow {fid}: {state}" for fid, state in states.items()),
    ])


def hpc_script_command(
    template: Annotated[str, typer.Option(help="Template name.")] = "generic",
    profile: ProfileOpt = "local",
    list_: Annotated[bool, typer.Option("--list", help="List the templates.")] = False,
    command: Annotated[str, typer.Option(help="Command the job runs.")] = "hostname",
    run_dir: Annotated[Path, typer.Option(help="Working directory of the job.")] = Path("."),
) -> None:
    """Print a rendered job script (check a profile and a template before submitting)."""
    from ssbflow.hpc.profiles import load_profile
    from ssbflow.hpc.render import TEMPLATES, render_job_script

    if list_:
        for name, summary in TEMPLATES.items():
            typer.echo(f"{name:10s} {summary}")
        return
    prof = load_profile(profile)
    typer.echo(render_job_script(prof, command, template=template,
                                 run_dir=run_dir.expanduser().absolute()), nl=False)


def status_command(
    flow: Annotated[str | None, typer.Option(help="Flow uuid (jobflow-remote mode).")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Run folder of a single-mode submission.")
    ] = None,
    profile: ProfileOpt = "local",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Jobs and their states: SLURM jobs of a run folder, or flows in the jobflow-remote queue."""
    if out is not None:
        from ssbflow.hpc import slurm
        from ssbflow.hpc.submit import read_submissions

        subs = read_submissions(out)
        if not subs:
            raise InputError(f"--out {str(out)!r} holds no SLURM submission")
        rows = []
        for sub in subs:
            state = slurm.job_state(sub.job_id) if slurm.slurm_available() else None
            rows.append({"job_id": sub.job_id, "submitted_at": sub.submitted_at,
                         "state": state or "UNKNOWN (finished or purged)"})
        _emit({"out": str(out), "submissions": rows}, as_json,
              [f"SLURM job {r['job_id']} ({r['submitted_at']}): {r['state']}" for r in rows])
        return
    from ssbflow.hpc import remote
    from ssbflow.hpc.profiles import load_profile

    project = remote.project_name(load_profile(profile))
    flows = remote.flow_status(project, flow)
    lines = []
    for st in flows:
        lines.append(f"flow {st.flow_id} {st.name}: {st.state}")
        for job in st.jobs:
            extra = f" slurm {job.slurm_id}" if job.slurm_id else ""
            err = f" -- {job.error}" if job.error else ""
            lines.append(f"  {job.db_id:>5} {job.name:24s} {job.state}{extra}{err}")
    _emit({"project": project, "flows": [f.as_dict() for f in flows]}, as_json,
          lines or [f"no flows in {project}"])


def _summary(value: Any) -> Any:
    """A short printable form of a job output."""
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    if isinstance(value, dict):
        if "@class" in value:
            energy = (value.get("output") or {}).get("energy") \
                if isinstance(value.get("output"), dict) else None
            if isinstance(energy, int | float):
                return f"<{value['@class']} energy {energy:.4f} eV>"
            return f"<{value['@class']}>"
        return {k: _summary(v) for k, v in list(value.items())[:8]}
    if isinstance(value, list):
        return value if len(value) <= 6 and all(isinstance(v, int | float) for v in value) \
            else f"<list of {len(value)}>"
    return str(value)[:80]


def flow_results(flow_id: str, db: Path | None = None, mongo_uri: str | None = None) -> dict:
    """Outputs of every job of flow ``flow_id`` found in the store."""
    from ssbflow.runtime.store import get_job_store

    store = get_job_store(db, mongo_uri)
    store.connect()
    try:
        docs = list(store.query({"hosts": flow_id},
                                properties=["name", "uuid", "index", "output", "completed_at"]))
    finally:
        store.close()
    if not docs:
        raise InputError(f"--flow: no job output of flow {flow_id!r} in the store")
    jobs = [{"name": d["name"], "uuid": d["uuid"], "index": d["index"],
             "completed_at": d.get("completed_at"), "output": _summary(d.get("output"))}
            for d in sorted(docs, key=lambda d: str(d.get("completed_at")))]
    return {"flow_id": flow_id, "jobs": jobs}


def results_command(
    run_dir: Annotated[Path | None, typer.Argument(
        help="Run folder of an earlier `ssbflow run` or `submit` (same as --out).")] = None,
    flow: Annotated[str | None, typer.Option(help="Flow uuid: outputs of its jobs.")] = None,
    out: Annotated[Path | None, typer.Option(help="Run folder: its results.json.")] = None,
    db: Annotated[
        Path | None, typer.Option(help="montydb store folder (with --flow).")
    ] = None,
    profile: Annotated[
        str | None, typer.Option(help="Profile whose mongo_uri holds the outputs (with --flow).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Results of a run or submitted study (RUN_DIR or --out DIR) or of a flow's jobs
    (--flow ID)."""
    if run_dir is not None and out is not None and run_dir != out:
        raise InputError(f"RUN_DIR {str(run_dir)!r} and --out {str(out)!r} differ; give one")
    out = out if out is not None else run_dir
    if (flow is None) == (out is None):
        raise InputError("give exactly one of RUN_DIR (or --out DIR) or --flow ID")
    if out is not None:
        path = out / "results.json"
        if not path.is_file():
            from ssbflow.hpc.submit import read_submissions

            subs = read_submissions(out)
            hint = f" (SLURM job {subs[-1].job_id}; see `ssbflow status --out {out}`)" \
                if subs else ""
            raise InputError(f"--out {str(out)!r} holds no results.json yet{hint}")
        doc = json.loads(path.read_text())
        lines = [f"{k}: {v}" for k, v in doc.items()
                 if isinstance(v, int | float | str | bool) or v is None]
        _emit(doc, as_json, lines)
        return
    mongo_uri = None
    if profile:
        from ssbflow.hpc.profiles import load_profile

        mongo_uri = load_profile(profile).resolved_mongo_uri()
    doc = flow_results(str(flow), db, mongo_uri)
    _emit(doc, as_json, [f"flow {doc['flow_id']}"] + [
        f"  {j['name']:24s} {json.dumps(j['output'], default=str)}" for j in doc["jobs"]])


def register(groups: CliGroups) -> None:
    """Attach ``submit``, ``status``, ``results`` and the ``hpc`` group."""
    groups.root.command(
        "submit",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(submit_command)
    groups.root.command("status")(status_command)
    groups.root.command("results")(results_command)
    hpc = typer.Typer(help="SLURM set-up: jobflow-remote project, job scripts, resume.",
                      no_args_is_help=True, rich_markup_mode=None,
                      context_settings={"help_option_names": ["-h", "--help"]})
    hpc.command("init")(hpc_init_command)
    hpc.command("resume")(hpc_resume_command)
    hpc.command("script")(hpc_script_command)
    groups.root.add_typer(hpc, name="hpc")
