"""Jobs of the Li diffusion studies: pre-relaxation of a box and the diffusion analysis.

The MD runs themselves are :func:`ssbflow.methods.md.nvt_md_job` (one job per system and
temperature, resumable from its trajectory). The analysis job reads their outputs (the
unwrapped frames come from the ``data`` store), never their folders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from jobflow import job
from pydantic import BaseModel, Field
from pymatgen.core import Structure

from ssbflow.errors import InputError
from ssbflow.methods.relax import relaxed_frame

#: Force criterion of the pre-relaxation (eV/Å): removes overlapping contacts of packed
#: boxes, not a converged minimum.
PRE_RELAX_FMAX_EV_PER_A = 0.1
#: Window (ps) of the short-window MSD slope, the kind of slope the NCM811 study's 1.23e-3
#: and 0.20e-3 Å²/ps look like (they are below the cage rattling of the first ps); reported
#: next to the long-window (diffusive-regime) slope and D.
SHORT_WINDOW_PS = (1.0, 10.0)


class DiffusionStudyResult(BaseModel):
    """Output of a diffusion study (``output_schema`` of its final job).

    ``msd_curves`` and ``structures`` go to the ``data`` store; the rest is small.
    """

    study: str = Field(description="Study name.")
    title: str = Field(description="Report title.")
    notes: list[str] = Field(default_factory=list, description="Extra report paragraphs.")
    settings: dict[str, Any] = Field(description="The study's options.")
    engine: dict[str, Any] = Field(description="Force field, versions and device.")
    systems: list[dict[str, Any]] = Field(
        description="One row per simulation cell (openmm: per cell and T, with its density).")
    diffusion: list[dict[str, Any]] = Field(
        description="One row per (system, T): MSD slope (Å²/ps), D (cm²/s), regime."
    )
    diffusive: bool = Field(description="True when every MSD reached a diffusive regime.")
    not_diffusive: list[str] = Field(description="'system T K (regime)' of the other runs.")
    arrhenius: list[dict[str, Any]] = Field(description="Arrhenius fit of D(T) per system.")
    arrhenius_fits: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Full fit of each system (for the plot)."
    )
    trajectories: dict[str, str] = Field(
        default_factory=dict, description="'system_TK' -> trajectory file of the MD job."
    )
    msd_curves: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="'system_TK' -> DiffusionResult with time_ps and msd_A2 (data store).",
    )
    coordination: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Li+ shells per (system, T) where the MD saved sites (openmm): system, "
        "T_K, pair, first peak and minimum, CN, free_fraction.",
    )
    rdf_curves: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="'system_TK' -> pair -> r_A, g, cn (data store).")
    structures: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="system -> {'initial': Structure dict, 'relaxed': dict or None} (data store).",
    )


def run_key(system: str, temperature_K: float) -> str:
    """The key of one MD run in the result (``pvdf_600K``)."""
    return f"{system}_{temperature_K:.0f}K"


@job(data="structure")
def pre_relax_job(structure: Structure, mlip_model: str, max_steps: int) -> dict[str, Any]:
    """Fixed-cell relaxation of a box before MD (FIRE, fmax 0.1 eV/Å, at most ``max_steps``).

    Writes ``relaxed.extxyz`` (with its energy) in the job folder.

    Returns
    -------
    dict
        ``structure`` (relaxed, data store) and ``energy_eV``.
    """
    from ssbflow.engines.mlip import energy_forces_calculator, mlip_calculator

    calc = energy_forces_calculator(mlip_calculator(mlip_model))
    energy_eV, atoms = relaxed_frame(structure, calc, Path("relaxed.extxyz"),
                                     PRE_RELAX_FMAX_EV_PER_A, max_steps)
    relaxed = Structure(atoms.cell.array, atoms.get_chemical_symbols(), atoms.positions,
                        coords_are_cartesian=True)
    return {"structure": relaxed, "energy_eV": energy_eV}


def _analyse_run(run: dict[str, Any], species: str) -> tuple[dict[str, Any], Any]:
    """Row of the diffusion table and the DiffusionResult of one MD job's output."""
    from ssbflow.analysis.diffusion import analyze_msd
    from ssbflow.analysis.msd import MIN_FRAMES

    md, label, temp = run["md"], run["system"], float(run["T_K"])
    frames = md.get("frames")
    if frames is None:
        raise InputError(f"MD {label} {temp:.0f} K: {md['n_frames']} frame(s) saved; an MSD "
                         f"fit needs at least {MIN_FRAMES} (raise n_steps / save_every)")
    if species not in frames["symbols"]:
        raise InputError(f"MD {label}: the cell has no {species} atoms (species={species!r})")
    res = analyze_msd(np.asarray(frames["positions_A"], dtype=float), frames["symbols"],
                      np.asarray(frames["time_ps"], dtype=float), species=species,
                      masses_amu=np.asarray(frames["masses_amu"], dtype=float),
                      temperature_K=frames["temperature_K"], volume_A3=frames["volume_A3"])
    row = {
        "system": label, "T_K": temp,
        "msd_slope_A2_per_ps": res.msd_slope_A2_per_ps,
        "msd_slope_stderr_A2_per_ps": res.msd_slope_stderr_A2_per_ps,
        "D_cm2_s": res.D_cm2_s, "D_stderr_cm2_s": res.D_stderr_cm2_s,
        "fit_start_ps": res.fit_range_ps[0], "fit_end_ps": res.fit_range_ps[1],
        "loglog_slope": res.loglog_slope,
        "late_loglog_slope": res.late_loglog_slope, "regime": res.regime,
        "diffusive": res.diffusive,
        "msd_fit_end_A2": float(np.interp(res.fit_range_ps[1], res.time_ps, res.msd_A2)),
        **_short_window(frames, species),
        "sigma_NE_mS_cm": res.sigma_mS_cm,
        "mean_T_K": md["mean_temperature_K"],
        "md_ps": md["steps_done"] * md["timestep_fs"] / 1000.0,
        "wall_s_per_step": md["wall_s_per_step"],
        # classical MD: production speed and how often the run was resumed from a checkpoint
        **{k: md[k] for k in ("ns_per_day", "resumes") if md.get(k) is not None},
    }
    return row, res


