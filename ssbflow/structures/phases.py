"""Bulk phases for reaction energetics: Li, metals, nitrides and Li–M intermetallics.

Every phase is built from crystallographic facts (a package CIF in ``ssbflow/data/structures``
or a structure type with literature lattice parameters), cited in :data:`PHASE_LIBRARY`.
Positions and cells are starting points: relax them with the engine before using energies.

Li–Sn and Li–Mg are modelled, not copied from a refined structure (no permissively licensed
coordinates were at hand): Li5Sn2 and Li13Sn5 as the ordered bcc-[111] stackings that their
published cells imply (positions at the ideal bcc values, tin layers chosen by CHGNet energy; see
:func:`bcc_111_stacking`), and Li–Mg, a bcc solid solution with no ordered compound, by the B2
(CsCl) approximant LiMg.

Phases left out on purpose (no reliable crystallographic facts at hand, or no compound):
Li–Sn phases whose cells are not simple bcc stackings (Li2Sn5, LiSn, Li7Sn3, Li7Sn2,
Li17Sn4/Li22Sn5: low-symmetry or 400-atom cells whose coordinates we could not verify),
Li3Au / LiAu (the equiatomic phase is not CsCl-type; Li3Au's structure type is not settled in
the sources at hand), ternary Li–M–N nitrides (Li3AlN2, LiMgN, Li3FeN2 ...), ε-Fe3N, and Au/Ag
nitrides (metastable, explosive). Li–Cu and Li–Fe form no compounds.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
from pymatgen.core import Lattice, Structure

from ssbflow.structures.catalog import BuildOptions, CatalogEntry
from ssbflow.structures.limits import check_repeated_atoms

_DATA = "ssbflow.data.structures"

#: Reference CIFs shipped as package data (see ``ssbflow/data/structures/SOURCES.md``).
_CIF_FILES = {
    "li": "Li_bcc_Im-3m_GENERATED_a3.49.cif",
    "in": "In_I4mmm_GENERATED_a3.2529_c4.9463.cif",
    "li3n": "Li3N_P6mmm_NCrystal-COD1544904.cif",
    "au": "Au_fcc_Fm-3m_NCrystal-COD9008463.cif",
    "ag": "Ag_fcc_Fm-3m_NCrystal-COD9008459.cif",
    "al": "Al_fcc_Fm-3m_NCrystal-COD9008460.cif",
    "cu": "Cu_fcc_Fm-3m_NCrystal-COD9008468.cif",
    "fe": "Fe_bcc_Im-3m_NCrystal-Seki2005-300K.cif",
    "mg": "Mg_hcp_P63mmc_NCrystal-COD9008506.cif",
    "zn": "Zn_hcp_P63mmc_NCrystal-COD9008522.cif",
    "sn": "Sn_beta_I41amd_NCrystal-COD9008570.cif",
}


@cache
def _read_cif(filename: str) -> Structure:
    text = resources.files(_DATA).joinpath(filename).read_text()
    with warnings.catch_warnings():  # "fractional coordinates rounded to ideal values"
        warnings.simplefilter("ignore")
        return Structure.from_str(text, fmt="cif")


def _from_cif(key: str) -> Callable[[], Structure]:
    def build() -> Structure:
        return _read_cif(_CIF_FILES[key]).copy()

    return build


# --- structure types -------------------------------------------------------------------
# Written out here (rather than taken from a prototype library) because the only bundled
# prototype library (AFLOW in pymatgen) has a known wrong entry for In; each type below is
# a handful of Wyckoff positions, checked by the tests (space group, distances, neutrality).


def wurtzite(cation: str, anion: str, a_A: float, c_A: float, u: float) -> Structure:
    """Wurtzite (B4, P6_3mc): cation 2b (1/3, 2/3, 0), anion 2b (1/3, 2/3, u)."""
    return Structure.from_spacegroup(
        "P6_3mc", Lattice.hexagonal(a_A, c_A), [cation, anion],
        [[1 / 3, 2 / 3, 0.0], [1 / 3, 2 / 3, u]],
    )


def natl_b32(a_species: str, b_species: str, a_A: float) -> Structure:
    """NaTl type (B32, Fd-3m), primitive cell: two interpenetrating diamond sublattices.

    ``a_species`` on 8a (0, 0, 0), (1/4, 1/4, 1/4); ``b_species`` on 8b (1/2, 1/2, 1/2),
    (3/4, 3/4, 3/4) (conventional coordinates, origin choice 1), plus fcc translations.
    """
    lattice = Lattice([[0, a_A / 2, a_A / 2], [a_A / 2, 0, a_A / 2], [a_A / 2, a_A / 2, 0]])
    cart = np.array([[0, 0, 0], [0.25, 0.25, 0.25], [0.5, 0.5, 0.5], [0.75, 0.75, 0.75]]) * a_A
    return Structure(lattice, [a_species, a_species, b_species, b_species], cart,
                     coords_are_cartesian=True)


def cscl_b2(a_species: str, b_species: str, a_A: float) -> Structure:
    """CsCl type (B2, Pm-3m): A at (0, 0, 0), B at (1/2, 1/2, 1/2)."""
    return Structure(Lattice.cubic(a_A), [a_species, b_species], [[0, 0, 0], [0.5, 0.5, 0.5]])


def cu3au_l12(majority: str, minority: str, a_A: float) -> Structure:
    """Cu3Au type (L1_2, Pm-3m): minority at the corner, majority at the face centres."""
    return Structure(
        Lattice.cubic(a_A), [minority, majority, majority, majority],
        [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]],
    )


def anti_reo3(metal: str, anion: str, a_A: float) -> Structure:
    """anti-ReO3 (D0_9, Pm-3m), e.g. Cu3N: anion at 1a (0,0,0), metal at 3d (1/2,0,0)."""
    return Structure(
        Lattice.cubic(a_A), [anion, metal, metal, metal],
        [[0, 0, 0], [0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5]],
    )


def fe4n_type(a_A: float) -> Structure:
    """γ'-Fe4N (Pm-3m): Fe 1a (0,0,0), Fe 3c face centres, N 1b body centre."""
    return Structure(
        Lattice.cubic(a_A), ["Fe", "Fe", "Fe", "Fe", "N"],
        [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0], [0.5, 0.5, 0.5]],
    )


