"""``ssbflow run electrolyte-md``: classical MD of a liquid electrolyte box (OpenMM + GAFF2).

The flow: parameters and a loose packmol box
(:func:`~ssbflow.methods.classical_md.build_box_job`), the resumable MD protocol
(:func:`~ssbflow.methods.classical_md.md_protocol_job`: minimise, compress, optional anneal
and cooling, NPT, NVT production), and an analysis job: density from the second half of the
NPT stage (block standard error), the self-diffusion coefficient of every species from the
MSD of molecular centres of mass (:func:`ssbflow.analysis.diffusion.analyze_msd`, no drift
correction: OpenMM removes the centre-of-mass motion of the whole box; no Yeh-Hummer
finite-size correction; production under a Langevin thermostat), and the Nernst-Einstein
conductivity (Haven ratio 1) with formal ion charges and with the model's scaled charges
(``ion_charge_scale``) when there are ions; with Li+
in the box, Li–N/O/F radial distribution functions, coordination numbers to the first
minimum and the fraction of Li+ with no anion atom in its first shell
(:func:`ssbflow.analysis.coordination.site_coordination`, on the sites the MD job saves
every ``sites_ps``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from jobflow import Flow, job
from pydantic import BaseModel, Field

from ssbflow.io import write_json, write_table
from ssbflow.studies.base import Study
from ssbflow.studies.comparison import add_source_comparison
from ssbflow.studies.electrolyte_md.comparison import source_comparison
from ssbflow.studies.electrolyte_md.options import SALTS, ElectrolyteMdOptions

#: Blocks of the density's standard error.
DENSITY_BLOCKS = 5


class ElectrolyteMdResult(BaseModel):
    """Output of ``electrolyte-md`` (``msd_curves`` in the ``data`` store)."""

    study: str = "electrolyte-md"
    settings: dict[str, Any] = Field(description="The study's options.")
    components: list[dict[str, Any]] = Field(description="One row per species.")
    n_atoms: int
    n_frames: int = Field(0, description="Production frames (molecular centres of mass).")
    density_g_cm3: float = Field(description="Mean over the second half of the NPT stage.")
    density_stderr_g_cm3: float | None = None
    volume_A3: float = Field(description="Box volume of the NVT production (Å³).")
    diffusion: list[dict[str, Any]] = Field(description="D (cm²/s) per species.")
    conductivity_NE_mS_cm: float | None = Field(
        None, description="Nernst-Einstein conductivity (formal charges); None without ions.")
    conductivity_NE_scaled_charges_mS_cm: float | None = Field(
        None, description="Nernst-Einstein conductivity with the model's ion charges "
        "(formal x ion_charge_scale); None without ions.")
    engine: dict[str, Any] = Field(description="OpenMM version, platform, protocol.")
    ns_per_day: dict[str, float] = Field(description="Simulation speed per stage.")
    wall_s: dict[str, float] = Field(description="Wall time per stage (all runs).")
    resumes: int = 0
    msd_curves: dict[str, dict[str, Any]] = Field(default_factory=dict)
    coordination: dict[str, Any] | None = Field(
        None, description="Li+ shells: rows per partner set, free_fraction (None without Li+).")
    rdf_curves: dict[str, dict[str, Any]] = Field(default_factory=dict)


#: Short names of the salt anions in coordination tables (other molecules keep their SMILES).
ANION_NAMES = {anion: name.removeprefix("Li") for name, (_, anion) in SALTS.items()}


def li_coordination(sites: dict[str, Any] | None, charges: dict[str, int]
                    ) -> dict[str, Any] | None:
    """:func:`~ssbflow.analysis.coordination.site_coordination` of an MD job's saved sites
    (``None`` when it saved none), anions named as in :data:`ANION_NAMES`."""
    from ssbflow.analysis.coordination import site_coordination

    if not sites or not sites.get("positions_A"):
        return None
    labels = [ANION_NAMES.get(s, s) for s in sites["labels"]]
    anions = tuple(ANION_NAMES.get(s, s) for s, q in charges.items() if q < 0)
    return site_coordination(np.asarray(sites["positions_A"]), sites["atomic_numbers"], labels,
                             np.asarray(sites["box_A"]), anions)


def _block_stderr(values: np.ndarray, n_blocks: int = DENSITY_BLOCKS) -> float | None:
    if values.size < 2 * n_blocks:
        return None
    blocks = [b.mean() for b in np.array_split(values, n_blocks)]
    return float(np.std(blocks, ddof=1) / np.sqrt(n_blocks))


@job(output_schema=ElectrolyteMdResult, data="msd_curves")
def electrolyte_analysis_job(md: dict[str, Any], box: dict[str, Any],
                             settings: dict[str, Any]) -> ElectrolyteMdResult:
    """Density, D per species and the Nernst-Einstein conductivity of one MD run."""
    from ssbflow.analysis.diffusion import analyze_msd
    from ssbflow.engines.openmm.box import density_g_cm3

    volumes = np.asarray(md["npt_volume_A3"], dtype=float)
    half = volumes[volumes.size // 2:]
    density = density_g_cm3(md["total_mass_amu"], md["volume_A3"])
    stderr = (_block_stderr(density_g_cm3(md["total_mass_amu"], half)) if half.size
              else None)
    com = np.asarray(md["frames"]["com_A"], dtype=float)
    time_ps = np.asarray(md["frames"]["time_ps"], dtype=float)
    labels = md["labels"]
    charges = box["net_charges"]
    rows, curves, sigma = [], {}, 0.0
    for smiles, count in settings["box_components"]:
        res = analyze_msd(com, labels, time_ps, species=smiles,
                          masses_amu=np.asarray(md["molecule_masses_amu"]),
                          temperature_K=md["temperature_K"], volume_A3=md["volume_A3"],
                          charge=abs(charges[smiles]) or 1.0, drift="none")
        if charges[smiles] and res.sigma_mS_cm is not None:
            sigma += res.sigma_mS_cm
        curves[smiles] = res.to_dict(include_msd=True)
        rows.append({"species": smiles, "count": count, "net_charge_e": charges[smiles],
                     "D_cm2_s": res.D_cm2_s, "D_stderr_cm2_s": res.D_stderr_cm2_s,
                     "msd_slope_A2_per_ps": res.msd_slope_A2_per_ps,
                     "fit_start_ps": res.fit_range_ps[0], "fit_end_ps": res.fit_range_ps[1],
                     "loglog_slope": res.loglog_slope, "diffusive": res.diffusive,
                     "regime": res.regime})
    comps = [{"species": s, "count": n, "net_charge_e": p["net_charge_e"],
              "n_atoms_each": len(p["charges_e"]), "parameters": p["source"],
              "charge_method": p.get("charge_method"), "borrowed_terms": p["borrowed_terms"],
              "retyped_atoms": p["retyped_atoms"],
              "charge_symmetrisation_max_e": p["charge_shift_max_e"],
              "parameterisation_s": p["wall_s"], "from_cache": p["cached"]}
             for (s, n), p in zip(settings["box_components"], box["parameters"], strict=True)]
    ions = any(charges.values())
    coord = li_coordination(md["frames"].get("sites"), charges)
    return ElectrolyteMdResult(
        settings=settings, components=comps, n_atoms=md["n_atoms"], n_frames=md["n_frames"],
        density_g_cm3=float(density), density_stderr_g_cm3=stderr,
        volume_A3=md["volume_A3"], diffusion=rows,
        conductivity_NE_mS_cm=float(sigma) if ions else None,
        # sigma_NE goes with q²: the model's charges are the formal ones x ion_charge_scale
        conductivity_NE_scaled_charges_mS_cm=(
            float(sigma) * md["protocol"]["ion_charge_scale"] ** 2 if ions else None),
        engine={**md["platform"], "protocol": md["protocol"]},
        ns_per_day=md["ns_per_day"], wall_s=md["wall_s"], resumes=md["resumes"],
        msd_curves=curves,
        coordination=None if coord is None else {k: v for k, v in coord.items()
                                                 if k != "curves"},
        rdf_curves={} if coord is None else coord["curves"])


def make_flow(options: ElectrolyteMdOptions) -> Flow:
    """Box -> MD protocol -> analysis, for the options' box at one temperature."""
    from ssbflow.methods.classical_md import ClassicalMdMaker, MdProtocol

    protocol = MdProtocol(
        temperature_K=options.temperature_K, production_ps=options.production_ns * 1000.0,
        npt_ps=options.npt_ps, compress_ps=options.compress_ps, anneal_K=options.anneal_K,
        anneal_ps=options.anneal_ps, cool_ps=options.cool_ps, timestep_fs=options.timestep_fs,
        frame_ps=options.frame_ps, sites_ps=options.sites_ps,
        checkpoint_ps=options.checkpoint_ps,
        cutoff_nm=options.cutoff_nm, ion_charge_scale=options.ion_charge_scale,
        seed=options.seed, platform=options.platform)
    comps = options.box_components()
    md_flow = ClassicalMdMaker(name="electrolyte md", protocol=protocol,
                               pack_density_g_cm3=options.pack_density_g_cm3,
                               charge_method=options.charge_method,
                               cache_dir=options.cache_dir).make(comps)
    build = md_flow.jobs[0]
    settings = {**options.model_dump(mode="json"), "box_components": comps}
    analysis = electrolyte_analysis_job(md_flow.output, build.output, settings)
    analysis.name = "electrolyte analysis"
    return Flow([md_flow, analysis], output=analysis.output, name="electrolyte-md")


