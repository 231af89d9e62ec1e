"""Multi-objective ranking of a screen: Pareto front, weighted score, table and plot."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ssbflow.io import write_table
from ssbflow.studies.screening.spec import OBJECTIVE_QUANTITIES


def objective_value(doc: dict[str, Any], quantity: str) -> float:
    """The candidate's value of ``quantity`` (NaN when not computed)."""
    value = (doc["metrics"].get(OBJECTIVE_QUANTITIES[quantity]) or {}).get(quantity)
    return float(value) if isinstance(value, int | float) else math.nan


def pareto_rows(documents: list[dict[str, Any]],
                objectives: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per candidate with a value of every objective: values, ``on_front``,
    ``score`` (weighted, 1 = best) and ``score_rank``; front first, then by score."""
    from ssbflow.analysis.pareto import pareto_front, weighted_score

    if not objectives or not documents:
        return []
    quantities = [o["quantity"] for o in objectives]
    directions = [o["direction"] for o in objectives]
    values = np.array([[objective_value(d, q) for q in quantities] for d in documents])
    complete = ~np.isnan(values).any(axis=1)
    if not complete.any():
        return []
    front = pareto_front(values, directions)
    score = np.full(len(documents), math.nan)
    score[complete] = weighted_score(values[complete], directions,
                                     [o["weight"] for o in objectives])
    rows = [{"candidate": d["name"], **dict(zip(quantities, map(float, v), strict=True)),
             "on_front": bool(f), "score": float(s)}
            for d, v, f, s, ok in zip(documents, values, front, score, complete, strict=True)
            if ok]
    rows.sort(key=lambda r: (not r["on_front"], -r["score"]))
    by_score = sorted(rows, key=lambda r: -r["score"])
    for rank, row in enumerate(by_score, start=1):
        row["score_rank"] = rank
    return rows


def _plot(rows: list[dict[str, Any]], objectives: list[dict[str, Any]], path: Path,
          title: str) -> Path:
    from ssbflow.analysis.plots import new_figure, save_png

    fig, axes = new_figure(1, 1, (6.0, 4.5))
    ax = axes[0, 0]
    x_obj, y_obj = (objectives * 2)[:2] if len(objectives) < 2 else objectives[:2]
    x = np.array([r[x_obj["quantity"]] for r in rows])
    y = np.array([r[y_obj["quantity"]] for r in rows])
    on = np.array([r["on_front"] for r in rows])
    ax.scatter(x[~on], y[~on], color="0.6", label="dominated")
    ax.scatter(x[on], y[on], color="tab:red", label="Pareto front")
    for r, xi, yi in zip(rows, x, y, strict=True):
        ax.annotate(r["candidate"], (xi, yi), fontsize=6, xytext=(2, 2),
                    textcoords="offset points")
    ax.set_xlabel(f"{x_obj['quantity']} ({x_obj['direction']})")
    ax.set_ylabel(f"{y_obj['quantity']} ({y_obj['direction']})")
    ax.set_title(title)
    ax.legend(fontsize=7)
    return save_png(fig, path)


def write_pareto(rows: list[dict[str, Any]], objectives: list[dict[str, Any]], out: Path,
                 screen: str) -> list[Path]:
    """``pareto.csv``, ``pareto.md`` and ``pareto.png`` (the first two objectives, front in
    red) in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path, png_path = (out / f"pareto.{ext}" for ext in ("csv", "md", "png"))
    columns = ["candidate", *[o["quantity"] for o in objectives], "on_front", "score",
               "score_rank"]
    table = write_table([{c: r.get(c) for c in columns} for r in rows], csv_path)
    spec = ", ".join(f"{o['quantity']} {o['direction']} (weight {o['weight']:g})"
                     for o in objectives)
    md_path.write_text(f"# {screen}: Pareto front and weighted score\n\nObjectives: {spec}. "
                       "on_front: no candidate is at least as good in every objective and "
                       "better in one; score: weighted mean of min–max normalised objectives "
                       f"(1 = best).\n\n{table}")
    _plot(rows, objectives, png_path, f"{screen}: Pareto front")
    return [csv_path, md_path, png_path]
