"""The source study side by side: claim rows computed from results documents shaped like each
study's (keys taken from its report writer), and an input flipped flips ``agrees``.

No engine runs: the documents are built here, with the numbers measured on this machine where
the README gives them (CHGNet; the hand-read Hirshfeld charges and work functions of the
README main job's CP2K outputs quoted in issue #13).
"""

from __future__ import annotations

import copy
import json
import math

import pytest
from pydantic import ValidationError
from pymatgen.core import Lattice, Structure

from ssbflow.studies import registry
from ssbflow.studies.comparison import ClaimRow, comparison_markdown, rows_as_dicts
from ssbflow.studies.electrolyte_md.comparison import source_comparison as electrolyte_rows
from ssbflow.studies.inn_li.comparison import source_comparison as inn_li_rows
from ssbflow.studies.li_diffusion.comparison import source_comparison as diffusion_rows
from ssbflow.studies.llto.comparison import source_comparison as llto_rows
from ssbflow.studies.ncm_pvdf.comparison import source_comparison as ncm_rows
from ssbflow.studies.sn_llzo.comparison import source_comparison as sn_rows

#: Each registered study's comparison; screening reproduces no source study.
COMPARISONS = {
    "sn-llzo": sn_rows, "ncm-pvdf": ncm_rows, "llto-li-migration": llto_rows,
    "polymer-li-diffusion": diffusion_rows, "llzo-li-diffusion": diffusion_rows,
    "inn-li": inn_li_rows, "llto-li": llto_rows, "electrolyte-md": electrolyte_rows,
}


def _row(rows: list[ClaimRow], start: str) -> ClaimRow:
    (row,) = [r for r in rows if r.claim.startswith(start)]
    return row


# --------------------------------------------------------------------------------------------
# sn-llzo
# --------------------------------------------------------------------------------------------
SN = {
    "study": "sn-llzo",
    "adsorption_energy_eV": -1.2,
    "site_scan": [
        {"site": 40, "site_species": "La", "orientation": "upright",
         "adsorption_energy_eV": -1.2, "anchor_site_distance_A": 2.66},
        {"site": 41, "site_species": "La", "orientation": "flat",
         "adsorption_energy_eV": -0.8, "anchor_site_distance_A": 2.9},
    ],
    # Hirshfeld of the README main job (issue #13): La +0.69 -> +0.50 e, N -0.18 -> -0.12 e
    "charges": {
        "hirshfeld": [
            {"index": 40, "element": "La", "charge_e": 0.50, "reference_charge_e": 0.69,
             "change_e": -0.19},
            {"index": 97, "element": "N", "charge_e": -0.12, "reference_charge_e": -0.18,
             "change_e": 0.06},
        ],
    },
    "work_function_slab_eV": 2.31,
    "molecule_vacuum_minus_homo_eV": 7.9,
    "electronic": {"work_function_slab": {"work_function_eV": 2.31,
                                          "work_function_top_eV": 2.31,
                                          "work_function_bottom_eV": 2.73}},
}


def test_sn_rows_from_the_readme_main_job() -> None:
    rows = sn_rows(SN)
    coord = _row(rows, "nitrile N coordinates")
    assert coord.agrees is True and coord.ssbflow_value == pytest.approx(2.66)
    la = _row(rows, "La loses electrons")
    n = _row(rows, "N gains electrons")
    # the Hirshfeld changes have the opposite signs to the study's words (donation N -> La)
    assert (la.ssbflow_value, la.agrees) == (pytest.approx(-0.19), False)
    assert (n.ssbflow_value, n.agrees) == (pytest.approx(0.06), False)
    assert "hirshfeld" in la.claim and "CDD" in la.why
    wf = _row(rows, "SN has a lower work function")
    assert wf.ssbflow_value == pytest.approx(7.9 - 2.31) and wf.agrees is False
    assert "HOMO" in wf.why and "E(Fermi)" in wf.why
    delta = _row(rows, "SN lowers the work function")
    assert delta.agrees is None and "not computed" in delta.why


