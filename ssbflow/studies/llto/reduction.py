"""LLTO reduction by Li (``ssbflow run llto-li``): Li insertion, O vacancies, Ti3+ evidence.

Quantities (all energies from one engine, every cell relaxed):

* Li insertion energy per inserted Li, vs bcc Li:
  E_ins = [E(LLTO + n Li) − E(LLTO) − n E(Li)] / n; as a voltage vs Li/Li⁺: V = −E_ins / e.
* O-vacancy formation energy with the O chemical potential of Li/Li2O equilibrium
  (μ_O = E(Li2O) − 2 E(Li), the most reducing condition Li metal can impose):
  E_f = E(LLTO − O) − E(LLTO) + μ_O.
* Ti3+ evidence: the force field's magnetic moment on Ti (CHGNet predicts site magmoms;
  Ti4+ is d0, ≈ 0 μB; Ti3+ is d1, ≈ 1 μB). Counted with a 0.5 μB threshold.

Defect cells keep the relaxed host cell (positions relaxed only): dilute-defect convention.

Flow: relax LLTO (cell + positions) → relax LLTO + Li and LLTO − O at the host cell; relax
bcc Li and Li2O → :class:`LltoReductionResult` (the final job's ``output_schema``); the
report folder is written from it by :func:`write_report`. ``--electronic cp2k|vasp`` adds
the spin-polarised DFT+U stage (:mod:`ssbflow.studies.llto.electronic`): its numbers are the
``dft`` section of the results and the Ti3+/O-vacancy claims are read from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from jobflow import Flow, OnMissing, job
from pydantic import (
    BaseModel,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)
from pymatgen.core import Structure

from ssbflow.analysis.defect_energies import (
    insertion_energy_eV_per_li,
    insertion_voltage_V,
    mu_o_li_li2o_eV,
    vacancy_formation_energy_eV,
)
from ssbflow.errors import InputError
from ssbflow.io import as_structure, write_json, write_table
from ssbflow.structures import limits
from ssbflow.studies.base import Study
from ssbflow.studies.committee import ModelOptions, without_committee_defaults
from ssbflow.studies.comparison import add_source_comparison
from ssbflow.studies.llto.comparison import reduction_source_comparison
from ssbflow.studies.llto.electronic import TI3_THRESHOLD_UB
from ssbflow.studies.llto.headline import reduction_headline

STUDY_NAME = "llto-li"


def ti_moments_uB(structure: Structure) -> list[float]:
    """Magnetic moments (μB) on the Ti sites (site property ``magmom``)."""
    magmoms = structure.site_properties.get("magmom")
    if magmoms is None:
        raise InputError("structure has no 'magmom' site property (engine gave no moments)")
    return [abs(float(m)) for site, m in zip(structure, magmoms, strict=True)
            if site.specie.symbol == "Ti"]


def count_ti3(structure: Structure, threshold_uB: float = TI3_THRESHOLD_UB) -> int | None:
    """Number of Ti with |m| >= ``threshold_uB`` (Ti3+, d1); ``None`` when the force
    field predicts no moments (SevenNet: energies and forces only)."""
    if structure.site_properties.get("magmom") is None:
        return None
    return sum(abs(m) >= threshold_uB for m in ti_moments_uB(structure))


def vacant_a_sites(structure: Structure, supercell: tuple[int, int, int]) -> list[np.ndarray]:
    """Fractional coordinates of the empty A sites of an LLTO cell (La-poor layer first)."""
    from ssbflow.structures.perovskites import llto_framework

    frame = llto_framework(supercell)
    occupied = [s.frac_coords for s in structure if s.specie.symbol in ("La", "Li")]
    vacant = []
    for site, layer in zip(frame, frame.site_properties["a_layer"], strict=True):
        if not layer:
            continue
        d = [structure.lattice.get_distance_and_image(site.frac_coords, f)[0] for f in occupied]
        if min(d) > 1.0:
            vacant.append((layer != "la-poor", site.frac_coords))
    return [f for _, f in sorted(vacant, key=lambda t: t[0])]


class LltoReductionResult(BaseModel):
    """Output of the llto-li flow (its final job's ``output_schema``)."""

    study: str = STUDY_NAME
    formula_host: str
    insertion_energy_eV_per_Li: float
    insertion_voltage_V: float
    o_vacancy_formation_energy_eV: float
    mu_o_eV: float
    ti3_host: int | None
    ti3_lithiated: int | None
    ti3_o_vacancy: int | None
    ti_moments_lithiated_uB: list[float]
    ti_moments_o_vacancy_uB: list[float]
    energies_eV: dict[str, float]
    settings: dict[str, Any]
    dft: dict[str, Any] | None = None
    dft_files: dict[str, Any] | None = None


class LltoLiOptions(ModelOptions):
    """Options of ``ssbflow run llto-li``."""

    supercell: tuple[int, int, int] = Field((3, 3, 1), description=(
        "LLTO supercell of the doubled perovskite cell."))
    fmax_eV_per_A: float = Field(0.05, gt=0, description="Relaxation force threshold (eV/Å).")
    max_steps: int = Field(300, ge=1, le=limits.MAX_OPT_STEPS,
                           description="Relaxation steps at most.")
    electronic: str = Field("none", description=(
        "Spin-polarised DFT+U stage after the force field: cp2k, vasp or none."))
    preset: str = Field("fast", description=(
        "DFT preset: fast (reduced Li1La5Ti8O24 cell, 2 cores) or production (the study's "
        "cell)."))
    u_ti: float = Field(4.2, ge=0, le=10, description=(
        "U_eff on Ti 3d (eV) of the DFT+U stage (4.2: Morgan & Watson, Surf. Sci. 601, "
        "5034 (2007))."), json_schema_extra={"cli": ["--u-ti"]})

    @field_validator("supercell")
    @classmethod
    def _bounded_supercell(cls, value: tuple[int, int, int]) -> tuple[int, int, int]:
        return limits.check_repeated_atoms(10, value, "llto")  # 10 sites per doubled cell

    @field_validator("electronic")
    @classmethod
    def _electronic(cls, value: str) -> str:
        if value not in ELECTRONIC_CHOICES:
            raise ValueError(f"--electronic {value!r}: expected one of "
                             f"{', '.join(ELECTRONIC_CHOICES)}")
        return value

    @field_validator("preset")
    @classmethod
    def _preset(cls, value: str) -> str:
        if value not in ("fast", "production"):
            raise ValueError(f"--preset {value!r}: expected fast or production")
        return value

    @model_serializer(mode="wrap")
    def _stored(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # without a DFT stage the stored options are those of runs made before it existed
        data = without_committee_defaults(handler(self))
        if data.get("electronic") == "none":
            for key in ("electronic", "preset", "u_ti"):
                data.pop(key, None)
        return data


#: Choices of ``--electronic``.
ELECTRONIC_CHOICES = ("none", "cp2k", "vasp")


def lithiated_cell(host: Structure, supercell: tuple[int, int, int]) -> Structure:
    """``host`` with one Li in its first empty A site (La-poor layer first)."""
    vacant = vacant_a_sites(host, supercell)
    if not vacant:
        raise InputError(f"supercell {tuple(supercell)}: LLTO cell has no empty A site for Li")
    cell = host.copy()
    if "magmom" in cell.site_properties:
        cell.remove_site_property("magmom")
    cell.append("Li", vacant[0])
    return cell


def o_vacancy_index(host: Structure) -> int:
    """Index of the O nearest the cell centre (the one :func:`o_vacancy_cell` removes)."""
    o_indices = [i for i, s in enumerate(host) if s.specie.symbol == "O"]
    centre = host.lattice.get_cartesian_coords([0.5, 0.5, 0.5])
    return min(o_indices, key=lambda i: np.linalg.norm(host[i].coords - centre))


def o_vacancy_cell(host: Structure) -> Structure:
    """``host`` without the O nearest the cell centre (shared by the two A layers' Ti
    octahedra)."""
    o_remove = o_vacancy_index(host)
    cell = host.copy()
    if "magmom" in cell.site_properties:
        cell.remove_site_property("magmom")
    cell.remove_sites([o_remove])
    return cell


def _relaxed(structure: Structure, relax_cell: bool, fmax_eV_per_A: float,
             max_steps: int, mlip_model: str = "CHGNet") -> dict[str, Any]:
    from ssbflow.methods.phases import relax_structure_mlip

    final, energy_eV = relax_structure_mlip(structure, relax_cell=relax_cell,
                                            fmax_eV_per_A=fmax_eV_per_A, max_steps=max_steps,
                                            model=mlip_model)
    return {"structure": final, "energy_eV": energy_eV}


@job
def relax_job(structure: Structure, relax_cell: bool, fmax_eV_per_A: float,
              max_steps: int, mlip_model: str = "CHGNet") -> dict[str, Any]:
    """Relax ``structure`` with the force field: ``{"structure", "energy_eV"}`` (site
    ``magmom`` kept on the structure where the model predicts moments)."""
    return _relaxed(structure, relax_cell, fmax_eV_per_A, max_steps, mlip_model)


@job
def relax_defect_job(host: Structure, defect: str, supercell: tuple[int, int, int],
                     fmax_eV_per_A: float, max_steps: int,
                     mlip_model: str = "CHGNet") -> dict[str, Any]:
    """Build the ``"li"`` (one inserted Li) or ``"o_vacancy"`` cell from the relaxed host
    and relax its positions at the host cell."""
    cell = lithiated_cell(host, supercell) if defect == "li" else o_vacancy_cell(host)
    return _relaxed(cell, False, fmax_eV_per_A, max_steps, mlip_model)


def _largest_moments(structure: Structure, n: int = 4) -> list[float]:
    if structure.site_properties.get("magmom") is None:
        return []
    return sorted(ti_moments_uB(structure), reverse=True)[:n]


@job(output_schema=LltoReductionResult, data="dft_files")
def reduction_result_job(host: dict, lithiated: dict, vacancy: dict, li: dict, li2o: dict,
                         settings: dict[str, Any], dft: dict[str, Any] | None = None
                         ) -> LltoReductionResult:
    """Insertion energy and voltage, O-vacancy formation energy, Ti3+ counts (and the DFT+U
    stage's summary when there is one; its files go to the ``data`` store)."""
    def structure(doc: dict) -> Structure:
        return as_structure(doc["structure"])

    host_s, lith_s, vac_s = structure(host), structure(lithiated), structure(vacancy)
    li_s, li2o_s = structure(li), structure(li2o)
    e_host, e_lith, e_vac = host["energy_eV"], lithiated["energy_eV"], vacancy["energy_eV"]
    e_li_atom = li["energy_eV"] / len(li_s)
    e_li2o_fu = li2o["energy_eV"] / li2o_s.composition.get_reduced_composition_and_factor()[1]
    e_ins = insertion_energy_eV_per_li(e_host, e_lith, e_li_atom, 1)
    mu_o = mu_o_li_li2o_eV(e_li_atom, e_li2o_fu)
    return LltoReductionResult(
        formula_host=host_s.composition.formula.replace(" ", ""),
        insertion_energy_eV_per_Li=e_ins,
        insertion_voltage_V=insertion_voltage_V(e_ins),
        o_vacancy_formation_energy_eV=vacancy_formation_energy_eV(e_vac, e_host, mu_o),
        mu_o_eV=mu_o,
        ti3_host=count_ti3(host_s),
        ti3_lithiated=count_ti3(lith_s),
        ti3_o_vacancy=count_ti3(vac_s),
        ti_moments_lithiated_uB=_largest_moments(lith_s),
        ti_moments_o_vacancy_uB=_largest_moments(vac_s),
        energies_eV={"llto": e_host, "llto+Li": e_lith, "llto-O": e_vac,
                     "Li (per atom)": e_li_atom, "Li2O (per f.u.)": e_li2o_fu},
        settings=settings,
        dft=None if dft is None else {k: v for k, v in dft.items() if k != "files"},
        dft_files=None if dft is None else dft.get("files"),
    )


def _dft_stage(options: LltoLiOptions, cells: dict[str, Any], li: Any, li2o: Any,
               opts: dict[str, Any]) -> tuple[list, Any]:
    """The DFT+U jobs (``fast``: on the force-field-relaxed reduced cell; ``production``:
    on the study's cells) and the summary job; returns (jobs, summary output)."""
    from ssbflow.studies.llto.dft_summary import dft_summary_job
    from ssbflow.studies.llto.electronic import (
        BREATHING_SCAN_A,
        REDUCED_SUPERCELL,
        make_dft_stage,
        reduced_llto_cell,
    )

    jobs: list = []
    reduced = options.preset == "fast"
    if reduced:
        host = relax_job(reduced_llto_cell(), True, **opts)
        host.name = "relax reduced llto"
        lith = relax_defect_job(host.output["structure"], "li", REDUCED_SUPERCELL, **opts)
        lith.name = "relax reduced llto+Li"
        vac = relax_defect_job(host.output["structure"], "o_vacancy", REDUCED_SUPERCELL, **opts)
        vac.name = "relax reduced llto-O"
        jobs += [host, lith, vac]
        cells = {"host": host.output, "li": lith.output, "o_vacancy": vac.output}
    stage_jobs, runs = make_dft_stage(cells, li, li2o, options.electronic, options.preset,
                                      options.u_ti)
    settings = {"engine": options.electronic, "preset": options.preset,
                "u_ti_eV": options.u_ti, "reduced_cell": reduced,
                "u_reference": "U_eff on Ti 3d, Morgan & Watson, Surf. Sci. 601, 5034 (2007)",
                "ti3_threshold_uB": TI3_THRESHOLD_UB,
                "starts": "localised (1 μB on the Ti nearest the Li / the two Ti next to the "
                          "vacancy, the O around those Ti pushed out by each breathing "
                          "amplitude) and delocalised (force-field geometry, no initial "
                          "moment); single points, lowest energy kept",
                "breathing_scan_A": list(BREATHING_SCAN_A)}
    summary = dft_summary_job(runs, settings)
    # a failed run reaches the summary as None (the later amplitudes after a failed first
    # one under a manager that goes on, e.g. jobflow-remote): the others still count
    summary.config.on_missing_references = OnMissing.NONE
    summary.name = "dft+u summary"
    return [*jobs, *stage_jobs, summary], summary.output


def make_llto_li_flow(options: LltoLiOptions) -> Flow:
    """Relax LLTO, LLTO + Li (one Li in an empty A site), LLTO − O, Li and Li2O (force field
    ``options.mlip_model``)."""
    from ssbflow.methods.phases import mlip_settings
    from ssbflow.structures.perovskites import llto
    from ssbflow.structures.phases import phase

    supercell = tuple(options.supercell)
    opts = {"fmax_eV_per_A": options.fmax_eV_per_A, "max_steps": options.max_steps,
            "mlip_model": options.mlip_model}
    host0 = llto(supercell)
    host0.remove_oxidation_states()
    host = relax_job(host0, True, **opts)
    host.name = "relax llto"
    lith = relax_defect_job(host.output["structure"], "li", supercell, **opts)
    lith.name = "relax llto+Li"
    vac = relax_defect_job(host.output["structure"], "o_vacancy", supercell, **opts)
    vac.name = "relax llto-O"
    li = relax_job(phase("li"), True, **opts)
    li.name = "relax li"
    li2o = relax_job(phase("li2o"), True, **opts)
    li2o.name = "relax li2o"
    settings = {**mlip_settings(options.mlip_model, options.fmax_eV_per_A, options.max_steps),
                "supercell": list(supercell),
                "defect_cells": "host cell fixed, positions relaxed"}
    jobs = [host, lith, vac, li, li2o]
    dft = None
    if options.electronic != "none":
        stage_jobs, dft = _dft_stage(options, {"host": host.output, "li": lith.output,
                                               "o_vacancy": vac.output}, li.output,
                                     li2o.output, opts)
        jobs += stage_jobs
    final = reduction_result_job(host.output, lith.output, vac.output, li.output, li2o.output,
                                 settings, **({} if dft is None else {"dft": dft}))
    final.name = "llto reduction"
    return Flow([*jobs, final], output=final.output, name=STUDY_NAME)


def write_report(output: Any, out_dir: str | Path, timings_s: dict[str, float]) -> dict:
    """``results.json``, ``llto_li.json``, ``report.md`` (= ``llto_li.md``) and
    ``llto_li.csv`` in ``out_dir``; returns the results document."""
    result = (output if isinstance(output, LltoReductionResult)
              else LltoReductionResult.model_validate(output))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    doc = result.model_dump(mode="json")
    dft_files = doc.pop("dft_files", None)
    if doc.get("dft") is None:
        doc.pop("dft", None)  # results of a force-field-only run as before the DFT stage
    moments_li = ", ".join(f"{m:.2f}" for m in result.ti_moments_lithiated_uB)
    moments_vac = ", ".join(f"{m:.2f}" for m in result.ti_moments_o_vacancy_uB)
    rows = [
        {"quantity": "Li insertion energy (eV/Li, vs bcc Li)",
         "value": f"{result.insertion_energy_eV_per_Li:.3f}"},
        {"quantity": "insertion voltage (V vs Li/Li+)",
         "value": f"{result.insertion_voltage_V:.3f}"},
        {"quantity": "μ_O at Li/Li2O (eV)", "value": f"{result.mu_o_eV:.3f}"},
        {"quantity": "O-vacancy formation energy at Li/Li2O (eV)",
         "value": f"{result.o_vacancy_formation_energy_eV:.3f}"},
        {"quantity": "Ti with |m| ≥ 0.5 μB: host / +Li / −O",
         "value": f"{result.ti3_host} / {result.ti3_lithiated} / {result.ti3_o_vacancy}"},
        {"quantity": "largest Ti moments +Li (μB)", "value": moments_li},
        {"quantity": "largest Ti moments −O (μB)", "value": moments_vac},
    ]
    table = write_table(rows, out / "llto_li.csv")
    lines = [
        "# LLTO reduction by Li metal (MLIP)", "",
        f"Host: {result.formula_host} (relaxed cell); defect cells at the host cell.", "",
        table,
        "A positive voltage means Li metal inserts spontaneously (reduces Ti4+ to Ti3+); a "
        "negative vacancy formation energy means Li metal pulls O out of LLTO.",
    ]
    if result.ti3_lithiated is None:
        lines += ["", f"{result.settings.get('mlip_model')} predicts no magnetic moments: Ti3+ "
                  "is not counted (CHGNet predicts site moments; DFT+U is the test)."]
    elif result.ti3_lithiated == 0 and result.ti3_o_vacancy == 0:
        lines += ["", "No Ti carries a moment of 0.5 μB or more: the force field spreads the added "
                  "electrons instead of localising Ti3+; magnetic or Bader/Mulliken evidence of "
                  "Ti3+ needs spin-polarised DFT(+U)."]
    dft_written = []
    if doc.get("dft") is not None:
        from ssbflow.studies.llto.dft_summary import report_lines, write_dft_files

        lines += ["", *report_lines(doc["dft"])]
        dft_written = write_dft_files({"files": dft_files or {}}, out)
    comparison = add_source_comparison(doc, reduction_source_comparison(doc))
    text = "\n".join([*lines, "", comparison])
    files = [write_json(out / "llto_li.json", doc), out / "llto_li.csv", *dft_written]
    for name in ("llto_li.md", "report.md"):
        (out / name).write_text(text)
        files.append(out / name)
    results = {**doc, "files": [str(f) for f in files], "timings_s": dict(timings_s)}
    write_json(out / "results.json", results)
    return results


def summary_lines(results: dict[str, Any]) -> list[str]:
    """What ``ssbflow run llto-li`` prints."""
    return [f"LLTO {results['formula_host']}: Li insertion "
            f"{results['insertion_energy_eV_per_Li']:.3f} eV/Li "
            f"({results['insertion_voltage_V']:.3f} V vs Li/Li+); O vacancy at Li/Li2O "
            f"{results['o_vacancy_formation_energy_eV']:.3f} eV; Ti3+ (|m| ≥ 0.5 μB) host/+Li/−O: "
            f"{results['ti3_host']}/{results['ti3_lithiated']}/{results['ti3_o_vacancy']}",
            "files: " + ", ".join(results["files"])]


def check_llto_li(options: LltoLiOptions) -> None:
    """Refuse a local run whose DFT engine (CP2K) is missing here."""
    if options.electronic == "cp2k":
        from ssbflow.engines import get_engine

        get_engine("cp2k", preset=options.preset).check_available()


STUDY = Study(
    name=STUDY_NAME,
    help="LLTO reduction by Li (MLIP): Li insertion energy and voltage, O-vacancy formation "
         "energy at Li/Li2O, Ti magnetic moments as Ti3+ evidence.",
    options=LltoLiOptions,
    make_flow=make_llto_li_flow,
    write_report=write_report,
    summary_lines=summary_lines,
    headline=reduction_headline,
    check=check_llto_li,
)
