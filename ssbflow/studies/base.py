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
    """Base of every study's options: unknown names are refused, values validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def option_error(err: ValidationError) -> InputError:
    """One-line :class:`InputError` naming the first bad option and what was expected."""
    first = err.errors()[0]
    name = ".".join(str(p) for p in first.get("loc", ())) or "options"
    flag = "--" + name.replace("_", "-")
    value = first.get("input")
    shown = "" if isinstance(value, dict) else f" {value!r}"
    return InputError(f"{flag}{shown}: {first.get('msg', 'invalid value')}")


def _no_lines(doc: dict[str, Any]) -> list[str]:
    return []


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
        output and returns the results document.
    summary_lines : the lines ``ssbflow run`` prints for a results document.
    """

    name: str
    help: str
    options: type[StudyOptions]
    make_flow: Callable[[Any], Flow | Job]
    write_report: Callable[[Any, Path, dict[str, float]], dict]
    summary_lines: Callable[[dict[str, Any]], list[str]] = field(default=_no_lines)

    def parse_options(self, values: dict[str, Any] | StudyOptions | None = None) -> StudyOptions:
        """Validated options; a bad value raises :class:`InputError` naming the option."""
        if isinstance(values, self.options):
            return values
        try:
            return self.options(**(values or {}))
        except ValidationError as err:
            raise option_error(err) from None

    def settings(self, options: StudyOptions) -> dict[str, Any]:
        """What defines a run: the study name and its options, JSON-ready."""
        return {"study": self.name, **options.model_dump(mode="json")}
