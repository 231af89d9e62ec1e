"""The InN|Li study (``ssbflow run inn-li``): Li reactivity of metals and InN, reaction cell.

Flow: one relaxation per library phase of the Li–M–N systems (engine's relax maker) →
entries → reactivity of each candidate with Li (ranked CSV + Markdown + bar chart) and,
in parallel, MLIP NVT MD of the InN|Li interface at 300 K → Li–N coordination and In–N bonds
over time (PNG).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jobflow import Flow, Maker, job
from pymatgen.core import Composition, Structure

from ssbflow.structures.phases import METALS, PHASE_LIBRARY, phases_for_elements

#: Candidates of the source study, compared for their reaction with Li.
INN_LI_CANDIDATES = (*(m.capitalize() for m in METALS), "InN")


#: Why some metals show no reaction with Li in this library.
_NO_LI_PHASE_NOTES = {
    "Fe": "Li and Fe form no compound (Li–Fe phase diagram)",
    "Cu": "Li and Cu form no compound (Li–Cu phase diagram)",
}

#: Caveats shown with candidates whose Li phases are models rather than refined structures.
_MODEL_NOTES = {
    "Sn": "Li–Sn: Li5Sn2 and Li13Sn5 only (bcc-stacking models); Li2Sn5, LiSn, Li7Sn3, "
          "Li7Sn2, Li17Sn4 not in the library",
    "Mg": "Li–Mg is a bcc solid solution; modelled by the ordered B2 LiMg approximant",
}


def library_note(formula: str) -> str:
    """Why a candidate may show no reaction: the library has no Li phase of its elements."""
    elements = {el.symbol for el in Composition(formula).elements} | {"Li"}
    li_phases = [p.formula for p in phases_for_elements(elements)
                 if "Li" in Composition(p.formula) and len(Composition(p.formula)) > 1]
    if li_phases:
        return next((_MODEL_NOTES[e] for e in sorted(elements) if e in _MODEL_NOTES), "")
    metal = next((e for e in elements if e in _NO_LI_PHASE_NOTES), None)
    return _NO_LI_PHASE_NOTES[metal] if metal else "no Li compound of these elements in the library"


def li_reactivity_rows(entries: list, candidates: list[str]) -> list[dict[str, Any]]:
    """Reactivity of each candidate with Li, ranked (most negative eV/atom first)."""
    from ssbflow.analysis.reactions import entries_in_system, reactivity

    rows = []
    for formula in candidates:
        result = reactivity(entries_in_system(entries, [formula, "Li"]), formula, "Li")
        rows.append({"candidate": formula, "formula": formula, **result.to_dict(),
                     "products": " + ".join(result.products), "note": library_note(formula)})
    rows.sort(key=lambda r: r["reaction_energy_eV_per_atom"])
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def write_reactivity_report(rows: list[dict[str, Any]], out: Path, title: str) -> list[str]:
    """CSV, Markdown and a bar chart (eV/atom and eV/Li) of the ranking in ``out``."""
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    cols = ["rank", "candidate", "reaction_energy_eV_per_atom", "reaction_energy_eV_per_Li",
            "mixing_ratio", "reaction", "products", "note"]

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4f}"
        if isinstance(v, dict):
            return " ".join(f"{k}:{x:.3f}" for k, x in v.items())
        return "" if v is None else str(v)

    csv_path, md_path, png_path = (out / f"li_reactivity.{e}" for e in ("csv", "md", "png"))
    with csv_path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(cols)
        for row in rows:
            writer.writerow([fmt(row.get(c)) for c in cols])
    lines = [f"# {title}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(row.get(c)) for c in cols) + " |" for row in rows]
    lines += ["", f"Energies: {rows[0]['energy_source'] if rows else ''}; most negative "
              "reaction energy over mixing ratios on the convex hull (pymatgen "
              "InterfacialReactivity), eV per atom of mixture and per Li atom."]
    md_path.write_text("\n".join(lines) + "\n")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    names = [r["candidate"] for r in rows]
    axes[0].bar(names, [r["reaction_energy_eV_per_atom"] for r in rows], color="tab:blue")
    axes[0].set_ylabel("reaction energy with Li (eV/atom)")
    axes[1].bar(names, [r["reaction_energy_eV_per_Li"] or 0.0 for r in rows], color="tab:red")
    axes[1].set_ylabel("reaction energy (eV per Li)")
    for ax in axes:
        ax.axhline(0, color="k", lw=0.8)
        ax.tick_params(axis="x", rotation=45)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(png_path, dpi=150)
    plt.close(fig)
    return [str(csv_path), str(md_path), str(png_path)]


@job
def li_reactivity_job(entry_dicts: list[dict], candidates: list[str], report_dir: str) -> dict:
    """Rank the candidates by reaction energy with Li and write the report files."""
    from ssbflow.methods.phases import entries_from_dicts

    entries = entries_from_dicts(entry_dicts)
    rows = li_reactivity_rows(entries, candidates)
    files = write_reactivity_report(rows, Path(report_dir), "Reactivity with Li metal")
    return {"rows": rows, "files": files}


@job
def reaction_cell_analysis_job(md_summary: dict, report_dir: str) -> dict:
    """Li–N coordination and In–N bonds over the MD trajectory, with a PNG."""
    from ase.io import read

    from ssbflow.analysis.reactions import bond_time_series, plot_bond_time_series

    frames = read(md_summary["trajectory"], index=":", format="extxyz")
    times = [float(a.info.get("time_fs", a.info.get("step", 0) * md_summary["timestep_fs"]))
             for a in frames]
    series = bond_time_series(frames, times)
    png = plot_bond_time_series(
        series, str(Path(report_dir) / "inn_li_reaction_cell.png"),
        f"InN|Li, MLIP NVT {md_summary['temperature_K']:.0f} K")
    data = asdict(series)
    (Path(report_dir) / "inn_li_reaction_cell.json").write_text(json.dumps(data, indent=1))
    return {**data, "png": png, "md": md_summary}


@job
def study_output(ranking: dict, reaction_cell: dict | None) -> dict:
    """The study's output document: ranking and reaction-cell analysis."""
    return {"ranking": ranking, "reaction_cell": reaction_cell}


