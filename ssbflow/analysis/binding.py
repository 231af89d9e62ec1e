"""Binding mode of an adsorbed molecule: the molecule atom nearest a surface cation, and
every contact of a molecule heteroatom with a slab cation (multidentate binding)."""

from __future__ import annotations

from typing import Any

import numpy as np
from pymatgen.core import Element, Structure

#: Longest heteroatom–cation distance (Å) counted as a contact: above the first shell of
#: La–O in LLZO (2.5–2.7 Å), Zr–O (2.1 Å) and Li–F (1.9–2.0 Å), below La–O second neighbours.
CONTACT_A = 2.9


def binding_mode(structure_ab: Structure, n_atoms_slab: int,
                 site_species: str = "La") -> dict[str, Any]:
    """Anchor atom (the molecule atom nearest any ``site_species`` atom of the slab, periodic
    distance) and that distance, from a relaxed slab + molecule structure.

    Returns
    -------
    dict
        ``anchor_element``, ``anchor_index`` (index in the molecule), ``anchor_La_distance_A``
        (named for La; the species is ``site_species``), ``site_index`` (slab index),
        ``n_contacts`` (molecule atoms other than H and C within :data:`CONTACT_A` of any
        metal atom of the slab) and ``contacts`` (e.g. ``"O–La 2.59, F–Li 1.94"``, shortest
        first): a molecule with several contacts binds multidentate, which the adsorption
        energy alone does not say.
    """
    sites = [i for i in range(n_atoms_slab) if structure_ab[i].specie.symbol == site_species]
    molecule = list(range(n_atoms_slab, len(structure_ab)))
    if not sites or not molecule:
        raise ValueError(f"binding mode: no {site_species} in the slab or no molecule atom")
    distances = structure_ab.lattice.get_all_distances(
        structure_ab.frac_coords[molecule], structure_ab.frac_coords[sites])
    i, j = np.unravel_index(np.argmin(distances), distances.shape)
    pairs = contacts(structure_ab, n_atoms_slab)
    return {"anchor_element": structure_ab[molecule[i]].specie.symbol,
            "anchor_index": int(i), "site_species": site_species,
            "site_index": int(sites[j]), "anchor_La_distance_A": float(distances[i, j]),
            "n_contacts": len(pairs),
            "contacts": ", ".join(f"{a}–{b} {d:.2f}" for a, b, d in pairs)}


def contacts(structure_ab: Structure, n_atoms_slab: int, cutoff_A: float = CONTACT_A
             ) -> list[tuple[str, str, float]]:
    """(molecule element, slab metal, distance in Å) for every molecule atom other than H,
    C and metals (a salt's Li is not a binding atom) that lies within ``cutoff_A`` of a
    metal atom of the slab (its nearest one), shortest first."""
    metals = [k for k in range(n_atoms_slab) if _is_metal(structure_ab[k].specie.symbol)]
    hetero = [k for k in range(n_atoms_slab, len(structure_ab))
              if structure_ab[k].specie.symbol not in ("H", "C")
              and not _is_metal(structure_ab[k].specie.symbol)]
    if not metals or not hetero:
        return []
    d = structure_ab.lattice.get_all_distances(structure_ab.frac_coords[hetero],
                                               structure_ab.frac_coords[metals])
    out = []
    for row, k in zip(d, hetero, strict=True):
        j = int(np.argmin(row))
        if row[j] <= cutoff_A:
            out.append((structure_ab[k].specie.symbol,
                        structure_ab[metals[j]].specie.symbol, float(row[j])))
    return sorted(out, key=lambda c: c[2])


def _is_metal(symbol: str) -> bool:
    try:
        return bool(Element(symbol).is_metal)
    except ValueError:  # a dummy species ("X"): not an atom that binds
        return False
