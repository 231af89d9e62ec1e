"""``check_dft`` in the studies: the DFT spot-check jobs are in the flows only when asked
for, and the results/report carry them (flows are built, not run; CP2K itself is tested in
``tests/methods/test_dft_check.py``)."""

from __future__ import annotations

import json

import pytest

from ssbflow.studies.registry import get_study

_REACTION_CHECK = {
    "reaction": "InN + 3 Li -> Li3N + In", "reaction_energy_eV": -1.20,
    "mlip_reaction_energy_eV": -1.50, "dft_minus_mlip_eV": 0.30,
    "functional": "PBE+D3(BJ)", "basis": "SZV-MOLOPT-SR-GTH", "cutoff_Ry": 300.0,
    "kpoints": "gamma", "smearing": None, "preset": "fast", "min_length_A": 5.5,
    "wall_s": 300.0,
    "cells": {"inn": {"formula": "InN", "supercell": [2, 2, 1], "n_atoms": 16}},
}


def _all_names(flow) -> list[str]:
    names = []
    for item in flow.jobs:
        names += _all_names(item) if hasattr(item, "jobs") else [item.name]
    return names


@pytest.mark.parametrize("study, options, job", [
    ("inn-li", {"candidates": ["InN"], "md_steps": 0}, "dft check"),
    ("ncm-pvdf", {}, "dft check bare"),
    ("llto-li-migration", {}, "dft check llto"),
])
def test_check_dft_adds_the_spot_check_jobs(study, options, job) -> None:
    spec = get_study(study)
    off = spec.make_flow(spec.parse_options(options))
    on = spec.make_flow(spec.parse_options({**options, "check_dft": True}))
    assert job not in _all_names(off)
    assert job in _all_names(on)
    assert spec.parse_options(options).check_dft is False


def test_ncm_checks_every_band() -> None:
    spec = get_study("ncm-pvdf")
    names = _all_names(spec.make_flow(spec.parse_options({"check_dft": True})))
    assert {"dft check bare", "dft check pvdf", "dft check dpvdf"} <= set(names)
    one = _all_names(spec.make_flow(spec.parse_options({"check_dft": True,
                                                         "dft_bands": ["dpvdf"]})))
    assert [n for n in one if n.startswith("dft check")] == ["dft check dpvdf"]
    with pytest.raises(ValueError, match="dft_bands: PVDF not known"):
        spec.parse_options({"check_dft": True, "dft_bands": ["PVDF"]})


def test_inn_li_report_shows_the_dft_check(tmp_path) -> None:
    from ssbflow.studies.inn_li.report import summary_lines, write_report
    from ssbflow.studies.inn_li.schema import InnLiResult

    row = {"rank": 1, "candidate": "InN", "formula": "InN", "reaction_energy_eV_per_atom": -0.3,
           "reaction_energy_eV_per_Li": -0.5, "mixing_ratio": {"InN": 0.4, "Li": 0.6},
           "reaction": "InN + 3 Li -> Li3N + In", "products": "Li3N + In", "note": "",
           "energy_source": "mlip:CHGNet:0.3.0"}
    result = InnLiResult(settings={"engine": "mlip"}, ranking=[row],
                         dft_check=[_REACTION_CHECK])
    results = write_report(result, tmp_path, {})
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["dft_check"][0]["dft_minus_mlip_eV"] == pytest.approx(0.30)
    report = (tmp_path / "report.md").read_text()
    assert "## DFT spot check (reaction energies)" in report
    assert "| InN + 3 Li -> Li3N + In | -1.500 | -1.200 | +0.300 | InN 2x2x1 (16 at.) |" in report
    assert "no smearing" in report and "MLIP geometry" in report
    assert any("DFT − MLIP +0.300" in line for line in summary_lines(results))


def test_sn_llzo_results_carry_the_dft_check(tmp_path) -> None:
    from pymatgen.core import Lattice, Structure

    from ssbflow.studies.sn_llzo.report import write_report

    slab = Structure(Lattice.orthorhombic(5, 5, 20), ["La", "N"], [[0, 0, 0.3], [0, 0, 0.43]])
    engine = {"engine": "cp2k", "xc": "PBE", "dispersion": "DFTD3(BJ)", "preset": "fast",
              "basis_preference": ["SZV-MOLOPT-SR-GTH", "DZVP-MOLOPT-SR-GTH"],
              "cutoff_Ry": 300.0, "kpoints": "gamma"}
    results = {"study": "sn-llzo", "adsorption_energy_eV": -1.2,
               "site_scan": [{"site": 0, "site_species": "La", "orientation": "upright",
                              "adsorption_energy_eV": -1.2, "anchor_site_distance_A": 2.66}],
               "electronic": {"engine": "cp2k", "dft_interaction_energy_eV": -1.5},
               "structure_ab": slab.as_dict(),
               "energies_eV": {"ab": -10.0, "slab": -8.0, "molecule": -0.8},
               "formula_slab": "La", "formula_molecule": "N", "n_atoms_slab": 1,
               "settings": {"site_species": "La", "electronic_engine": engine}}
    doc = write_report(results, tmp_path, {"job": 1.0})
    check = json.loads((tmp_path / "results.json").read_text())["dft_check"]
    assert check == doc["dft_check"]
    assert check["mlip_adsorption_energy_eV"] == pytest.approx(-1.2)
    assert check["dft_interaction_energy_eV"] == pytest.approx(-1.5)
    assert check["dft_minus_mlip_eV"] == pytest.approx(-0.3)
    assert (check["functional"], check["basis"]) == ("PBE+DFTD3(BJ)", "SZV-MOLOPT-SR-GTH")
    report = (tmp_path / "report.md").read_text()
    assert "## DFT spot check (adsorption)" in report and "no fragment relaxation" in report
    # no electronic stage: no check
    none = write_report({**results, "electronic": {}}, tmp_path / "none", {"job": 1.0})
    assert none["dft_check"] is None
