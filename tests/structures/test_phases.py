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
    "li2o": ("Li2O", "Fm-3m"), "li5sn2": ("Li5Sn2", "R-3m"), "li13sn5": ("Li13Sn5", "P-3m1"),
    "limg": ("LiMg", "Pm-3m"),
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


# Experimental cells (Frank, Müller & Schäfer, Z. Naturforsch. B 30, 1 and 6 (1975)):
# hexagonal a, c (Å) and atoms per primitive cell. The bcc-[111] stacking models must
# reproduce the cell they are built in and its volume per atom.
LI_SN_CELLS = {"li5sn2": (4.74, 19.83, 7), "li13sn5": (4.70, 17.12, 18)}


@pytest.mark.parametrize("name", sorted(LI_SN_CELLS))
def test_li_sn_models_have_the_experimental_cell(name):
    a_A, c_A, n_atoms = LI_SN_CELLS[name]
    s = phase(name)
    assert len(s) == n_atoms
    conv = SpacegroupAnalyzer(s, symprec=0.05).get_conventional_standard_structure()
    assert conv.lattice.a == pytest.approx(a_A, abs=1e-3)
    assert conv.lattice.c == pytest.approx(c_A, abs=1e-3)
    hexagonal_volume_A3 = np.sqrt(3) / 2 * a_A**2 * c_A
    assert s.volume / n_atoms == pytest.approx(hexagonal_volume_A3 / len(conv), rel=1e-6)


@pytest.mark.parametrize("name", sorted(LI_SN_CELLS))
def test_li_sn_models_are_bcc_stackings(name):
    # every atom of a bcc stacking has 8 nearest neighbours at a_bcc·√3/2, a_bcc = a_hex/√2
    # (up to the c/a distortion of the experimental cell: within 3 %)
    a_A, _, _ = LI_SN_CELLS[name]
    s = phase(name)
    nn_A = a_A / np.sqrt(2) * np.sqrt(3) / 2
    for site in s:
        shell = s.get_neighbors(site, nn_A * 1.03)
        assert len(shell) == 8


def test_limg_is_a_b2_approximant_at_the_vegard_volume():
    s = phase("limg")
    # Vegard: mean of the atomic volumes of bcc Li (3.51 Å) and hcp Mg (3.2093, 5.2103 Å)
    li_A3 = 3.51**3 / 2
    mg_A3 = np.sqrt(3) / 4 * 3.2093**2 * 5.2103
    assert s.volume / len(s) == pytest.approx((li_A3 + mg_A3) / 2, rel=1e-3)
    li = next(site for site in s if site.specie.symbol == "Li")
    assert sorted(n.specie.symbol for n in s.get_neighbors(li, 3.1)) == ["Mg"] * 8


@pytest.mark.parametrize(("layers", "tin"), [(20, {0}), (21, {21})])
def test_bcc_stacking_rejects_bad_layers(layers, tin):
    from ssbflow.structures.phases import bcc_111_stacking

    with pytest.raises(ValueError, match=r"n_layers|tin_layers"):
        bcc_111_stacking(4.7, 17.0, layers, tin)
