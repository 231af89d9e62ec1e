"""The ranking of a screen's finished candidates while the others still run.

``ssbflow screen FILE --status`` of a screen submitted to a cluster reads the candidate
jobs' documents from the project's job store and ranks those finished so far, with the
same ranking job and report as the finished screen. For a model committee a candidate
counts as finished once every model's candidate job is in the store; the report is then
the committee's (each model's ranking and the spread across models).
"""

from __future__ import annotations

from typing import Any

from jobflow import Flow

from ssbflow.studies.screening.study import candidate_jobs, ranking_job, spec_for_model


def candidate_outputs(flow: Flow, store: Any) -> dict[str | None, dict[str, dict[str, Any]]]:
    """Model (``None`` outside a committee) -> candidate name -> output of its candidate
    job, for the candidate jobs of ``flow`` whose document is in ``store`` (connected)."""
    jobs = candidate_jobs(flow)
    found: dict[str | None, dict[str, dict[str, Any]]] = {}
    for doc in store.query({"uuid": {"$in": list(jobs)}}, properties=["uuid", "output"]):
        if doc.get("output"):
            model, name = jobs[doc["uuid"]]
            found.setdefault(model, {})[name] = doc["output"]
    return found


def partial_output(flow: Flow, options: Any, store: Any) -> Any | None:
    """What the screening report writer takes (through
    :func:`ssbflow.studies.committee.write_study_report`) for the candidates finished so
    far, in the screening file's order: the ranking of one model, or for a committee
    model -> ranking over the candidates finished with every model; ``None`` when no
    candidate is finished (with every model)."""
    from ssbflow.studies.committee import committee_models

    found = candidate_outputs(flow, store)
    models = committee_models(options)
    keys = models or (None,)  # one model: its jobs carry no model tag
    common = [c.name for c in options.spec.candidates
              if all(c.name in found.get(k, {}) for k in keys)]
    if not common:
        return None
    ranked = {k: ranking_job.original(
        [found[k][n] for n in common],
        spec_for_model(options.spec, k or options.mlip_model).model_dump(mode="json"))
        for k in keys}
    return ranked if models else ranked[None]
