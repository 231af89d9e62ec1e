"""The InN|Li study (``ssbflow run inn-li``): Li reactivity of metals and InN, reaction cell.

Flow: one relaxation per library phase of the Li–M–N systems (engine's relax maker) →
entries → reactivity of each candidate with Li (ranked rows) and, in parallel, MLIP NVT MD of
the InN|Li interface at 300 K with the Li–N coordination and In–N bonds of every frame →
:class:`InnLiResult`. The report (ranked CSV + Markdown + bar chart, bond PNG) is written from
that result by :func:`ssbflow.studies.inn_li.report.write_report`.
"""

from __future__ import annotations

from typing import Any

from jobflow import Flow, job
from pymatgen.core import Composition, Structure

from ssbflow.structures.phases import PHASE_LIBRARY, phases_for_elements
from ssbflow.studies.base import Study
from ssbflow.studies.inn_li.headline import headline, rankings
from ssbflow.studies.inn_li.report import summary_lines, write_report
from ssbflow.studies.inn_li.schema import (
    STUDY_NAME,
    InnLiOptions,
    InnLiResult,
    ReactionCell,
)

#: Trajectory of the reaction cell, in the MD job's own folder.
TRAJECTORY = "inn_li_md.extxyz"

#: Reactions of the source study recomputed by CP2K with ``check_dft`` (when InN is a candidate).
DFT_CHECK_REACTIONS = ("InN + 3 Li -> Li3N + In",)

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


@job
def li_reactivity_job(entry_dicts: list[dict], candidates: list[str]) -> list[dict[str, Any]]:
    """Rank the candidates by reaction energy with Li (rows of :func:`li_reactivity_rows`)."""
    from ssbflow.methods.phases import entries_from_dicts

    return li_reactivity_rows(entries_from_dicts(entry_dicts), list(candidates))


@job(metadata={"resumable": True})  # a killed MD continues from its last saved frame
def reaction_cell_md_job(structure: Structure, temperature_K: float, n_steps: int,
                         save_every: int, mlip_model: str = "CHGNet") -> dict[str, Any]:
    """NVT MD of the reaction cell (trajectory in this job's folder) and its bond series.

    The analysis runs in the MD job because it reads the trajectory: no job reads another
    job's folder.
    """
    from dataclasses import asdict

    from ase.io import read

    from ssbflow.analysis.reactions import bond_time_series
    from ssbflow.methods.md import run_nvt_md

    summary = asdict(run_nvt_md(structure, TRAJECTORY, temperature_K, n_steps,
                                timestep_fs=1.0, save_every=save_every, progress=False,
                                mlip_model=mlip_model))
    frames = read(TRAJECTORY, index=":", format="extxyz")
    times = [float(a.info.get("time_fs", a.info.get("step", 0) * summary["timestep_fs"]))
             for a in frames]
    return {**asdict(bond_time_series(frames, times)), "md": summary}


@job(output_schema=InnLiResult)
def inn_li_result(ranking: list[dict[str, Any]], reaction_cell: dict[str, Any] | None,
                  settings: dict[str, Any],
                  dft_check: list[dict[str, Any]] | None = None) -> InnLiResult:
    """The study's result: ranking, reaction-cell analysis and the DFT spot check."""
    return InnLiResult(settings=settings, ranking=ranking,
                       reaction_cell=ReactionCell(**reaction_cell) if reaction_cell else None,
                       dft_check=dft_check)


def make_inn_li_flow(options: InnLiOptions) -> Flow:
    """The inn-li flow for validated ``options``."""
    from ssbflow.methods.phases import PhaseEnergyMaker

    candidates = list(options.candidates)
    elements = {el.symbol for f in candidates for el in Composition(f).elements}
    names = [p.name for p in phases_for_elements(elements | {"Li", "N"})]
    structures = {n: PHASE_LIBRARY[n].build() for n in names}
    phases = PhaseEnergyMaker(engine=options.engine,
                              mlip_model=options.mlip_model).make(structures)
    ranking = li_reactivity_job(phases.output, candidates)
    ranking.name = "li reactivity"
    jobs: list = [phases, ranking]
    cell_output = None
    if options.md_steps > 0:
        from ssbflow.structures.interfaces import inn_li_interface

        cell_structure = Structure.from_sites(inn_li_interface().get_sorted_structure())
        save_every = 10 if options.md_steps % 10 == 0 else 1
        md = reaction_cell_md_job(cell_structure, options.md_temperature_K, options.md_steps,
                                  save_every, options.mlip_model)
        md.name = "inn|li md"
        jobs.append(md)
        cell_output = md.output
    dft_output = None
    if options.check_dft and "InN" in candidates:
        from ssbflow.methods.dft_check import reaction_dft_check_job

        dft = reaction_dft_check_job(phases.output, list(DFT_CHECK_REACTIONS))
        dft.name = "dft check"
        jobs.append(dft)
        dft_output = dft.output
    final = inn_li_result(ranking.output, cell_output, options.model_dump(mode="json"),
                          dft_output)
    final.name = "study output"
    return Flow([*jobs, final], output=final.output, name=STUDY_NAME)


STUDY = Study(
    name=STUDY_NAME,
    help="InN|Li: reactivity of Au, Zn, In, Fe, Ag, Sn, Mg, Al, Cu and InN with Li (ranked "
         "table, bar chart) and MLIP MD of the InN|Li reaction cell at 300 K.",
    options=InnLiOptions,
    make_flow=make_inn_li_flow,
    write_report=write_report,
    summary_lines=summary_lines,
    headline=headline,
    rankings=rankings,
)