def anti_bixbyite(metal: str, anion: str, a_A: float, x_24d: float,
                  xyz_48e: tuple[float, float, float]) -> Structure:
    """anti-bixbyite (anti-Mn2O3, Ia-3), primitive cell of M3N2 (Mg3N2, Zn3N2).

    Anion on 8b (1/4, 1/4, 1/4) and 24d (x, 0, 1/4); metal on 48e (x, y, z).
    """
    conventional = Structure.from_spacegroup(
        "Ia-3", Lattice.cubic(a_A), [anion, anion, metal],
        [[0.25, 0.25, 0.25], [x_24d, 0.0, 0.25], list(xyz_48e)],
    )
    return conventional.get_primitive_structure()


def spinel_nitride(a_A: float, x_32e: float) -> Structure:
    """Sn3N4 spinel (Fd-3m, origin choice 2), primitive cell.

    Sn on 8a (1/8, 1/8, 1/8) and 16d (1/2, 1/2, 1/2); N on 32e (x, x, x).
    """
    conventional = Structure.from_spacegroup(
        "Fd-3m:2", Lattice.cubic(a_A), ["Sn", "Sn", "N"],
        [[0.125, 0.125, 0.125], [0.5, 0.5, 0.5], [x_32e] * 3],
    )
    return conventional.get_primitive_structure()


def antifluorite(cation: str, anion: str, a_A: float) -> Structure:
    """anti-CaF2 (C1, Fm-3m), primitive cell: anion 4a (0,0,0), cation 8c (±1/4 ×3)."""
    lattice = Lattice([[0, a_A / 2, a_A / 2], [a_A / 2, 0, a_A / 2], [a_A / 2, a_A / 2, 0]])
    cart = np.array([[0, 0, 0], [0.25, 0.25, 0.25], [0.75, 0.75, 0.75]]) * a_A
    return Structure(lattice, [anion, cation, cation], cart, coords_are_cartesian=True)


def alpha_n2(a_A: float = 5.661, bond_A: float = 1.098) -> Structure:
    """α-N2 (Pa-3): N2 molecules on an fcc lattice along the four ⟨111⟩ directions.

    Used as the nitrogen reference of the phase diagrams (relax positions only: the
    force field has no reliable van der Waals cohesion for the cell).
    """
    x = bond_A / (2 * np.sqrt(3) * a_A)
    return Structure.from_spacegroup("Pa-3", Lattice.cubic(a_A), ["N"], [[x, x, x]])