def test_sn_flipped_inputs_flip_agrees() -> None:
    doc = copy.deepcopy(SN)
    la, n = doc["charges"]["hirshfeld"]
    la["change_e"], n["change_e"] = 0.19, -0.06
    doc["molecule_vacuum_minus_homo_eV"] = 1.0
    # work function of AB from its Hartree potential (hand-read in issue #13: 1.33 / 2.75 eV)
    doc["electronic"]["work_function_ab"] = {"work_function_eV": 1.33,
                                             "work_function_top_eV": 1.33,
                                             "work_function_bottom_eV": 2.75}
    doc["site_scan"][0]["anchor_site_distance_A"] = 3.6  # not bonded
    rows = sn_rows(doc)
    assert _row(rows, "La loses electrons").agrees is True
    assert _row(rows, "N gains electrons").agrees is True
    assert _row(rows, "SN has a lower work function").agrees is True
    delta = _row(rows, "SN lowers the work function")
    assert delta.ssbflow_value == pytest.approx(1.33 - 2.31) and delta.agrees is True
    assert "far face: Φ(AB) 2.75 eV vs 2.73 eV" in delta.why
    assert _row(rows, "nitrile N coordinates").agrees is False


def test_sn_without_electronic_stage_says_not_computed() -> None:
    doc = {**SN, "charges": {}, "work_function_slab_eV": None,
           "molecule_vacuum_minus_homo_eV": None, "electronic": {}}
    rows = sn_rows(doc)
    assert [r.agrees for r in rows[1:]] == [None] * 4
    assert all("not computed" in r.why for r in rows[1:])
    # VASP: the stage leaves a note instead of charges
    vasp = sn_rows({**doc, "charges": {"note": "charges for VASP need Bader"}})
    assert "Bader" in _row(vasp, "La loses").why


# --------------------------------------------------------------------------------------------
# ncm-pvdf (README run, CHGNet)
# --------------------------------------------------------------------------------------------
NCM = {
    "study": "ncm-pvdf",
    "settings": {"thickness_A": 6.0, "n_images": 1, "mlip_model": "CHGNet"},
    "hop": {"from_index": 10, "to_index": 12, "moving_index": 10, "hop_length_A": 2.62},
    "barriers": [
        {"system": "bare", "barrier_eV": 0.362, "converged": True, "intermediate_minimum": False},
        {"system": "PVDF", "barrier_eV": 0.343, "converged": True, "intermediate_minimum": False},
        {"system": "dehydrofluorinated PVDF", "barrier_eV": 0.338, "converged": True,
         "intermediate_minimum": False},
    ],
    "binding": [{"system": "PVDF", "binding_energy_eV": -1.17, "closest_C_O_A": 3.48},
                {"system": "dehydrofluorinated PVDF", "binding_energy_eV": -1.03,
                 "closest_C_O_A": 3.01}],
}


def test_ncm_rows_from_the_readme_run() -> None:
    rows = ncm_rows(NCM)
    assert [r.agrees for r in rows] == [False, False, False, False]
    bare = _row(rows, "Li barrier in NCM811, bare")
    assert (bare.source_value, bare.ssbflow_value) == (1.51, 0.362)
    assert "surface hop in a thin slab" in bare.why
    lowering = _row(rows, "dehydrofluorinated PVDF lowers")
    assert lowering.source_value == pytest.approx(-0.41)
    assert lowering.ssbflow_value == pytest.approx(0.338 - 0.362)
    assert _row(rows, "a C–O bond").ssbflow_value == pytest.approx(3.01)


