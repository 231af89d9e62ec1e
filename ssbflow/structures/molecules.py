"""Small molecules: nitriles (succinonitrile and homologues) and carbonate solvents.

Geometries are built from standard bond lengths and ideal hybridisation angles (they are
starting points for a relaxation, not equilibrium structures). Bond lengths (Å), typical
values for organic molecules (CRC Handbook of Chemistry and Physics, "Bond lengths in
crystalline organic compounds", from Allen et al., J. Chem. Soc. Perkin Trans. 2, S1 (1987);
gas-phase acetonitrile C≡N 1.157, C-C 1.458 Å; ethylene carbonate C=O 1.19-1.20,
C(sp2)-O 1.33-1.34, O-CH2 1.43-1.45 Å; dimethyl carbonate C=O 1.20, C-O 1.34, O-CH3 1.44 Å).
``ase.build.molecule`` is not used because its G2 set lacks most of these molecules and mixing
sources would mix geometry conventions.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable

import numpy as np
from pymatgen.core import Molecule

from ssbflow.structures.catalog import BuildOptions, CatalogEntry

#: Standard bond lengths (Å) used by the builders (see the module docstring for sources).
BOND_LENGTHS_A: dict[str, float] = {
    "C#N": 1.16,  # nitrile triple bond
    "C(sp)-C(sp3)": 1.47,  # nitrile carbon to alkyl carbon
    "C-C": 1.54,  # alkane C(sp3)-C(sp3)
    "C-H": 1.09,  # C(sp3)-H
    "C=O": 1.20,  # carbonate carbonyl
    "C(sp2)-O": 1.34,  # carbonate C-O(ester)
    "O-C(sp3)": 1.43,  # ester O-alkyl C
    "C-C(ring)": 1.53,  # ethylene carbonate ring C-C
}

TETRAHEDRAL_DEG = 109.4712  # ideal sp3 angle

#: SN conformers: C-C-C-C dihedral (degrees). Gauche SN has a dihedral of about 60-70°
#: (gauche and trans coexist in the plastic crystal).
SN_DIHEDRALS_DEG = {"gauche": 65.0, "trans": 180.0}


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _place(a: np.ndarray, b: np.ndarray, c: np.ndarray, bond_A: float, angle_deg: float,
           dihedral_deg: float) -> np.ndarray:
    """Position of atom d bonded to c with |cd| = bond, angle bcd and dihedral abcd.

    Natural extension reference frame (standard internal-to-Cartesian conversion).
    """
    bc = _unit(c - b)
    n = _unit(np.cross(b - a, bc))
    m = np.cross(n, bc)
    theta, phi = np.radians(angle_deg), np.radians(dihedral_deg)
    d_local = np.array([-np.cos(theta), np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi)])
    return c + bond_A * (d_local[0] * bc + d_local[1] * m + d_local[2] * n)


def _chain(bonds_A: list[float], dihedrals_deg: list[float],
           angle_deg: float = TETRAHEDRAL_DEG) -> list[np.ndarray]:
    """Zig-zag chain with the given bond lengths, equal angles and dihedrals."""
    pts = [np.zeros(3), np.array([bonds_A[0], 0.0, 0.0])]
    theta = np.radians(180.0 - angle_deg)
    if len(bonds_A) > 1:
        pts.append(pts[1] + bonds_A[1] * np.array([np.cos(theta), np.sin(theta), 0.0]))
    for k in range(2, len(bonds_A)):
        pts.append(_place(pts[-3], pts[-2], pts[-1], bonds_A[k], angle_deg,
                          dihedrals_deg[k - 2]))
    return pts


def _ch2_hydrogens(center: np.ndarray, n1: np.ndarray, n2: np.ndarray) -> list[np.ndarray]:
    """Two H on an sp3 carbon with heavy neighbours n1, n2 (H-C-H in their bisecting plane)."""
    bisector = -_unit(_unit(n1 - center) + _unit(n2 - center))
    normal = _unit(np.cross(n1 - center, n2 - center))
    half = np.radians(TETRAHEDRAL_DEG / 2.0)
    r = BOND_LENGTHS_A["C-H"]
    return [center + r * (np.cos(half) * bisector + s * np.sin(half) * normal) for s in (1, -1)]


def _ch3_hydrogens(center: np.ndarray, neighbour: np.ndarray, reference: np.ndarray,
                   phase_deg: float = 180.0) -> list[np.ndarray]:
    """Three H on a methyl carbon bonded to ``neighbour``; the first H at ``phase_deg``
    dihedral relative to ``reference``-``neighbour``-``center``."""
    return [
        _place(reference, neighbour, center, BOND_LENGTHS_A["C-H"], TETRAHEDRAL_DEG,
               phase_deg + k * 120.0)
        for k in range(3)
    ]


def _finish(species: list[str], coords: list[np.ndarray], name: str) -> Molecule:
    mol = Molecule(species, np.array(coords))
    mol = mol.get_centered_molecule()
    mol.properties["name"] = name
    return mol


def _dinitrile(n_ch2: int, dihedrals_deg: list[float], name: str) -> Molecule:
    """N≡C-(CH2)n-C≡N with the given backbone dihedrals (C-C-C-C)."""
    if n_ch2 < 1:
        raise ValueError(f"n_ch2 must be >= 1, got {n_ch2}")
    bonds = [BOND_LENGTHS_A["C(sp)-C(sp3)"]] + [BOND_LENGTHS_A["C-C"]] * (n_ch2 - 1) + [
        BOND_LENGTHS_A["C(sp)-C(sp3)"]
    ]
    backbone = _chain(bonds, dihedrals_deg)  # C(sp), CH2 x n, C(sp)
    species = ["C"] * len(backbone)
    coords = list(backbone)
    r_cn = BOND_LENGTHS_A["C#N"]
    # nitrile N colinear with the C(sp3)-C(sp) bond (sp carbon: 180°)
    species.append("N")
    coords.append(backbone[0] + r_cn * _unit(backbone[0] - backbone[1]))
    species.append("N")
    coords.append(backbone[-1] + r_cn * _unit(backbone[-1] - backbone[-2]))
    for k in range(1, len(backbone) - 1):
        for h in _ch2_hydrogens(backbone[k], backbone[k - 1], backbone[k + 1]):
            species.append("H")
            coords.append(h)
    return _finish(species, coords, name)


def succinonitrile(conformer: str = "gauche") -> Molecule:
    """Succinonitrile N≡C-CH2-CH2-C≡N (C4H4N2), ``conformer`` "gauche" (default) or "trans".

    Gauche: C-C-C-C dihedral 65°; trans: 180°.
    """
    key = str(conformer).lower()
    if key not in SN_DIHEDRALS_DEG:
        raise ValueError(
            f"conformer must be one of {sorted(SN_DIHEDRALS_DEG)}, got {conformer!r}"
        )
    return _dinitrile(2, [SN_DIHEDRALS_DEG[key]], f"succinonitrile-{key}")


def malononitrile() -> Molecule:
    """Malononitrile N≡C-CH2-C≡N (C3H2N2)."""
    return _dinitrile(1, [], "malononitrile")


def glutaronitrile() -> Molecule:
    """Glutaronitrile N≡C-(CH2)3-C≡N (C5H6N2), all-anti backbone."""
    return _dinitrile(3, [180.0, 180.0], "glutaronitrile")


def adiponitrile() -> Molecule:
    """Adiponitrile N≡C-(CH2)4-C≡N (C6H8N2), all-anti backbone."""
    return _dinitrile(4, [180.0, 180.0, 180.0], "adiponitrile")


def acetonitrile() -> Molecule:
    """Acetonitrile CH3-C≡N (C2H3N), C3v."""
    c_methyl = np.zeros(3)
    c_nitrile = np.array([0.0, 0.0, BOND_LENGTHS_A["C(sp)-C(sp3)"]])
    n = c_nitrile + np.array([0.0, 0.0, BOND_LENGTHS_A["C#N"]])
    ref = np.array([1.0, 0.0, 2.0])  # any point off the axis fixes the H phase
    hs = _ch3_hydrogens(c_methyl, c_nitrile, ref)
    return _finish(["C", "C", "N", "H", "H", "H"], [c_methyl, c_nitrile, n, *hs],
                   "acetonitrile")


def ethylene_carbonate() -> Molecule:
    """Ethylene carbonate (1,3-dioxolan-2-one, C3H4O3), planar C2v ring.

    The free molecule's ring is slightly twisted (C2); the planar form is the usual
    starting geometry. Ring: O-C(=O)-O angle 110°, the rest closed by the bond lengths.
    """
    r_co, r_oc, r_cc = (BOND_LENGTHS_A[k] for k in ("C(sp2)-O", "O-C(sp3)", "C-C(ring)"))
    half = np.radians(110.0 / 2.0)
    c1 = np.zeros(3)
    o_carbonyl = np.array([0.0, -BOND_LENGTHS_A["C=O"], 0.0])
    o1 = np.array([-r_co * np.sin(half), r_co * np.cos(half), 0.0])
    o2 = o1 * np.array([-1.0, 1.0, 1.0])
    # ring CH2 carbons at (±r_cc/2, y): |o1 - c2| = r_oc fixes y
    dx = -r_cc / 2.0 - o1[0]
    y = o1[1] + np.sqrt(r_oc**2 - dx**2)
    c2 = np.array([-r_cc / 2.0, y, 0.0])
    c3 = c2 * np.array([-1.0, 1.0, 1.0])
    hs = _ch2_hydrogens(c2, o1, c3) + _ch2_hydrogens(c3, o2, c2)
    return _finish(["C", "O", "O", "O", "C", "C", "H", "H", "H", "H"],
                   [c1, o_carbonyl, o1, o2, c2, c3, *hs], "ethylene_carbonate")


def dimethyl_carbonate() -> Molecule:
    """Dimethyl carbonate (CH3O)2CO (C3H6O3), planar cis-cis (C2v) conformer.

    Angles: O=C-O 125.5°, O-C-O 109°, C-O-CH3 115°; methyls syn to the carbonyl O.
    """
    r_co, r_oc = BOND_LENGTHS_A["C(sp2)-O"], BOND_LENGTHS_A["O-C(sp3)"]
    c = np.zeros(3)
    o_carbonyl = np.array([0.0, BOND_LENGTHS_A["C=O"], 0.0])
    a = np.radians(125.5)
    o1 = r_co * np.array([np.sin(a), np.cos(a), 0.0])
    o2 = o1 * np.array([-1.0, 1.0, 1.0])
    # methyl C: angle C-O-CH3 = 115°, dihedral O=C-O-CH3 = 0 (syn, cis-cis conformer)
    m1 = _place(o_carbonyl, c, o1, r_oc, 115.0, 0.0)
    m2 = _place(o_carbonyl, c, o2, r_oc, 115.0, 0.0)
    hs = _ch3_hydrogens(m1, o1, c) + _ch3_hydrogens(m2, o2, c)
    return _finish(["C", "O", "O", "O", "C", "C", *["H"] * 6],
                   [c, o_carbonyl, o1, o2, m1, m2, *hs], "dimethyl_carbonate")


def _polymer_builder(function_name: str) -> Callable[..., Molecule]:
    def build(**kwargs: object) -> Molecule:
        try:
            module = importlib.import_module("ssbflow.structures.polymers")
        except ModuleNotFoundError as exc:
            raise ValueError(
                f"name: {function_name} needs ssbflow.structures.polymers, which is missing"
            ) from exc
        function = getattr(module, function_name, None)
        if function is None:
            raise ValueError(f"name: ssbflow.structures.polymers has no {function_name}()")
        return function(**kwargs)

    build.__name__ = function_name
    return build


_BUILDERS: dict[str, Callable[..., Molecule]] = {
    "succinonitrile": succinonitrile,
    "acetonitrile": acetonitrile,
    "malononitrile": malononitrile,
    "glutaronitrile": glutaronitrile,
    "adiponitrile": adiponitrile,
    "ethylene_carbonate": ethylene_carbonate,
    "dimethyl_carbonate": dimethyl_carbonate,
    "pvdf": _polymer_builder("pvdf_oligomer"),
    "dpvdf": _polymer_builder("dehydrofluorinated_pvdf_oligomer"),
}

#: Accepted names for :func:`molecule` (aliases: sn, ec, dmc, with '-' or '_').
MOLECULE_NAMES: tuple[str, ...] = tuple(_BUILDERS)

_ALIASES = {"sn": "succinonitrile", "ec": "ethylene_carbonate", "dmc": "dimethyl_carbonate",
            "mn": "malononitrile", "gn": "glutaronitrile", "adn": "adiponitrile",
            "an": "acetonitrile"}


def molecule(name: str, **kwargs: object) -> Molecule:
    """Build a molecule by name, e.g. ``molecule("succinonitrile", conformer="trans")``.

    Parameters
    ----------
    name
        One of :data:`MOLECULE_NAMES` (case-insensitive; '-' or '_'; aliases sn, ec, dmc).
        ``pvdf`` / ``dpvdf`` come from :mod:`ssbflow.structures.polymers` (``n_units=``).
    **kwargs
        Passed to the builder (``conformer`` for succinonitrile, ``n_units`` for PVDF).
    """
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    if key not in _BUILDERS:
        raise ValueError(
            f"molecule name {name!r} is unknown; expected one of: {', '.join(MOLECULE_NAMES)}"
        )
    builder = _BUILDERS[key]
    if key not in ("pvdf", "dpvdf"):
        accepted = set(inspect.signature(builder).parameters)
        unknown = sorted(set(kwargs) - accepted)
        if unknown:
            raise ValueError(
                f"molecule {key!r} does not take parameter {unknown[0]!r}; "
                f"accepted: {', '.join(sorted(accepted)) or 'none'}"
            )
    return builder(**kwargs)


def _entry(name: str, summary: str, builder: Callable[[], Molecule]) -> CatalogEntry:
    def build(_options: BuildOptions) -> Molecule:
        return builder()

    return CatalogEntry(name, summary, build)


CATALOG: tuple[CatalogEntry, ...] = (
    _entry("sn", "succinonitrile C4H4N2, gauche conformer (molecule)",
           lambda: succinonitrile("gauche")),
    _entry("sn-trans", "succinonitrile C4H4N2, trans conformer (molecule)",
           lambda: succinonitrile("trans")),
    _entry("acetonitrile", "acetonitrile CH3CN (molecule)", acetonitrile),
    _entry("malononitrile", "malononitrile CH2(CN)2 (molecule)", malononitrile),
    _entry("glutaronitrile", "glutaronitrile NC(CH2)3CN (molecule)", glutaronitrile),
    _entry("adiponitrile", "adiponitrile NC(CH2)4CN (molecule)", adiponitrile),
    _entry("ec", "ethylene carbonate C3H4O3 (molecule)", ethylene_carbonate),
    _entry("dmc", "dimethyl carbonate C3H6O3 (molecule)", dimethyl_carbonate),
)