def bcc_111_stacking(a_hex_A: float, c_A: float, n_layers: int, tin_layers: set[int],
                     *, host: str = "Li", solute: str = "Sn") -> Structure:
    """An ordered bcc superstructure stacked along bcc [111], in the hexagonal setting.

    bcc seen along [111] is a stack of triangular layers (one atom per hexagonal cell
    a_hex = a_bcc·√2) shifted by (2/3, 1/3) from one layer to the next (ABC...), spaced
    a_bcc/(2√3). Layer ``n`` (0 ≤ n < ``n_layers``) sits at height n/n_layers and holds
    ``solute`` when ``n`` is in ``tin_layers``, else ``host``. Written out here because the
    Li-rich Li–Sn phases are bcc-Li superstructures (Berger et al., Z. Kristallogr. 235, 581
    (2020)) and no prototype library has them; the primitive cell is returned (a
    rhombohedral stacking reduces to ``n_layers``/3 atoms).

    Raises
    ------
    ValueError
        ``n_layers`` not a multiple of 3 (the ABC stacking would not close), or a solute layer
        outside 0 ... n_layers − 1.
    """
    if n_layers % 3 or n_layers <= 0:
        raise ValueError(f"n_layers {n_layers}: expected a positive multiple of 3")
    if any(not 0 <= n < n_layers for n in tin_layers):
        raise ValueError(f"tin_layers {sorted(tin_layers)}: expected indices in 0..{n_layers - 1}")
    offsets = {0: (0.0, 0.0), 1: (2 / 3, 1 / 3), 2: (1 / 3, 2 / 3)}
    species = [solute if n in tin_layers else host for n in range(n_layers)]
    coords = [[*offsets[n % 3], n / n_layers] for n in range(n_layers)]
    hexagonal = Structure(Lattice.hexagonal(a_hex_A, c_A), species, coords)
    return hexagonal.get_primitive_structure()


def li5sn2(a_hex_A: float = 4.74, c_A: float = 19.83) -> Structure:
    """Li5Sn2 (R-3m) as a 21-layer bcc-[111] stacking, Sn in layers 2 and 5 of every 7.

    Equivalent to Li 3a (0,0,0), Li 6c z = 1/7, Li 6c z = 2/7, Sn 6c z = 3/7 at the ideal bcc
    heights. Of the three R-3m placements of the Sn site (z = 1/7, 2/7, 3/7), CHGNet puts this
    one lowest (formation energies −0.32, −0.38, −0.42 eV/atom) and relaxes it to 18.34
    Å³/atom, 0.2 % from the experimental cell (18.37 Å³/atom).
    """
    return bcc_111_stacking(a_hex_A, c_A, 21, {2, 5, 9, 12, 16, 19})


def li13sn5(a_hex_A: float = 4.70, c_A: float = 17.12) -> Structure:
    """Li13Sn5 (P-3m1) as an 18-layer bcc-[111] stacking, Sn in layers 0, 4, 7, 11, 14.

    Sn on 1a and two 2c/2d pairs at the ideal bcc heights; the lowest CHGNet energy of the 28
    distinct P-3m1 placements of five Sn layers among 18 (static energies, best ones
    relaxed). Relaxed: a = 4.70, c = 17.17 Å, 18.25 Å³/atom vs 18.20 Å³/atom experimental.
    """
    return bcc_111_stacking(a_hex_A, c_A, 18, {0, 4, 7, 11, 14})


@dataclass(frozen=True)
class Phase:
    """A library phase.

    Attributes
    ----------
    name : short key (lower case), e.g. ``"liin"``.
    formula : reduced formula.
    build : builder returning the unrelaxed structure.
    source : literature source of the structure (type, lattice parameters).
    relax_cell : whether the cell should be relaxed (False for molecular N2).
    """

    name: str
    formula: str
    build: Callable[[], Structure]
    source: str
    relax_cell: bool = True


#: B2 LiMg lattice constant (Å): Vegard's law, mean of the atomic volumes of bcc Li
#: (a = 3.51 Å at 298 K, 21.62 Å³) and hcp Mg (a = 3.2093, c = 5.2103 Å, 23.24 Å³).
_LIMG_B2_A = round((3.51**3 / 2 + np.sqrt(3) / 4 * 3.2093**2 * 5.2103) ** (1 / 3), 4)


