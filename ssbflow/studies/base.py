"""The contract every study follows: options, a flow, a report.

A study is a :class:`Study`: a pydantic options model (the same field names serve the CLI
options, the settings stored with a run and its resume), a function that builds the jobflow
``Flow`` from validated options, and a report writer that turns the flow's output (read back
from the store) into the report folder. ``ssbflow run|resume|submit`` work the same way for
every registered study (:mod:`ssbflow.studies.registry`).

Rules for ``make_flow`` (so a flow runs unchanged in one process, as one SLURM job or as
one SLURM job per job through jobflow-remote):

- it runs no engine and needs no executable: CP2K/VASP are looked for when a job runs;
- each job writes only in its own folder (the current directory when it runs); no job
  reads another job's folder: pass data through outputs;
- the final job returns the study's result model (``@job(output_schema=...)``) and puts
  large arrays (profiles, trajectories, structures of every candidate) under ``data=``;
- each NEB, each MD temperature and each screening candidate is its own job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobflow import Flow, Job
from pydantic import BaseModel, ConfigDict, ValidationError

from ssbflow.errors import InputError


class StudyOptions(BaseModel):
    """Base of every study's options: unknown names are refused, values validated.

    ``ssbflow run|submit STUDY`` get one option per field (:mod:`ssbflow.cli.options`):
    the flag is the field name (``n_sites`` -> ``--n-sites``), the help its
    ``description``, the default its default. ``Field(json_schema_extra={"cli": [...]})``
    gives other flag names (e.g. ``["--orientation"]`` for ``orientations``, or
    ``["--temperature", "-T"]``); the first of them is the one messages use. A tuple of
    fixed length takes that many values (``--miller 0 0 1``); a list or ``tuple[X, ...]``
    is given by repeating the flag; a ``bool`` is a ``--x/--no-x`` switch.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def cli_flags(options: type[BaseModel], name: str) -> list[str]:
    """The command-line flags of option ``name`` (the ``cli`` names, else ``--name``)."""
    field_info = options.model_fields.get(name)
    extra = field_info.json_schema_extra if field_info is not None else None
    flags = list(extra.get("cli", [])) if isinstance(extra, dict) else []
    return flags or ["--" + name.replace("_", "-")]


def option_error(err: ValidationError, options: type[BaseModel] | None = None) -> InputError:
    """One-line :class:`InputError` naming the first bad option and what was expected."""
    first = err.errors()[0]
    loc = first.get("loc", ())
    name = str(loc[0]) if loc else ""
    flag = (cli_flags(options, name)[0] if options is not None and name
            else "--" + name.replace("_", "-") if name else "options")
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if message.startswith("--"):  # the validator's message names the option already
        return InputError(message)
    value = first.get("input")
    shown = "" if isinstance(value, dict) or not name else f" {value!r}"
    return InputError(f"{flag}{shown}: {message}")


def _no_lines(doc: dict[str, Any]) -> list[str]:
    return []


def _no_check(options: Any) -> None:
    return None


def _no_headline(results: dict[str, Any]) -> dict[str, float | None]:
    return {}


def _no_rankings(results: dict[str, Any]) -> dict[str, list[str]]:
    return {}


@dataclass(frozen=True)
class Study:
    """One study of the package.

    Attributes
    ----------
    name : the CLI name (``ssbflow run NAME``), also stored with the run.
    help : one line for ``--help``.
    options : the pydantic options model (a :class:`StudyOptions`).
    make_flow : builds the flow from validated options; see the module docstring.
    write_report : ``write_report(output, out_dir, timings_s) -> results`` writes
        ``results.json``, ``report.md``, tables and PNGs into ``out_dir`` from the flow's
        output (as read from the store, ``data`` store items loaded) and returns the
        results document.
    summary_lines : the lines ``ssbflow run`` prints for a results document.
    check : ``check(options)`` raises when something a local run needs is missing here
        (an executable, a model's package); ``ssbflow run`` calls it before writing
        anything. Never called for ``ssbflow submit``: the flow is built on a login node
        and the engines are looked for when each job runs.
    headline : ``headline(results) -> {quantity: value}``, the numbers a model committee
        compares (``--models``; :mod:`ssbflow.studies.committee`), units in the names.
    rankings : ``rankings(results) -> {name: [item, ...]}`` (best first), orders compared
        across the committee's models.
    shares_jobs : ``make_flow(options, shared=dict)`` puts its jobs that do not depend on the
        force field (e.g. a molecule's DFT) into ``shared`` (name -> job) instead of its flow,
        reusing one already there, so a committee runs them once, not once per model.
    """

    name: str
    help: str
    options: type[StudyOptions]
    make_flow: Callable[[Any], Flow | Job]
    write_report: Callable[[Any, Path, dict[str, float]], dict]
    summary_lines: Callable[[dict[str, Any]], list[str]] = field(default=_no_lines)
    check: Callable[[Any], None] = field(default=_no_check)
    headline: Callable[[dict[str, Any]], dict[str, float | None]] = field(default=_no_headline)
    rankings: Callable[[dict[str, Any]], dict[str, list[str]]] = field(default=_no_rankings)
    shares_jobs: bool = False

    def parse_options(self, values: dict[str, Any] | StudyOptions | None = None) -> StudyOptions:
        """Validated options; a bad value raises :class:`InputError` naming the option."""
        if isinstance(values, self.options):
            return values
        try:
            return self.options(**(values or {}))
        except ValidationError as err:
            raise option_error(err, self.options) from None

    def settings(self, options: StudyOptions) -> dict[str, Any]:
        """What defines a run: the study name and its options, JSON-ready."""
        return {"study": self.name, **options.model_dump(mode="json")}
