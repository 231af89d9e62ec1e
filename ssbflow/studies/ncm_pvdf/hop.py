"""Geometry of the NCM811 study: the subsurface Li hop and polymer–oxide contacts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pymatgen.core import Structure

from ssbflow.errors import InputError


def choose_subsurface_hop(slab: Structure, depth_min_A: float = 1.5) -> tuple[int, int]:
    """A nearest-neighbour Li–Li pair just below the top surface, free to move.

    Candidates are Li sites free in ``selective_dynamics`` and at least ``depth_min_A``
    below the highest atom; among pairs closer than 3.3 Å, the one nearest to the surface
    (highest mean z) and then nearest to the cell centre in-plane (under the polymer) wins.

    Returns
    -------
    (from_index, to_index)
        The vacancy is made at ``to_index`` and the ion at ``from_index`` jumps into it.
    """
    cart = slab.cart_coords
    z_top = cart[:, 2].max()
    free = slab.site_properties.get("selective_dynamics")
    li = [
        i for i, site in enumerate(slab)
        if site.specie.symbol == "Li" and cart[i, 2] < z_top - depth_min_A
        and (free is None or all(free[i]))
    ]
    centre = 0.5 * (slab.lattice.matrix[0] + slab.lattice.matrix[1])
    best: tuple[float, float, int, int] | None = None
    for a_pos, i in enumerate(li):
        for j in li[a_pos + 1:]:
            d = slab.get_distance(i, j)
            if d > 3.3:
                continue
            mean_z = 0.5 * (cart[i, 2] + cart[j, 2])
            # midpoint under the minimum image (a pair across the cell edge is not central)
            _, shift = slab.lattice.get_distance_and_image(slab[i].frac_coords,
                                                           slab[j].frac_coords)
            mid = 0.5 * (cart[i] + slab.lattice.get_cartesian_coords(slab[j].frac_coords
                                                                      + shift))
            mid_frac = slab.lattice.get_fractional_coords(mid)
            mid_frac[:2] %= 1.0
            mid = slab.lattice.get_cartesian_coords(mid_frac)
            off = float(np.linalg.norm(mid[:2] - centre[:2]))
            key = (-round(mean_z, 1), off, i, j)
            if best is None or key < best:
                best = key
    if best is None:
        raise InputError("slab: no free subsurface Li–Li pair closer than 3.3 Å for the hop")
    upper, lower = sorted((best[2], best[3]), key=lambda k: -cart[k, 2])
    return lower, upper


def closest_distance_A(atoms: Any, species_a: str, mask_a: np.ndarray, species_b: str,
                       mask_b: np.ndarray) -> float:
    """Shortest distance (Å, minimum image) between ``species_a`` atoms in ``mask_a`` and
    ``species_b`` atoms in ``mask_b``; NaN when either set is empty."""
    from ase.geometry import get_distances

    sym = np.array(atoms.get_chemical_symbols())
    ia = np.where((sym == species_a) & mask_a)[0]
    ib = np.where((sym == species_b) & mask_b)[0]
    if not len(ia) or not len(ib):
        return math.nan
    _, d = get_distances(atoms.positions[ia], atoms.positions[ib], cell=atoms.cell, pbc=atoms.pbc)
    return float(d.min())
