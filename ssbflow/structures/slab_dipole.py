"""Dipole of a slab along its normal and its compensation by moving ions across the slab.

A stoichiometric slab whose two surfaces differ carries a dipole along the normal; above a
few e·Å its potential step closes the gap (the "polar catastrophe") and a DFT SCF does not
converge. :func:`compensate_dipole` moves the outermost ions of one element by one repeat
vector of the bulk to the equivalent bulk sites beyond the opposite surface, as many as make
the dipole smallest (a Tasker-type reconstruction; pymatgen's ``Slab.get_tasker2_slabs``
needs a symmetric slab and moves half of a layer).
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Structure
from pymatgen.core.surface import Slab

from ssbflow.structures.slab_frame import oriented_frame


def site_charges(structure: Structure,
                  element_charges: dict[str, float] | None) -> np.ndarray | None:
    """Formal charge of every site (oxidation states, else ``element_charges``)."""
    charges = []
    for site in structure:
        q = getattr(site.specie, "oxi_state", None)
        if q is None and element_charges is not None:
            q = element_charges.get(site.specie.symbol)
        if q is None:
            return None
        charges.append(float(q))
    return np.array(charges)


def dipole_eA(structure: Structure, element_charges: dict[str, float] | None = None) -> float:
    """Dipole along z (e·Å) from the sites' oxidation states, else ``element_charges``."""
    charges = site_charges(structure, element_charges)
    if charges is None:
        return float("nan")
    z = structure.cart_coords[:, 2]
    return float(np.sum(charges * (z - z.mean())))


def compensate_dipole(slab: Slab, element: str,
                       element_charges: dict[str, float] | None) -> tuple[Structure, dict]:
    """Move the outermost ``element`` ions to their bulk-equivalent sites beyond the opposite
    surface (one bulk repeat vector away) until the dipole along the normal is smallest.

    Returns the new structure (same lattice and species, ``magmom`` kept) and a record
    ``{"element", "moved", "dipole_before_eA", "dipole_after_eA"}``.
    """
    charges = site_charges(slab, element_charges)
    if charges is None:
        raise ValueError(f"compensate_with={element!r}: the bulk has no oxidation states and "
                         "none could be guessed, so the slab dipole is unknown")
    members = np.array([site.specie.symbol == element for site in slab])
    if not members.any():
        raise ValueError(f"compensate_with={element!r}: the slab has no {element}")
    q = float(charges[members][0])
    # one bulk repeat along the normal: the oriented unit cell's c (parallel to the slab's c)
    repeat = slab.oriented_unit_cell.lattice.matrix[2]
    a, b, _ = slab.lattice.matrix
    normal = np.cross(a, b)
    height = abs(float(np.dot(repeat, normal / np.linalg.norm(normal))))
    z = oriented_frame(slab)[2][:, 2]  # heights along the outward normal, slab unwrapped
    frac = slab.frac_coords.copy()
    before = float(np.sum(charges * (z - z.mean())))
    # each ion moved from the side its charge sign points to changes the dipole by -|q| h
    n_move = round(abs(before) / (abs(q) * height))
    down = (before > 0) == (q > 0)
    candidates = np.flatnonzero(members)
    order = candidates[np.argsort(-z[candidates] if down else z[candidates], kind="stable")]
    moved = order[:min(n_move, len(order) // 2)]
    step = slab.lattice.get_fractional_coords(repeat) * (-1.0 if down else 1.0)
    frac[moved] += step
    z_new = z.copy()
    z_new[moved] += -height if down else height
    after = float(np.sum(charges * (z_new - z_new.mean())))
    props = {k: v for k, v in slab.site_properties.items() if k == "magmom"}
    result = Structure(slab.lattice, slab.species, frac, site_properties=props or None)
    record = {"element": element, "moved": len(moved),
              "dipole_before_eA": before, "dipole_after_eA": after}
    return result, record


def guessed_element_charges(bulk: Structure) -> dict[str, float] | None:
    """Guessed charge per element when the bulk carries no oxidation states (for dipoles
    only; the slab keeps the bulk's species as given). ``None`` when no guess exists."""
    if all(getattr(sp, "oxi_state", None) is not None for sp in bulk.species):
        return None
    try:
        guesses = bulk.composition.oxi_state_guesses()
    except (ValueError, KeyError):
        return None
    return {str(el): float(q) for el, q in guesses[0].items()} if guesses else None
