"""Li+ diffusion from MLIP molecular dynamics: in polymers with LiFSI and in LLZO.

``ssbflow run polymer-li-diffusion`` and ``ssbflow run llzo-li-diffusion``. The flow: one
pre-relaxation job per system (when ``pre_relax_steps`` > 0), one NVT MD job per system and
temperature (resumable from its trajectory), and one analysis job (MSD slopes, D with
standard errors, the MSD regime of each run, Arrhenius fits) whose output is the result.
The report folder (``results.json``, CSV and Markdown tables, PNG plots, structures) is
written from that output afterwards (:mod:`ssbflow.studies.li_diffusion.report`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobflow import Flow
from pymatgen.core import Structure

from ssbflow.studies.base import Study
from ssbflow.studies.li_diffusion.headline import headline, rankings
from ssbflow.studies.li_diffusion.jobs import diffusion_analysis_job, pre_relax_job
from ssbflow.studies.li_diffusion.options import (
    OPENMM_ONLY,
    SOLVENT_OPTIONS,
    DiffusionOptions,
    LlzoDiffusionOptions,
    PolymerDiffusionOptions,
)
from ssbflow.studies.li_diffusion.report import summary_lines, write_diffusion_report

POLYMER_NOTES = [
    "Published (NCM811 study, MD): Li+ MSD slope 0.20e-3 Å²/ps in PVDF and 1.23e-3 Å²/ps in "
    "dehydrofluorinated PVDF (about 6x faster)."
]


def system_row(label: str, structure: Structure, species: str) -> dict[str, Any]:
    """One row of the table of simulation cells."""
    elements = structure.composition.element_composition
    return {
        "system": label, "formula": elements.formula.replace(" ", ""),
        "n_atoms": len(structure), f"n_{species}": int(elements[species]),
        "cell_a_A": structure.lattice.a, "cell_b_A": structure.lattice.b,
        "cell_c_A": structure.lattice.c, "volume_A3": structure.volume,
        "density_g_cm3": float(structure.density),
    }


def make_diffusion_flow(
    systems: dict[str, Structure],
    options: DiffusionOptions,
    study: str,
    title: str,
    notes: list[str] | None = None,
) -> Flow:
    """NVT MD of every system at every temperature, then MSD slopes, D and Arrhenius Ea.

    With ``pre_relax_steps`` > 0 each system is first relaxed (FIRE, fixed cell,
    fmax 0.1 eV/Å) so that packed boxes do not start with overlapping contacts. Each MD job
    writes ``md.extxyz`` in its own folder (a frame every ``save_every`` steps) and, killed,
    continues from its last frame when the run is resumed.
    """
    from ssbflow.methods.md import nvt_md_job

    jobs: list = []
    runs: list[dict[str, Any]] = []
    structures: dict[str, dict[str, Any]] = {}
    for label, structure in systems.items():
        start: Any = structure
        structures[label] = {"initial": structure, "relaxed": None}
        if options.pre_relax_steps > 0:
            relax = pre_relax_job(structure, options.mlip_model, options.pre_relax_steps)
            relax.name = f"relax {label}"
            jobs.append(relax)
            start = structures[label]["relaxed"] = relax.output["structure"]
        for temp in options.temperatures_K:
            md = nvt_md_job(start, "md.extxyz", temp, options.n_steps,
                            timestep_fs=options.timestep_fs, save_every=options.save_every,
                            mlip_model=options.mlip_model, seed=options.seed)
            md.name = f"md {label} {temp:.0f} K"
            jobs.append(md)
            runs.append({"system": label, "T_K": float(temp), "md": md.output})
    analysis = diffusion_analysis_job(
        runs, [system_row(k, s, options.species) for k, s in systems.items()], structures,
        options.model_dump(mode="json"), study, title, notes,
    )
    analysis.name = "diffusion analysis"
    return Flow([*jobs, analysis], output=analysis.output, name=study)


def check_diffusion(options: DiffusionOptions) -> None:
    """Refuse a local run whose force field (or, for ``engine="openmm"``, OpenMM, AmberTools
    and packmol) is not installed here (before anything is written); the flow itself is
    built without it (``ssbflow submit`` from a login node)."""
    from ssbflow.engines import get_engine

    if getattr(options, "engine", "mlip") == "openmm":
        get_engine("openmm").check_available()
        return
    get_engine("mlip", mlip_model=options.mlip_model)


@dataclass(frozen=True)
class _PolymerStudy(Study):
    """An mlip run's stored settings leave out the openmm-only options (as before the engine
    choice existed, so those runs resume unchanged)."""

    def settings(self, options: Any) -> dict[str, Any]:
        doc = super().settings(options)
        if doc.get("engine", "mlip") == "mlip":
            for name in OPENMM_ONLY:
                doc.pop(name, None)
        if doc.get("solvent_per_li", 0.0) == 0.0:  # dry: the solvent is not part of the run
            for name in SOLVENT_OPTIONS:
                doc.pop(name, None)
        if doc.get("continue_from") is None:  # as runs made before the option existed
            doc.pop("continue_from", None)
        return doc


def make_polymer_flow(options: PolymerDiffusionOptions) -> Flow:
    """Li+ (LiFSI) in amorphous PVDF vs dehydrofluorinated PVDF boxes (same salt, same
    packing settings). The NCM811 study reports Li+ MSD slopes of 0.20e-3 (PVDF) and
    1.23e-3 Å²/ps (dehydrofluorinated PVDF). ``engine="openmm"``: classical MD
    (:mod:`ssbflow.studies.li_diffusion.openmm_flow`)."""
    from ssbflow.structures.polymer_packing import polymer_li_box

    if options.engine == "openmm":
        from ssbflow.studies.li_diffusion.openmm_flow import make_openmm_polymer_flow

        return make_openmm_polymer_flow(options, "polymer-li-diffusion",
                                        "Li+ diffusion in PVDF vs dehydrofluorinated PVDF",
                                        POLYMER_NOTES)

    systems = {kind: polymer_li_box(kind, n_chains=options.n_chains, n_units=options.n_units,
                                    n_li=options.n_li, seed=options.box_seed)
               for kind in ("pvdf", "dpvdf")}
    return make_diffusion_flow(systems, options, "polymer-li-diffusion",
                               "Li+ diffusion in PVDF vs dehydrofluorinated PVDF", POLYMER_NOTES)


def make_llzo_flow(options: LlzoDiffusionOptions) -> Flow:
    """Li diffusion in bulk tetragonal LLZO (192 atoms)."""
    from ssbflow.structures.garnet import llzo_tetragonal

    return make_diffusion_flow({"llzo": llzo_tetragonal()}, options, "llzo-li-diffusion",
                               "Li diffusion in tetragonal LLZO")


POLYMER_LI_DIFFUSION = _PolymerStudy(
    name="polymer-li-diffusion",
    help="Li+ MSD slopes (Å²/ps), D and Ea in PVDF vs dehydrofluorinated PVDF (MLIP or "
         "OpenMM NVT MD).",
    options=PolymerDiffusionOptions,
    make_flow=make_polymer_flow,
    write_report=write_diffusion_report,
    summary_lines=summary_lines,
    check=check_diffusion,
    headline=headline,
    rankings=rankings,
)

LLZO_LI_DIFFUSION = Study(
    name="llzo-li-diffusion",
    help="Li diffusion in bulk tetragonal LLZO: MSD, D(T), Ea (MLIP NVT MD).",
    options=LlzoDiffusionOptions,
    make_flow=make_llzo_flow,
    write_report=write_diffusion_report,
    summary_lines=summary_lines,
    check=check_diffusion,
    headline=headline,
    rankings=rankings,
)
