"""Binding mode of an adsorbed molecule: the molecule atom nearest a surface cation."""

from __future__ import annotations

from typing import Any

import numpy as np
from pymatgen.core import Structure


def binding_mode(structure_ab: Structure, n_atoms_slab: int,
                 site_species: str = "La") -> dict[str, Any]:
    """Anchor atom (the molecule atom nearest any ``site_species`` atom of the slab, periodic
    distance) and that distance, from a relaxed slab + molecule structure.

    Returns
    -------
    dict
        ``anchor_element``, ``anchor_index`` (index in the molecule), ``anchor_La_distance_A``
        (named for La; the species is ``site_species``), ``site_index`` (slab index).
    """
    sites = [i for i in range(n_atoms_slab) if structure_ab[i].specie.symbol == site_species]
    molecule = list(range(n_atoms_slab, len(structure_ab)))
    if not sites or not molecule:
        raise ValueError(f"binding mode: no {site_species} in the slab or no molecule atom")
    distances = structure_ab.lattice.get_all_distances(
        structure_ab.frac_coords[molecule], structure_ab.frac_coords[sites])
    i, j = np.unravel_index(np.argmin(distances), distances.shape)
    return {"anchor_element": structure_ab[molecule[i]].specie.symbol,
            "anchor_index": int(i), "site_species": site_species,
            "site_index": int(sites[j]), "anchor_La_distance_A": float(distances[i, j])}
