"""The report folder of an adsorption study: results.json, report.md, tables, plots, structures.

Written from the flow's final output as read from the store (nothing is read from job
folders): the site scan table and plot, the relaxed structures, and the electronic stage's
files (Δρ cube/CHGCAR, PNGs, CSVs) that its analysis job put in the ``data`` store.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from pydantic import BaseModel
from pymatgen.core import Structure

from ssbflow.analysis.plots import save_png
from ssbflow.io import write_json, write_structure, write_table
from ssbflow.methods.electronic import unpack_files
from ssbflow.studies.comparison import comparison_markdown, rows_as_dicts
from ssbflow.studies.dft_check import adsorption_dft_check, adsorption_lines
from ssbflow.studies.sn_llzo.comparison import source_comparison


def plot_site_scan(site_scan: list[dict], path: Path, site_species: str) -> Path:
    """Bar chart of the adsorption energy (eV) of each scanned site and orientation."""
    labels = [f"{site_species}{s['site']}\n{s['orientation']}" for s in site_scan]
    energies = [s["adsorption_energy_eV"] for s in site_scan]
    fig = Figure(figsize=(max(4.0, 1.1 * len(labels)), 3.2), dpi=120)
    ax = fig.add_subplot()
    ax.bar(labels, energies, color=["tab:blue" if i else "tab:red" for i in range(len(labels))])
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_ylabel("E_ads (eV)")
    ax.set_title("Adsorption site scan (most stable in red)")
    fig.tight_layout()
    return save_png(fig, path, dpi=120)


def _charge_table(charges: dict) -> list[str]:
    """Markdown table of the anchor charges: one row per scheme and atom (e)."""
    lines = ["", "## Charges (e)", "",
             "| scheme | atom | in AB | in its fragment | change |", "|---|---|---|---|---|"]
    for scheme, rows in charges.items():
        if not isinstance(rows, list):
            continue
        for row in rows:
            ref = row.get("reference_charge_e")
            change = row.get("change_e")
            lines.append(
                f"| {scheme} | {row.get('element', '')}{row.get('index', '')} | "
                f"{row.get('charge_e', float('nan')):+.3f} | "
                f"{'' if ref is None else f'{ref:+.3f}'} | "
                f"{'' if change is None else f'{change:+.3f}'} |"
            )
    return lines


def _work_function_lines(electronic: dict) -> list[str]:
    """Table rows: Φ of the bare slab and of AB on both faces (top = the molecule's face)."""
    lines = []
    for key, what in (("work_function_slab", "bare slab"), ("work_function_ab", "AB")):
        summary = electronic.get(key) or {}
        if summary.get("work_function_top_eV") is not None:
            lines.append(f"| work function of {what}: molecule face / far face | "
                         f"{_fmt(summary['work_function_top_eV'], 'eV')} / "
                         f"{_fmt(summary['work_function_bottom_eV'], 'eV')} |")
    if lines and electronic.get("work_function_note"):
        lines.append(f"| (work-function reference) | {electronic['work_function_note']} |")
    return lines


def write_report(results: dict, out: str | Path, timings_s: dict[str, float]) -> dict:
    """Write the report folder for an adsorption-study results document.

    Parameters
    ----------
    results : the flow's output (:class:`ssbflow.methods.adsorption.AdsorptionResults`, or
        its dict), with the ``data`` store's report files loaded.
    out : report folder (created if needed).
    timings_s : wall time per job (s).

    Returns
    -------
    dict
        The content of ``results.json``.
    """
    if isinstance(results, BaseModel):
        results = results.model_dump()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = results.get("settings", {})
    site_species = settings.get("site_species", "")
    scan = [
        {
            k: s[k]
            for k in (
                "site",
                "site_species",
                "orientation",
                "adsorption_energy_eV",
                "anchor_site_distance_A",
            )
        }
        for s in results["site_scan"]
    ]
    files: dict[str, str] = {}
    best = Structure.from_dict(results["structure_ab"])
    for name in ("slab_molecule_relaxed.extxyz", "slab_molecule_relaxed.cif"):
        files[name] = str(write_structure(best, out / name))
    files["site_scan.png"] = str(plot_site_scan(scan, out / "site_scan.png", site_species))
    write_table(scan, out / "site_scan.csv")
    files["site_scan.csv"] = str(out / "site_scan.csv")
    electronic = results.get("electronic") or {}
    written = unpack_files(electronic.get("report_files", {}), out)
    files.update({role: str(written[name]) for role, name in electronic.get("files", {}).items()})

    doc = {
        "study": results["study"],
        "adsorption_energy_eV": results["adsorption_energy_eV"],
        "site_scan": scan,
        "energies_eV": results["energies_eV"],
        "transferred_charge_e": results.get("transferred_charge_e"),
        "cdd_integral_e": results.get("cdd_integral_e"),
        "work_function_slab_eV": results.get("work_function_slab_eV"),
        "molecule_vacuum_minus_homo_eV": results.get("molecule_vacuum_minus_homo_eV"),
        "charges": results.get("charges", {}),
        "electronic": {k: v for k, v in electronic.items()
                       if k not in ("files", "report_files")},
        "formula_slab": results["formula_slab"],
        "formula_molecule": results["formula_molecule"],
        "n_atoms_slab": results["n_atoms_slab"],
        "settings": settings,
        "timings_s": timings_s,
        "files": files,
    }
    doc["dft_check"] = adsorption_dft_check(doc)
    doc["source_comparison"] = rows_as_dicts(source_comparison(doc))
    write_json(out / "results.json", doc)
    (out / "report.md").write_text(render_markdown(doc, out))
    return doc


def _fmt(value: Any, unit: str = "", digits: int = 3) -> str:
    if value is None:
        return "not computed"
    if isinstance(value, float):
        return f"{value:.{digits}f}{(' ' + unit) if unit else ''}"
    return f"{value}{(' ' + unit) if unit else ''}"


def render_markdown(doc: dict, out: Path) -> str:
    """A readable summary of a results document, with its PNGs."""
    s = doc["settings"]
    lines = [
        f"# {doc['study']}: {doc['formula_molecule']} on {doc['formula_slab']}",
        "",
        "## Numbers",
        "",
        "| quantity | value |",
        "|---|---|",
        f"| adsorption energy E(AB) − E(A) − E(B) | {_fmt(doc['adsorption_energy_eV'], 'eV')} |",
        f"| DFT interaction energy, frozen fragments (no BSSE correction) | "
        f"{_fmt(doc['electronic'].get('dft_interaction_energy_eV'), 'eV')} |",
        f"| transferred charge (gap, ΔQ) | {_fmt(doc['transferred_charge_e'], 'e')} |",
        f"| ∫Δρ dV (should be ≈ 0) | {_fmt(doc['cdd_integral_e'], 'e', 5)} |",
        f"| work function of the slab | {_fmt(doc['work_function_slab_eV'], 'eV')} |",
        *_work_function_lines(doc["electronic"]),
        f"| molecule: V_vac − ε_HOMO (not a work function) | "
        f"{_fmt(doc['molecule_vacuum_minus_homo_eV'], 'eV')} |",
        "",
        "## Site scan",
        "",
        "| site | orientation | E_ads (eV) | anchor–site distance (Å) |",
        "|---|---|---|---|",
    ]
    for row in doc["site_scan"]:
        lines.append(
            f"| {row['site_species']}{row['site']} | {row['orientation']} | "
            f"{row['adsorption_energy_eV']:.3f} | {row['anchor_site_distance_A']:.2f} |"
        )
    if doc.get("charges"):
        lines += _charge_table(doc["charges"])
        if doc["charges"].get("bader_note"):
            lines += ["", f"Bader: {doc['charges']['bader_note']}"]
    lines += ["", *adsorption_lines(doc.get("dft_check"))]
    if doc.get("source_comparison"):
        lines += ["", comparison_markdown(doc["source_comparison"])]
    lines += ["", "## Figures", ""]
    for name, path in doc["files"].items():
        if str(path).endswith(".png"):
            rel = os.path.relpath(path, out)
            lines.append(f"![{name}]({rel})")
            lines.append("")
    lines += ["## Files", ""]
    lines += [
        f"- `{os.path.relpath(p, out)}`"
        for n, p in doc["files"].items()
        if not str(p).endswith(".png")
    ]
    lines += [
        "",
        "## Settings",
        "",
        "```",
        json.dumps(s, indent=1, default=str),
        "```",
        "",
        "## Timings (s)",
        "",
        "```",
        json.dumps(doc["timings_s"], indent=1),
        "```",
        "",
    ]
    return "\n".join(lines)