@dataclass
class InnLiStudyMaker(Maker):
    """``ssbflow run inn-li``.

    Attributes
    ----------
    report_dir : folder of the report files (absolute).
    engine : engine of the phase relaxations.
    md_steps : MD steps of the reaction cell (0 = no MD); timestep 1 fs, 300 K.
    candidates : formulas compared for their reaction with Li.
    """

    name: str = "inn-li"
    report_dir: str = "."
    engine: str = "mlip"
    md_steps: int = 1000
    md_temperature_K: float = 300.0
    candidates: list[str] = field(default_factory=lambda: list(INN_LI_CANDIDATES))

    def make(self) -> Flow:
        """The study flow."""
        from ssbflow.methods.md import nvt_md_job
        from ssbflow.methods.phases import PhaseEnergyMaker

        elements = {el.symbol for f in self.candidates for el in Composition(f).elements}
        names = [p.name for p in phases_for_elements(elements | {"Li", "N"})]
        structures = {n: PHASE_LIBRARY[n].build() for n in names}
        phases = PhaseEnergyMaker(engine=self.engine).make(structures)
        ranking = li_reactivity_job(phases.output, self.candidates, self.report_dir)
        ranking.name = "li reactivity"
        jobs: list = [phases, ranking]
        if self.md_steps > 0:
            from ssbflow.structures.interfaces import inn_li_interface

            interface = inn_li_interface()
            save_every = 10 if self.md_steps % 10 == 0 else 1
            cell_structure = Structure.from_sites(interface.get_sorted_structure())
            md = nvt_md_job(cell_structure, str(
                Path(self.report_dir) / "inn_li_md.extxyz"), self.md_temperature_K,
                self.md_steps, timestep_fs=1.0, save_every=save_every)
            md.name = "inn|li md"
            cell = reaction_cell_analysis_job(md.output, self.report_dir)
            cell.name = "reaction cell analysis"
            jobs += [md, cell]
            final = study_output(ranking.output, cell.output)
        else:
            final = study_output(ranking.output, None)
        final.name = "study output"
        return Flow([*jobs, final], output=final.output, name=self.name)