def test_ncm_flipped_inputs_flip_agrees() -> None:
    doc = copy.deepcopy(NCM)
    doc["barriers"][0]["barrier_eV"] = 1.45
    doc["barriers"][2]["barrier_eV"] = 1.15
    doc["binding"][1]["closest_C_O_A"] = 1.42
    assert [r.agrees for r in ncm_rows(doc)] == [True, True, True, True]
    # barrier ordering reversed: no lowering
    doc["barriers"][0]["barrier_eV"], doc["barriers"][2]["barrier_eV"] = 1.15, 1.45
    assert _row(ncm_rows(doc), "dehydrofluorinated PVDF lowers").agrees is False
    doc["barriers"][2]["converged"] = False
    assert "not converged" in _row(ncm_rows(doc), "Li barrier in NCM811, under").why
    missing = ncm_rows({**doc, "barriers": doc["barriers"][:2]})
    assert _row(missing, "Li barrier in NCM811, under").agrees is None
    assert _row(missing, "dehydrofluorinated PVDF lowers").agrees is None


# --------------------------------------------------------------------------------------------
# llto-li-migration and llto-li
# --------------------------------------------------------------------------------------------
LLTO_NEB = {
    "study": "llto-li-migration",
    "settings": {"supercell": [3, 3, 1], "n_images": 3},
    "barriers": [{"hop": "to_empty", "barrier_eV": 0.095, "reverse_barrier_eV": 0.0,
                  "reaction_energy_eV": 0.095, "converged": True,
                  "images_above_lower_endpoint": True, "saddle_above_both_ends": False,
                  "intermediate_minimum": False, "hop_length_A": 2.1}],
}


def test_llto_migration_monotonic_band_is_no_barrier_and_a_saddle_is_compared() -> None:
    rows = llto_rows(LLTO_NEB)  # README run: monotonic rise of 0.095 eV
    assert [r.agrees for r in rows] == [None, None]
    assert rows[0].ssbflow_value == pytest.approx(0.095) and "site energy" in rows[0].why
    doc = copy.deepcopy(LLTO_NEB)
    doc["barriers"][0].update(saddle_above_both_ends=True, reverse_barrier_eV=0.3,
                              barrier_eV=0.35)
    rows = llto_rows(doc)
    assert [r.source_value for r in rows] == [0.3, 0.42]
    assert [r.agrees for r in rows] == [True, True]
    doc["barriers"][0]["barrier_eV"] = 0.095
    assert [r.agrees for r in llto_rows(doc)] == [False, False]


LLTO_LI = {
    "study": "llto-li", "formula_host": "Li6La10Ti18O54",
    "insertion_energy_eV_per_Li": -1.2, "insertion_voltage_V": 1.2,
    "o_vacancy_formation_energy_eV": 0.8, "mu_o_eV": -14.3,
    "ti3_host": 0, "ti3_lithiated": 0, "ti3_o_vacancy": 0,
}


def test_llto_li_rows_and_flips() -> None:
    rows = llto_rows(LLTO_LI)
    assert _row(rows, "Li reduces Ti4+").agrees is False
    assert _row(rows, "Li metal makes O vacancies").agrees is False
    assert _row(rows, "Li metal reduces LLTO").agrees is True
    assert _row(rows, "Li self-diffusion").agrees is None
    assert _row(rows, "LLTO bulk Ea").agrees is None
    flipped = llto_rows({**LLTO_LI, "ti3_lithiated": 1, "o_vacancy_formation_energy_eV": -0.4,
                         "insertion_voltage_V": -0.2})
    assert _row(flipped, "Li reduces Ti4+").ssbflow_value == "1 (+Li) / 0 (−O)"
    assert "| yes |" in comparison_markdown(flipped)  # no stray "|" in the cells
    assert [_row(flipped, k).agrees for k in ("Li reduces Ti4+", "Li metal makes O",
                                              "Li metal reduces LLTO")] == [True, True, False]
    with pytest.raises(ValueError, match="llto-li"):
        llto_rows({"study": "sn-llzo"})


# --------------------------------------------------------------------------------------------
# polymer-li-diffusion and llzo-li-diffusion
# --------------------------------------------------------------------------------------------
def _run(system: str, t_K: float, slope: float, diffusive: bool) -> dict:
    return {"system": system, "T_K": t_K, "msd_slope_A2_per_ps": slope,
            "D_cm2_s": slope / 6 * 1e-4, "diffusive": diffusive}


