"""A periodic box of molecules: packmol packing and the OpenMM system.

A box is a list of components ``(SMILES, count)``. Molecules are packed loosely by packmol
(default 0.5 g/cm³ with 2 Å between molecules, periodic ``pbc`` packing): packmol fails to
pack dense boxes (a 1.7 g/cm³ polymer box did not pack, 0.9 g/cm³ packed in 3 s), so the
density comes from NPT compression afterwards. The system: GAFF2 / Joung-Cheatham
parameters (:mod:`ssbflow.engines.openmm.parameters`) combined with ParmEd, PME
electrostatics, Lennard-Jones cut off with the long-range dispersion correction, bonds to
hydrogen constrained and hydrogen masses repartitioned (3.024 amu, the heavy atom losing
what the hydrogen gains; C. W. Hopkins et al., J. Chem. Theory Comput. 11, 1864 (2015)) so
that 4 fs steps are stable. Charges of every ionic component are scaled by
``ion_charge_scale`` (0.8 by default, a common correction for missing polarisation in
non-polarisable ionic liquid and salt models).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
from scipy import constants

from ssbflow.engines.openmm.parameters import parameterize
from ssbflow.engines.openmm.tools import run_tool
from ssbflow.errors import InputError, SsbflowError

#: Loose packing density (g/cm³) and packmol's minimum distance between molecules (Å).
PACK_DENSITY_G_CM3 = 0.5
PACK_TOLERANCE_A = 2.0
#: Hydrogen mass after repartitioning (amu) and the default time step it allows (fs).
HYDROGEN_MASS_AMU = 3.024
TIMESTEP_FS = 4.0
#: Charge scale of ionic components.
ION_CHARGE_SCALE = 0.8
#: Real-space cutoff of PME and Lennard-Jones (nm).
CUTOFF_NM = 1.0
#: One atomic mass unit (g).
AMU_G = constants.atomic_mass * 1000.0


def check_components(components: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Validated ``(SMILES, count)`` pairs (count >= 1)."""
    if not components:
        raise InputError("components: expected at least one (SMILES, count)")
    out = []
    for smiles, count in components:
        if int(count) < 1:
            raise InputError(f"component {smiles!r}: count must be >= 1, got {count}")
        out.append((str(smiles), int(count)))
    return out


def component_parameters(components: list[tuple[str, int]],
                         cache_dir: str | Path | None = None,
                         charge_method: str = "abcg2") -> list[dict[str, Any]]:
    """:func:`parameterize` of every component (from the cache when there)."""
    return [parameterize(smiles, cache_dir, charge_method=charge_method)
            for smiles, _ in check_components(components)]


def molecule_masses_amu(params: list[dict[str, Any]]) -> list[float]:
    """Mass of one molecule of each component (amu, from its prmtop)."""
    import parmed

    return [float(sum(a.mass for a in parmed.load_file(p["prmtop"]).atoms)) for p in params]


def total_mass_g(components: list[tuple[str, int]], params: list[dict[str, Any]]) -> float:
    """Mass of the box contents (g)."""
    masses = molecule_masses_amu(params)
    return sum(m * n for m, (_, n) in zip(masses, components, strict=True)) * AMU_G


def density_g_cm3(mass_amu: float, volume_A3: float | np.ndarray) -> float | np.ndarray:
    """Density (g/cm³) of ``mass_amu`` in ``volume_A3`` (a number or an array of volumes)."""
    return mass_amu * constants.atomic_mass * 1000.0 / (np.asarray(volume_A3, dtype=float)
                                                        * 1e-24)


def box_length_A(components, params, density_g_cm3: float) -> float:
    """Edge of the cubic box holding the components at ``density_g_cm3``."""
    if density_g_cm3 <= 0:
        raise InputError(f"density_g_cm3 must be > 0, got {density_g_cm3}")
    volume_cm3 = total_mass_g(components, params) / density_g_cm3
    return float((volume_cm3 * 1e24) ** (1.0 / 3.0))


def check_box_fits_cutoff(components: list[tuple[str, int]], params: list[dict[str, Any]],
                          cutoff_nm: float, density_g_cm3: float) -> float:
    """Edge (Å) of the box at ``density_g_cm3``, the density it reaches after compression.

    Raises
    ------
    InputError
        That edge is shorter than twice ``cutoff_nm`` (OpenMM would stop when the barostat
        shrinks the box below it); the message names the molecule counts and the factor
        needed.
    """
    edge = box_length_A(components, params, density_g_cm3)
    if edge < 20.0 * cutoff_nm:
        counts = " ".join(f"{s}:{n}" for s, n in components)
        more = (20.0 * cutoff_nm / edge) ** 3
        raise InputError(
            f"components {counts}: at {density_g_cm3} g/cm³ the box edge is {edge:.1f} Å, "
            f"less than twice cutoff_nm {cutoff_nm} ({20.0 * cutoff_nm:.1f} Å): use "
            f"{more:.1f}x the molecule counts or a smaller cutoff_nm")
    return edge


