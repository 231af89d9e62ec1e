"""Harmonic phonons with phonopy: vibrational free energies of relaxed phases.

Used for ΔG(T) of named reactions (``ssbflow reaction --named ... --temperature T``): each
phase's F_vib(T) from finite displacements, with the force field that relaxed it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import units
from pymatgen.core import Structure

from ssbflow.errors import InputError

#: eV per kJ/mol (phonopy reports thermal properties in kJ/mol of unit cells).
EV_PER_KJ_MOL = units.kJ / units.mol


def _supercell_matrix(structure: Structure, min_length_A: float) -> list[list[int]]:
    return [[max(1, int(np.ceil(min_length_A / length))) if i == j else 0 for j in range(3)]
            for i, length in enumerate(structure.lattice.abc)]


def harmonic_free_energy_eV_per_atom(structure: Structure, temperatures_K: Sequence[float], *,
                                     min_length_A: float = 9.0, displacement_A: float = 0.01,
                                     mesh: int = 20, mlip_model: str = "CHGNet",
                                     device: str | None = None) -> list[float]:
    """Harmonic vibrational free energy F_vib(T) of ``structure`` (eV/atom), force-field forces.

    phonopy finite displacements in a supercell at least ``min_length_A`` long along each
    axis; F_vib includes the zero-point energy. Forces from ``mlip_model`` on ``device``
    through the one calculator loader (:func:`ssbflow.engines.mlip.mlip_calculator`).
    ``structure`` should be relaxed with the same model (imaginary modes are left out by
    phonopy's thermal properties).
    """
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms
    from pymatgen.io.ase import AseAtomsAdaptor

    from ssbflow.engines.mlip import mlip_calculator

    if any(t < 0 for t in temperatures_K):
        raise InputError(f"temperatures_K {list(temperatures_K)}: expected values >= 0 K")
    unit = PhonopyAtoms(symbols=[s.specie.symbol for s in structure],
                        cell=structure.lattice.matrix, scaled_positions=structure.frac_coords)
    # primitive_matrix "P": thermal properties per given cell (phonopy >= 4 defaults to "auto")
    phonon = Phonopy(unit, supercell_matrix=_supercell_matrix(structure, min_length_A),
                     primitive_matrix="P")
    phonon.generate_displacements(distance=displacement_A)
    calc = mlip_calculator(mlip_model, device)
    forces = []
    for cell in phonon.supercells_with_displacements:
        sc = Structure(cell.cell, cell.symbols, cell.scaled_positions)
        atoms = AseAtomsAdaptor.get_atoms(sc)
        atoms.calc = calc
        forces.append(atoms.get_forces())
    phonon.forces = np.array(forces)
    phonon.produce_force_constants()
    phonon.run_mesh([mesh] * 3)
    phonon.run_thermal_properties(temperatures=list(temperatures_K))
    free_kj_mol = phonon.get_thermal_properties_dict()["free_energy"]  # kJ/mol of cells
    return [float(f) * EV_PER_KJ_MOL / len(structure) for f in free_kj_mol]
