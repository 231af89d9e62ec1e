"""Report folder of the inn-li study, written from the flow's output (read from the store).

Files: ``results.json``, ``report.md``, ``li_reactivity.{csv,md,png}`` (ranking, bar chart of
eV/atom and eV/Li) and, with the reaction-cell MD, ``inn_li_reaction_cell.{json,png}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ssbflow.io import write_json, write_table
from ssbflow.studies.comparison import add_source_comparison
from ssbflow.studies.dft_check import reaction_lines
from ssbflow.studies.inn_li.comparison import source_comparison
from ssbflow.studies.inn_li.schema import InnLiResult

#: Columns of the ranked table, in order.
COLUMNS = ("rank", "candidate", "reaction_energy_eV_per_atom", "reaction_energy_eV_per_Li",
           "mixing_ratio", "reaction", "products", "note")

TITLE = "Reactivity with Li metal"


def _table_row(row: dict[str, Any]) -> dict[str, Any]:
    out = {c: row.get(c) for c in COLUMNS}
    ratio = row.get("mixing_ratio") or {}
    out["mixing_ratio"] = " ".join(f"{k}:{x:.3f}" for k, x in ratio.items())
    return out


def _bar_chart(rows: list[dict[str, Any]], path: Path) -> Path:
    from ssbflow.analysis.plots import new_figure, save_png

    fig, axes = new_figure(1, 2, (10, 3.8))
    names = [r["candidate"] for r in rows]
    axes[0, 0].bar(names, [r["reaction_energy_eV_per_atom"] for r in rows], color="tab:blue")
    axes[0, 0].set_ylabel("reaction energy with Li (eV/atom)")
    axes[0, 1].bar(names, [r["reaction_energy_eV_per_Li"] or 0.0 for r in rows],
                   color="tab:red")
    axes[0, 1].set_ylabel("reaction energy (eV per Li)")
    for ax in axes[0]:
        ax.axhline(0, color="k", lw=0.8)
        ax.tick_params(axis="x", rotation=45)
    fig.suptitle(TITLE)
    return save_png(fig, path)


def write_ranking(rows: list[dict[str, Any]], out: Path) -> list[str]:
    """``li_reactivity.csv``, ``.md`` and ``.png`` (eV/atom and eV/Li) in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path, png_path = (out / f"li_reactivity.{e}" for e in ("csv", "md", "png"))
    table = write_table([_table_row(r) for r in rows], csv_path)
    source = rows[0]["energy_source"] if rows else ""
    md_path.write_text(
        f"# {TITLE}\n\n{table}\nEnergies: {source}; most negative reaction energy over mixing "
        "ratios on the convex hull (pymatgen InterfacialReactivity), eV per atom of mixture "
        "and per Li atom.\n")
    _bar_chart(rows, png_path)
    return [str(csv_path), str(md_path), str(png_path)]


def write_report(output: Any, out_dir: str | Path, timings_s: dict[str, float]) -> dict:
    """Write the report folder from the flow output and return the results document."""
    from ssbflow.analysis.reactions import BondTimeSeries, plot_bond_time_series

    result = output if isinstance(output, InnLiResult) else InnLiResult.model_validate(output)
    out = Path(out_dir)
    files = write_ranking(result.ranking, out)
    doc = result.model_dump(mode="json")
    cell = result.reaction_cell
    lines = [f"# InN|Li study ({result.settings.get('engine', 'mlip')})", "",
             "## Reactivity with Li", "", (out / "li_reactivity.md").read_text().split("\n", 2)[2]]
    if cell is not None:
        series = BondTimeSeries(cell.time_fs, cell.li_per_n, cell.in_n_bonds,
                                cell.li_n_cutoff_A, cell.in_n_cutoff_A)
        png = plot_bond_time_series(series, str(out / "inn_li_reaction_cell.png"),
                                    f"InN|Li, MLIP NVT {cell.md['temperature_K']:.0f} K")
        data = cell.model_dump(mode="json", exclude={"md"})
        files += [str(write_json(out / "inn_li_reaction_cell.json", data)), str(png)]
        doc["reaction_cell"]["png"] = str(png)
        lines += ["## InN|Li reaction cell", "",
                  f"MLIP NVT MD, {cell.md['steps_done']} steps of {cell.md['timestep_fs']} fs at "
                  f"{cell.md['temperature_K']:.0f} K: Li per N {cell.li_per_n[0]:.2f} -> "
                  f"{cell.li_per_n[-1]:.2f} (Li–N < {cell.li_n_cutoff_A} Å), In–N bonds "
                  f"{cell.in_n_bonds[0]} -> {cell.in_n_bonds[-1]} (< {cell.in_n_cutoff_A} Å).",
                  "", "![bonds](inn_li_reaction_cell.png)", ""]
    lines += ["![ranking](li_reactivity.png)", ""]
    lines += reaction_lines(result.dft_check)
    lines += [add_source_comparison(doc, source_comparison(doc))]
    report = out / "report.md"
    report.write_text("\n".join(lines))
    files.append(str(report))
    results = {**doc, "files": files, "timings_s": dict(timings_s)}
    write_json(out / "results.json", results)
    return results


def summary_lines(results: dict[str, Any]) -> list[str]:
    """What ``ssbflow run inn-li`` prints: the ranking, the files, the reaction cell."""
    lines = []
    for row in results["ranking"]:
        per_li = row["reaction_energy_eV_per_Li"]
        lines.append(f"{row['rank']:>2} {row['candidate']:<5} "
                     f"{row['reaction_energy_eV_per_atom']:8.4f} eV/atom "
                     f"{per_li if per_li is None else round(per_li, 4)!s:>8} eV/Li  "
                     f"{row['reaction']}  {row['note']}")
    lines.append("files: " + ", ".join(results["files"]))
    cell = results.get("reaction_cell")
    if cell:
        lines.append(f"reaction cell: Li per N {cell['li_per_n'][0]:.2f} -> "
                     f"{cell['li_per_n'][-1]:.2f}, In-N bonds {cell['in_n_bonds'][0]} -> "
                     f"{cell['in_n_bonds'][-1]} over {cell['time_fs'][-1] / 1000:.2f} ps")
    for check in results.get("dft_check") or []:
        lines.append(f"DFT check {check['reaction']}: {check['reaction_energy_eV']:.3f} eV "
                     f"(MLIP {check['mlip_reaction_energy_eV']:.3f}, DFT − MLIP "
                     f"{check['dft_minus_mlip_eV']:+.3f} eV; {check['functional']} at the MLIP "
                     "geometry)")
    return lines
