"""Seeded small-polaron geometry: the breathing distortion moves exactly the intended anions."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from ssbflow.errors import InputError
from ssbflow.structures.polaron import breathing_distortion, coordinating_anions


def _srtio3(repeat: int = 2) -> Structure:
    """Cubic SrTiO3 (a = 3.905 Å) ×repeat³: Ti–O = 1.95 Å, Sr–O = 2.76 Å."""
    cell = Structure(Lattice.cubic(3.905), ["Sr", "Ti", "O", "O", "O"],
                     [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    return cell * (repeat, repeat, repeat)


def _displacements_A(before: Structure, after: Structure) -> np.ndarray:
    """Per-site periodic displacement vectors (Å) from ``before`` to ``after``."""
    d_frac = after.frac_coords - before.frac_coords
    d_frac -= np.round(d_frac)
    return before.lattice.get_cartesian_coords(d_frac)


def test_the_six_o_of_the_chosen_ti_move_radially_out_by_the_displacement_and_nothing_else():
    cell = _srtio3()
    ti = next(i for i, s in enumerate(cell) if s.specie.symbol == "Ti")
    anions = dict(coordinating_anions(cell, ti))
    assert len(anions) == 6
    moved = breathing_distortion(cell, [ti], 0.1)
    shift = _displacements_A(cell, moved)
    lengths = np.linalg.norm(shift, axis=1)
    assert set(np.flatnonzero(lengths > 1e-9)) == set(anions)
    for i, vector in anions.items():
        assert lengths[i] == pytest.approx(0.1, abs=1e-9)
        # outward: along the Ti -> O bond, so Ti-O grows from 1.9525 to 2.0525 Å
        assert np.dot(shift[i], vector) / np.linalg.norm(vector) == pytest.approx(0.1, abs=1e-9)
        assert moved.get_distance(ti, i) == pytest.approx(np.linalg.norm(vector) + 0.1, abs=1e-6)
    assert moved.composition == cell.composition and len(moved) == len(cell)
    assert [s.specie for s in moved] == [s.specie for s in cell]


def test_an_o_shared_by_two_seeded_ti_moves_by_both_displacements():
    cell = _srtio3(3)  # ×2 would make neighbouring Ti share two O (one through the boundary)
    ti = [i for i, s in enumerate(cell) if s.specie.symbol == "Ti"]
    a, b = ti[0], min(ti[1:], key=lambda j: cell.get_distance(ti[0], j))  # 3.905 Å apart
    shared = set(dict(coordinating_anions(cell, a))) & set(dict(coordinating_anions(cell, b)))
    assert len(shared) == 1  # corner-sharing octahedra
    shift = np.linalg.norm(_displacements_A(cell, breathing_distortion(cell, [a, b], 0.1)),
                           axis=1)
    (o,) = shared
    assert shift[o] == pytest.approx(0.0, abs=1e-9)  # pushed both ways along the Ti-O-Ti line
    assert int(np.sum(shift > 1e-9)) == 10


def test_bad_centres_or_displacements_are_refused():
    cell = _srtio3(1)
    with pytest.raises(InputError, match="displacement_A"):
        breathing_distortion(cell, [1], -0.1)
    with pytest.raises(InputError, match="centres"):
        breathing_distortion(cell, [len(cell)], 0.1)
    with pytest.raises(InputError, match="centres"):
        breathing_distortion(cell, [2], 0.1)  # an O has no O within 2.5 Å
