"""Report folder of the Li diffusion studies, written from the flow's output (the store).

``results.json``, ``report.md``, ``systems.csv``, ``diffusion.csv``, ``arrhenius.csv``,
``msd_<system>.png``, ``arrhenius.png`` and ``structures/<system>.cif`` (plus
``<system>_relaxed.extxyz`` when the boxes were pre-relaxed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ssbflow.analysis.diffusion import DiffusionResult
from ssbflow.io import as_structure, write_json, write_structure, write_table
from ssbflow.studies.comparison import add_source_comparison
from ssbflow.studies.li_diffusion.comparison import (
    COMPARED_STUDIES,
    d_ratios,
    source_comparison,
)
from ssbflow.studies.li_diffusion.jobs import DiffusionStudyResult, run_key


def _arrhenius_fit(doc: dict[str, Any]) -> Any:
    """An :class:`~ssbflow.analysis.arrhenius.ArrheniusFit` back from its stored dict."""
    from ssbflow.analysis.arrhenius import ArrheniusFit

    values = {k: (np.nan if v is None else v) for k, v in doc.items()
              if k in ArrheniusFit.__dataclass_fields__}
    values["temperatures_K"] = tuple(doc["temperatures_K"])
    values["values"] = tuple(doc["values"])
    return ArrheniusFit(**values)


def _verdict(not_diffusive: list[str]) -> str:
    if not not_diffusive:
        return "All MSDs reached a diffusive (linear) regime inside the fit windows."
    return (
        "**Not diffusive**: the MSD of " + ", ".join(not_diffusive) + " has no linear "
        "(log–log slope 1) regime within the run (see `loglog_slope`, `late_loglog_slope`). "
        "Those D are slopes of a non-diffusive MSD (estimates only, usually upper bounds "
        "of the caged motion) and an Ea fitted to them is not a diffusion activation "
        "energy. Longer MD (ns for Li+ in polymers) is needed for converged D and Ea."
    )


def _ratio_line(r: dict[str, Any]) -> str:
    def pm(value: Any, err: Any) -> str:
        if value is None:
            return "–"
        return f"{value:.3g}" + ("" if err is None else f" ± {err:.2g}")

    per_t = "; ".join(f"{x['T_K']:.0f} K {pm(x['D_ratio'], x['D_ratio_stderr'])} "
                      f"({'diffusive' if x['diffusive'] else 'not diffusive'} MSDs)"
                      for x in r.get("per_T", []))
    return (f"D(dPVDF)/D(PVDF): {per_t}. At {r['T_K']:.0f} K the short-window "
            f"({r['short_window_ps']} ps) slope ratio "
            f"{pm(r['short_slope_ratio'], r['short_slope_ratio_stderr'])}, slopes "
            f"{pm(r['short_slope_pvdf_A2_per_ps'], None)} (PVDF) and "
            f"{pm(r['short_slope_dpvdf_A2_per_ps'], None)} Å²/ps (dPVDF) vs the study's "
            "0.20e-3 and 1.23e-3 Å²/ps (standard errors from ion-group blocks).")


def write_diffusion_report(
    output: DiffusionStudyResult | dict[str, Any], out: Path, timings_s: dict[str, float]
) -> dict[str, Any]:
    """Write the report folder ``out`` from the analysis job's output.

    Parameters
    ----------
    output : the flow's output (loaded from the store with its ``data`` arrays).
    out : report folder.
    timings_s : wall time of each job (s), accumulated over resumes.

    Returns
    -------
    dict
        The results document (also ``out/results.json``).
    """
    from ssbflow.analysis.arrhenius import plot_arrhenius
    from ssbflow.analysis.diffusion import plot_msd

    res = DiffusionStudyResult.model_validate(output)
    out = Path(out)
    (out / "structures").mkdir(parents=True, exist_ok=True)
    for label, pair in res.structures.items():
        write_structure(as_structure(pair["initial"]), out / "structures" / f"{label}.cif")
        if pair.get("relaxed"):
            write_structure(as_structure(pair["relaxed"]),
                            out / "structures" / f"{label}_relaxed.extxyz")
    labels = list(dict.fromkeys(row["system"] for row in res.systems))  # openmm: one per T
    for label in labels:
        curves = {f"{r['T_K']:.0f} K":
                  DiffusionResult.from_dict(res.msd_curves[run_key(label, r["T_K"])])
                  for r in res.diffusion if r["system"] == label}
        plot_msd(curves, out / f"msd_{label}.png")
    if res.arrhenius_fits:
        points = {k: [(r["T_K"], r["D_cm2_s"], r.get("D_stderr_cm2_s"))
                      for r in res.diffusion if r["system"] == k] for k in res.arrhenius_fits}
        plot_arrhenius({k: _arrhenius_fit(v) for k, v in res.arrhenius_fits.items()},
                       out / "arrhenius.png", data=points)
    settings = res.settings
    if settings.get("engine", "mlip") == "openmm":
        engine_line = (f"Engine: openmm (GAFF2, platform {res.engine.get('platform')}), "
                       f"{settings['production_ns']} ns NVT per temperature after anneal and "
                       f"NPT (frames every {settings['frame_ps']} ps); MSD slope in Å²/ps, "
                       "D = slope/6.")
    else:
        engine_line = (f"Engine: mlip ({settings['mlip_model']}), Langevin NVT, "
                       f"{settings['n_steps']} × {settings['timestep_fs']} fs per temperature "
                       f"(frames every {settings['save_every']} steps); MSD slope in Å²/ps, "
                       "D = slope/6.")
    md = [f"# {res.title}", "", engine_line, "",
          write_table(res.systems, out / "systems.csv", "Simulation cells"), "",
          write_table(res.diffusion, out / "diffusion.csv", "MSD slopes and D"), "",
          _verdict(res.not_diffusive), "",
          write_table(res.arrhenius, out / "arrhenius.csv", "Arrhenius fits of D(T)"), ""]
    if res.coordination:
        from ssbflow.analysis.coordination import write_coordination

        for r in res.diffusion:
            key = run_key(r["system"], r["T_K"])
            rows = [c for c in res.coordination
                    if run_key(c["system"], c["T_K"]) == key]
            if rows:
                coord = {"rows": rows, "n_frames": rows[0]["n_frames"],
                         "n_li": rows[0]["n_centres"], "free_fraction": rows[0]["free_fraction"]}
                md += [write_coordination(coord, res.rdf_curves[key], out, f"_{key}"), ""]
    if res.notes:
        md += [*res.notes, ""]
    md += [f"![MSD {k}](msd_{k}.png)" for k in labels]
    md += ["![Arrhenius](arrhenius.png)"] if res.arrhenius_fits else []
    doc = {
        "study": res.study,
        "settings": settings,
        "engine": res.engine,
        "systems": res.systems,
        "diffusion": res.diffusion,
        "diffusive": res.diffusive,
        "not_diffusive": res.not_diffusive,
        "arrhenius": res.arrhenius,
        "coordination": res.coordination,
        "files": {"report": str(out / "report.md"), "diffusion_csv": str(out / "diffusion.csv"),
                  "trajectories": res.trajectories},
        "job_times_s": dict(timings_s),
        "wall_time_s": float(sum(timings_s.values())),
    }
    ratios = d_ratios(doc) if res.study == "polymer-li-diffusion" else None
    if ratios:
        doc["d_ratio"] = ratios
        md += ["", _ratio_line(ratios)]
    if res.study in COMPARED_STUDIES:
        md += ["", add_source_comparison(doc, source_comparison(doc))]
    (out / "report.md").write_text("\n".join(md) + "\n")
    write_json(out / "results.json", doc)
    return doc


def summary_lines(doc: dict[str, Any]) -> list[str]:
    """What ``ssbflow run`` prints: MSD slope and D per run, Ea per system, the verdict and
    the report's path."""

    def num(value: Any, fmt: str) -> str:
        return "–" if value is None or not np.isfinite(value) else format(value, fmt)

    lines = [f"{doc['study']}: system, T (K), MSD slope (Å²/ps), D ± stderr (cm²/s), diffusive"]
    for row in doc.get("diffusion", []):
        lines.append(f"  {row['system']:>6} {row['T_K']:6.0f} "
                     f"{num(row['msd_slope_A2_per_ps'], '.4g'):>10} "
                     f"{num(row['D_cm2_s'], '.3e')} ± {num(row['D_stderr_cm2_s'], '.1e')} "
                     f"{row['diffusive']}")
    for row in doc.get("arrhenius", []):
        err = row.get("Ea_stderr_eV")
        finite = err is not None and np.isfinite(err)
        lines.append(f"{row['system']}: Ea = {row['Ea_eV']:.3f} eV"
                     + (f" ± {err:.3f}" if finite else "")
                     + ("" if row.get("from_diffusive_msd", True)
                        else " (from non-diffusive MSDs: estimate only)"))
    if doc.get("not_diffusive"):
        lines.append("not diffusive (ballistic/caged MSD, D is an estimate only): "
                     + ", ".join(doc["not_diffusive"]))
    lines.append(f"report: {doc['files']['report']}")
    return lines
