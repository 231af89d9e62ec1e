"""Reaction energetics with real CHGNet energies (tiny cells)."""

from __future__ import annotations

import pytest
from pymatgen.core import Composition

from ssbflow.analysis.reactions import (
    entries_in_system,
    formation_enthalpy_eV_per_atom,
    named_reaction_energy,
    parse_reaction,
    phase_diagram,
    reactivity,
)
from ssbflow.errors import InputError
from tests.reaction_entries import LI_IN_N, entries

EV_PER_KJ_MOL = 1 / 96.485


@pytest.fixture(scope="module")
def li_in_n():
    return list(entries(*LI_IN_N))


def test_li_plus_inn_makes_li3n(li_in_n):
    result = reactivity(li_in_n, "InN", "Li")
    assert result.reaction_energy_eV_per_atom < -0.1
    assert "Li3N" in result.products
    assert "InN" not in result.products and "Li" not in result.products
    # per Li: the energy per atom of mixture divided by the Li fraction of the mixture
    li_fraction = result.mixing_ratio["Li"]
    assert result.reaction_energy_eV_per_Li == pytest.approx(
        result.reaction_energy_eV_per_atom / li_fraction)
    # the balanced reaction conserves atoms
    left, right = parse_reaction(result.reaction)
    assert sum((Composition(f) * n for f, n in left.items()), Composition()).almost_equals(
        sum((Composition(f) * n for f, n in right.items()), Composition()))


def test_reactivity_is_invariant_to_pair_order(li_in_n):
    ab, ba = reactivity(li_in_n, "InN", "Li"), reactivity(li_in_n, "Li", "InN")
    assert ab.reaction_energy_eV_per_atom == pytest.approx(ba.reaction_energy_eV_per_atom)
    assert ab.mixing_ratio == ba.mixing_ratio
    assert ab.products == ba.products and ab.reaction == ba.reaction


def test_li_and_in_form_liin(li_in_n):
    result = reactivity(li_in_n, "In", "Li")
    assert result.products == ["LiIn"]
    assert result.mixing_ratio == {"In": 0.5, "Li": 0.5}
    assert result.reaction_energy_eV_per_atom < 0


def test_elements_are_on_the_hull_with_zero_formation_energy(li_in_n):
    pd = phase_diagram(li_in_n)
    for entry in li_in_n:
        if entry.composition.is_element:
            assert pd.get_e_above_hull(entry) == pytest.approx(0.0, abs=1e-9)
            assert pd.get_form_energy_per_atom(entry) == pytest.approx(0.0, abs=1e-9)
            hull = pd.get_hull_energy_per_atom(entry.composition)
            assert hull == pytest.approx(entry.energy_per_atom, abs=1e-9)


def test_named_reaction_inn_plus_3li_is_exothermic(li_in_n):
    result = named_reaction_energy(li_in_n, "InN + 3 Li -> Li3N + In")
    assert result.reaction_energy_eV < -0.5
    # the same number from the formation energies: ΔE = ΔHf(Li3N) − ΔHf(InN) per formula unit
    hf_li3n = formation_enthalpy_eV_per_atom(li_in_n, "Li3N") * 4
    hf_inn = formation_enthalpy_eV_per_atom(li_in_n, "InN") * 2
    assert result.reaction_energy_eV == pytest.approx(hf_li3n - hf_inn, abs=1e-6)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("InN + 2 Li -> Li3N + In", "not balanced"),
        ("InN + 3 Xx -> Li3N + In", "unknown element"),
        ("InN and Li", "expected"),
    ],
)
def test_bad_named_reactions_are_rejected(li_in_n, text, message):
    with pytest.raises(InputError, match=message):
        named_reaction_energy(li_in_n, text)


def test_fe_does_not_react_with_li():
    # Li and Fe form no compound (Li–Fe phase diagram): zero reaction energy
    result = reactivity(list(entries("li", "fe")), "Fe", "Li")
    assert result.reaction_energy_eV_per_atom == 0.0
    assert result.reaction == "no reaction"


def test_mixed_energy_sources_are_refused(li_in_n):
    foreign = li_in_n[0].copy()
    foreign.data = {**foreign.data, "energy_source": "materials-project (corrected)"}
    with pytest.raises(InputError, match="different sources"):
        reactivity([*li_in_n[1:], foreign], "InN", "Li")


def test_missing_reactant_or_element_reference(li_in_n):
    with pytest.raises(InputError, match="no computed entry"):
        reactivity(li_in_n, "Li3In2", "Li")
    no_n2 = [e for e in li_in_n if e.composition.reduced_formula != "N2"]
    with pytest.raises(InputError, match="no elemental phase for N"):
        phase_diagram(no_n2)