def _phases() -> dict[str, Phase]:
    cod = "COD {}, via NCrystal data (see data/structures/SOURCES.md)"
    items = [
        Phase("li", "Li", _from_cif("li"), "bcc a=3.49 Å, Ashcroft & Mermin (78 K)"),
        Phase("in", "In", _from_cif("in"),
              "bct I4/mmm a=3.2528, c=4.9463 Å, Deshpande & Pawar, Acta Cryst. A 25, 415 (1969)"),
        Phase("au", "Au", _from_cif("au"), "fcc, " + cod.format(9008463)),
        Phase("ag", "Ag", _from_cif("ag"), "fcc, " + cod.format(9008459)),
        Phase("al", "Al", _from_cif("al"), "fcc, " + cod.format(9008460)),
        Phase("cu", "Cu", _from_cif("cu"), "fcc, " + cod.format(9008468)),
        Phase("fe", "Fe", _from_cif("fe"),
              "bcc a=2.8676 Å, Seki & Nagata, ISIJ Int. 45, 1789 (2005)"),
        Phase("mg", "Mg", _from_cif("mg"), "hcp, " + cod.format(9008506)),
        Phase("zn", "Zn", _from_cif("zn"), "hcp, " + cod.format(9008522)),
        Phase("sn", "Sn", _from_cif("sn"), "β-Sn I4_1/amd, " + cod.format(9008570)),
        Phase("n2", "N2", alpha_n2,
              "α-N2 Pa-3 a=5.661 Å (Venables & English, Acta Cryst. B 30, 929 (1974)), "
              "N≡N 1.098 Å", relax_cell=False),
        # nitrides
        Phase("li3n", "Li3N", _from_cif("li3n"),
              "α-Li3N P6/mmm, Kawada et al. (1986), COD 1544904"),
        Phase("inn", "InN", lambda: wurtzite("In", "N", 3.54, 5.70, 0.377),
              "wurtzite P6_3mc a=3.54, c=5.70 Å, u=0.377 (shared/reference/SOURCES.md)"),
        Phase("aln", "AlN", lambda: wurtzite("Al", "N", 3.112, 4.982, 0.382),
              "wurtzite P6_3mc a=3.112, c=4.982 Å, u=0.382 (Schulz & Thiemann, "
              "Solid State Commun. 23, 815 (1977))"),
        Phase("cu3n", "Cu3N", lambda: anti_reo3("Cu", "N", 3.814),
              "anti-ReO3 Pm-3m a=3.814 Å (Juza & Hahn, Z. anorg. allg. Chem. 239, 282 (1938))"),
        Phase("fe4n", "Fe4N", lambda: fe4n_type(3.795),
              "γ'-Fe4N Pm-3m a=3.795 Å (Jack, Proc. R. Soc. A 195, 34 (1948))"),
        Phase("mg3n2", "Mg3N2",
              lambda: anti_bixbyite("Mg", "N", 9.9657, 0.9686, (0.3890, 0.1520, 0.3823)),
              "anti-bixbyite Ia-3 a=9.9657 Å (Partin et al., J. Solid State Chem. 131, "
              "27 (1997))"),
        Phase("zn3n2", "Zn3N2",
              lambda: anti_bixbyite("Zn", "N", 9.7691, 0.9718, (0.3920, 0.1520, 0.3820)),
              "anti-bixbyite Ia-3 a=9.7691 Å (Partin et al., J. Solid State Chem. 131, "
              "27 (1997))"),
        Phase("sn3n4", "Sn3N4", lambda: spinel_nitride(9.037, 0.2583),
              "spinel Fd-3m a=9.037 Å, N x=0.2583 (Scotti et al., Inorg. Chem. 38, 3658 "
              "(1999))"),
        Phase("li2o", "Li2O", lambda: antifluorite("Li", "O", 4.6114),
              "antifluorite Fm-3m a=4.6114 Å (Farley et al., J. Phys.: Condens. Matter 3, "
              "4761 (1991)); sets μ_O at Li/Li2O equilibrium"),
        # Li–M intermetallics
        Phase("liin", "LiIn", lambda: natl_b32("Li", "In", 6.79),
              "NaTl (B32) Fd-3m a=6.79 Å (Zintl & Brauer 1933; shared/reference/SOURCES.md)"),
        Phase("lial", "LiAl", lambda: natl_b32("Li", "Al", 6.37),
              "NaTl (B32) Fd-3m a=6.37 Å (Zintl & Woltersdorf, Z. Elektrochem. 41, 876 (1935))"),
        Phase("lizn", "LiZn", lambda: natl_b32("Li", "Zn", 6.21),
              "NaTl (B32) Fd-3m a≈6.21 Å (Zintl & Schneider, Z. Elektrochem. 41, 764 (1935))"),
        Phase("liag", "LiAg", lambda: cscl_b2("Li", "Ag", 3.17),
              "β-LiAg CsCl (B2) Pm-3m a≈3.17 Å (Freeth & Raynor, J. Inst. Met. 82, 569 (1954))"),
        Phase("liau3", "LiAu3", lambda: cu3au_l12("Au", "Li", 4.12),
              "Au3Li Cu3Au (L1_2) Pm-3m, a≈4.12 Å (Leonard & Schaak, Eur. J. Inorg. Chem. "
              "2011, doi:10.1002/ejic.201100276)"),
        Phase("li5sn2", "Li5Sn2", li5sn2,
              "R-3m a=4.74, c=19.83 Å (Frank, Müller & Schäfer, Z. Naturforsch. B 30, 1 "
              "(1975), doi:10.1515/znb-1975-1-202); modelled as a bcc-[111] stacking "
              "(ideal positions, Sn layers by CHGNet energy), see li5sn2()"),
        Phase("li13sn5", "Li13Sn5", li13sn5,
              "P-3m1 a=4.70, c=17.12 Å (Frank, Müller & Schäfer, Z. Naturforsch. B 30, 6 "
              "(1975), doi:10.1515/znb-1975-1-203); modelled as a bcc-[111] stacking "
              "(ideal positions, Sn layers by CHGNet energy), see li13sn5()"),
        Phase("limg", "LiMg", lambda: cscl_b2("Li", "Mg", _LIMG_B2_A),
              "B2 (CsCl) ordered approximant of the bcc Li–Mg solid solution (no ordered "
              "compound exists); a from Vegard's law on the atomic volumes of bcc Li "
              "(a=3.51 Å, 298 K) and hcp Mg (COD 9008506)"),
    ]
    return {p.name: p for p in items}


