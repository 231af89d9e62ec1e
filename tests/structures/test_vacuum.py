"""Moving a slab's vacuum gap to the top of the cell (needed by CP2K's dipole correction)."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from ssbflow.structures.slab_frame import put_vacuum_on_top, vacuum_gap_z


def _slab_across_boundary() -> Structure:
    # atoms at z = 18, 19.5 and (wrapped) 1.0 in a 20 Å cell: the slab crosses the boundary
    return Structure(Lattice.from_parameters(4, 4, 20, 90, 90, 90), ["Mg", "O", "Mg"],
                     [[0, 0, 18.0], [2, 2, 19.5], [0, 0, 1.0]], coords_are_cartesian=True)


def test_gap_found_across_the_boundary():
    low, high = vacuum_gap_z(_slab_across_boundary())
    assert (low, high) == pytest.approx((1.0, 18.0))


def test_vacuum_moves_to_the_top_and_distances_stay():
    slab = _slab_across_boundary()
    moved = put_vacuum_on_top(slab, margin=1.0)
    z = moved.cart_coords[:, 2]
    assert z.min() == pytest.approx(1.0)
    assert z.max() == pytest.approx(1.0 + 3.0)  # slab 3 Å thick, 17 Å of vacuum above
    assert np.allclose(moved.distance_matrix, slab.distance_matrix)


def test_negative_margin_refused():
    with pytest.raises(ValueError, match="margin"):
        put_vacuum_on_top(_slab_across_boundary(), margin=-1)