def _short_window(frames: dict[str, Any], species: str) -> dict[str, Any]:
    """MSD slope (Å²/ps, block standard error) over :data:`SHORT_WINDOW_PS`; ``None`` when
    the run is shorter than the window."""
    from ssbflow.analysis.diffusion import analyze_msd

    time_ps = np.asarray(frames["time_ps"], dtype=float)
    lo, hi = SHORT_WINDOW_PS
    out = {"short_window_ps": f"{lo:g}-{hi:g}", "short_slope_A2_per_ps": None,
           "short_slope_stderr_A2_per_ps": None}
    if time_ps.size < 2 or time_ps[-1] - time_ps[0] < hi or np.diff(time_ps[:2])[0] > lo:
        return out
    res = analyze_msd(np.asarray(frames["positions_A"], dtype=float), frames["symbols"],
                      time_ps, species=species,
                      masses_amu=np.asarray(frames["masses_amu"], dtype=float),
                      fit_range_ps=SHORT_WINDOW_PS)
    out.update(short_slope_A2_per_ps=res.msd_slope_A2_per_ps,
               short_slope_stderr_A2_per_ps=res.msd_slope_stderr_A2_per_ps)
    return out


@job(output_schema=DiffusionStudyResult, data=["msd_curves", "structures", "rdf_curves"])
def diffusion_analysis_job(
    runs: list[dict[str, Any]],
    systems: list[dict[str, Any]],
    structures: dict[str, dict[str, Any]],
    settings: dict[str, Any],
    study: str,
    title: str,
    notes: list[str] | None = None,
) -> DiffusionStudyResult:
    """MSD slopes, D, regimes of every MD run and the Arrhenius fit of D(T) per system.

    Every row says whether its MSD reached a diffusive regime (log–log slope 1, see
    :func:`ssbflow.analysis.diffusion.find_diffusive_range`); when it did not, D is the slope
    of a ballistic/caged MSD over the run, i.e. an estimate only, and an Arrhenius Ea built
    from such D is flagged (``from_diffusive_msd`` false).

    Parameters
    ----------
    runs : ``{"system", "T_K", "md"}`` per MD job, ``md`` being its output.
    systems : the table of simulation cells.
    structures : system -> ``{"initial": Structure, "relaxed": Structure or None}``.
    settings : the study's options, recorded with the result (and the force field's
        engine settings: model, versions, device, read where the job runs).
    study, title, notes : name, report title and extra report paragraphs.
    """
    from ssbflow.analysis.arrhenius import fit_arrhenius
    from ssbflow.methods.md import engine_settings

    species = settings.get("species", "Li")
    rows: list[dict[str, Any]] = []
    per_system: dict[str, dict[float, Any]] = {}
    msd_curves: dict[str, dict[str, Any]] = {}
    trajectories: dict[str, str] = {}
    coordination: list[dict[str, Any]] = []
    rdf_curves: dict[str, dict[str, Any]] = {}
    for run in runs:
        row, res = _analyse_run(run, species)
        rows.append(row)
        per_system.setdefault(row["system"], {})[row["T_K"]] = res
        key = run_key(row["system"], row["T_K"])
        msd_curves[key] = res.to_dict(include_msd=True)
        trajectories[key] = run["md"]["trajectory"]
        coord = run.get("coordination")
        if coord:
            rdf_curves[key] = coord["curves"]
            coordination += [{"system": row["system"], "T_K": row["T_K"], **r,
                              "free_fraction": coord["free_fraction"],
                              "wall_s_per_frame": coord["wall_s_per_frame"]}
                             for r in coord["rows"]]
    fits, arrhenius_rows = {}, []
    for label, per_t in per_system.items():
        temps = [t for t, r in per_t.items() if r.D_cm2_s > 0]
        # a D of a caged MSD is no diffusion coefficient: with two or more diffusive
        # temperatures only those are fitted (and extrapolated), else all, flagged
        diffusive = [t for t in temps if per_t[t].diffusive]
        temps = diffusive if len(diffusive) >= 2 else temps
        if len(temps) < 2:
            continue
        fit = fit_arrhenius(temps, [per_t[t].D_cm2_s for t in temps], form="D",
                            stderr=[per_t[t].D_stderr_cm2_s for t in temps])
        fits[label] = fit.to_dict()
        d_room = fit.predict(300.0)
        arrhenius_rows.append({"system": label, "Ea_eV": fit.Ea_eV,
                               "Ea_stderr_eV": fit.Ea_stderr_eV, "D0_cm2_s": fit.prefactor,
                               "D_300K_cm2_s": d_room,
                               "D_300K_stderr_cm2_s": d_room * fit.predict_stderr_rel(300.0),
                               "temperatures_K": sorted(temps),
                               "from_diffusive_msd": all(per_t[t].diffusive for t in temps)})
    not_diffusive = [f"{r['system']} {r['T_K']:.0f} K ({r['regime']})" for r in rows
                     if not r["diffusive"]]
    return DiffusionStudyResult(
        study=study, title=title, notes=list(notes or []), settings=settings,
        # an OpenMM run carries its own record (platform, protocol); MLIP runs do not
        engine=runs[0]["md"].get("engine") or engine_settings(settings["mlip_model"]),
        systems=systems, diffusion=rows, diffusive=not not_diffusive,
        not_diffusive=not_diffusive, arrhenius=arrhenius_rows, arrhenius_fits=fits,
        trajectories=trajectories, msd_curves=msd_curves, coordination=coordination,
        rdf_curves=rdf_curves,
        structures={k: {n: (s.as_dict() if isinstance(s, Structure) else s)
                        for n, s in v.items()} for k, v in structures.items()},
    )
