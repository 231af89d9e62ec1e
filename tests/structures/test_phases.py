"""Reaction phases: composition, space group, distances, charge neutrality."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from ssbflow.structures.catalog import all_entries, build
from ssbflow.structures.phases import PHASE_LIBRARY, phase, phases_for_elements

# (reduced formula, international space-group symbol) from the cited structure types
EXPECTED = {
    "li": ("Li", "Im-3m"), "in": ("In", "I4/mmm"), "inn": ("InN", "P6_3mc"),
    "li3n": ("Li3N", "P6/mmm"), "liin": ("LiIn", "Fd-3m"), "au": ("Au", "Fm-3m"),
    "zn": ("Zn", "P6_3/mmc"), "fe": ("Fe", "Im-3m"), "ag": ("Ag", "Fm-3m"),
    "sn": ("Sn", "I4_1/amd"), "mg": ("Mg", "P6_3/mmc"), "al": ("Al", "Fm-3m"),
    "cu": ("Cu", "Fm-3m"), "aln": ("AlN", "P6_3mc"), "cu3n": ("Cu3N", "Pm-3m"),
    "fe4n": ("Fe4N", "Pm-3m"), "mg3n2": ("Mg3N2", "Ia-3"), "zn3n2": ("Zn3N2", "Ia-3"),
    "sn3n4": ("Sn3N4", "Fd-3m"), "lial": ("LiAl", "Fd-3m"), "lizn": ("LiZn", "Fd-3m"),
    "liag": ("LiAg", "Pm-3m"), "liau3": ("LiAu3", "Pm-3m"), "n2": ("N2", "Pa-3"),
    "li2o": ("Li2O", "Fm-3m"),
}

# shortest cation–anion distances of the nitrides (Å), literature values ± 0.1 Å
NITRIDE_BONDS_A = {"li3n": 1.93, "inn": 2.15, "aln": 1.89, "cu3n": 1.91, "fe4n": 1.90,
                   "mg3n2": 2.10, "zn3n2": 2.03, "sn3n4": 2.08}


def test_library_covers_expected_phases():
    assert set(EXPECTED) == set(PHASE_LIBRARY)
    for p in PHASE_LIBRARY.values():
        assert p.source, p.name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_phase_formula_and_space_group(name):
    s = phase(name)
    formula, symbol = EXPECTED[name]
    assert s.composition.reduced_formula == formula
    assert SpacegroupAnalyzer(s, symprec=0.05).get_space_group_symbol() == symbol
    d = s.distance_matrix + np.eye(len(s)) * 100
    limit = 1.0 if name == "n2" else 1.8  # N≡N is 1.10 Å; no other pair below 1.8 Å
    assert d.min() > limit


@pytest.mark.parametrize("name", sorted(NITRIDE_BONDS_A))
def test_nitrides_are_charge_neutral_with_sensible_bonds(name):
    s = phase(name)
    if name != "fe4n":  # Fe4N is metallic, no ionic formal charges
        assert s.composition.oxi_state_guesses(max_sites=-1), name
    is_n = np.array([site.specie.symbol == "N" for site in s])
    shortest_metal_n_A = s.distance_matrix[np.ix_(is_n, ~is_n)].min()
    assert shortest_metal_n_A == pytest.approx(NITRIDE_BONDS_A[name], abs=0.1)


def test_in_is_not_the_aflow_prototype():
    s = phase("in")
    # In–In nearest neighbours 3.25 Å (Deshpande & Pawar 1969); AFLOW's would give 4.09 Å
    volume_per_atom = s.volume / len(s)
    assert volume_per_atom == pytest.approx(26.2, abs=0.5)


def test_liin_is_natl_type():
    s = phase("LiIn")
    conv = SpacegroupAnalyzer(s).get_conventional_standard_structure()
    assert conv.lattice.a == pytest.approx(6.79, abs=0.01)
    # NaTl: each atom has 4 Li and 4 In nearest neighbours at a·√3/4
    li = next(i for i, site in enumerate(s) if site.specie.symbol == "Li")
    neighbours = s.get_neighbors(s[li], 6.79 * np.sqrt(3) / 4 + 0.05)
    assert sorted(n.specie.symbol for n in neighbours) == ["In"] * 4 + ["Li"] * 4


def test_phases_for_elements():
    names = {p.name for p in phases_for_elements({"Li", "In", "N"})}
    assert names == {"li", "in", "n2", "li3n", "inn", "liin"}


def test_unknown_phase_is_rejected():
    with pytest.raises(ValueError, match="unknown phase name"):
        phase("unobtainium")


def test_catalog_builds_required_names():
    entries = all_entries()
    for name in ("li", "in", "inn", "li3n", "liin", "au", "zn", "fe", "ag", "tin", "mg",
                 "al", "cu"):
        assert name in entries
    assert len(build("li")) == 2