def _polymer(diffusive: bool, slope_dpvdf: float = 6.0) -> dict:
    # D(300 K) of the study's slopes: 0.20e-3 / 6 / 1e4 cm²/s (PVDF), 1.23e-3 / 6 / 1e4
    return {
        "study": "polymer-li-diffusion", "settings": {"temperatures_K": [600.0, 1000.0]},
        "diffusion": [_run("pvdf", 1000.0, 3.0, diffusive), _run("pvdf", 600.0, 1.0, diffusive),
                      _run("dpvdf", 600.0, slope_dpvdf, diffusive),
                      _run("dpvdf", 1000.0, 9.0, diffusive)],
        "arrhenius": [{"system": "pvdf", "Ea_eV": 0.3, "D_300K_cm2_s": 0.20e-3 / 6e4,
                       "from_diffusive_msd": diffusive},
                      {"system": "dpvdf", "Ea_eV": 0.2, "D_300K_cm2_s": 1.23e-3 / 6e4,
                       "from_diffusive_msd": diffusive}],
    }


def test_polymer_rows_compare_the_lowest_common_temperature_and_flip() -> None:
    rows = diffusion_rows(_polymer(True))
    faster = _row(rows, "Li+ moves faster")
    assert faster.ssbflow_value == pytest.approx(6.0) and "600 K" in faster.claim
    assert faster.agrees is True and _row(rows, "Li+ MSD slope ratio").agrees is True
    assert _row(rows, "Li+ MSD slope in PVDF").ssbflow_value == pytest.approx(0.20e-3)
    assert [_row(rows, f"Li+ MSD slope in {k}").agrees
            for k in ("PVDF", "dehydrofluorinated")] == [True, True]
    assert _row(rows, "GRSE").agrees is None
    slower = diffusion_rows(_polymer(True, slope_dpvdf=0.5))
    assert _row(slower, "Li+ moves faster").agrees is False
    assert _row(slower, "Li+ MSD slope ratio").agrees is False


def test_polymer_rows_give_no_verdict_on_non_diffusive_msd() -> None:
    rows = diffusion_rows(_polymer(False))
    assert len(rows) == 8 and [r.agrees for r in rows] == [None] * 8
    assert _row(rows, "Li+ moves faster").ssbflow_value == pytest.approx(6.0)
    assert "not diffusive" in _row(rows, "Li+ moves faster").why


def test_llzo_ea_row_and_flip() -> None:
    doc = {"study": "llzo-li-diffusion",
           "settings": {"temperatures_K": [900.0, 1100.0, 1300.0]},
           "arrhenius": [{"system": "llzo", "Ea_eV": 0.33, "from_diffusive_msd": True}]}
    (row,) = diffusion_rows(doc)
    assert (row.source_value, row.ssbflow_value, row.agrees) == (0.36, 0.33, True)
    assert "tetragonal" in row.why and "σ" in row.why
    doc["arrhenius"][0]["Ea_eV"] = 0.6
    assert diffusion_rows(doc)[0].agrees is False
    doc["arrhenius"][0]["from_diffusive_msd"] = False
    assert diffusion_rows(doc)[0].agrees is None
    assert diffusion_rows({**doc, "arrhenius": []})[0].agrees is None


# --------------------------------------------------------------------------------------------
# inn-li (README ranking, CHGNet)
# --------------------------------------------------------------------------------------------
_README_RANKING = [("Sn", -0.417, -0.584, "Li5Sn2"), ("Au", -0.389, -1.556, "LiAu3"),
                   ("InN", -0.386, -0.579, "Li3N + LiIn"), ("In", -0.290, -0.581, "LiIn"),
                   ("Ag", -0.245, -0.491, "LiAg"), ("Zn", -0.199, -0.399, "LiZn"),
                   ("Al", -0.186, -0.371, "LiAl"), ("Mg", -0.057, -0.114, "LiMg"),
                   ("Fe", 0.0, None, ""), ("Cu", 0.0, None, "")]


