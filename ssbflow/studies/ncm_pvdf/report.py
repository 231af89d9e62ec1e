"""Result model and report folder of the ncm-pvdf study (written from the flow's output)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ssbflow.io import json_ready
from ssbflow.studies.comparison import add_source_comparison
from ssbflow.studies.dft_check import band_lines
from ssbflow.studies.ncm_pvdf.comparison import source_comparison

#: Report label -> system tag (job names, structure files).
SYSTEMS = {"bare": "bare", "PVDF": "pvdf", "dehydrofluorinated PVDF": "dpvdf"}


class NcmPvdfResult(BaseModel):
    """What the ncm-pvdf flow returns (the final job's ``output_schema``)."""

    study: str = "ncm-pvdf"
    settings: dict[str, Any] = Field(description="The study's options.")
    engine: dict[str, Any] = Field(description="Force field, versions, device.")
    hop: dict[str, Any] = Field(description="Li FROM -> vacancy at TO; moving index; length (Å).")
    barriers: list[dict[str, Any]] = Field(description="One row per system (eV).")
    binding: list[dict[str, Any]] = Field(description="Binding energy (eV), contacts (Å).")
    endpoints: dict[str, dict[str, Any]] = Field(description="Endpoint relaxation records.")
    neb: dict[str, dict[str, Any]] = Field(description="NebResult of each band, with fit.")
    structures: dict[str, Any] = Field(description="Bare vacancy-free slab and coated cells.")
    dft_check: dict[str, dict[str, Any]] | None = Field(None, description=(
        "With check_dft: ssbflow.methods.dft_check.band_dft_check per system."))




def convergence_note(rows: list[dict]) -> str:
    """Markdown lines on unconverged bands and minima inside a band."""
    def name(r: dict) -> str:
        return str(r["system"] if "system" in r else r.get("hop", "NEB"))

    bad = [name(r) for r in rows if not r.get("converged")]
    dips = [name(r) for r in rows if r.get("intermediate_minimum")]
    notes = ["All bands converged." if not bad else
             f"**Not converged: {', '.join(bad)}** — barriers are estimates; rerun with a "
             "larger --max-steps in a new --out."]
    if dips:
        notes.append(f"**Lower minimum inside the band: {', '.join(dips)}** — the endpoints "
                     "are not the minima of this path; relax the ion into that minimum and "
                     "recompute before quoting a barrier.")
    return "\n\n".join(notes)


def as_document(output: Any) -> dict[str, Any]:
    """The flow output (a result model, or its serialised form as the store returns it) as a
    plain dictionary whose structures are pymatgen objects."""
    from monty.json import MontyDecoder

    if isinstance(output, dict):
        output = MontyDecoder().process_decoded(output)
    if isinstance(output, BaseModel):
        return {k: getattr(output, k) for k in type(output).model_fields}
    return dict(output)


def write_report(output: NcmPvdfResult | dict, out_dir: Path,
                 timings_s: dict[str, float]) -> dict:
    """Write ``results.json``, ``report.md``, ``barriers.csv``, ``binding.csv``,
    ``neb_profiles.png`` and ``structures/`` (CIF and JSON per cell) into ``out_dir``.

    Returns
    -------
    dict
        The content of ``results.json``.
    """
    from ssbflow.analysis.neb import plot_profiles
    from ssbflow.io import write_json, write_structures, write_table
    from ssbflow.methods.neb import neb_result_from_dict

    out = Path(out_dir)
    doc = as_document(output)
    cfg, hop = doc["settings"], doc["hop"]
    write_structures(doc.pop("structures"), out / "structures")
    plot_profiles({label: neb_result_from_dict(res) for label, res in doc["neb"].items()},
                  out / "neb_profiles.png")
    wall = float(sum(timings_s.values()))
    md = ["# NCM811 Li vacancy hop under PVDF / dehydrofluorinated PVDF", "",
          f"Engine: mlip ({cfg['mlip_model']}); hop: Li {hop['from_index']} → vacancy at Li "
          f"{hop['to_index']} (subsurface, same indices in all three cells); endpoints relaxed "
          f"(BFGS, fmax {cfg['fmax_eV_per_A']} eV/Å), CI-NEB with {cfg['n_images']} moving "
          "images.", "",
          write_table(doc["barriers"], out / "barriers.csv", "CI-NEB barriers"), "",
          convergence_note(doc["barriers"]), "",
          write_table(doc["binding"], out / "binding.csv",
                      "Polymer–surface binding (E_AB − E_slab − E_polymer; negative binds; "
                      "slab with the hop's Li vacancy)"),
          "", "Published (NCM811 study, DFT): 1.51 eV bare, 1.10 eV under dehydrofluorinated "
          "PVDF.", "", *band_lines(doc.get("dft_check")),
          add_source_comparison(doc, source_comparison(doc)), "",
          f"Job time (sum over jobs, all calls): {wall:.0f} s.", "",
          "![profiles](neb_profiles.png)", ""]
    (out / "report.md").write_text("\n".join(md))
    doc["neb"] = {k: {f: v for f, v in res.items() if not f.startswith("fit_")}
                  for k, res in doc["neb"].items()}
    doc.update(files={"report": str(out / "report.md"),
                      "profiles_png": str(out / "neb_profiles.png"),
                      "barriers_csv": str(out / "barriers.csv")},
               wall_time_s=wall, timings_s=timings_s)
    doc = json_ready(doc)
    write_json(out / "results.json", doc)
    return doc


def summary_lines(doc: dict[str, Any]) -> list[str]:
    """One line per band and the report path."""
    lines = [f"{row.get('system', row.get('hop'))}: barrier {row['barrier_eV']:.3f} eV, "
             f"reaction {row['reaction_energy_eV']:+.3f} eV"
             + ("" if row.get("converged") else " (not converged)")
             for row in doc["barriers"]]
    for system, check in (doc.get("dft_check") or {}).items():
        lines.append(f"{system}: DFT barrier along the MLIP path {check['barrier_eV']:.3f} eV "
                     f"(MLIP {check['mlip_barrier_eV']:.3f}, DFT − MLIP "
                     f"{check['dft_minus_mlip_eV']:+.3f} eV; {check['cell']['kind']})")
    return [*lines, f"report: {doc['files']['report']}"]