#: The curated phase library, by name.
PHASE_LIBRARY: dict[str, Phase] = _phases()

#: Phases of each chemical system needed for the Li reactivity studies.
METALS = ("au", "zn", "in", "fe", "ag", "sn", "mg", "al", "cu")


def phase(name: str) -> Structure:
    """Build the library phase ``name`` (case-insensitive, e.g. ``"InN"``, ``"liin"``).

    Raises
    ------
    ValueError
        Unknown phase name.
    """
    key = name.strip().lower()
    if key not in PHASE_LIBRARY:
        raise ValueError(
            f"unknown phase name {name!r}; expected one of: {', '.join(PHASE_LIBRARY)}"
        )
    return PHASE_LIBRARY[key].build()


def phases_for_elements(elements: set[str] | list[str]) -> list[Phase]:
    """Every library phase made only of ``elements`` (element symbols, e.g. {"Li", "In", "N"})."""
    from pymatgen.core import Composition

    wanted = set(elements)
    return [p for p in PHASE_LIBRARY.values()
            if {el.symbol for el in Composition(p.formula).elements} <= wanted]


def _catalog_entry(name: str, summary: str, catalog_name: str | None = None) -> CatalogEntry:
    def build(options: BuildOptions) -> Structure:
        structure = phase(name)
        if options.supercell is not None:
            reps = check_repeated_atoms(len(structure), options.supercell, name)
            structure.make_supercell(list(reps))
        return structure

    return CatalogEntry(catalog_name or name, summary, build, frozenset({"supercell"}))


_METAL_NAMES = {"au": "Au, fcc", "zn": "Zn, hcp", "fe": "Fe, bcc", "ag": "Ag, fcc",
                "sn": "β-Sn (I4_1/amd)", "mg": "Mg, hcp", "al": "Al, fcc", "cu": "Cu, fcc"}

#: ``sn`` is succinonitrile in the catalog (molecules), so tin is built as ``tin``.
CATALOG: tuple[CatalogEntry, ...] = (
    _catalog_entry("li", "Li metal, bcc (Im-3m)"),
    _catalog_entry("in", "In metal, body-centred tetragonal (I4/mmm)"),
    _catalog_entry("inn", "InN, wurtzite (P6_3mc)"),
    _catalog_entry("li3n", "α-Li3N (P6/mmm)"),
    _catalog_entry("liin", "LiIn, NaTl type (Fd-3m)"),
    *(_catalog_entry(m, f"metal {label}", catalog_name="tin" if m == "sn" else m)
      for m, label in _METAL_NAMES.items()),
)
