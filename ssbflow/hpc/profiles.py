"""Cluster profiles: where and how SLURM jobs run.

Profiles are read from YAML mappings ``name -> fields``: the shipped
``ssbflow/hpc/templates/clusters.yaml`` (with a ``local`` profile for the one-node SLURM of
``scripts/slurm-cluster.sh``), then ``~/.config/ssbflow/clusters.yaml`` (or
``$SSBFLOW_CLUSTERS``), then a file given with ``--profile FILE``; later files replace
profiles of the same name. ``--profile`` takes a profile name or a YAML file (a file with
one profile, or with several and ``--profile FILE:NAME``).

Every value that lands in an ``#SBATCH`` line, a ``module load`` or a command is checked
here against a strict pattern; a value with shell metacharacters, blanks or newlines is
refused with a one-line :class:`~ssbflow.errors.InputError` naming the field.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ssbflow.errors import InputError

USER_CLUSTERS_ENV = "SSBFLOW_CLUSTERS"
DEFAULT_USER_CLUSTERS = Path("~/.config/ssbflow/clusters.yaml")

# One "word" of an #SBATCH option or a module name: no blanks, quotes, $, ;, &, |, <, >,
# backquotes, parentheses, globbing or newlines.
_WORD = re.compile(r"[A-Za-z0-9_.,:=+@%/-]+")
_PATH = re.compile(r"[A-Za-z0-9_.,:=+@%/~-]+")
_WALLTIME = re.compile(r"(\d+-)?\d{1,3}(:\d{2}){0,2}|\d+")
_MEMORY = re.compile(r"\d+(\.\d+)?[KMGT]?B?", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_word(field: str, value: str) -> str:
    """Return ``value`` if it is one safe word for a job script, else raise.

    Parameters
    ----------
    field : name of the field, used in the error message.
    value : the value to check.

    Raises
    ------
    InputError
        ``value`` holds blanks, newlines or shell metacharacters.
    """
    text = str(value)
    if not _WORD.fullmatch(text):
        raise InputError(
            f"{field}: {text!r} is not allowed (letters, digits and _ . , : = + @ % / - only; "
            "no blanks, newlines or shell metacharacters)"
        )
    return text


def check_path(field: str, value: str | Path) -> str:
    """Return ``value`` as text if it is a safe path (no blanks or metacharacters)."""
    text = str(value)
    if not _PATH.fullmatch(text):
        raise InputError(
            f"{field}: {text!r} is not allowed in a job script (a path without blanks, "
            "newlines or shell metacharacters)"
        )
    return text


def check_line(field: str, value: str) -> str:
    """Return ``value`` if it is a single line (pre-commands: shell by design, one per item)."""
    text = str(value)
    if _CONTROL.search(text):
        raise InputError(f"{field}: {text!r} must be one line without control characters")
    return text


class ClusterProfile(BaseModel):
    """Resources and environment of SLURM jobs on one cluster.

    Attributes
    ----------
    name : profile name.
    account, partition, qos : SLURM account, partition and QOS (left out when ``None``).
    walltime : ``D-HH:MM:SS``, ``HH:MM:SS``, ``MM:SS`` or minutes.
    nodes : number of nodes.
    tasks : MPI tasks per node.
    cpus_per_task : CPU cores (OpenMP threads) per task.
    gpus : GPUs per node (0 for CPU jobs).
    gpu_request : ``gres`` (``--gres=gpu:N``) or ``gpus`` (``--gpus-per-node=N``).
    memory : memory per node (``4G``, ``2000M``), left out when ``None``.
    modules : environment modules to load.
    pre_commands : shell commands run before the work (one line each).
    python_bin : directory holding ``ssbflow`` and ``jf`` on the compute nodes.
    work_dir : directory where jobflow-remote runs jobs.
    mongo_uri : MongoDB URI (queue and outputs) for production; never printed unmasked.
    host, user : SSH login for a remote cluster (``None``: this machine).
    template_dir : directory of user templates that replace shipped ones.
    vasp_cmd, cp2k_cmd : the engine executables as started inside a job.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = "local"
    account: str | None = None
    partition: str | None = None
    qos: str | None = None
    walltime: str = "01:00:00"
    nodes: int = Field(1, ge=1)
    tasks: int = Field(1, ge=1)
    cpus_per_task: int = Field(1, ge=1)
    gpus: int = Field(0, ge=0)
    gpu_request: Literal["gres", "gpus"] = "gres"
    memory: str | None = None
    modules: list[str] = Field(default_factory=list)
    pre_commands: list[str] = Field(default_factory=list)
    python_bin: str | None = None
    work_dir: str = "~/ssbflow-work"
    mongo_uri: str | None = None
    host: str | None = None
    user: str | None = None
    template_dir: str | None = None
    vasp_cmd: str = "vasp_std"
    cp2k_cmd: str = "cp2k.psmp"

    @field_validator("name", "account", "partition", "qos", "host", "user", "vasp_cmd",
                     "cp2k_cmd")
    @classmethod
    def _word(cls, value: str | None, info: Any) -> str | None:
        return None if value is None else check_word(info.field_name, value)

    @field_validator("walltime")
    @classmethod
    def _walltime(cls, value: str) -> str:
        value = str(value)
        if not _WALLTIME.fullmatch(value):
            raise InputError(f"walltime: {value!r} is not D-HH:MM:SS, HH:MM:SS or minutes")
        return value

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = str(value)
        if not _MEMORY.fullmatch(value):
            raise InputError(f"memory: {value!r} is not a size like 4G or 2000M")
        return value

    @field_validator("modules")
    @classmethod
    def _modules(cls, value: list[str]) -> list[str]:
        return [check_word("modules", v) for v in value]

    @field_validator("pre_commands")
    @classmethod
    def _pre_commands(cls, value: list[str]) -> list[str]:
        return [check_line("pre_commands", v) for v in value]

    @field_validator("python_bin", "work_dir", "template_dir")
    @classmethod
    def _path(cls, value: str | None, info: Any) -> str | None:
        return None if value is None else check_path(info.field_name, value)

    @property
    def total_tasks(self) -> int:
        """MPI tasks over all nodes."""
        return self.nodes * self.tasks

    def bin_dir(self) -> str | None:
        """Directory of the ``ssbflow``/``jf`` executables inside jobs.

        Default: the directory of the running Python for this machine; ``None`` for a
        remote cluster (its ``pre_commands`` must then activate the environment).
        """
        if self.python_bin or self.host:
            return self.python_bin
        return check_path("python_bin", Path(sys.executable).parent)

    def resolved_work_dir(self) -> str:
        """``work_dir`` with ``~`` expanded for the local machine, as an absolute path."""
        if self.host:
            return self.work_dir
        return str(Path(self.work_dir).expanduser().absolute())

    def resolved_mongo_uri(self) -> str | None:
        """The MongoDB URI: ``$SSBFLOW_MONGO_URI`` first, else the profile's."""
        return os.environ.get("SSBFLOW_MONGO_URI") or self.mongo_uri


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise InputError(f"profile file {str(path)!r} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"profile file {str(path)!r}: expected a mapping of profiles")
    return data


def _shipped_profiles() -> dict[str, Any]:
    path = Path(__file__).resolve().parent / "templates" / "clusters.yaml"
    return yaml.safe_load(path.read_text()) or {}


def _is_single_profile(data: dict[str, Any]) -> bool:
    fields = set(ClusterProfile.model_fields)
    return bool(data) and all(key in fields for key in data)


def user_clusters_file() -> Path:
    """The user's profile file (``$SSBFLOW_CLUSTERS`` or ``~/.config/ssbflow/clusters.yaml``)."""
    return Path(os.environ.get(USER_CLUSTERS_ENV) or DEFAULT_USER_CLUSTERS).expanduser()


def available_profiles() -> dict[str, dict[str, Any]]:
    """Raw profile mappings by name: shipped ones, replaced by the user's file."""
    profiles = dict(_shipped_profiles())
    user_file = user_clusters_file()
    if user_file.is_file():
        profiles.update(_read_yaml(user_file))
    return profiles


def make_profile(name: str, fields: dict[str, Any]) -> ClusterProfile:
    """Validate ``fields`` into a :class:`ClusterProfile` (one-line errors naming the field)."""
    if not isinstance(fields, dict):
        raise InputError(f"profile {name!r}: expected a mapping of fields")
    try:
        return ClusterProfile(**{"name": name, **fields})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "profile"
        # InputErrors raised in validators arrive wrapped; keep their own message.
        cause = err.get("ctx", {}).get("error")
        message = str(cause) if isinstance(cause, InputError) else f"{where}: {err['msg']}"
        raise InputError(f"profile {name!r}: {message}") from None


def load_profile(spec: str = "local", overrides: dict[str, Any] | None = None) -> ClusterProfile:
    """The profile named (or stored in the file) ``spec``, with ``overrides`` applied.

    Parameters
    ----------
    spec : a profile name, a YAML file (one profile, or one of several with ``FILE:NAME``).
    overrides : fields that replace the profile's (e.g. from command-line options);
        ``None`` values are ignored.

    Raises
    ------
    InputError
        Unknown profile, unreadable file or a field that fails validation.
    """
    extra = {k: v for k, v in (overrides or {}).items() if v is not None}
    path_part, _, name_part = spec.partition(":") if ":" in spec else (spec, "", "")
    path = Path(path_part).expanduser()
    if path.suffix in {".yaml", ".yml"} or path.is_file():
        if not path.is_file():
            raise InputError(f"--profile: file {str(path)!r} does not exist")
        data = _read_yaml(path)
        if _is_single_profile(data) and not name_part:
            return make_profile(data.get("name", path.stem), {**data, **extra})
        if not name_part:
            if len(data) != 1:
                raise InputError(
                    f"--profile: {str(path)!r} holds profiles {sorted(data)}; "
                    f"pick one with --profile {path}:NAME"
                )
            name_part = next(iter(data))
        if name_part not in data:
            raise InputError(f"--profile: no profile {name_part!r} in {str(path)!r}")
        return make_profile(name_part, {**data[name_part], **extra})
    profiles = available_profiles()
    if spec not in profiles:
        raise InputError(
            f"--profile: unknown profile {spec!r}; known: {', '.join(sorted(profiles))} "
            f"(add yours to {user_clusters_file()})"
        )
    return make_profile(spec, {**(profiles[spec] or {}), **extra})
