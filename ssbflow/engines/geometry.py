"""Geometry the engines share (they take structures, never build them): is it a slab,
where is the middle of its vacuum gap, conversions to ASE and checks of NEB images."""

from __future__ import annotations

from typing import Any

import numpy as np
from pymatgen.core import Molecule, Structure

from ssbflow.errors import InputError
from ssbflow.structures.slab_frame import vacuum_gap_z


def looks_like_slab(structure: Structure | Molecule, min_vacuum_A: float = 6.0) -> bool:
    """True when the atoms leave a vacuum gap of at least ``min_vacuum_A`` along c."""
    if not isinstance(structure, Structure) or len(structure) == 0:
        return False
    frac_z = np.sort(np.mod(structure.frac_coords[:, 2], 1.0))
    gaps = np.diff(np.concatenate([frac_z, [frac_z[0] + 1.0]]))
    return float(gaps.max()) * structure.lattice.c >= min_vacuum_A


def vacuum_midpoint_z_A(structure: Structure) -> float:
    """Cartesian z (Å) of the middle of the widest empty gap along z (periodic; c along z)."""
    low, high = vacuum_gap_z(structure)
    return float(np.mod((low + high) / 2, structure.lattice.matrix[2, 2]))


def as_atoms(structure: Structure | Any) -> Any:
    """ASE Atoms copy of a pymatgen Structure (or of Atoms); pymatgen's adaptor turns
    ``selective_dynamics`` into ASE constraints.

    Raises
    ------
    InputError
        Neither a Structure/Molecule nor Atoms.
    """
    from ase import Atoms
    from pymatgen.io.ase import AseAtomsAdaptor

    if isinstance(structure, Atoms):
        return structure.copy()
    if not isinstance(structure, Structure | Molecule):
        raise InputError("structure must be a pymatgen Structure or an ASE Atoms, not "
                         f"{type(structure).__name__}")
    return AseAtomsAdaptor.get_atoms(structure)


def as_structure(atoms: Any) -> Structure:
    """pymatgen Structure copy of ASE Atoms (or of a Structure)."""
    from pymatgen.io.ase import AseAtomsAdaptor

    if isinstance(atoms, Structure):
        return atoms.copy()
    return AseAtomsAdaptor.get_structure(atoms)


def check_band_images(images: list[Structure]) -> None:
    """Raise :class:`InputError` unless ``images`` is a band: >= 3 structures with the same
    species in the same order and the same cell."""
    if len(images) < 3:
        raise InputError(f"images must hold at least 3 structures (2 endpoints + 1), "
                         f"got {len(images)}")
    species = [s.species for s in images]
    if any(sp != species[0] for sp in species):
        raise InputError("images hold different species or atom orders")
    if any(not np.allclose(s.lattice.matrix, images[0].lattice.matrix) for s in images):
        raise InputError("images have different cells (NEB runs at fixed cell)")
