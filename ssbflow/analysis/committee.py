"""Spread of a number across force fields: per-model values, mean, spread; rankings compared.

A "committee" here is the same study run once per universal potential; nothing is averaged
into a better model: the spread (max − min) says how much a headline number depends on the
choice of potential, and a ranking whose order changes between models is flagged.

>>> committee_value({"CHGNet": -2.46, "SevenNet-0": -1.90})["spread"]
0.56
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def committee_value(per_model: Mapping[str, float | None]) -> dict[str, Any]:
    """Per-model values of one quantity with their mean and spread.

    Parameters
    ----------
    per_model
        Model name → value (``None`` where that model gave none, e.g. a failed band).

    Returns
    -------
    dict
        ``{"models", "per_model", "mean", "spread", "n"}``: mean and spread (max − min) over
        the models with a value (``None`` when none has one; spread 0 for one value).
    """
    values = {m: (None if v is None else float(v)) for m, v in per_model.items()}
    finite = np.array([v for v in values.values() if v is not None and np.isfinite(v)])
    return {
        "models": list(values),
        "per_model": values,
        "mean": round(float(finite.mean()), 10) if finite.size else None,
        "spread": round(float(np.ptp(finite)), 10) if finite.size else None,
        "n": int(finite.size),
    }


def ranking_agreement(per_model: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Compare one ranking (best first) across models.

    Returns
    -------
    dict
        ``{"per_model": {model: [...]}, "same_order": bool, "same_first": bool,
        "flag": str | None}``; ``flag`` names the models whose order differs from the first
        model's (``None`` when all agree).
    """
    orders = {m: [str(x) for x in order] for m, order in per_model.items()}
    if not orders:
        return {"per_model": {}, "same_order": True, "same_first": True, "flag": None}
    reference_model, reference = next(iter(orders.items()))
    differ = [m for m, order in orders.items() if order != reference]
    firsts = {m: (order[0] if order else None) for m, order in orders.items()}
    same_first = len(set(firsts.values())) <= 1
    flag = None
    if differ:
        flag = (f"ranking changes between models: {', '.join(differ)} differ from "
                f"{reference_model}" + ("" if same_first else
                                        " (first place: " + ", ".join(
                                            f"{m} {f}" for m, f in firsts.items()) + ")"))
    return {"per_model": orders, "same_order": not differ, "same_first": same_first,
            "flag": flag}


def committee_summary(
    headlines: Mapping[str, Mapping[str, float | None]],
    rankings: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
) -> dict[str, Any]:
    """Committee document of a study run once per model.

    Parameters
    ----------
    headlines
        Model → {quantity → value}.
    rankings
        Model → {ranking name → names, best first}.

    Returns
    -------
    dict
        ``{"models": [...], "quantities": {quantity: committee_value}, "rankings":
        {name: ranking_agreement}, "flags": [...]}``.
    """
    models = list(headlines)
    quantities: list[str] = []
    for values in headlines.values():
        quantities += [q for q in values if q not in quantities]
    table = {q: committee_value({m: headlines[m].get(q) for m in models}) for q in quantities}
    ranked: dict[str, Any] = {}
    names: list[str] = []
    for per in (rankings or {}).values():
        names += [r for r in per if r not in names]
    for name in names:
        ranked[name] = ranking_agreement({m: (rankings or {})[m].get(name, [])
                                          for m in models if m in (rankings or {})})
    flags = [f"{name}: {r['flag']}" for name, r in ranked.items() if r["flag"]]
    return {"models": models, "quantities": table, "rankings": ranked, "flags": flags}


def committee_markdown(summary: Mapping[str, Any], digits: int = 3) -> str:
    """The committee document as Markdown: one row per quantity, one column per model."""
    models = list(summary.get("models", []))
    lines = ["| quantity | " + " | ".join(models) + " | mean | spread (max − min) |",
             "|---|" + "---|" * (len(models) + 2)]

    def fmt(value: float | None) -> str:
        return "—" if value is None else f"{value:.{digits}f}"

    for quantity, row in summary.get("quantities", {}).items():
        cells = [fmt(row["per_model"].get(m)) for m in models]
        lines.append(f"| {quantity} | " + " | ".join(cells)
                     + f" | {fmt(row['mean'])} | {fmt(row['spread'])} |")
    for name, ranking in summary.get("rankings", {}).items():
        lines.append("")
        lines.append(f"Ranking `{name}` "
                     + ("(same order for every model)" if ranking["same_order"]
                        else "**changes between models**") + ":")
        lines += [f"- {m}: {' > '.join(order) if order else '—'}"
                  for m, order in ranking["per_model"].items()]
    return "\n".join(lines) + "\n"