def _inn_li(ranking: list[tuple]) -> dict:
    return {"study": "inn-li", "settings": {},
            "ranking": [{"rank": i + 1, "candidate": c, "reaction_energy_eV_per_atom": e,
                         "reaction_energy_eV_per_Li": per_li, "products": p}
                        for i, (c, e, per_li, p) in enumerate(ranking)],
            "reaction_cell": {"time_fs": [0.0, 1000.0], "li_per_n": [0.17, 0.8],
                              "in_n_bonds": [105, 103]}}


def test_inn_li_rows_from_the_readme_ranking() -> None:
    rows = inn_li_rows(_inn_li(_README_RANKING))
    per_atom = _row(rows, "In is the most reactive metal with Li (eV/atom")
    assert per_atom.agrees is False and per_atom.ssbflow_value.startswith("Sn")
    assert "rank 3 of 9" in per_atom.ssbflow_value  # after Sn and Au
    assert _row(rows, "In is the most reactive metal with Li (eV per Li").agrees is False
    inn_atom = _row(rows, "InN reacts more strongly with Li than In: E(InN) − E(In) (eV/atom")
    assert inn_atom.ssbflow_value == pytest.approx(-0.096) and inn_atom.agrees is True
    inn_li = _row(rows, "InN reacts more strongly with Li than In: E(InN) − E(In) (eV per Li")
    assert inn_li.ssbflow_value == pytest.approx(0.002) and inn_li.agrees is False
    reacts = _row(rows, "InN reacts with Li:")
    assert reacts.agrees is True and "105 -> 103" in reacts.why
    assert _row(rows, "LLZ Ea").agrees is None


def test_inn_li_flipped_ranking_flips_agrees() -> None:
    ranking = [("InN", -0.386, -0.7, "Li3N + LiIn"), ("In", -0.290, -0.581, "LiIn"),
               ("Zn", -0.199, -0.399, "LiZn"), ("Fe", 0.0, None, "")]
    rows = inn_li_rows(_inn_li(ranking))
    assert _row(rows, "In is the most reactive metal with Li (eV/atom").agrees is True
    assert _row(rows, "In is the most reactive metal with Li (eV per Li").agrees is True
    assert _row(rows, "InN reacts more strongly with Li than In: E(InN) − E(In) (eV per Li"
                ).agrees is True
    # InN that gives no Li3N does not reproduce the conversion reaction
    ranking[0] = ("InN", 0.0, None, "")
    assert _row(inn_li_rows(_inn_li(ranking)), "InN reacts with Li:").agrees is False


# --------------------------------------------------------------------------------------------
# the model, the table, every registered study
# --------------------------------------------------------------------------------------------
def test_claim_row_model_and_table() -> None:
    with pytest.raises(ValidationError):
        ClaimRow(claim="x", source_value=1.0, why="y", unexpected=1)
    rows = [ClaimRow(claim="a (eV)", source_value=1.51, ssbflow_value=0.362, agrees=False,
                     why="w"),
            ClaimRow(claim="b", source_value="< 0", why="not computed: z")]
    text = comparison_markdown(rows)
    assert text.startswith("## Source study side by side")
    assert "| a (eV) | 1.51 | 0.362 | no | w |" in text
    assert "| b | < 0 | – | n/a | not computed: z |" in text
    assert comparison_markdown(rows_as_dicts(rows)) == text
    assert json.loads(json.dumps(rows_as_dicts(rows)))[1]["agrees"] is None


# electrolyte-md: 150 acetonitrile at 298 K, 0.2 ns (density measured here, README)
_ACETONITRILE = {"study": "electrolyte-md", "density_g_cm3": 0.751,
                 "settings": {"temperature_K": 298.0, "box_components": [["CC#N", 150]]}}


def test_electrolyte_density_row_and_flip() -> None:
    (row,) = electrolyte_rows(_ACETONITRILE)
    assert row.source_value == 0.777 and row.agrees is True
    (row,) = electrolyte_rows({**_ACETONITRILE, "density_g_cm3": 0.70})
    assert row.agrees is False
    salted = copy.deepcopy(_ACETONITRILE)
    salted["settings"]["box_components"].append(["[Li+]", 4])
    (row,) = electrolyte_rows(salted)
    assert row.agrees is None and "not compared" in row.why


