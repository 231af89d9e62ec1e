"""Molecules from SMILES: a 3D conformer by RDKit (ETKDG embedding, MMFF94 optimisation).

:func:`molecule_from_smiles` embeds ``n_conformers`` conformers with RDKit's ETKDGv3 (fixed
random seed, so the same SMILES gives the same geometry), optimises each with MMFF94 (UFF
when MMFF has no parameters for an atom) and returns the lowest-energy one as a pymatgen
``Molecule`` with explicit hydrogens, recording the force field used and whether its
optimisation converged. The screening's frontier orbitals are vertical (single points at this
force-field geometry); the adsorption metric relaxes the molecule on the slab with the MLIP.
"""

from __future__ import annotations

from pymatgen.core import Molecule

from ssbflow.errors import InputError

#: Conformers embedded per molecule (the lowest MMFF energy is kept).
N_CONFORMERS = 5
#: Random seed of the ETKDG embedding (reproducible geometries).
EMBED_SEED = 20261205
#: Force-field optimisation steps per conformer.
FF_MAX_ITERS = 2000
#: Largest molecule built (heavy + H atoms): a screening candidate, not a polymer.
MAX_SMILES_ATOMS = 200


def parse_smiles(smiles: str, label: str = "SMILES", max_atoms: int = MAX_SMILES_ATOMS):
    """The RDKit molecule (hydrogens added) of ``smiles``, at most ``max_atoms`` atoms.

    Raises
    ------
    InputError
        ``smiles`` is empty or RDKit cannot parse or sanitise it (``label`` names it).
    """
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")  # RDKit prints its own parse errors to stderr
    mol = Chem.MolFromSmiles(smiles) if isinstance(smiles, str) and smiles.strip() else None
    if mol is None:
        raise InputError(f"{label}: {smiles!r} is not a valid SMILES string")
    mol = Chem.AddHs(mol)
    if mol.GetNumAtoms() > max_atoms:
        raise InputError(f"{label}: {smiles!r} has {mol.GetNumAtoms()} atoms; at most "
                         f"{max_atoms} are built")
    return mol


def lowest_conformer(smiles: str, n_conformers: int = N_CONFORMERS, label: str = "SMILES",
                     seed: int = EMBED_SEED, max_atoms: int = MAX_SMILES_ATOMS):
    """RDKit molecule (explicit H) holding the lowest-MMFF94 of ``n_conformers`` ETKDGv3
    conformers (UFF when MMFF lacks parameters); seeded (``seed``), so reproducible. When
    ETKDG embeds nothing (long flexible chains), it retries from random coordinates.

    The lowest converged conformer is kept (the lowest of all when none converged); the
    molecule's properties ``force_field`` (``MMFF94`` or ``UFF``) and
    ``force_field_converged`` say how it was optimised.

    Raises
    ------
    InputError
        Invalid SMILES, RDKit cannot embed a 3D geometry, or neither MMFF94 nor UFF has
        parameters for every atom (UFF then returns energy 0 for an unoptimised geometry).
    """
    from rdkit import Chem
    from rdkit.Chem import AllChem

    if not 1 <= n_conformers <= 50:
        raise InputError(f"n_conformers {n_conformers}: expected 1 to 50")
    mol = parse_smiles(smiles, label, max_atoms)
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    conf_ids = list(AllChem.EmbedMultipleConfs(mol, numConfs=n_conformers, params=params))
    if not conf_ids:
        params.useRandomCoords = True
        conf_ids = list(AllChem.EmbedMultipleConfs(mol, numConfs=n_conformers, params=params))
    if not conf_ids:
        raise InputError(f"{label}: RDKit could not embed a 3D geometry for {smiles!r}")
    if AllChem.MMFFHasAllMoleculeParams(mol):
        force_field = "MMFF94"
        results = AllChem.MMFFOptimizeMoleculeConfs(mol, maxIters=FF_MAX_ITERS)
    elif AllChem.UFFHasAllMoleculeParams(mol):
        force_field = "UFF"
        results = AllChem.UFFOptimizeMoleculeConfs(mol, maxIters=FF_MAX_ITERS)
    else:
        raise InputError(f"{label}: RDKit has neither MMFF94 nor UFF parameters for every "
                         f"atom of {smiles!r}")
    # results: (0 converged / 1 not converged / -1 setup failed, energy) per conformer
    converged = [i for i, (flag, _) in enumerate(results) if flag == 0]
    pool = converged or [i for i, (flag, _) in enumerate(results) if flag != -1]
    if not pool:
        raise InputError(f"{label}: the {force_field} set-up failed for {smiles!r}")
    best = min(pool, key=lambda i: results[i][1])
    out = Chem.Mol(mol, confId=conf_ids[best])
    out.SetProp("force_field", force_field)
    out.SetBoolProp("force_field_converged", bool(converged))
    return out


def molecule_from_smiles(smiles: str, n_conformers: int = N_CONFORMERS,
                         label: str = "SMILES") -> Molecule:
    """Lowest-MMFF-energy conformer of ``smiles`` (ETKDGv3 + MMFF94, UFF when MMFF lacks
    parameters) as a ``Molecule``; its properties record the force field and whether it
    converged (``force_field_converged``).

    Parameters
    ----------
    smiles : the SMILES string (hydrogens are added).
    n_conformers : conformers embedded and optimised (1 to 50).
    label : names the input in error messages (e.g. the screening candidate).

    Raises
    ------
    InputError
        Invalid SMILES, or RDKit cannot embed a 3D geometry.
    """
    mol = lowest_conformer(smiles, n_conformers, label)
    positions = mol.GetConformer().GetPositions()
    species = [atom.GetSymbol() for atom in mol.GetAtoms()]
    charge = sum(atom.GetFormalCharge() for atom in mol.GetAtoms())
    return Molecule(species, positions, charge=charge,
                    properties={"smiles": smiles,
                                "conformer_method": f"ETKDGv3+{mol.GetProp('force_field')}",
                                "force_field_converged": mol.GetBoolProp(
                                    "force_field_converged"),
                                "n_conformers": n_conformers})
