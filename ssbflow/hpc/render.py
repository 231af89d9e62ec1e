"""Rendering SLURM job scripts from the Jinja2 templates in ``ssbflow/hpc/templates/slurm``.

Templates are looked up first in the profile's ``template_dir`` (or ``$SSBFLOW_TEMPLATES``),
then in the shipped directory, so a user file ``slurm/cp2k-cpu.sh.j2`` replaces the shipped
one. Rendering uses ``StrictUndefined``: a template naming a value that is not provided
fails instead of writing an empty string into a job script.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

from ssbflow.errors import InputError
from ssbflow.hpc.profiles import ClusterProfile, check_line, check_path, check_word

TEMPLATES_ENV = "SSBFLOW_TEMPLATES"

#: Shipped job-script templates and what they run.
TEMPLATES: dict[str, str] = {
    "generic": "any command; OpenMP threads = cpus_per_task",
    "vasp-cpu": "VASP on CPUs (MPI, or MPI x OpenMP)",
    "vasp-gpu": "VASP OpenACC build, one MPI rank per GPU",
    "cp2k-cpu": "CP2K psmp on CPUs, MPI x OpenMP",
    "cp2k-gpu": "CP2K CUDA build, one MPI rank per GPU",
    "mlip-gpu": "machine-learned potential on one GPU (one job per GPU)",
    "openmm-gpu": "classical MD (OpenMM CUDA platform) on one GPU (one job per GPU)",
}
GPU_TEMPLATES = frozenset({"vasp-gpu", "cp2k-gpu", "mlip-gpu", "openmm-gpu"})
#: Templates of one process on one GPU.
ONE_GPU_TEMPLATES = frozenset({"mlip-gpu", "openmm-gpu"})


def shipped_template_dir() -> Path:
    """The directory of the templates shipped with ssbflow."""
    return Path(__file__).resolve().parent / "templates"


def template_environment(template_dir: str | Path | None = None) -> jinja2.Environment:
    """A Jinja2 environment: user templates first, shipped ones second, StrictUndefined."""
    search: list[str] = []
    user_dir = template_dir or os.environ.get(TEMPLATES_ENV)
    if user_dir:
        path = Path(user_dir).expanduser()
        if not path.is_dir():
            raise InputError(f"template_dir: {str(path)!r} is not a directory")
        search.append(str(path))
    search.append(str(shipped_template_dir()))
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # shell scripts, not HTML; values are validated instead
    )


def shell_command(argv: Sequence[str]) -> str:
    """Quote ``argv`` into one shell command line (each argument a single line)."""
    for i, arg in enumerate(argv):
        check_line(f"command argument {i}", arg)
    return shlex.join(str(a) for a in argv)


def job_resources(profile: ClusterProfile, template: str) -> dict[str, Any]:
    """Resources of a job with ``template``: the profile's, adapted for GPU templates.

    GPU templates need at least one GPU; ``mlip-gpu`` and ``openmm-gpu`` are one process on
    one GPU (``nodes = tasks = gpus = 1``); VASP's OpenACC build runs exactly one MPI rank per GPU;
    CP2K's CUDA build runs at least one rank per GPU (DBCSR shares the GPUs of a node
    round-robin among its ranks, and more ranks can drive the CPU-side parts).
    """
    res = {
        "nodes": profile.nodes,
        "tasks": profile.tasks,
        "cpus_per_task": profile.cpus_per_task,
        "gpus": profile.gpus,
    }
    if template in ONE_GPU_TEMPLATES:
        res.update(nodes=1, tasks=1, gpus=1)
    elif template == "vasp-gpu":
        res["gpus"] = max(profile.gpus, 1)
        res["tasks"] = res["gpus"]
    elif template in GPU_TEMPLATES:
        res["gpus"] = max(profile.gpus, 1)
        res["tasks"] = max(profile.tasks, res["gpus"])
    return res


def template_context(
    profile: ClusterProfile,
    template: str,
    job_name: str,
    command: str,
    run_dir: str | Path,
    log_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Every value the job-script templates use, checked."""
    return {
        "job_name": check_word("job_name", job_name),
        "account": profile.account,
        "partition": profile.partition,
        "qos": profile.qos,
        "walltime": profile.walltime,
        "memory": profile.memory,
        "gpu_request": profile.gpu_request,
        "modules": profile.modules,
        "pre_commands": profile.pre_commands,
        "bin_dir": profile.bin_dir(),
        "run_dir": check_path("run_dir", run_dir),
        "log_dir": check_path("log_dir", log_dir or run_dir),
        "vasp_cmd": profile.vasp_cmd,
        "cp2k_cmd": profile.cp2k_cmd,
        "command": check_line("command", command),
        **job_resources(profile, template),
    }


def _get_template(env: jinja2.Environment, template: str) -> jinja2.Template:
    check_word("template", template)
    try:
        return env.get_template(f"slurm/{template}.sh.j2")
    except jinja2.TemplateNotFound:
        raise InputError(
            f"--template: unknown template {template!r}; shipped: {', '.join(TEMPLATES)}"
        ) from None


def render_job_script(
    profile: ClusterProfile,
    command: str,
    *,
    template: str = "generic",
    job_name: str = "ssbflow",
    run_dir: str | Path,
    log_dir: str | Path | None = None,
) -> str:
    """Render a SLURM job script.

    Parameters
    ----------
    profile : cluster profile (resources, modules, pre-commands).
    command : the command line the job runs (use :func:`shell_command` to build it).
    template : one of :data:`TEMPLATES` (or a user template of that name).
    job_name : SLURM job name.
    run_dir : working directory of the job.
    log_dir : directory of the SLURM ``.out``/``.err`` files (default ``run_dir``).

    Returns
    -------
    str
        The job script text.

    Raises
    ------
    InputError
        Unknown template, unsafe value, or a template that uses an undefined value.
    """
    env = template_environment(profile.template_dir)
    context = template_context(profile, template, job_name, command, run_dir, log_dir)
    try:
        return _get_template(env, template).render(**context)
    except jinja2.UndefinedError as exc:
        raise InputError(f"template {template!r}: {exc.message}") from None


def environment_lines(profile: ClusterProfile, template: str) -> str:
    """The ``environment`` block of ``template`` alone (exports for the engine).

    jobflow-remote writes its own ``#SBATCH`` header (through qtoolkit); its execution
    configurations take these lines as ``pre_run`` so the engine starts the same way as
    in a job script rendered here.
    """
    env = template_environment(profile.template_dir)
    tpl = _get_template(env, template)
    context = template_context(profile, template, "x", "true", "/tmp")
    block = tpl.blocks.get("environment")
    if block is None:
        return ""
    try:
        text = "".join(block(tpl.new_context(context)))
    except jinja2.UndefinedError as exc:
        raise InputError(f"template {template!r}: {exc.message}") from None
    return text.strip()
