"""Ewald ordering search: reproducible choice among symmetry-equivalent arrangements."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Lattice, Structure

from ssbflow.structures._ordering import Group, lowest_ewald_ordering, unit_charge_ewald_matrix


def _square_of_sites() -> Structure:
    # four sites on a square in a cubic cell: every arrangement of one "+" and three vacancies
    # is equivalent by symmetry, so all four have the same Ewald energy
    return Structure(Lattice.cubic(6.0), ["X"] * 4,
                     [[0, 0, 0], [0.5, 0, 0], [0, 0.5, 0], [0.5, 0.5, 0]])


def test_tied_orderings_resolve_to_the_first_whatever_the_round_off():
    matrix = unit_charge_ewald_matrix(_square_of_sites())
    group = Group(sites=(0, 1, 2, 3), counts={"Li": 1, "vac": 3})
    charges = {"Li": 1.0, "vac": 0.0}
    fixed = np.zeros(4)
    reference = lowest_ewald_ordering(matrix, fixed, [group], charges).labels
    rng = np.random.default_rng(3)
    for _ in range(5):
        # round-off of another BLAS thread count: symmetric noise far below any physical
        # energy difference
        noise = rng.normal(scale=1e-11, size=matrix.shape)
        result = lowest_ewald_ordering(matrix + (noise + noise.T) / 2, fixed, [group], charges)
        assert result.labels == reference
    assert sum(lab == "Li" for lab in reference.values()) == 1