def check(options: ElectrolyteMdOptions) -> None:
    """Refuse a local run without OpenMM or the AmberTools/packmol executables (one line)."""
    from ssbflow.engines import get_engine

    get_engine("openmm").check_available()


def write_report(output: Any, out: Path, timings_s: dict[str, float]) -> dict[str, Any]:
    """``results.json``, ``report.md``, ``diffusion.csv`` and ``msd.png`` in ``out``."""
    from ssbflow.analysis.coordination import write_coordination
    from ssbflow.analysis.diffusion import DiffusionResult, plot_msd

    res = ElectrolyteMdResult.model_validate(output)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    doc = res.model_dump(mode="json", exclude={"msd_curves", "rdf_curves"})
    doc["timings_s"] = timings_s
    curves = {name: DiffusionResult.from_dict(c) for name, c in res.msd_curves.items()}
    if curves:
        plot_msd(curves, out / "msd.png")
    err = res.density_stderr_g_cm3
    md = ["# Electrolyte MD (OpenMM, GAFF2)", "",
          f"{res.n_atoms} atoms, {res.settings['temperature_K']:.0f} K, "
          f"{res.settings['production_ns']} ns NVT after {res.settings['npt_ps']} ps NPT; "
          f"platform {res.engine['platform']}.", "",
          f"Density: {res.density_g_cm3:.4f}" + (f" ± {err:.4f}" if err else "") + " g/cm³",
          "", write_table(res.diffusion, out / "diffusion.csv", "Self-diffusion"), ""]
    proto = res.engine.get("protocol", {})
    md.append("D is the MSD slope of the periodic box, without the Yeh-Hummer finite-size "
              f"correction; the production ran under a Langevin thermostat (friction "
              f"{proto.get('friction_per_ps')} /ps).")
    if res.conductivity_NE_mS_cm is not None:
        scaled = res.conductivity_NE_scaled_charges_mS_cm
        md.append(f"Nernst-Einstein conductivity: {res.conductivity_NE_mS_cm:.3g} mS/cm with "
                  "formal ion charges" + ("" if scaled is None else
                  f", {scaled:.3g} mS/cm with the model's charges (x "
                  f"{proto.get('ion_charge_scale')})") + " (Haven ratio 1).")
    if res.coordination:
        md += ["", write_coordination(res.coordination, res.rdf_curves, out)]
    md += ["", add_source_comparison(doc, source_comparison(doc))]
    (out / "report.md").write_text("\n".join(md) + "\n")
    write_json(out / "results.json", doc)
    return doc


