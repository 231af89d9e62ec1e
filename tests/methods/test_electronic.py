"""The electronic stage's choices that need no engine: files passed on, atoms charged."""

from __future__ import annotations

from pymatgen.core import Lattice, Structure

from ssbflow.methods.electronic import KINDS_BY_FRAGMENT, SURFACE_LAYER_A, charged_atoms


def test_ab_passes_its_hartree_potential():
    # Φ of AB on both faces needs the AB Hartree potential, as the slab's needs the slab's
    assert "potential" in KINDS_BY_FRAGMENT["ab"]
    assert "potential" in KINDS_BY_FRAGMENT["slab"]


def test_charged_atoms_are_the_surface_layer_and_every_anchor_atom():
    # a two-layer "slab" of La and O (top layer at z = 6 Å, a slightly rumpled La), and a
    # dinitrile above it: N C C N
    lattice = Lattice.orthorhombic(8.0, 8.0, 30.0)
    species = ["La", "La", "O", "La", "La", "O", "N", "C", "C", "N"]
    coords = [[0, 0, 3.0], [4, 4, 3.0], [2, 2, 3.0],
              [0, 0, 6.0], [4, 4, 6.0 + 0.5 * SURFACE_LAYER_A], [2, 2, 6.0],
              [0, 0, 8.6], [0, 0, 9.8], [0, 0, 11.2], [0, 0, 12.4]]
    ab = Structure(lattice, species, coords, coords_are_cartesian=True)
    assert charged_atoms(ab, n_slab=6, site=3, anchor="N") == [3, 4, 6, 9]
    # a site on the lower layer picks that layer
    assert charged_atoms(ab, n_slab=6, site=0, anchor="N") == [0, 1, 6, 9]
