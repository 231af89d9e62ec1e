"""Run a study once per force field and report how much its headline numbers depend on it.

``ssbflow run STUDY --models CHGNet,SevenNet-0`` (or ``--committee``: the offline potentials of
:data:`ssbflow.engines.mlip.COMMITTEE_MODELS`) builds one sub-flow per model from the study's own
``make_flow`` (same options, ``mlip_model`` changed), so each model's jobs are ordinary jobs of
the run (stored, resumable, each in its folder). The report folder holds the first model's
report as usual, every model's own report under ``models/<model>/``, and in ``results.json``
and ``report.md`` the committee: per-model value, mean and spread (max − min) of each headline
quantity (the study's :attr:`~ssbflow.studies.base.Study.headline`) and each ranking compared
across models, flagged where its order changes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jobflow import Flow, Job
from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from ssbflow.studies.base import Study, StudyOptions

#: Folder of each model's own report, inside the run's report folder.
MODELS_DIR = "models"


class ModelOptions(StudyOptions):
    """Options of a study whose geometry and energies come from one universal potential."""

    mlip_model: str = Field("CHGNet", description=(
        "Force field: CHGNet (0.3.0), CHGNet-r2SCAN, SevenNet-0, SevenNet-MF-0 (PBE head), "
        "SevenNet-l3i5, or another atomate2 name."))
    models: tuple[str, ...] = Field((), description=(
        "Run once per force field (comma-separated, e.g. CHGNet,SevenNet-0) and report "
        "per-model values, mean and spread."), json_schema_extra={"cli": ["--models"]})
    committee: bool = Field(False, description=(
        "The offline committee: CHGNet, CHGNet-r2SCAN, SevenNet-0, SevenNet-MF-0 "
        "(same as --models committee)."))

    @field_validator("mlip_model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        from ssbflow.engines.mlip import model_name

        return model_name(value)

    @model_validator(mode="before")
    @classmethod
    def _resolve_models(cls, data: Any) -> Any:
        """``--models A,B`` / ``--committee`` → the model names; one model is ``mlip_model``."""
        if not isinstance(data, dict):
            return data
        from ssbflow.engines.mlip import COMMITTEE_MODELS, parse_models

        data = dict(data)
        models = data.get("models") or ()
        models = parse_models(models) if models else ()
        if data.get("committee") and not models:
            models = COMMITTEE_MODELS
        if len(models) == 1:
            data["mlip_model"], models = models[0], ()
        if models and data.get("engine", "mlip") != "mlip":
            raise ValueError(f"--models: a committee needs --engine mlip, not "
                             f"{data.get('engine')!r}")
        data["models"] = tuple(models)
        return data

    @model_serializer(mode="wrap")
    def _stored(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return without_committee_defaults(handler(self))


def without_committee_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """Stored options without ``models``/``committee`` when no committee was asked for, so a
    one-model run stores the settings it stored before these options existed (resume)."""
    if not data.get("models"):
        data.pop("models", None)
    if not data.get("committee"):
        data.pop("committee", None)
    return data


def committee_models(options: Any) -> tuple[str, ...]:
    """The models of a committee run (empty for a run with one model)."""
    return tuple(getattr(options, "models", ()) or ())


def single_model_options(options: StudyOptions, model: str) -> StudyOptions:
    """``options`` of one committee member: ``mlip_model`` set, no committee."""
    return options.model_copy(update={"mlip_model": model, "models": (), "committee": False})


def study_flow(study: Study, options: StudyOptions) -> Flow | Job:
    """The study's flow; for a committee, one sub-flow per model (output: model → output)."""
    models = committee_models(options)
    if not models:
        return study.make_flow(options)
    flows, outputs = [], {}
    shared: dict[str, Job] = {}
    for model in models:
        member_options = single_model_options(options, model)
        member = (study.make_flow(member_options, shared=shared) if study.shares_jobs
                  else study.make_flow(member_options))
        _tag_jobs(member, f" [{model}]")
        member.name = f"{study.name} [{model}]"
        flows.append(member)
        outputs[model] = member.output
    if shared:  # force-field-independent jobs, once for all models
        flows.insert(0, Flow(list(shared.values()), name=f"{study.name} model-independent"))
    return Flow(flows, output=outputs, name=f"{study.name} committee")