def summary_lines(doc: dict[str, Any]) -> list[str]:
    """Density, D per species and σ_NE."""
    lines = [f"electrolyte-md: {doc['n_atoms']} atoms, density "
             f"{doc['density_g_cm3']:.4f} g/cm³"]
    for row in doc["diffusion"]:
        lines.append(f"  D({row['species']}) = {row['D_cm2_s']:.3e} cm²/s "
                     f"({'diffusive' if row['diffusive'] else row['regime']})")
    if doc.get("conductivity_NE_mS_cm") is not None:
        scaled = doc.get("conductivity_NE_scaled_charges_mS_cm")
        lines.append(f"  sigma_NE = {doc['conductivity_NE_mS_cm']:.3g} mS/cm (formal charges)"
                     + ("" if scaled is None else f", {scaled:.3g} mS/cm (scaled charges)"))
    for row in (doc.get("coordination") or {}).get("rows", []):
        cn = row["cn_first_shell"]
        lines.append(f"  CN({row['pair']}) = " + ("–" if cn is None else f"{cn:.2f}"))
    return lines


STUDY = Study(
    name="electrolyte-md",
    help="Classical MD (OpenMM, GAFF2) of a liquid electrolyte box: density, D, σ_NE.",
    options=ElectrolyteMdOptions,
    make_flow=make_flow,
    write_report=write_report,
    summary_lines=summary_lines,
    check=check,
)
