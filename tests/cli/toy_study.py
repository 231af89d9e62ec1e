"""A registered-study stand-in for the CLI tests: three counting jobs, options of every kind.

Importable (jobflow re-imports job functions when a saved flow is loaded again).
``register(monkeypatch)`` adds it to the study registry as ``toy``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jobflow import Flow, job
from pydantic import Field, field_validator

from ssbflow.io import write_json
from ssbflow.studies.base import Study, StudyOptions
from tests.runtime import counting_jobs as cj


class ToyOptions(StudyOptions):
    """Options of every kind the CLI generator supports."""

    log_dir: str = Field(description="Folder of calls.log.")
    a: float = Field(1.0, description="First summand.")
    miller: tuple[int, int, int] = Field((0, 0, 1), description="Three integers.")
    temperatures_K: tuple[float, ...] = Field(
        (300.0,), description="Temperatures (K); repeat.",
        json_schema_extra={"cli": ["--temperature", "-T"]})
    label: int | str | None = Field(None, description="An index or a name.")
    hold: bool = Field(False, description="Hold the middle job until log_dir/hold is gone.")
    extra: dict[str, float] = Field(default_factory=dict, description="JSON mapping.")

    @field_validator("a")
    @classmethod
    def _a(cls, value: float) -> float:
        if value < 0:
            raise ValueError("--a must be >= 0")
        return value


@job
def report(value: float, options: dict) -> dict:
    """The final output."""
    return {"value": value, "options": options}


def make_flow(opts: ToyOptions) -> Flow:
    first = cj.add(opts.log_dir, opts.a, sum(opts.temperatures_K))
    second = (cj.slow_then_double if opts.hold else cj.square_unless_flag)(opts.log_dir,
                                                                         first.output)
    last = report(second.output, opts.model_dump(mode="json"))
    return Flow([first, second, last], output=last.output)


def write_report(output: dict, out: Path, timings_s: dict[str, float]) -> dict:
    doc = {**output, "timings_s": timings_s}
    write_json(Path(out) / "results.json", doc)
    return doc


TOY = Study(name="toy", help="A toy study.", options=ToyOptions, make_flow=make_flow,
            write_report=write_report,
            summary_lines=lambda doc: [f"value: {doc['value']}"])


def register(monkeypatch: Any) -> None:
    """Add ``toy`` to the registry (for this test)."""
    from ssbflow.studies import registry

    monkeypatch.setitem(registry.STUDIES, "toy", "tests.cli.toy_study:TOY")
