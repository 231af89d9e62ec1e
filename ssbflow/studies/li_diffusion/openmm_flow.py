"""``polymer-li-diffusion --engine openmm``: the two polymer + LiFSI boxes by classical MD.

Each polymer (PVDF and dehydrofluorinated PVDF oligomers from
:mod:`ssbflow.structures.oligomer_smiles`, ``n_chains`` chains of ``n_units`` units, with
``n_li`` LiFSI) at each temperature runs the OpenMM protocol
(:class:`ssbflow.methods.classical_md.ClassicalMdMaker`: packmol at ``pack_density_g_cm3``,
compress, anneal at ``anneal_K``, cool, NPT, NVT production; resumable). A small job turns
each run's output into the shape the MLIP study's analysis job reads (unwrapped Li+
positions, the other molecules' centres of mass for the drift), so the MSD slopes, D,
regimes, Arrhenius fits, report and source-comparison rows are the same code for both
engines.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from jobflow import Flow, job

from ssbflow.studies.li_diffusion.options import PolymerDiffusionOptions

FSI = "FS(=O)(=O)[N-]S(=O)(=O)F"
#: MSD label of each box component (the analysis follows ``species``, "Li").
LABELS = {"[Li+]": "Li", FSI: "FSI"}
#: Density (g/cm³) the cutoff check assumes for a polymer box: PVDF's (the densest here).
POLYMER_DENSITY_G_CM3 = 1.78
#: Label of the chains' atoms in the coordination tables (F(polymer)).
POLYMER_LABEL = "polymer"
#: Label of the residual solvent's molecules (O(solvent) in the coordination tables).
SOLVENT_LABEL = "solvent"


def box_components(kind: str, options: PolymerDiffusionOptions) -> list[tuple[str, int]]:
    """(SMILES, count) of one polymer box: chains, Li+, FSI-, and the residual solvent."""
    comps = [(polymer_smiles(kind, options.n_units), options.n_chains),
             ("[Li+]", options.n_li), (FSI, options.n_li)]
    n_solvent = round(options.solvent_per_li * options.n_li)
    return comps + ([(options.solvent_smiles, n_solvent)] if n_solvent else [])


def polymer_smiles(kind: str, n_units: int) -> str:
    """SMILES of one chain of ``kind`` (``pvdf`` or ``dpvdf``)."""
    from ssbflow.structures.oligomer_smiles import dehydrofluorinated_pvdf_smiles, pvdf_smiles

    return pvdf_smiles(n_units) if kind == "pvdf" else dehydrofluorinated_pvdf_smiles(n_units)


@job(data="frames")  # the trajectory goes to the data store, as the MD job's own frames
def as_diffusion_run(md: dict[str, Any], system: str, n_chains: int,
                     n_units: int, solvent_smiles: str | None = None,
                     T_K: float | None = None) -> dict[str, Any]:
    """The OpenMM run's output as the MLIP analysis reads it, its row of the cell table (at
    ``T_K``: the NVT volume is the NPT mean there, so the density is the model's at T), and
    the Li+ coordination of its saved sites (``None`` when none were saved); molecules of
    ``solvent_smiles`` are labelled ``solvent``."""
    from ssbflow.analysis.coordination import site_coordination
    from ssbflow.engines.openmm.box import density_g_cm3

    frames = md["frames"]
    labels = {**LABELS, **({solvent_smiles: SOLVENT_LABEL} if solvent_smiles else {})}
    symbols = [labels.get(label, "chain") for label in md["labels"]]
    proto = md["protocol"]
    steps = round(proto["production_ps"] * 1000.0 / proto["timestep_fs"])
    row = {"system": system, "T_K": T_K, "n_atoms": md["n_atoms"], "n_chains": n_chains,
           "n_units": n_units, "n_Li": symbols.count("Li"),
           "n_solvent": symbols.count(SOLVENT_LABEL), "volume_A3": md["volume_A3"],
           "cell_a_A": md["volume_A3"] ** (1.0 / 3.0),
           "density_g_cm3": float(density_g_cm3(md["total_mass_amu"], md["volume_A3"])),
           "ns_per_day": md["ns_per_day"].get("production")}
    converted = {
        "frames": {"positions_A": frames["com_A"], "symbols": symbols,
                   "masses_amu": md["molecule_masses_amu"], "time_ps": frames["time_ps"],
                   "volume_A3": md["volume_A3"], "temperature_K": md["temperature_K"]},
        "n_frames": md["n_frames"], "mean_temperature_K": md["temperature_K"],
        "steps_done": steps, "timestep_fs": proto["timestep_fs"],
        "wall_s_per_step": md["wall_s"].get("production", np.nan) / max(steps, 1),
        "trajectory": "", "engine": {"engine": "openmm", **md["platform"],
                                     "protocol": proto},
        "ns_per_day": md["ns_per_day"].get("production"), "resumes": md.get("resumes"),
    }
    sites, coord = frames.get("sites"), None
    if sites and sites.get("positions_A"):
        coord = site_coordination(
            np.asarray(sites["positions_A"]), sites["atomic_numbers"],
            [labels.get(s, POLYMER_LABEL) for s in sites["labels"]],
            np.asarray(sites["box_A"]), anion_labels=("FSI",))
    return {"md": converted, "system_row": row, "coordination": coord}


def make_openmm_polymer_flow(options: PolymerDiffusionOptions, study: str, title: str,
                             notes: list[str]) -> Flow:
    """One OpenMM protocol per (polymer, T), then the study's diffusion analysis job."""
    from ssbflow.methods.classical_md import ClassicalMdMaker, MdProtocol
    from ssbflow.studies.li_diffusion.jobs import diffusion_analysis_job

    jobs: list = []
    runs: list[dict[str, Any]] = []
    systems: list = []
    # temperature outer, polymer inner: the scheduler runs jobs in flow order, so with two
    # workers both polymers at one temperature finish together and an interrupted run
    # already holds complete (PVDF, dPVDF) pairs for the ratio
    for temp in options.temperatures_K:
        for kind in ("pvdf", "dpvdf"):
            comps = box_components(kind, options)
            protocol = MdProtocol(
                temperature_K=temp, production_ps=options.production_ns * 1000.0,
                npt_ps=options.npt_ps, anneal_K=options.anneal_K, anneal_ps=options.anneal_ps,
                cool_ps=options.cool_ps if options.anneal_ps > 0 else 0.0,
                frame_ps=options.frame_ps, sites_ps=options.sites_ps,
                cutoff_nm=options.cutoff_nm, seed=options.seed + 1)
            flow = ClassicalMdMaker(name=f"md {kind}", protocol=protocol,
                                    pack_density_g_cm3=options.pack_density_g_cm3,
                                    cache_dir=options.cache_dir,
                                    liquid_density_g_cm3=POLYMER_DENSITY_G_CM3,
                                    continue_from=options.continue_from).make(comps)
            shaped = as_diffusion_run(flow.output, kind, options.n_chains, options.n_units,
                                      options.solvent_smiles, float(temp))
            shaped.name = f"shape {kind} {temp:.0f} K"
            jobs += [flow, shaped]
            runs.append({"system": kind, "T_K": float(temp), "md": shaped.output["md"],
                         "coordination": shaped.output["coordination"]})
            systems.append(shaped.output["system_row"])  # one per (polymer, T): ρ(T)
    analysis = diffusion_analysis_job(runs, systems, {}, options.model_dump(mode="json"),
                                      study, title, notes)
    analysis.name = "diffusion analysis"
    return Flow([*jobs, analysis], output=analysis.output, name=study)
