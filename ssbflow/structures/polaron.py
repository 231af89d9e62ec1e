"""Seed geometries of small polarons: the breathing distortion around a reduced cation.

A Ti3+ small polaron in a titanate is an electron in one Ti 3d orbital together with the
outward relaxation of its O6 octahedron (Ti–O about 0.05–0.1 Å longer than around Ti4+).
DFT+U localises the electron on one Ti only when a geometry like this is given: in the
rutile test (``tests/engines/test_dft_plus_u.py``) the six O pushed out by 0.1 Å hold one
electron on one Ti (1.035 μB) with U_eff = 4.2 eV, the ideal cell spreads it over all Ti.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pymatgen.core import Structure

from ssbflow.errors import InputError

#: Radial displacement (Å) of the anions of a seeded polaron (rutile test: 0.1 Å suffices).
BREATHING_DEFAULT_A = 0.1

#: Radius (Å) searched for the coordinating anions (Ti–O ≈ 1.95 Å in titanates).
COORDINATION_RADIUS_A = 2.5


def coordinating_anions(structure: Structure, index: int, anion: str = "O",
                        n_max: int = 6, radius_A: float = COORDINATION_RADIUS_A
                        ) -> list[tuple[int, np.ndarray]]:
    """The (at most ``n_max``) nearest ``anion`` sites of site ``index`` within ``radius_A``:
    ``[(site index, Cartesian vector centre → anion image (Å)), ...]``, nearest first."""
    found = [n for n in structure.get_neighbors(structure[index], radius_A)
             if n.specie.symbol == anion]
    found.sort(key=lambda n: n.nn_distance)
    return [(int(n.index), n.coords - structure[index].coords) for n in found[:n_max]]


def breathing_distortion(structure: Structure, centres: Sequence[int],
                         displacement_A: float = BREATHING_DEFAULT_A, anion: str = "O",
                         n_max: int = 6, radius_A: float = COORDINATION_RADIUS_A
                         ) -> Structure:
    """``structure`` with the coordinating anions of each site in ``centres`` moved radially
    outward (away from that centre) by ``displacement_A``.

    An anion shared by two centres moves by the sum of both displacements. Site order,
    lattice and site properties are kept.

    Raises
    ------
    InputError
        A centre index outside the structure, a negative ``displacement_A``, or a centre
        without any ``anion`` within ``radius_A``.
    """
    if displacement_A < 0:
        raise InputError(f"displacement_A {displacement_A}: expected >= 0 (outward)")
    cell = structure.copy()
    shifts = np.zeros((len(cell), 3))
    for centre in centres:
        if not 0 <= centre < len(cell):
            raise InputError(f"centres: index {centre} outside the {len(cell)}-site structure")
        anions = coordinating_anions(structure, centre, anion, n_max, radius_A)
        if not anions:
            raise InputError(f"centres: site {centre} has no {anion} within {radius_A} Å")
        for i, vector in anions:
            shifts[i] += vector / np.linalg.norm(vector) * displacement_A
    for i in np.flatnonzero(np.linalg.norm(shifts, axis=1)):
        cell.translate_sites([int(i)], shifts[i], frac_coords=False, to_unit_cell=True)
    return cell
