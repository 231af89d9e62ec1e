"""Binding mode: the anchor nearest the site cation and every heteroatom–metal contact."""

from __future__ import annotations

import pytest
from pymatgen.core import Lattice, Structure

from ssbflow.analysis.binding import CONTACT_A, binding_mode, contacts


def _slab_and_molecule() -> Structure:
    # slab: La at the origin, Li 4 Å away, O (not a metal) 4 Å away along y; molecule: O
    # 2.55 Å above La, F 1.95 Å above Li, H 1.0 Å above the F (2.95 Å from Li) and a C and
    # an H 2.2 Å from Li (C and H never count), an O 1.5 Å above the slab O (an anion
    # pair, not a contact), an N 3.5 Å from every metal (too far) and a Li (a salt's
    # cation, not a binding atom) 2.0 Å above the slab Li's neighbour position
    coords = [[0, 0, 0], [4, 0, 0], [0, 4, 0],
              [0, 0, 2.55], [4, 0, 1.95], [4, 0, 2.95], [6.2, 0, 0], [4, -2.2, 0],
              [0, 4, 1.5], [8, 8, 3.5], [4, 2.0, 0]]
    species = ["La", "Li", "O", "O", "F", "H", "C", "H", "O", "N", "Li"]
    return Structure(Lattice.cubic(16.0), species, coords, coords_are_cartesian=True)


def test_contacts_count_heteroatoms_near_metals_only():
    s = _slab_and_molecule()
    assert contacts(s, 3) == [("F", "Li", pytest.approx(1.95)), ("O", "La", pytest.approx(2.55))]
    assert contacts(s, 3, cutoff_A=2.0) == [("F", "Li", pytest.approx(1.95))]
    assert 2.55 < CONTACT_A < 3.5


def test_binding_mode_reports_anchor_and_contacts():
    mode = binding_mode(_slab_and_molecule(), 3, "La")
    assert mode["anchor_element"] == "O" and mode["anchor_La_distance_A"] == pytest.approx(2.55)
    assert mode["n_contacts"] == 2 and mode["contacts"] == "F–Li 1.95, O–La 2.55"