def pack_box(components: list[tuple[str, int]], params: list[dict[str, Any]],
             work_dir: str | Path, density_g_cm3: float = PACK_DENSITY_G_CM3,
             seed: int = 1) -> tuple[np.ndarray, float]:
    """Pack the components into a periodic cube with packmol.

    Returns
    -------
    positions_A : (n_atoms, 3) Cartesian positions, components in order, each molecule's
        atoms in prmtop order.
    box_A : the cube's edge (Å).
    """
    import parmed

    components = check_components(components)
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    length = box_length_A(components, params, density_g_cm3)
    lines = [f"tolerance {PACK_TOLERANCE_A}", "filetype pdb", "output packed.pdb",
             f"seed {int(seed)}", f"pbc 0. 0. 0. {length:.3f} {length:.3f} {length:.3f}"]
    for i, ((_, count), p) in enumerate(zip(components, params, strict=True)):
        shutil.copy2(p["pdb"], work / f"c{i}.pdb")
        lines += [f"structure c{i}.pdb", f"  number {count}", "end structure"]
    (work / "packmol.inp").write_text("\n".join(lines) + "\n")
    run_tool(["packmol"], work, "packmol", stdin=work / "packmol.inp")
    if not (work / "packed.pdb").exists():
        raise SsbflowError(f"packmol wrote no box ({work}/packmol.inp); lower the density")
    positions = np.asarray(parmed.load_file(str(work / "packed.pdb")).coordinates, dtype=float)
    expected = sum(len(p["charges_e"]) * n for p, (_, n) in zip(params, components, strict=True))
    if positions.shape != (expected, 3):
        raise SsbflowError(f"packmol box holds {len(positions)} atoms, expected {expected}")
    return positions, length


def combined_structure(components: list[tuple[str, int]], params: list[dict[str, Any]],
                       ion_charge_scale: float = ION_CHARGE_SCALE):
    """ParmEd structure of the whole box (components in order), ionic charges scaled.

    Returns
    -------
    structure : parmed.Structure
    molecules : list of (component index, first atom, atom count), one per molecule.
    """
    import parmed

    if not 0 < ion_charge_scale <= 1:
        raise InputError(f"ion_charge_scale must be in (0, 1], got {ion_charge_scale}")
    total = None
    molecules: list[tuple[int, int, int]] = []
    start = 0
    for k, ((_, count), p) in enumerate(zip(check_components(components), params,
                                           strict=True)):
        # a plain Structure: an AmberParm's createSystem reads its charges from the
        # prmtop's tables, so scaled atom charges would be ignored (measured)
        one = parmed.load_file(p["prmtop"]).copy(parmed.Structure)
        if p["net_charge_e"] != 0:
            for atom in one.atoms:
                atom.charge *= ion_charge_scale
        block = one * count
        total = block if total is None else total + block
        for _ in range(count):
            molecules.append((k, start, len(one.atoms)))
            start += len(one.atoms)
    return total, molecules


def create_system(structure, box_A: float | np.ndarray, cutoff_nm: float = CUTOFF_NM,
                  hydrogen_mass_amu: float | None = HYDROGEN_MASS_AMU):
    """OpenMM ``System`` of a ParmEd structure in a periodic box (see module docstring).

    Raises
    ------
    InputError
        The cutoff is more than half the shortest box edge.
    """
    import openmm
    from openmm import app, unit

    edges = np.broadcast_to(np.asarray(box_A, dtype=float), (3,))
    if cutoff_nm * 10.0 > edges.min() / 2.0:
        raise InputError(f"cutoff_nm {cutoff_nm} is more than half the box edge "
                         f"({edges.min():.1f} Å): add molecules or lower the cutoff")
    structure.box = [*edges.tolist(), 90.0, 90.0, 90.0]
    system = structure.createSystem(
        nonbondedMethod=app.PME, nonbondedCutoff=cutoff_nm * unit.nanometer,
        constraints=app.HBonds, hydrogenMass=(hydrogen_mass_amu * unit.amu
                                              if hydrogen_mass_amu else None),
        removeCMMotion=True)
    for force in system.getForces():
        if isinstance(force, openmm.NonbondedForce):
            force.setUseDispersionCorrection(True)
            force.setEwaldErrorTolerance(5e-4)
    return system