@pytest.mark.parametrize("name", [n for n in registry.STUDIES if n != "screening"])
def test_every_registered_study_has_rows(name: str) -> None:
    docs = {"sn-llzo": SN, "ncm-pvdf": NCM, "llto-li-migration": LLTO_NEB,
            "polymer-li-diffusion": _polymer(True), "inn-li": _inn_li(_README_RANKING),
            "llto-li": LLTO_LI,
            "llzo-li-diffusion": {"study": "llzo-li-diffusion", "settings": {},
                                  "arrhenius": []},
            "electrolyte-md": _ACETONITRILE}
    rows = COMPARISONS[name](docs[name])
    assert rows and all(isinstance(r, ClaimRow) and r.why for r in rows)
    assert all(r.agrees is not None or "not" in r.why for r in rows)


# --------------------------------------------------------------------------------------------
# report writers, end to end (no engine: documents built here)
# --------------------------------------------------------------------------------------------
def test_sn_llzo_report_has_the_table(tmp_path) -> None:
    from ssbflow.studies.sn_llzo.report import write_report

    slab = Structure(Lattice.orthorhombic(5, 5, 20), ["La", "N"], [[0, 0, 0.3], [0, 0, 0.43]])
    results = {**copy.deepcopy(SN), "structure_ab": slab.as_dict(),
               "energies_eV": {"ab": -10.0, "slab": -8.0, "molecule": -0.8},
               "formula_slab": "La", "formula_molecule": "N", "n_atoms_slab": 1,
               "settings": {"site_species": "La"}}
    doc = write_report(results, tmp_path, {"job": 1.0})
    stored = json.loads((tmp_path / "results.json").read_text())
    assert stored["source_comparison"] == doc["source_comparison"]
    assert stored["source_comparison"] == rows_as_dicts(sn_rows(SN))
    report = (tmp_path / "report.md").read_text()
    assert "## Source study side by side" in report and "La loses electrons" in report


def test_inn_li_and_llto_li_reports_have_the_table(tmp_path) -> None:
    from ssbflow.studies.inn_li.report import write_report as inn_li_report
    from ssbflow.studies.llto.reduction import write_report as llto_li_report

    doc = _inn_li(_README_RANKING[2:4])
    for row in doc["ranking"]:
        row.update(reaction="", mixing_ratio={}, note="", energy_source="test")
    doc["reaction_cell"] = None
    results = inn_li_report(doc, tmp_path / "inn", {})
    assert results["source_comparison"] == rows_as_dicts(inn_li_rows(doc))
    assert "## Source study side by side" in (tmp_path / "inn" / "report.md").read_text()
    llto = {**LLTO_LI, "ti_moments_lithiated_uB": [0.1], "ti_moments_o_vacancy_uB": [0.1],
            "energies_eV": {}, "settings": {}}
    results = llto_li_report(llto, tmp_path / "llto", {})
    stored = json.loads((tmp_path / "llto" / "results.json").read_text())
    assert stored["source_comparison"] == rows_as_dicts(llto_rows(LLTO_LI))
    assert "Li reduces Ti4+" in (tmp_path / "llto" / "report.md").read_text()


def _neb(barrier_eV: float, reverse_eV: float) -> dict:
    """A stored NebResult (three images) with its fit, as the NEB job returns it."""
    reaction = barrier_eV - reverse_eV
    return {"barrier_eV": barrier_eV, "reverse_barrier_eV": reverse_eV,
            "reaction_energy_eV": reaction, "saddle_index": 1, "n_images": 1,
            "image_energies_eV": [0.0, barrier_eV, reaction], "path_A": [0.0, 1.3, 2.6],
            "fit_path_A": [0.0, 1.3, 2.6], "fit_energies_eV": [0.0, barrier_eV, reaction],
            "max_perp_force_eV_per_A": 0.03, "converged": True, "optimizer_steps": 20,
            "intermediate_minimum_eV": 0.0, "has_intermediate_minimum": False}


