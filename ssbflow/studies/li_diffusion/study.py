"""Li+ diffusion from MLIP molecular dynamics: in polymers with LiFSI and in LLZO.

``ssbflow run polymer-li-diffusion`` and ``ssbflow run llzo-li-diffusion``. Results: MSD
slopes, D with standard errors, the MSD regime of each run and Arrhenius fits (report folder
with ``results.json``, CSV and Markdown tables, PNG plots, structures).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Structure

from ssbflow.errors import InputError
from ssbflow.io import write_json as _write_json
from ssbflow.io import write_table as _write_table
from ssbflow.methods.md import engine_settings
from ssbflow.methods.relax import relaxed_frame


# --------------------------------------------------------------------------------------------
# Diffusion from MD at several temperatures
# --------------------------------------------------------------------------------------------
@dataclass
class DiffusionStudySettings:
    """MD settings of the diffusion studies.

    The defaults (200 steps of 1 fs per temperature, a frame every 5 steps) run the whole
    chain on a laptop but only sample the ballistic/caged regime, and the reports say so
    ("not diffusive"). Measured here with CHGNet on CPU (one thread, 2 shared cores, load
    7-14): 1.9-3.0 s per step for the 144-atom PVDF box and 1.1-1.5 s for the 112-atom
    dehydrofluorinated one, so 0.3 ps per temperature was all that fitted. Converged D
    needs tens of ps for LLZO and ns for Li+ in polymers (``n_steps`` of 10^4–10^6, on a
    GPU), and the first ~0.3 ps (3 / friction) are still equilibrating the thermostat.
    """

    temperatures_K: tuple[float, ...] = (600.0, 800.0, 1000.0)
    n_steps: int = 200
    timestep_fs: float = 1.0
    save_every: int = 5
    mlip_model: str = "CHGNet"
    species: str = "Li"
    seed: int = 0
    pre_relax_steps: int = 0
    extra: dict = field(default_factory=dict)


def run_diffusion_study(
    systems: dict[str, Structure],
    out: str | Path,
    settings: DiffusionStudySettings | None = None,
    study: str = "diffusion",
    title: str = "Li diffusion",
    notes: list[str] | None = None,
) -> dict:
    """NVT MD of every system at every temperature, MSD slopes, D and Arrhenius Ea.

    Trajectories ``md/<system>_<T>K.extxyz`` are continued when they exist (resume; a
    larger ``n_steps`` extends them). With ``pre_relax_steps`` > 0 each system is first
    relaxed (FIRE, fixed cell, fmax 0.1 eV/Å) so that packed boxes do not start with
    overlapping contacts (kept in ``structures/``).

    Every row says whether its MSD reached a diffusive regime (log–log slope 1, see
    :func:`ssbflow.analysis.diffusion.find_diffusive_range`); when it did not, D is the slope
    of a ballistic/caged MSD over the run, i.e. an estimate only, and an Arrhenius Ea built
    from such D is flagged (``from_diffusive_msd`` false) and stated as such in the report.
    ``notes`` (e.g. published values to compare with) are added to the report.
    """
    from ssbflow.analysis.arrhenius import fit_arrhenius, plot_arrhenius
    from ssbflow.analysis.diffusion import analyze_trajectory, plot_msd
    from ssbflow.io import write_structure
    from ssbflow.methods.md import run_nvt_md

    cfg = settings or DiffusionStudySettings()
    if not cfg.temperatures_K:
        raise InputError("temperatures: give at least one temperature (K)")
    if any(t <= 0 for t in cfg.temperatures_K):
        raise InputError("temperatures must be > 0 K")
    out = Path(out)
    (out / "md").mkdir(parents=True, exist_ok=True)
    (out / "structures").mkdir(exist_ok=True)
    t_start = time.perf_counter()
    rows: list[dict] = []
    system_rows: list[dict] = []
    fits: dict[str, Any] = {}
    fit_diffusive: dict[str, bool] = {}
    for label, structure in systems.items():
        write_structure(structure, out / "structures" / f"{label}.cif")
        elements = structure.composition.element_composition
        system_rows.append({
            "system": label, "formula": elements.formula.replace(" ", ""),
            "n_atoms": len(structure), f"n_{cfg.species}": int(elements[cfg.species]),
            "cell_a_A": structure.lattice.a, "cell_b_A": structure.lattice.b,
            "cell_c_A": structure.lattice.c, "volume_A3": structure.volume,
            "density_g_cm3": float(structure.density),
        })
        if cfg.pre_relax_steps > 0:
            from ssbflow.engines.mlip import energy_forces_calculator, mlip_calculator

            _, relaxed = relaxed_frame(structure,
                                       energy_forces_calculator(mlip_calculator(cfg.mlip_model)),
                                       out / "structures" / f"{label}_relaxed.extxyz",
                                       0.1, cfg.pre_relax_steps)
            structure = relaxed
        per_t = {}
        for temp in cfg.temperatures_K:
            traj = out / "md" / f"{label}_{temp:.0f}K.extxyz"
            summary = run_nvt_md(structure, traj, temp, cfg.n_steps, timestep_fs=cfg.timestep_fs,
                                 save_every=cfg.save_every, mlip_model=cfg.mlip_model,
                                 seed=cfg.seed)
            res = analyze_trajectory(traj, species=cfg.species)
            per_t[temp] = res
            rows.append({
                "system": label, "T_K": temp,
                "msd_slope_A2_per_ps": res.msd_slope_A2_per_ps,
                "msd_slope_stderr_A2_per_ps": res.msd_slope_stderr_A2_per_ps,
                "D_cm2_s": res.D_cm2_s, "D_stderr_cm2_s": res.D_stderr_cm2_s,
                "fit_start_ps": res.fit_range_ps[0], "fit_end_ps": res.fit_range_ps[1],
                "loglog_slope": res.loglog_slope,
                "late_loglog_slope": res.late_loglog_slope, "regime": res.regime,
                "diffusive": res.diffusive,
                "msd_fit_end_A2": float(np.interp(res.fit_range_ps[1], res.time_ps,
                                                  res.msd_A2)),
                "sigma_NE_mS_cm": res.sigma_mS_cm,
                "mean_T_K": summary.mean_temperature_K,
                "md_ps": summary.steps_done * cfg.timestep_fs / 1000.0,
                "wall_s_per_step": summary.wall_s_per_step,
            })
        plot_msd({f"{t:.0f} K": r for t, r in per_t.items()}, out / f"msd_{label}.png")
        temps = [t for t, r in per_t.items() if r.D_cm2_s > 0]
        if len(temps) >= 2:
            fits[label] = fit_arrhenius(temps, [per_t[t].D_cm2_s for t in temps], form="D",
                                        stderr=[per_t[t].D_stderr_cm2_s for t in temps])
            fit_diffusive[label] = all(per_t[t].diffusive for t in temps)
    arrhenius_rows = [{"system": k, "Ea_eV": f.Ea_eV, "Ea_stderr_eV": f.Ea_stderr_eV,
                       "D0_cm2_s": f.prefactor, "D_300K_cm2_s": f.predict(300.0),
                       "from_diffusive_msd": fit_diffusive[k]}
                      for k, f in fits.items()]
    if fits:
        plot_arrhenius(fits, out / "arrhenius.png")
    not_diffusive = [f"{r['system']} {r['T_K']:.0f} K ({r['regime']})" for r in rows
                     if not r["diffusive"]]
    if not_diffusive:
        verdict = (
            "**Not diffusive**: the MSD of " + ", ".join(not_diffusive) + " has no linear "
            "(log–log slope 1) regime within the run (see `loglog_slope`, `late_loglog_slope`). "
            "Those D are slopes of a non-diffusive MSD (estimates only, usually upper bounds "
            "of the caged motion) and an Ea fitted to them is not a diffusion activation "
            "energy. Longer MD (ns for Li+ in polymers) is needed for converged D and Ea."
        )
    else:
        verdict = "All MSDs reached a diffusive (linear) regime inside the fit windows."
    md = [f"# {title}", "",
          f"Engine: mlip ({cfg.mlip_model}), Langevin NVT, {cfg.n_steps} × {cfg.timestep_fs} fs "
          f"per temperature (frames every {cfg.save_every} steps); MSD slope in Å²/ps, "
          "D = slope/6.", "",
          _write_table(system_rows, out / "systems.csv", "Simulation cells"), "",
          _write_table(rows, out / "diffusion.csv", "MSD slopes and D"), "",
          verdict, "",
          _write_table(arrhenius_rows, out / "arrhenius.csv", "Arrhenius fits of D(T)"), ""]
    if notes:
        md += [*notes, ""]
    md += [f"![MSD {k}](msd_{k}.png)" for k in systems] + (
        ["![Arrhenius](arrhenius.png)"] if fits else [])
    (out / "report.md").write_text("\n".join(md) + "\n")
    doc = ({
        "study": study,
        "settings": asdict(cfg),
        "engine": engine_settings(cfg.mlip_model),
        "systems": system_rows,
        "diffusion": rows,
        "diffusive": not not_diffusive,
        "not_diffusive": not_diffusive,
        "arrhenius": arrhenius_rows,
        "files": {"report": str(out / "report.md"), "diffusion_csv": str(out / "diffusion.csv")},
        "wall_time_s": time.perf_counter() - t_start,
    })
    _write_json(out / "results.json", doc)
    return doc


def run_polymer_li_diffusion(out: str | Path, settings: DiffusionStudySettings | None = None,
                             n_chains: int = 4, n_units: int = 4, n_li: int = 4,
                             seed: int = 0) -> dict:
    """Li+ (LiFSI) in amorphous PVDF vs dehydrofluorinated PVDF boxes (same composition
    of salt, same packing settings). The NCM811 study reports Li+ MSD slopes of
    0.20e-3 (PVDF) and 1.23e-3 Å²/ps (dehydrofluorinated PVDF)."""
    from ssbflow.structures.polymer_packing import polymer_li_box

    systems = {kind: polymer_li_box(kind, n_chains=n_chains, n_units=n_units, n_li=n_li,
                                    seed=seed)
               for kind in ("pvdf", "dpvdf")}
    return run_diffusion_study(
        systems, out, settings, "polymer-li-diffusion",
        "Li+ diffusion in PVDF vs dehydrofluorinated PVDF",
        notes=["Published (NCM811 study, MD): Li+ MSD slope 0.20e-3 Å²/ps in PVDF and "
               "1.23e-3 Å²/ps in dehydrofluorinated PVDF (about 6x faster)."])


def run_llzo_li_diffusion(out: str | Path, settings: DiffusionStudySettings | None = None) -> dict:
    """Li diffusion in bulk tetragonal LLZO (192 atoms)."""
    from ssbflow.structures.garnet import llzo_tetragonal

    return run_diffusion_study({"llzo": llzo_tetragonal()}, out, settings,
                               "llzo-li-diffusion", "Li diffusion in tetragonal LLZO")
