"""Small jobs on structures, usable in any flow (and as the store's round-trip test)."""

from __future__ import annotations

from jobflow import job
from pymatgen.core import Structure


@job
def describe_structure(structure: Structure) -> dict:
    """Formula, atom count, volume (Å^3) and density (g/cm^3) of a structure."""
    return {
        "formula": structure.composition.reduced_formula,
        "n_atoms": len(structure),
        "volume_A3": float(structure.volume),
        "density_g_cm3": float(structure.density),
    }


@job
def make_supercell(structure: Structure, scaling: list[int]) -> Structure:
    """``structure`` repeated ``scaling`` times along a, b, c."""
    return structure.copy().make_supercell(scaling)