def test_ncm_pvdf_report_has_the_table(tmp_path) -> None:
    from ssbflow.studies.ncm_pvdf.report import SYSTEMS, NcmPvdfResult, write_report

    cell = Structure(Lattice.cubic(4.0), ["Li", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    result = NcmPvdfResult(
        settings={**NCM["settings"], "fmax_eV_per_A": 0.05}, engine={}, hop=NCM["hop"],
        barriers=NCM["barriers"], binding=NCM["binding"], endpoints={},
        neb={label: _neb(row["barrier_eV"], 0.4)
             for label, row in zip(SYSTEMS, NCM["barriers"], strict=True)},
        structures={"bare": cell, "pvdf": cell, "dpvdf": cell})
    doc = write_report(result, tmp_path, {"neb bare": 1.0})
    assert doc["source_comparison"] == rows_as_dicts(ncm_rows(NCM))
    assert json.loads((tmp_path / "results.json").read_text())["source_comparison"][0][
        "source_value"] == 1.51
    assert "## Source study side by side" in (tmp_path / "report.md").read_text()
    for tag in ("bare", "pvdf", "dpvdf"):  # each cell as CIF and as lossless JSON
        assert Structure.from_file(tmp_path / "structures" / f"{tag}.cif").composition == \
            Structure.from_dict(json.loads((tmp_path / "structures" / f"{tag}.json")
                                           .read_text())).composition == cell.composition


def test_llto_migration_report_has_the_table(tmp_path) -> None:
    from ssbflow.studies.llto.migration import LltoResult, write_report

    cell = Structure(Lattice.cubic(3.9), ["Li", "Ti", "O"],
                     [[0.5, 0.5, 0.5], [0, 0, 0], [0.5, 0, 0]])
    result = LltoResult(
        settings={**LLTO_NEB["settings"], "mlip_model": "CHGNet", "relax_cell": True,
                  "rattle_A": 0.1},
        engine={}, hop={"kind": "to_empty", "index": 0}, endpoints={},
        host={"li_offset_from_A_site_A": 1.0}, barriers=LLTO_NEB["barriers"],
        neb=_neb(0.095, 0.0), structures={k: cell for k in ("ideal", "host", "initial",
                                                             "final")})
    doc = write_report(result, tmp_path, {})
    assert doc["source_comparison"] == rows_as_dicts(llto_rows(LLTO_NEB))
    assert "not a migration barrier" in (tmp_path / "report.md").read_text()


def test_polymer_d_ratio_has_a_propagated_error_and_short_window_rows() -> None:
    from ssbflow.studies.li_diffusion.comparison import d_ratios, ratio_with_stderr

    ratio, err = ratio_with_stderr(2.0, 0.2, 6.0, 0.3)  # 10 % and 5 % -> 11.2 % of 3
    assert ratio == pytest.approx(3.0) and err == pytest.approx(3.0 * math.hypot(0.1, 0.05))
    assert ratio_with_stderr(0.0, 0.1, 1.0, 0.1) == (None, None)
    doc = _polymer(True)
    for row, short in zip(doc["diffusion"], (None, 0.20e-3, 1.23e-3, None), strict=True):
        row.update(msd_slope_stderr_A2_per_ps=0.1 * row["msd_slope_A2_per_ps"],
                   short_slope_A2_per_ps=short, short_window_ps="1-10",
                   short_slope_stderr_A2_per_ps=None if short is None else 0.1 * short)
    ratios = d_ratios(doc)
    assert ratios["T_K"] == 600.0 and ratios["D_ratio"] == pytest.approx(6.0)
    assert ratios["D_ratio_stderr"] == pytest.approx(6.0 * math.hypot(0.1, 0.1))
    rows = diffusion_rows(doc)
    assert "ratio ± 0.85" in _row(rows, "Li+ MSD slope ratio").why
    short = _row(rows, "Li+ short-window MSD slope ratio")
    assert short.ssbflow_value == pytest.approx(6.15) and short.agrees is True
    assert [_row(rows, f"Li+ short-window MSD slope in {k}").agrees
            for k in ("PVDF", "dehydrofluorinated")] == [True, True]
    doc["diffusion"][2]["short_slope_A2_per_ps"] = 0.4e-3  # dPVDF only 2x faster
    short = _row(diffusion_rows(doc), "Li+ short-window MSD slope ratio")
    # 2.0 ± 0.65 (its dPVDF error 0.123e-3 kept): the interval reaches 6.15 / 2, no verdict
    assert short.agrees is None and "not resolved" in short.why
    doc["diffusion"][2]["short_slope_stderr_A2_per_ps"] = 0.02e-3  # 2.0 ± 0.22
    assert _row(diffusion_rows(doc), "Li+ short-window MSD slope ratio").agrees is False


def test_a_ratio_within_its_error_of_one_decides_nothing() -> None:
    """The session-12 acceptance run gave D(dPVDF)/D(PVDF) = 1.10 ± 0.37 at 600 K, and the
    row "Li+ moves faster in dPVDF" (ratio > 1) said yes: two standard errors either side of
    1 decide nothing. Intervals are log-normal (an Arrhenius-extrapolated slope of 0.0118 ±
    0.018 Å²/ps stays positive and spans the study's 0.20e-3 within a factor 3)."""
    from ssbflow.studies.comparison import in_band

    assert in_band(1.10, 0.37, 1.0, math.inf)[0] is None
    assert in_band(1.30, 0.05, 1.0, math.inf)[0] is True
    assert in_band(0.50, 0.05, 1.0, math.inf)[0] is False
    assert in_band(1.10, None, 1.0, math.inf) == (True, "")
    assert in_band(-1.0, 0.1, 1.0, 2.0)[0] is False and in_band(None, 0.1, 1.0, 2.0)[0] is None
    agrees, text = in_band(0.0118, 0.018, 0.20e-3 / 3, 0.20e-3 * 3)
    assert agrees is None and "not resolved" in text
    doc = _polymer(True, slope_dpvdf=1.1)
    for row in doc["diffusion"]:
        row["msd_slope_stderr_A2_per_ps"] = 0.24 * row["msd_slope_A2_per_ps"]
    faster = _row(diffusion_rows(doc), "Li+ moves faster")
    assert faster.ssbflow_value == pytest.approx(1.1) and faster.agrees is None
    assert "ratio ± 0.37" in faster.why and "not resolved" in faster.why
    assert _row(diffusion_rows(doc), "Li+ MSD slope ratio").agrees is False  # far from 6.15
    for row in doc["diffusion"]:
        row["msd_slope_stderr_A2_per_ps"] = 0.01 * row["msd_slope_A2_per_ps"]
    assert _row(diffusion_rows(doc), "Li+ moves faster").agrees is True


def test_polymer_ratio_verdict_at_the_lowest_diffusive_temperature() -> None:
    # 600 K caged (no verdict there), 1000 K diffusive: the verdict moves to 1000 K
    from ssbflow.studies.li_diffusion.comparison import d_ratios

    doc = _polymer(True)
    for row in doc["diffusion"]:
        row["diffusive"] = row["T_K"] == 1000.0
    ratios = d_ratios(doc)
    assert [r["T_K"] for r in ratios["per_T"]] == [600.0, 1000.0]
    assert [r["D_ratio"] for r in ratios["per_T"]] == pytest.approx([6.0, 3.0])
    assert ratios["verdict_T_K"] == 1000.0 and ratios["T_K"] == 600.0
    faster = _row(diffusion_rows(doc), "Li+ moves faster")
    assert "1000 K" in faster.claim and faster.ssbflow_value == pytest.approx(3.0)
    assert faster.agrees is True and "diffusive" in faster.why
    assert _row(diffusion_rows(doc), "Li+ MSD slope ratio").agrees is False  # 3 < 6.15 / 2
    doc["diffusion"][3]["msd_slope_A2_per_ps"] = 2.0  # dPVDF slower at 1000 K
    assert _row(diffusion_rows(doc), "Li+ moves faster").agrees is False
