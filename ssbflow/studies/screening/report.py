"""Report folder of a screen: one ranked table (CSV + Markdown) and bar chart per metric."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ssbflow.io import write_json, write_table
from ssbflow.studies.screening.spec import LARGEST_FIRST, METRICS, ScreeningResult


def ranking_rows(documents: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """Rows of the ranking by ``metric``: largest first for the metrics of
    :data:`~ssbflow.studies.screening.spec.LARGEST_FIRST` (HOMO–LUMO gap), else smallest
    (most negative) first; failed ones last, without a rank."""
    value_key = METRICS[metric][0]
    rows = []
    for doc in documents:
        m = doc["metrics"].get(metric)
        err = doc["errors"].get(metric) or doc["errors"].get("candidate", "")
        if m is None and not err:
            continue
        scalars = {k: v for k, v in (m or {}).items()
                   if isinstance(v, int | float | str) and not isinstance(v, bool)}
        rows.append({
            **scalars,
            "candidate": doc["name"],
            "formula": (m or {}).get("formula", ""),
            METRICS[metric][0]: (m or {}).get(value_key),
            "reaction_energy_eV_per_Li": (m or {}).get("reaction_energy_eV_per_Li"),
            "reaction": (m or {}).get("reaction", ""),
            "products": " + ".join((m or {}).get("products", [])),
            "site": (m or {}).get("site", ""),
            "error": err,
        })
    sign = -1.0 if metric in LARGEST_FIRST else 1.0
    rows.sort(key=lambda r: (r[value_key] is None, sign * r[value_key]
                             if r[value_key] is not None else math.inf))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank if row[value_key] is not None else ""
    return rows


def _columns(metric: str) -> list[str]:
    if metric == "reaction_energy_with_li":
        return ["rank", "candidate", "formula", "reaction_energy_eV_per_atom",
                "reaction_energy_eV_per_Li", "reaction", "products", "error"]
    if metric == "frontier_orbitals":
        return ["rank", "candidate", "formula", "homo_eV", "lumo_eV", "gap_eV", "ip_eV",
                "ea_eV", "oxidation_limit_V", "reduction_limit_V", "method_label", "error"]
    if metric == "binding_mode":
        return ["rank", "candidate", "formula", "anchor_element", "anchor_La_distance_A",
                "placed_anchor", "n_contacts", "contacts", "error"]
    return ["rank", "candidate", "formula", "adsorption_energy_eV", "site", "error"]


def _bar_chart(rows: list[dict[str, Any]], metric: str, path: Path, title: str) -> Path:
    from ssbflow.analysis.plots import new_figure, save_png

    value_key, label = METRICS[metric]
    ok = [r for r in rows if r[value_key] is not None]
    fig, axes = new_figure(1, 1, (max(4.0, 0.7 * len(ok) + 2), 3.6))
    ax = axes[0, 0]
    ax.bar([r["candidate"] for r in ok], [r[value_key] for r in ok], color="tab:blue")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_ylabel(label)
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=45)
    return save_png(fig, path)


def write_ranking(rows: list[dict[str, Any]], metric: str, out: Path, title: str) -> list[Path]:
    """Write ``<metric>.csv``, ``<metric>.md`` and ``<metric>.png`` (bar chart) in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path, png_path = (out / f"{metric}.{ext}" for ext in ("csv", "md", "png"))
    cols = _columns(metric)
    # "|" in an error message would split a Markdown cell
    table_rows = [{c: (str(r.get(c)).replace("|", "/") if c == "error" else r.get(c))
                   for c in cols} for r in rows]
    table = write_table(table_rows, csv_path)
    md_path.write_text(f"# {title}\n\n{table}")
    _bar_chart(rows, metric, png_path, title)
    return [csv_path, md_path, png_path]


def write_report(output: Any, out_dir: str | Path, timings_s: dict[str, float]) -> dict:
    """Tables and charts per metric, ``report.md`` and ``results.json``; the results."""
    result = (output if isinstance(output, ScreeningResult)
              else ScreeningResult.model_validate(output))
    out = Path(out_dir)
    files: list[str] = []
    lines = [f"# Screen {result.screen}", ""]
    for metric, rows in result.rankings.items():
        title = f"{result.screen}: {metric}"
        paths = write_ranking(rows, metric, out, title)
        files += [str(p) for p in paths]
        lines += [paths[1].read_text().replace(f"# {title}", f"## {metric}", 1),
                  f"![{metric}]({paths[2].name})", ""]
    if result.pareto:
        from ssbflow.studies.screening.pareto import write_pareto

        paths = write_pareto(result.pareto, result.objectives, out, result.screen)
        files += [str(p) for p in paths]
        lines += [paths[1].read_text().replace("# ", "## ", 1), f"![pareto]({paths[2].name})", ""]
        if "frontier_orbitals" in result.rankings:
            from ssbflow.analysis.redox import CONVERSION

            lines += [f"Oxidation/reduction limits: {CONVERSION}.", ""]
    errors = {d["name"]: {k: v for k, v in d["errors"].items() if not k.endswith("_traceback")}
              for d in result.candidates if d["errors"]}
    if errors:
        lines += ["## Failed candidates", ""]
        lines += [f"- {name}: {'; '.join(msg.values())}" for name, msg in errors.items()]
        lines.append("")
    report = out / "report.md"
    report.write_text("\n".join(lines))
    files.append(str(report))
    results = {**result.model_dump(mode="json"), "errors": errors, "files": files,
               "timings_s": dict(timings_s)}
    write_json(out / "results.json", results)
    return results


def summary_lines(results: dict[str, Any]) -> list[str]:
    """The ranking of each metric, one candidate a line."""
    lines = []
    for metric, rows in results["rankings"].items():
        lines.append(metric)
        key = METRICS[metric][0]
        for row in rows:
            value = row.get(key)
            shown = (f"{key} {value:.4f}" if isinstance(value, float)
                     else f"error: {row['error']}")
            lines.append(f"  {row['rank'] or '-':>3} {row['candidate']:<16} {shown}")
    if results.get("pareto"):
        lines.append("pareto (front first, then weighted score)")
        for row in results["pareto"]:
            mark = "*" if row["on_front"] else " "
            lines.append(f"  {mark} {row['candidate']:<24} score {row['score']:.3f}")
    lines.append("files: " + ", ".join(results["files"]))
    return lines
