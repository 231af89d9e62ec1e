"""LLTO reduction quantities: definitions checked on known cases."""

from __future__ import annotations

import pytest

from ssbflow.structures.perovskites import llto
from ssbflow.studies.llto.reduction import (
    insertion_energy_eV_per_li,
    insertion_voltage_V,
    vacant_a_sites,
)
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