# Experimental standard enthalpies of formation at 298 K (NIST-JANAF Thermochemical Tables,
# 4th ed., Chase 1998): Li3N −164.56, AlN −317.98, Mg3N2 −461.08 kJ/mol.
# Tolerance 0.15 eV/atom: GGA(+MP corrections) formation energies, which CHGNet is trained
# to reproduce, deviate from experiment by ~0.1 eV/atom on average (Kirklin et al.,
# npj Comput. Mater. 1, 15010 (2015): MAE 0.096–0.136 eV/atom), plus CHGNet's own error
# (~0.03 eV/atom, Deng et al., Nat. Mach. Intell. 5, 1031 (2023)) and 0 K vs 298 K.
EXPERIMENT_KJ_PER_MOL = {"Li3N": -164.56, "AlN": -317.98, "Mg3N2": -461.08}


@pytest.mark.parametrize("formula", sorted(EXPERIMENT_KJ_PER_MOL))
def test_formation_enthalpy_matches_experiment(formula):
    comp = Composition(formula)
    names = [el.symbol.lower() for el in comp.elements if el.symbol != "N"]
    system = entries(*names, "n2", formula.lower())
    computed = formation_enthalpy_eV_per_atom(
        entries_in_system(system, [formula]), formula)
    experiment = EXPERIMENT_KJ_PER_MOL[formula] * EV_PER_KJ_MOL / comp.num_atoms
    assert computed == pytest.approx(experiment, abs=0.15)


def test_zero_point_energy_of_li_matches_debye_estimate():
    from ssbflow.methods.phonons import harmonic_free_energy_eV_per_atom

    (li,) = entries("li")
    zpe, f300 = harmonic_free_energy_eV_per_atom(li.structure, [0.0, 300.0], min_length_A=7.0)
    # Debye model: ZPE = (9/8) k θ_D with θ_D(Li) = 344 K (Kittel) -> 0.0333 eV/atom; 30 %
    # covers Debye-vs-harmonic-phonon differences and the force field's softness.
    assert zpe == pytest.approx(9 / 8 * 8.617333e-5 * 344, rel=0.3)
    assert f300 < zpe  # vibrational entropy lowers F at room temperature


def test_reaction_free_energy_at_300_k(li_in_n):
    from ssbflow.analysis.reactions import named_reaction_free_energy_eV
    from ssbflow.methods.phonons import harmonic_free_energy_eV_per_atom

    result = named_reaction_energy(li_in_n, "InN + 3 Li -> Li3N + In")
    by_formula = {e.composition.reduced_formula: e for e in li_in_n}
    f_vib = {f: harmonic_free_energy_eV_per_atom(by_formula[f].structure, [300.0],
                                                 min_length_A=7.0)[0]
             for f in ("InN", "Li", "Li3N", "In")}
    delta_g = named_reaction_free_energy_eV(result, f_vib)
    # solid-state reaction: vibrational terms shift ΔE by well under 0.2 eV per formula unit
    assert delta_g < 0
    assert abs(delta_g - result.reaction_energy_eV) < 0.2


LI_SN = ("li", "sn", "li5sn2", "li13sn5")


def test_li_and_sn_alloy_exothermically():
    li_sn = list(entries(*LI_SN))
    result = reactivity(li_sn, "Sn", "Li")
    # Sn anodes lithiate on plateaus between about 0.4 and 0.8 V vs Li/Li+ (e.g. Wen &
    # Huggins, J. Electrochem. Soc. 128, 1181 (1981)): the reaction energy per Li of
    # Sn + x Li -> LixSn is minus that mean voltage (eV per Li); window 0.3-0.9 V for the
    # force field, 0 K vs room temperature and the two modelled stannides
    assert -0.9 < result.reaction_energy_eV_per_Li < -0.3
    assert result.reaction_energy_eV_per_atom < -0.2
    assert result.products and set(result.products) <= {"Li5Sn2", "Li13Sn5"}
    pd = phase_diagram(li_sn)
    for entry in li_sn:  # both stannides are stable (below the Li–Sn tie line)
        assert pd.get_form_energy_per_atom(entry) <= 0.0


def test_li_and_mg_mix_weakly():
    li_mg = list(entries("li", "mg", "limg"))
    result = reactivity(li_mg, "Mg", "Li")
    # Mg takes up Li close to 0 V (below ~0.1 V vs Li/Li+) into a bcc solid solution with no
    # ordered compound: the B2 approximant may bind, but by less than 0.3 eV per Li and
    # 0.1 eV/atom (ordering energies of a solid solution stable over the whole middle of the
    # phase diagram are small)
    assert -0.3 < result.reaction_energy_eV_per_Li <= 0.0
    assert abs(formation_enthalpy_eV_per_atom(li_mg, "LiMg")) < 0.1
