"""PVDF chains placed on a slab and amorphous polymer + Li-salt boxes (packing).

Chains come from :mod:`ssbflow.structures.polymers`. Salt boxes use LiFSI by default
(Li[N(SO2F)2], the salt of most PVDF-based polymer electrolytes); ``counter_ion="F"`` gives
Li+ F- for the smallest possible neutral model. Formal oxidation states: those of the chains,
FSI- as N3- S6+ O2- F-, Li+.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pymatgen.core import Lattice, Molecule, Species, Structure
from scipy import constants
from scipy.spatial.transform import Rotation

from ssbflow.structures.catalog import BuildOptions, CatalogEntry
from ssbflow.structures.limits import check_atoms
from ssbflow.structures.polymers import (
    chain_coordinates,
    check_count,
    check_kind,
    oligomer,
    unit_vector,
    with_formal_oxidation_states,
)

#: FSI- (N(SO2F)2-) geometry: typical values of crystal structures of FSI salts (Å, deg).
FSI_SN_A, FSI_SO_A, FSI_SF_A, FSI_SNS_DEG = 1.58, 1.43, 1.58, 123.0

#: Smallest allowed distance (Å) between atoms of different molecules / molecule and slab.
MIN_CONTACT_A = 1.6

#: Bondi van der Waals radii (Å; J. Phys. Chem. 68, 441 (1964)) for the packing contacts.
VDW_RADII_A = {"H": 1.20, "C": 1.70, "N": 1.55, "O": 1.52, "F": 1.47, "S": 1.80, "Li": 1.82}

_COUNTER_IONS = ("FSI", "F")


def _min_image_distances(frac_a: np.ndarray, frac_b: np.ndarray, lattice: Lattice) -> np.ndarray:
    """Minimum-image distances (Å) between two sets of fractional coordinates."""
    diff = frac_a[:, None, :] - frac_b[None, :, :]
    diff -= np.round(diff)
    return np.linalg.norm(diff @ lattice.matrix, axis=-1)


def _image_gap_A(coords_A: np.ndarray, translations: np.ndarray,
                 threshold_A: np.ndarray | None = None) -> float:
    """Smallest distance (Å) between a molecule and its copies shifted by ``translations``.

    With ``threshold_A`` (pair matrix), the smallest ratio distance / threshold instead.
    """
    diff = coords_A[None, :, None, :] - coords_A[None, None, :, :] - translations[:, None, None]
    d = np.sqrt(np.einsum("tijk,tijk->tij", diff, diff))
    return float((d if threshold_A is None else d / threshold_A).min())


def _unwrapped_slab_cart(slab: Structure) -> np.ndarray:
    """Cartesian coordinates with the slab made contiguous in z (vacuum above its top).

    The widest gap in z (periodic) is taken as the vacuum; atoms below the gap's lower edge
    keep their z, those wrapped across the cell boundary are moved up by c.
    """
    frac_z = np.mod(slab.frac_coords[:, 2], 1.0)
    order = np.sort(frac_z)
    gaps = np.diff(np.concatenate([order, [order[0] + 1.0]]))
    bottom = order[(int(np.argmax(gaps)) + 1) % len(order)]
    unwrapped = bottom + np.mod(frac_z - bottom, 1.0)
    frac = np.column_stack([slab.frac_coords[:, :2], unwrapped])
    return slab.lattice.get_cartesian_coords(frac)


def _orient_on_surface(coords_A: np.ndarray, species: Sequence[str], direction: np.ndarray,
                       facing: str) -> np.ndarray:
    """Rotate a chain (axis z, F side in the xz plane) so its axis is along ``direction``."""
    carbons = np.array([el == "C" for el in species])
    fluorines = np.array([el == "F" for el in species])
    axis = np.array([0.0, 0.0, 1.0])
    side = coords_A[fluorines].mean(axis=0) - coords_A[carbons].mean(axis=0)
    side = unit_vector(side - side.dot(axis) * axis)
    local = np.column_stack([axis, side, np.cross(axis, side)])
    t = unit_vector(np.array([direction[0], direction[1], 0.0]))
    z = np.array([0.0, 0.0, 1.0])
    target_side = {"F": -z, "H": z, "flat": np.cross(z, t)}[facing]
    target = np.column_stack([t, target_side, np.cross(t, target_side)])
    rotation = target @ local.T
    return (coords_A - coords_A.mean(axis=0)) @ rotation.T


def polymer_on_slab(
    slab: Structure,
    kind: str = "pvdf",
    n_units: int | None = None,
    height: float = 2.5,
    facing: str = "F",
    min_image_gap_A: float = 2.5,
    min_vacuum_A: float = 10.0,
) -> Structure:
    """Lay a capped oligomer flat on the top surface of ``slab``.

    The chain axis runs along the longer in-plane cell direction, centred in the cell; the
    lowest molecule atom sits ``height`` Å above the highest slab atom.

    Parameters
    ----------
    slab : slab with the surface normal along z and c along z (as from ``make_slab``).
    kind : ``"pvdf"`` or ``"dpvdf"``.
    n_units : monomer units; ``None``: the longest chain that fits the cell.
    height : gap (Å) between the top slab atom and the lowest molecule atom.
    facing : ``"F"`` (F atoms towards the surface), ``"H"``, or ``"flat"`` (backbone plane
        parallel to the surface).
    min_image_gap_A : smallest allowed distance (Å) between the chain and its in-plane images.
    min_vacuum_A : vacuum (Å) kept above the molecule; c is lengthened when needed.

    Returns
    -------
    Structure
        Slab + molecule; site property ``adsorbate`` (True on molecule atoms), molecule atoms
        with formal oxidation states, free in ``selective_dynamics``, ``magmom`` 0 and
        ``surface_layer`` False where the slab has those site properties (other slab site
        properties are dropped). ``properties["adsorbate"]`` records the placement.

    Raises
    ------
    ValueError
        Bad parameters, a chain that does not fit the cell, or a molecule atom closer than
        1.6 Å to a slab atom.
    """
    kind = check_kind(kind)
    if facing not in ("F", "H", "flat"):
        raise ValueError(f"facing must be 'F', 'H' or 'flat', got {facing!r}")
    if height <= 0:
        raise ValueError(f"height must be > 0 Å, got {height}")
    lattice = slab.lattice
    if np.linalg.norm(lattice.matrix[2][:2]) > 1e-3 or np.any(np.abs(lattice.matrix[:2, 2]) > 1e-3):
        raise ValueError("slab must have a and b in the xy plane and c along z (use make_slab)")
    a_vec, b_vec = lattice.matrix[0], lattice.matrix[1]
    direction = a_vec if np.linalg.norm(a_vec) >= np.linalg.norm(b_vec) else b_vec
    translations = np.array([i * a_vec + j * b_vec for i in (-1, 0, 1) for j in (-1, 0, 1)
                             if (i, j) != (0, 0)])

    def placed(n: int) -> tuple[list[str], np.ndarray]:
        species, coords = chain_coordinates(kind, n, capped=True)
        return species, _orient_on_surface(coords, species, direction, facing)

    if n_units is None:
        n_units = 0
        for n in range(1, 41):
            if _image_gap_A(placed(n)[1], translations) < min_image_gap_A:
                break
            n_units = n
        if n_units == 0:
            raise ValueError(
                f"slab: in-plane cell ({np.linalg.norm(a_vec):.1f} x "
                f"{np.linalg.norm(b_vec):.1f} Å) too small for even one {kind} unit"
            )
    n_units = check_count(n_units)
    species, coords = placed(n_units)
    gap = _image_gap_A(coords, translations)
    if gap < min_image_gap_A:
        raise ValueError(
            f"n_units={n_units}: the {kind} chain comes within {gap:.2f} Å of its periodic "
            f"image; the cell ({np.linalg.norm(direction):.1f} Å along the chain) is too small"
        )
    slab_cart = _unwrapped_slab_cart(slab)
    top = slab_cart[:, 2].max()
    centre = 0.5 * (a_vec + b_vec)
    coords = coords + np.array([centre[0], centre[1], top + height - coords[:, 2].min()])
    needed_c = coords[:, 2].max() - slab_cart[:, 2].min() + min_vacuum_A
    if needed_c > lattice.c:
        lattice = Lattice([a_vec, b_vec, [0.0, 0.0, needed_c]])
    d = _min_image_distances(lattice.get_fractional_coords(coords),
                             lattice.get_fractional_coords(slab_cart), lattice)
    if d.min() < MIN_CONTACT_A:
        raise ValueError(
            f"height={height}: a molecule atom is {d.min():.2f} Å from a slab atom "
            f"(< {MIN_CONTACT_A} Å); increase height"
        )
    molecule_species = with_formal_oxidation_states(species, coords)
    defaults = {"selective_dynamics": [True, True, True], "magmom": 0.0,
                "surface_layer": False}
    properties: dict[str, list] = {}
    for key, values in slab.site_properties.items():
        if key in defaults:  # other slab-only site properties are dropped
            properties[key] = list(values) + [defaults[key]] * len(species)
    properties["adsorbate"] = [False] * len(slab) + [True] * len(species)
    info = {**slab.properties, "adsorbate": {"kind": kind, "n_units": n_units,
                                             "height_A": height, "facing": facing}}
    combined = Structure(lattice, list(slab.species) + molecule_species,
                         np.vstack([slab_cart, coords]), coords_are_cartesian=True,
                         site_properties=properties, properties=info)
    return _by_element(combined)


def _by_element(structure: Structure) -> Structure:
    """Sites grouped by element (one POSCAR block each), order within an element kept."""
    return structure.get_sorted_structure(key=lambda site: (site.specie.X, site.specie.symbol))


def fsi_anion() -> Molecule:
    """Bis(fluorosulfonyl)imide anion N(SO2F)2- (C2, F atoms trans), charge -1."""
    half = math.radians(FSI_SNS_DEG) / 2.0
    species, coords = ["N"], [np.zeros(3)]
    for sign in (1.0, -1.0):
        s = FSI_SN_A * np.array([sign * math.sin(half), math.cos(half), 0.0])
        to_n = unit_vector(-s)
        e1 = unit_vector(np.cross(to_n, [0.0, 0.0, 1.0]))
        e2 = np.cross(to_n, e1)
        species.append("S")
        coords.append(s)
        # Three tetrahedral directions around S opposite to S->N; F out of plane, trans.
        for k, (element, length) in enumerate((("F", FSI_SF_A), ("O", FSI_SO_A),
                                               ("O", FSI_SO_A))):
            phi = math.pi / 2 * sign + k * 2 * math.pi / 3
            direction = (-to_n / 3.0 + (2 * math.sqrt(2) / 3)
                         * (math.cos(phi) * e1 + math.sin(phi) * e2))
            species.append(element)
            coords.append(s + length * direction)
    return Molecule(species, np.array(coords), charge=-1)


_FSI_OXIDATION = {"N": -3, "S": 6, "O": -2, "F": -1}


def _box_components(kind: str, n_chains: int, n_units: int, n_li: int,
                    counter_ion: str) -> list[tuple[str, list[Species], np.ndarray]]:
    """(name, species with formal oxidation states, coordinates) of every molecule/ion."""
    components = []
    chain = oligomer(kind, n_units)
    chain_species = with_formal_oxidation_states([s.symbol for s in chain.species],
                                                 chain.cart_coords)
    for _ in range(n_chains):
        components.append((kind, chain_species, chain.cart_coords - chain.center_of_mass))
    if counter_ion == "FSI":
        fsi = fsi_anion()
        fsi_species = [Species(s.symbol, _FSI_OXIDATION[s.symbol]) for s in fsi.species]
        counter = ("FSI", fsi_species, fsi.cart_coords - fsi.center_of_mass)
    else:
        counter = ("F", [Species("F", -1)], np.zeros((1, 3)))
    components += [counter] * n_li
    components += [("Li", [Species("Li", 1)], np.zeros((1, 3)))] * n_li
    return components


def polymer_li_box(
    kind: str = "pvdf",
    n_chains: int = 4,
    n_units: int = 4,
    n_li: int = 4,
    counter_ion: str = "FSI",
    density: float = 1.7,
    seed: int = 0,
    min_distance_A: float = MIN_CONTACT_A,
    vdw_scale: float = 0.6,
    max_attempts: int = 5000,
) -> Structure:
    """Amorphous polymer + Li salt in a cubic periodic box, for diffusion MD.

    Rigid capped oligomers (random orientation and position), then counter-ions, then Li+,
    are inserted one by one; a trial is accepted when every atom is at least
    max(``min_distance_A``, ``vdw_scale`` x (sum of van der Waals radii)) from every atom of
    other molecules and from the periodic images of its own molecule (e.g. S...O >= 2.0 Å,
    Li...O >= 2.0 Å, H...H >= 1.6 Å with the defaults). The cubic box is sized for
    ``density`` exactly. Molecules keep their ideal rigid geometry: relax the box (positions,
    then cell) before MD; CHGNet's largest initial force on the default box is ~6 eV/Å.

    Parameters
    ----------
    kind : ``"pvdf"`` or ``"dpvdf"`` chains (H-capped oligomers).
    n_chains, n_units : number of chains and monomer units per chain.
    n_li : Li+ ions, each with one counter-ion (the box is neutral).
    counter_ion : ``"FSI"`` (LiFSI, default) or ``"F"``.
    density : target density (g/cm³); amorphous PVDF is about 1.68-1.78.
    seed : random seed.
    min_distance_A : smallest distance between atoms of different molecules (Å).
    vdw_scale : fraction of the van der Waals contact distance (Bondi radii) required.
    max_attempts : insertion trials per molecule before the packing restarts (5 restarts).

    Returns
    -------
    Structure
        Formal oxidation states (sum 0); site properties ``molecule_id`` (int, one per
        molecule/ion) and ``molecule`` (``"pvdf"``, ``"dpvdf"``, ``"FSI"``, ``"F"``, ``"Li"``).
        Default: 4 x C8H10F8 + 4 LiFSI, 144 atoms, a = 12.0 Å.
    """
    kind = check_kind(kind)
    n_chains = check_count(n_chains, "n_chains")
    n_units = check_count(n_units)
    if int(n_li) != n_li or n_li < 0:
        raise ValueError(f"n_li must be a non-negative integer, got {n_li!r}")
    if counter_ion not in _COUNTER_IONS:
        raise ValueError(f"counter_ion must be one of {_COUNTER_IONS}, got {counter_ion!r}")
    if not 0.3 <= density <= 3.0:
        raise ValueError(f"density must be within 0.3-3.0 g/cm³, got {density}")
    if min_distance_A <= 0:
        raise ValueError(f"min_distance_A must be > 0 Å, got {min_distance_A}")
    if not 0.0 <= vdw_scale <= 1.0:
        raise ValueError(f"vdw_scale must be within [0, 1], got {vdw_scale}")
    # (CH2-CF2 or CH=CF) units of <= 6 atoms + 2 caps; a counter-ion of <= 9 atoms + Li
    check_atoms(n_chains * (6 * n_units + 2) + int(n_li) * 10,
                f"{kind} box of {n_chains} chains x {n_units} units + {n_li} Li")
    components = _box_components(kind, n_chains, n_units, int(n_li), counter_ion)
    mass_amu = sum(float(sp.atomic_mass) for _, species, _ in components for sp in species)
    volume_A3 = mass_amu / (density * constants.Avogadro * 1e-24)  # g/cm³ -> amu/Å³
    side_A = volume_A3 ** (1.0 / 3.0)
    lattice = Lattice.cubic(side_A)
    longest = max(np.ptp(coords, axis=0).max() for _, _, coords in components)
    if longest > math.sqrt(3) * side_A - 2 * min_distance_A:
        raise ValueError(
            f"n_units={n_units}: chains ({longest:.1f} Å) do not fit the {side_A:.1f} Å box; "
            "use more chains or fewer units per chain"
        )
    rng = np.random.default_rng(seed)
    shifts = np.array([[i, j, k] for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)
                       if (i, j, k) != (0, 0, 0)], dtype=float) @ lattice.matrix
    def radii(species: Sequence[Species]) -> np.ndarray:
        return np.array([VDW_RADII_A[sp.symbol] for sp in species])

    def contact(r_a: np.ndarray, r_b: np.ndarray) -> np.ndarray:
        return np.maximum(min_distance_A, vdw_scale * (r_a[:, None] + r_b[None, :]))

    for _restart in range(5):
        placed_frac = np.zeros((0, 3))
        placed_radii = np.zeros(0)
        result: list[tuple[int, str, Species, np.ndarray]] = []
        for mol_id, (name, species, coords) in enumerate(components):
            r_mol = radii(species)
            self_contact = contact(r_mol, r_mol)
            for _ in range(max_attempts):
                rotated = Rotation.random(random_state=rng).apply(coords)
                trial = rotated + rng.random(3) @ lattice.matrix
                frac = lattice.get_fractional_coords(trial)
                if len(placed_frac) and np.any(
                        _min_image_distances(frac, placed_frac, lattice)
                        < contact(r_mol, placed_radii)):
                    continue
                if len(species) > 1 and _image_gap_A(trial, shifts, self_contact) < 1.0:
                    continue
                placed_frac = np.vstack([placed_frac, frac])
                placed_radii = np.concatenate([placed_radii, r_mol])
                result += [(mol_id, name, sp, xyz) for sp, xyz in
                           zip(species, trial, strict=True)]
                break
            else:
                break  # this molecule found no room: restart the packing
        else:
            return _by_element(Structure(
                lattice,
                [r[2] for r in result],
                np.array([r[3] for r in result]),
                coords_are_cartesian=True,
                to_unit_cell=True,
                site_properties={"molecule_id": [r[0] for r in result],
                                 "molecule": [r[1] for r in result]},
            ))
    raise ValueError(
        f"density={density}: could not pack {len(components)} molecules without contacts "
        f"< {min_distance_A} Å; lower the density or the number of molecules"
    )


def _on_ncm811(kind: str, options: BuildOptions) -> Structure:
    from ssbflow.structures.cathode_slabs import ncm811_slab

    kwargs = dict(options.given())
    if "supercell" not in kwargs:
        kwargs["min_width_A"] = (14.0, 8.0)
    return polymer_on_slab(ncm811_slab(**kwargs), kind=kind)




CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("pvdf-on-ncm811", "beta-PVDF oligomer lying on NCM811 (104), F down, 2.5 Å",
                 lambda o: _on_ncm811("pvdf", o),
                 frozenset({"miller", "thickness", "vacuum", "termination", "supercell"})),
    CatalogEntry("dpvdf-on-ncm811", "dehydrofluorinated PVDF (-CH=CF-) oligomer on NCM811 (104)",
                 lambda o: _on_ncm811("dpvdf", o),
                 frozenset({"miller", "thickness", "vacuum", "termination", "supercell"})),
    CatalogEntry("pvdf-box", "amorphous 4 PVDF 4-mers + 4 LiFSI, 1.7 g/cm3, for Li diffusion MD",
                 lambda o: polymer_li_box("pvdf")),
    CatalogEntry("dpvdf-box", "amorphous 4 dPVDF 4-mers + 4 LiFSI, 1.7 g/cm3, for Li diffusion MD",
                 lambda o: polymer_li_box("dpvdf")),
)