def _tag_jobs(flow: Flow | Job, suffix: str) -> None:
    """Append ``suffix`` to the name of every job of ``flow`` (timings and progress are keyed
    by job name, so each committee member's jobs must be told apart)."""
    if isinstance(flow, Job):
        flow.name = f"{flow.name}{suffix}"
        return
    for item in flow.jobs:
        _tag_jobs(item, suffix)


def committee_lines(results: dict[str, Any], max_rows: int = 8) -> list[str]:
    """What ``ssbflow run`` prints for a committee: each headline's mean and spread, flags."""
    table = results.get("committee") or {}
    if not table:
        return []
    lines = [f"committee ({', '.join(next(iter(table.values()))['models'])}): "
             "per-model values → mean, spread (max − min)"]
    for quantity, row in list(table.items())[:max_rows]:
        if row.get("mean") is None:
            continue
        values = ", ".join("—" if v is None else f"{v:.3f}" for v in row["per_model"].values())
        lines.append(f"  {quantity}: {values}  → mean {row['mean']:.3f}, "
                     f"spread {row['spread']:.3f}")
    if len(table) > max_rows:
        lines.append(f"  ... {len(table) - max_rows} more in results.json / report.md")
    lines += [f"FLAG {flag}" for flag in results.get("committee_flags", [])]
    return lines


def model_dir(model: str) -> str:
    """Folder name of a model's report (``SevenNet-MF-0`` stays as it is)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", model)


def write_study_report(study: Study, options: StudyOptions, output: Any, out: Path,
                       timings_s: dict[str, float]) -> dict[str, Any]:
    """The study's report; for a committee, each model's report plus the committee.

    Returns
    -------
    dict
        The results document (``out/results.json``): the first model's results with
        ``committee`` (quantity → ``{"models", "per_model", "mean", "spread", "n"}``) and
        ``committee_rankings`` (ranking → per-model order and a flag when it changes).
    """
    models = committee_models(options)
    if not models:
        return study.write_report(output, out, timings_s)
    from ssbflow.analysis.committee import committee_markdown, committee_summary
    from ssbflow.io import write_json

    per_model: dict[str, dict[str, Any]] = {}
    for model in models:
        per_model[model] = study.write_report(output[model], out / MODELS_DIR / model_dir(model),
                                              timings_s)
    results = study.write_report(output[models[0]], out, timings_s)
    summary = committee_summary({m: study.headline(r) for m, r in per_model.items()},
                                {m: study.rankings(r) for m, r in per_model.items()})
    results["committee"] = {**summary["quantities"]}
    results["committee_rankings"] = summary["rankings"]
    results["committee_flags"] = summary["flags"]
    results["committee_models"] = {m: f"{MODELS_DIR}/{model_dir(m)}" for m in models}
    write_json(out / "results.json", results)
    report = out / "report.md"
    text = report.read_text() if report.exists() else ""
    section = ["", "## Model committee", "",
               f"The study run once per force field ({', '.join(models)}); the tables above are "
               f"those of {models[0]}, each model's own report is in `{MODELS_DIR}/<model>/`. "
               "The spread (max − min) is how much a number depends on the choice of "
               "universal potential, not an error bar against DFT or experiment.", "",
               committee_markdown(summary)]
    section += [f"**Flag:** {flag}" for flag in summary["flags"]]
    report.write_text(text.rstrip("\n") + "\n" + "\n".join(section) + "\n")
    return results


def barrier_headline(results: dict[str, Any]) -> dict[str, float | None]:
    """NEB studies: barrier and reaction energy (eV) of each band, by system."""
    values: dict[str, float | None] = {}
    for row in results.get("barriers", []):
        system = row.get("system", "band")
        values[f"barrier {system} (eV)"] = row.get("barrier_eV")
        values[f"reaction energy {system} (eV)"] = row.get("reaction_energy_eV")
    return values


def barrier_rankings(results: dict[str, Any]) -> dict[str, list[str]]:
    """NEB studies with several bands: systems, lowest barrier first."""
    rows = [r for r in results.get("barriers", []) if r.get("barrier_eV") is not None]
    if len(rows) < 2:
        return {}
    rows.sort(key=lambda r: float(r["barrier_eV"]))
    return {"barrier (lowest first)": [str(r.get("system")) for r in rows]}
