"""Ewald ordering search: reproducible choice among symmetry-equivalent arrangements."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from ssbflow.structures.ordering import (
    Anneal,
    Group,
    ewald_matrix_per_unit_charge,
    lowest_ewald_ordering,
)


def _square_of_sites() -> Structure:
    # four sites on a square in a cubic cell: every arrangement of one "+" and three vacancies
    # is equivalent by symmetry, so all four have the same Ewald energy
    return Structure(Lattice.cubic(6.0), ["X"] * 4,
                     [[0, 0, 0], [0.5, 0, 0], [0, 0.5, 0], [0.5, 0.5, 0]])


def test_tied_orderings_resolve_to_the_first_whatever_the_round_off():
    matrix = ewald_matrix_per_unit_charge(_square_of_sites())
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


def _line_of_sites() -> Structure:
    # six sites 1 Å apart on a line, and an anion 1 Å beside the middle of the line
    coords = [[0, 0, z / 12.0] for z in range(6)] + [[1.0 / 8.0, 0, 2.5 / 12.0]]
    return Structure(Lattice.tetragonal(8.0, 12.0), ["X"] * 7, coords)


def test_annealing_finds_the_enumerated_minimum():
    matrix = ewald_matrix_per_unit_charge(_square_of_sites())
    group = Group(sites=(0, 1, 2, 3), counts={"Li": 2, "vac": 2})
    charges = {"Li": 1.0, "vac": 0.0}
    fixed = np.zeros(4)
    exact = lowest_ewald_ordering(matrix, fixed, [group], charges)
    annealed = lowest_ewald_ordering(matrix, fixed, [group], charges,
                                     anneal=Anneal(n_starts=2, n_steps=200))
    assert exact.exhaustive and not annealed.exhaustive
    assert annealed.energy_eV == pytest.approx(exact.energy_eV, abs=1e-9)


def test_annealing_keeps_excluded_pairs_apart():
    structure = _line_of_sites()
    matrix = ewald_matrix_per_unit_charge(structure)
    fixed = np.array([0.0] * 6 + [-3.0])
    group = Group(sites=tuple(range(6)), counts={"Li": 3, "vac": 3})
    charges = {"Li": 1.0, "vac": 0.0}
    # neighbours 1 Å apart may not both hold Li; without that rule the three Li crowd the
    # anion with two of them on neighbouring sites
    exclusive = np.zeros((7, 7), dtype=bool)
    for i in range(5):
        exclusive[i, i + 1] = exclusive[i + 1, i] = True
    free = lowest_ewald_ordering(matrix, fixed, [group], charges)
    free_li = [i for i, lab in free.labels.items() if lab == "Li"]
    assert any(exclusive[i, j] for i in free_li for j in free_li)
    result = lowest_ewald_ordering(matrix, fixed, [group], charges,
                                   anneal=Anneal(n_starts=3, n_steps=300),
                                   exclusive=exclusive)
    li = [i for i, lab in result.labels.items() if lab == "Li"]
    assert len(li) == 3 and not any(exclusive[i, j] for i in li for j in li)
    assert result.energy_eV > free.energy_eV


def test_exclusions_need_annealing():
    matrix = ewald_matrix_per_unit_charge(_square_of_sites())
    group = Group(sites=(0, 1, 2, 3), counts={"Li": 1, "vac": 3})
    with pytest.raises(ValueError, match="anneal"):
        lowest_ewald_ordering(matrix, np.zeros(4), [group], {"Li": 1.0, "vac": 0.0},
                              exclusive=np.zeros((4, 4), dtype=bool))
