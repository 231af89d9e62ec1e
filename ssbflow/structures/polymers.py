"""PVDF and dehydrofluorinated PVDF chains: oligomers, periodic chains, the beta crystal.

Geometry (built from internal coordinates; relax with an engine before production use):

* PVDF, -(CH2-CF2)n-, beta phase: all-trans planar zigzag, every CF2 on the same side of the
  backbone (the polar beta chain). C-C 1.54 Å, C-C-C 112.4° so that one CH2-CF2 unit spans
  2.56 Å along the chain axis (beta-PVDF c = 2.56 Å); C-F 1.35 Å, C-H 1.09 Å, H-C-H and
  F-C-F tetrahedral.
* Dehydrofluorinated PVDF (dPVDF), -(CH=CF)n-: all-trans polyene, alternating C=C 1.34 Å and
  conjugated C-C 1.46 Å, C=C-C 123° (trans-polyacetylene-like, 2.46 Å per unit), sp2 C-H
  1.08 Å and C-F 1.34 Å in the backbone plane, H and F on opposite sides of the chain.

Standard bond lengths: F. H. Allen et al., J. Chem. Soc. Perkin Trans. 2, S1-S19 (1987)
(C-C 1.53-1.54, C=C 1.33-1.34, Csp2-Csp2 conjugated 1.46, C-F 1.35 (CF2) / 1.34 (vinyl),
C-H 1.09 / 1.08 Å); beta-PVDF cell: Hasegawa et al., Polym. J. 3, 600 (1972)
(Cm2m, a = 8.58, b = 4.91, c = 2.56 Å).

Formal oxidation states (for the charge bookkeeping of periodic cells): H +1, F -1 and every
C gets -1 per bonded H and +1 per bonded F (C-C bonds count 0), so each neutral molecule sums
to zero.

Chains on slabs and polymer + Li-salt boxes: :mod:`ssbflow.structures.polymer_packing`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pymatgen.core import Lattice, Molecule, Species, Structure

from ssbflow.structures.catalog import CatalogEntry

#: Bond lengths (Å) and angles (degrees) of the two chains; see the module docstring.
CC_SINGLE_A = 1.54
CF_SP3_A = 1.35
CH_SP3_A = 1.09
PVDF_CCC_DEG = 2.0 * math.degrees(math.asin(2.56 / (2 * CC_SINGLE_A)))
CC_DOUBLE_A = 1.34
CC_CONJUGATED_A = 1.46
CF_SP2_A = 1.34
CH_SP2_A = 1.08
DPVDF_CCC_DEG = 123.0
TETRAHEDRAL_DEG = math.degrees(math.acos(-1.0 / 3.0))

#: Chain-axis repeat per monomer unit (Å).
PVDF_REPEAT_A = 2 * CC_SINGLE_A * math.sin(math.radians(PVDF_CCC_DEG / 2))
DPVDF_REPEAT_A = (CC_DOUBLE_A + CC_CONJUGATED_A) * math.sin(math.radians(DPVDF_CCC_DEG / 2))

#: beta-PVDF orthorhombic cell (Å), Hasegawa et al. (1972).
BETA_PVDF_A_A, BETA_PVDF_B_A = 8.58, 4.91

_KINDS = ("pvdf", "dpvdf")
def check_kind(kind: str) -> str:
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    return kind


def check_count(n_units: int, name: str = "n_units") -> int:
    if int(n_units) != n_units or n_units < 1:
        raise ValueError(f"{name} must be a positive integer, got {n_units!r}")
    return int(n_units)


def _zigzag(bonds_A: Sequence[float], angle_deg: float) -> np.ndarray:
    """Planar all-trans zigzag in the xz plane along +z; ``len(bonds_A) + 1`` points."""
    half = math.radians(angle_deg) / 2.0
    points = [np.zeros(3)]
    for k, length in enumerate(bonds_A):
        step = np.array([(-1) ** k * math.cos(half), 0.0, math.sin(half)]) * length
        points.append(points[-1] + step)
    return np.array(points)


def unit_vector(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def chain_coordinates(kind: str, n_units: int, capped: bool) -> tuple[list[str], np.ndarray]:
    """Species and coordinates (Å) of a chain along +z, backbone in the xz plane.

    Backbone carbons 2i are CH2 (pvdf) / CH (dpvdf), 2i+1 are CF2 / CF. With ``capped``
    the two ends get one extra H each along the missing backbone bond.
    """
    n_c = 2 * n_units
    if kind == "pvdf":
        bonds = [CC_SINGLE_A] * (n_c + 1)
        angle = PVDF_CCC_DEG
    else:
        bonds = [CC_DOUBLE_A if k % 2 else CC_CONJUGATED_A for k in range(n_c + 1)]
        angle = DPVDF_CCC_DEG
    # Backbone with one virtual carbon at each end (index 0 and n_c + 1).
    backbone = _zigzag(bonds, angle)
    species: list[str] = []
    coords: list[np.ndarray] = []
    half_sub = math.radians(TETRAHEDRAL_DEG) / 2.0
    for k in range(1, n_c + 1):
        c = backbone[k]
        species.append("C")
        coords.append(c)
        out = -unit_vector(unit_vector(backbone[k - 1] - c) + unit_vector(backbone[k + 1] - c))
        fluorinated = (k - 1) % 2 == 1
        if kind == "pvdf":
            element, length = ("F", CF_SP3_A) if fluorinated else ("H", CH_SP3_A)
            for sign in (1.0, -1.0):
                direction = math.cos(half_sub) * out + sign * math.sin(half_sub) * np.array(
                    [0.0, 1.0, 0.0])
                species.append(element)
                coords.append(c + length * direction)
        else:
            element, length = ("F", CF_SP2_A) if fluorinated else ("H", CH_SP2_A)
            species.append(element)
            coords.append(c + length * out)
    if capped:
        ch = CH_SP3_A if kind == "pvdf" else CH_SP2_A
        for k, virtual in ((1, 0), (n_c, n_c + 1)):
            species.append("H")
            coords.append(backbone[k] + ch * unit_vector(backbone[virtual] - backbone[k]))
    return species, np.array(coords)


def formal_oxidation_states(species: Sequence[str], coords_A: np.ndarray) -> list[int]:
    """Formal oxidation states of a C/H/F molecule (see the module docstring).

    Bonds are C-X pairs closer than 1.2 times the sum of covalent radii (C 0.76, H 0.31,
    F 0.57 Å).
    """
    radii = {"C": 0.76, "H": 0.31, "F": 0.57}
    coords_A = np.asarray(coords_A)
    dist = np.linalg.norm(coords_A[:, None] - coords_A[None, :], axis=-1)
    states = []
    for i, el in enumerate(species):
        if el == "H":
            states.append(1)
        elif el == "F":
            states.append(-1)
        elif el == "C":
            ox = 0
            for j, other in enumerate(species):
                if j != i and dist[i, j] < 1.2 * (radii["C"] + radii[other]):
                    ox += {"H": -1, "F": 1, "C": 0}[other]
            states.append(ox)
        else:
            raise ValueError(f"formal_oxidation_states handles C, H, F only, got {el!r}")
    return states


def pvdf_oligomer(n_units: int = 4, capped: bool = True) -> Molecule:
    """beta-PVDF oligomer H-(CH2-CF2)n-H: all-trans, all F on one side, chain along z.

    Parameters
    ----------
    n_units : number of CH2-CF2 units.
    capped : terminate both ends with H (C2nH(2n+2)F2n); ``False`` leaves the two end
        carbons with an open valence (a radical fragment of a longer chain).
    """
    n_units = check_count(n_units)
    species, coords = chain_coordinates("pvdf", n_units, capped)
    return Molecule(species, coords)


def dehydrofluorinated_pvdf_oligomer(n_units: int = 4, capped: bool = True) -> Molecule:
    """Dehydrofluorinated PVDF oligomer H-(CH=CF)n-H: all-trans polyene, chain along z.

    Parameters
    ----------
    n_units : number of CH=CF units (C=C 1.34 Å inside a unit, C-C 1.46 Å between units).
    capped : terminate both ends with H (C2nH(n+2)Fn).
    """
    n_units = check_count(n_units)
    species, coords = chain_coordinates("dpvdf", n_units, capped)
    return Molecule(species, coords)


def oligomer(kind: str = "pvdf", n_units: int = 4) -> Molecule:
    """Capped PVDF (``kind="pvdf"``) or dehydrofluorinated PVDF (``"dpvdf"``) oligomer."""
    if check_kind(kind) == "pvdf":
        return pvdf_oligomer(n_units)
    return dehydrofluorinated_pvdf_oligomer(n_units)


def with_formal_oxidation_states(species: Sequence[str], coords: np.ndarray) -> list[Species]:
    return [Species(el, ox) for el, ox in
            zip(species, formal_oxidation_states(species, coords), strict=True)]


def pvdf_chain_periodic(
    n_units: int = 1, kind: str = "pvdf", lateral_A: float = 10.0
) -> Structure:
    """Infinite chain along c in a tetragonal cell (c = n_units x repeat).

    Parameters
    ----------
    n_units : monomer units per cell; c = 2.56 Å (pvdf) or 2.46 Å (dpvdf) per unit.
    kind : ``"pvdf"`` (beta, -CH2-CF2-) or ``"dpvdf"`` (-CH=CF-).
    lateral_A : a = b (Å), the distance between the chain and its lateral images.

    Returns
    -------
    Structure
        Formal oxidation states (neutral), chain centred at a = b = 1/2.
    """
    kind = check_kind(kind)
    n_units = check_count(n_units)
    if lateral_A < 5.0:
        raise ValueError(f"lateral_A must be >= 5 Å (chain width), got {lateral_A}")
    species, coords = chain_coordinates(kind, n_units, capped=False)
    repeat = (PVDF_REPEAT_A if kind == "pvdf" else DPVDF_REPEAT_A) * n_units
    coords = coords - coords.mean(axis=0) + np.array([lateral_A / 2, lateral_A / 2, 0.0])
    # Oxidation states from the bonded neighbours inside the open chain plus the bond across
    # the cell boundary, which links two C (and so does not change them).
    ox = with_formal_oxidation_states(species, coords)
    return Structure(Lattice.tetragonal(lateral_A, repeat), ox, coords,
                     coords_are_cartesian=True, to_unit_cell=True)


def beta_pvdf_crystal() -> Structure:
    """beta-PVDF crystal, Cm2m, a = 8.58, b = 4.91, c = 2.56 Å, two chains (C4H4F4).

    Chains at (0, 0) and (1/2, 1/2), backbone zigzag in the bc plane, CF2 dipoles along b
    (the polar axis). Formal oxidation states.
    """
    species, coords = chain_coordinates("pvdf", 1, capped=False)
    coords = coords - coords[[i for i, el in enumerate(species) if el == "C"]].mean(axis=0)
    # Chain frame (zigzag in xz, substituents split along y) -> crystal (zigzag along b).
    frame = np.column_stack([coords[:, 1], coords[:, 0], coords[:, 2]])
    lattice = Lattice.orthorhombic(BETA_PVDF_A_A, BETA_PVDF_B_A, PVDF_REPEAT_A)
    shift = lattice.get_cartesian_coords([0.5, 0.5, 0.0])
    all_coords = np.vstack([frame, frame + shift])
    ox = with_formal_oxidation_states(species, coords) * 2
    return Structure(lattice, ox, all_coords, coords_are_cartesian=True, to_unit_cell=True)


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("pvdf", "beta-PVDF oligomer H-(CH2-CF2)4-H, all-trans (molecule)",
                 lambda o: pvdf_oligomer(4)),
    CatalogEntry("dpvdf", "dehydrofluorinated PVDF oligomer H-(CH=CF)4-H (molecule)",
                 lambda o: dehydrofluorinated_pvdf_oligomer(4)),
    CatalogEntry("pvdf-chain", "infinite beta-PVDF chain along c (1 unit, 2.56 Å), 10 Å apart",
                 lambda o: pvdf_chain_periodic(1, "pvdf")),
    CatalogEntry("beta-pvdf", "beta-PVDF crystal, Cm2m, a 8.58, b 4.91, c 2.56 Å",
                 lambda o: beta_pvdf_crystal()),
)
