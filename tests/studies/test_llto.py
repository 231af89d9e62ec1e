"""LLTO reduction quantities: definitions checked on known cases."""

from __future__ import annotations

import pytest

from ssbflow.analysis.defect_energies import insertion_energy_eV_per_li, insertion_voltage_V
from ssbflow.structures.perovskites import llto
from ssbflow.studies.llto.reduction import vacant_a_sites
from tests.reaction_entries import entries


def test_li_in_alloying_voltage_matches_experiment():
    # Li + In -> LiIn is the plateau of Li–In alloy electrodes at about 0.62 V vs Li/Li+
    # (e.g. Wen & Huggins, J. Electrochem. Soc. 128, 1636 (1981): ~0.6 V at room
    # temperature). Tolerance 0.15 V: GGA-level formation-energy error (~0.1 eV/atom,
    # i.e. 0.1-0.2 eV per Li in a 1:1 alloy) and T = 0 K.
    li, indium, liin = (entries("li", "in", "liin"))
    n_fu = liin.composition.get_reduced_composition_and_factor()[1]
    e_host = indium.energy_per_atom * n_fu  # n_fu In atoms
    e_ins = insertion_energy_eV_per_li(e_host, liin.energy, li.energy_per_atom, int(n_fu))
    assert insertion_voltage_V(e_ins) == pytest.approx(0.62, abs=0.15)


def test_llto_cell_has_empty_a_sites_for_li():
    structure = llto((3, 3, 1))
    structure.remove_oxidation_states()
    vacant = vacant_a_sites(structure, (3, 3, 1))
    # 18 A sites, Li6La10 on 16 of them
    assert len(vacant) == 2
    for frac in vacant:
        assert min(structure.lattice.get_distance_and_image(frac, s.frac_coords)[0]
                   for s in structure) > 1.8


def test_llto_li_flow_runs_resumes_and_reports(tmp_path):
    """The llto-li study through the registry and the store (3 FIRE steps per relaxation:
    this checks the cells, the bookkeeping and the report, not converged energies)."""
    import json

    from ssbflow.runtime.studies import resume_study, run_study
    from ssbflow.studies.registry import get_study

    defaults = get_study("llto-li").parse_options()
    assert defaults.supercell == (3, 3, 1) and defaults.max_steps == 300
    out, db = tmp_path / "run", tmp_path / "db"
    results = run_study("llto-li", out, db=db, quiet=True, max_steps=3)
    assert results["formula_host"] == "Li6La10Ti18O54"
    energies = results["energies_eV"]
    # one Li more / one O less than the host, each cell a few eV away from the host energy
    assert energies["llto+Li"] < energies["llto"] < energies["llto-O"]
    assert results["insertion_energy_eV_per_Li"] == pytest.approx(
        energies["llto+Li"] - energies["llto"] - energies["Li (per atom)"])
    assert results["settings"]["max_steps"] == 3 and results["settings"]["supercell"] == [3, 3, 1]
    for name in ("results.json", "report.md", "llto_li.csv", "llto_li.json"):
        assert (out / name).stat().st_size > 0
    assert "O-vacancy formation energy" in (out / "report.md").read_text()
    claims = {r["claim"]: r for r in results["source_comparison"]}
    voltage = claims["Li metal reduces LLTO: Li insertion voltage vs Li/Li+ (V)"]
    assert voltage["ssbflow_value"] == pytest.approx(results["insertion_voltage_V"])
    assert voltage["agrees"] is (results["insertion_voltage_V"] > 0)
    # every relaxation is its own job; a resume takes them all from the store
    assert len(list((out / "jobs").iterdir())) == 6
    again = resume_study(out, db=db, quiet=True)
    assert again["energies_eV"] == energies
    assert json.loads((out / "results.json").read_text())["ti3_host"] == results["ti3_host"]
