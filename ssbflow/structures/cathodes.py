"""Layered oxide cathodes: LiCoO2 (LCO) and LiNi0.8Co0.1Mn0.1O2 (NCM811) bulk; TM ordering.

NCM811 slabs: :mod:`ssbflow.structures.cathode_slabs`.

Both are alpha-NaFeO2-type, space group R-3m (hexagonal setting): transition metal (TM) on
3a (0, 0, 0), Li on 3b (0, 0, 1/2), O on 6c (0, 0, z ~ 0.26).

Oxidation states and spin seeds
-------------------------------
Li+, O2-, Co3+ and Mn4+ throughout. In NCM811 the TM charge per LiMO2 must be +3; Co3+ and
Mn4+ give +3 and +4, so every Mn4+ is compensated by one Ni2+ and the rest of Ni is Ni3+:
Li10 Ni(2+)1 Ni(3+)7 Co(3+)1 Mn(4+)1 O20 per 10 TM. This is the usual picture of Ni-rich
NCM (Mn stays 4+, Ni carries the redox) and the only integer assignment of the standard
states that is charge neutral. In slabs the number of Ni2+ follows from the charge balance of
the slab's actual composition (it is the bulk value for stoichiometric slabs).

Initial magnetic moments (site property ``magmom``, μB, ferromagnetic) are the spin-only
values of the expected spin states: Ni2+ (d8) 2, low-spin Ni3+ (d7) 1, Mn4+ (d3) 3. Low-spin
Co3+ (d6) is non-magnetic; it is seeded with 0.6 μB, the value of pymatgen's VASP defaults
(``VASPIncarBase.yaml``), so that a spin-polarised calculation can still find a moment.

TM ordering
-----------
NCM811 needs a cell of 10k TM for the exact 8:1:1 ratio; the smallest is 10 TM (40 atoms).
The arrangement of Ni2+/Ni3+/Co3+/Mn4+ over the TM sites is the one of lowest Ewald energy:
all arrangements are enumerated when there are at most ``MAX_EXHAUSTIVE`` (10 TM: 720), else
randomly sampled arrangements are refined by swaps (see :mod:`ssbflow.structures.ordering`).
Co3+ and Ni3+ carry the same charge, so the Ewald energy cannot tell where Co sits among the
3+ sites. Among arrangements of equal (lowest) Ewald energy the one with the dopants (Co, Mn)
farthest apart is kept (largest shortest Co/Mn-Co/Mn distance): in the 10-TM cell the four
Ewald-degenerate minima have Co-Mn 2.87, 2.87, 4.97 and 5.74 Å, and CHGNet (unrelaxed
single points) puts the 5.74 Å one lowest, 1.6 meV/atom below the nearest-neighbour ones.
:func:`ncm811_candidates` returns several distinct low-Ewald orderings for screening with an
engine. An explicit ordering of elements can be given instead; Ni2+ is then placed on the Ni
site of lowest Ewald energy.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from importlib import resources

import numpy as np
from pymatgen.core import Lattice, Species, Structure

from ssbflow.structures.catalog import BuildOptions, CatalogEntry
from ssbflow.structures.limits import check_repeated_atoms
from ssbflow.structures.ordering import (
    Group,
    OrderingResult,
    ewald_matrix_per_unit_charge,
    lowest_ewald_ordering,
)

#: Reference CIF of LiCoO2 (package data; see data/structures/SOURCES.md).
LCO_CIF = "LiCoO2_R-3m_MP-relaxed_pymatgen-tests-chgden.cif"

#: NCM811 hexagonal lattice parameters (Å) and O 6c z; see shared/reference/SOURCES.md.
NCM811_A_A = 2.87
NCM811_C_A = 14.20
NCM811_Z_O = 0.259

#: TM atoms per NCM811 ordering unit (8 Ni : 1 Co : 1 Mn).
NCM811_TM_UNIT = 10
NCM811_FRACTIONS = {"Ni": 8, "Co": 1, "Mn": 1}

#: Oxidation states of the fixed species.
OXIDATION_STATES = {"Li": 1, "O": -2, "Co": 3, "Mn": 4}

#: Initial magnetic moments (μB) per species; see the module docstring.
INITIAL_MAGMOM_MU_B = {
    "Li+": 0.0,
    "O2-": 0.0,
    "Co3+": 0.6,
    "Ni2+": 2.0,
    "Ni3+": 1.0,
    "Mn4+": 3.0,
}

_TM = ("Ni", "Co", "Mn")


def check_positive_ints(name: str, value: Sequence[int], length: int) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be {length} positive integers, got {value!r}") from exc
    if len(values) != length or any(v < 1 for v in values) or any(
        int(v) != v for v in value
    ):
        raise ValueError(f"{name} must be {length} positive integers, got {value!r}")
    return values


def by_element(structure: Structure) -> Structure:
    """Sites sorted by element (electronegativity, then symbol), keeping site properties.

    Different oxidation states of one element (Ni2+, Ni3+) stay in one block, so a POSCAR
    has one block (one POTCAR) per element.
    """
    return structure.get_sorted_structure(key=lambda site: (site.specie.X, site.specie.symbol))


def _set_magmoms(structure: Structure) -> Structure:
    structure.add_site_property(
        "magmom", [INITIAL_MAGMOM_MU_B[str(site.specie)] for site in structure]
    )
    return structure


def lco(supercell: Sequence[int] = (1, 1, 1)) -> Structure:
    """LiCoO2, R-3m, from the package's reference CIF (MP-relaxed, a = 2.833, c = 14.09 Å).

    Parameters
    ----------
    supercell : repetitions of the hexagonal cell (3 LiCoO2) along a, b, c.

    Returns
    -------
    Structure
        Li+ Co3+ O2- with ``magmom`` site property; e.g. Li3Co3O6 for (1, 1, 1).
    """
    reps = check_repeated_atoms(12, check_positive_ints("supercell", supercell, 3), "lco")
    with resources.as_file(
        resources.files("ssbflow.data.structures").joinpath(LCO_CIF)
    ) as path:
        with warnings.catch_warnings():  # "coordinates rounded to ideal values": expected
            warnings.simplefilter("ignore", UserWarning)
            structure = Structure.from_file(path)
    structure.remove_oxidation_states()
    structure.add_oxidation_state_by_element(OXIDATION_STATES)
    structure.make_supercell(reps)
    return _set_magmoms(by_element(structure))


def layered_prototype(
    a_A: float = NCM811_A_A, c_A: float = NCM811_C_A, z_O: float = NCM811_Z_O
) -> Structure:
    """Hexagonal R-3m cell of LiNiO2-type (3 formula units), all TM = Ni3+, with oxidation states.

    Parameters
    ----------
    a_A, c_A : hexagonal lattice parameters (Å).
    z_O : fractional z of O on 6c.
    """
    if a_A <= 0 or c_A <= 0:
        raise ValueError(f"a_A and c_A must be > 0 Å, got {a_A}, {c_A}")
    if not 0.2 < z_O < 0.3:
        raise ValueError(f"z_O must be the O 6c coordinate near 0.26, got {z_O}")
    return Structure.from_spacegroup(
        "R-3m",
        Lattice.hexagonal(a_A, c_A),
        [Species("Ni", 3), Species("Li", 1), Species("O", -2)],
        [[0, 0, 0], [0, 0, 0.5], [0, 0, z_O]],
    )


def layered_primitive(
    a_A: float = NCM811_A_A, c_A: float = NCM811_C_A, z_O: float = NCM811_Z_O
) -> Structure:
    """One-formula-unit cell spanned by the hexagonal a, b and t = (2/3, 1/3, 1/3).

    t is the rhombohedral centring translation, which links one TM layer to the next, so
    supercells of this cell with A·B·C TM sites exist for every A, B, C (the hexagonal cell
    always has a multiple of 3).
    """
    conv = layered_prototype(a_A, c_A, z_O)
    m = conv.lattice.matrix
    lattice = Lattice([m[0], m[1], (2 * m[0] + m[1] + m[2]) / 3.0])
    prim = Structure(lattice, conv.species, conv.cart_coords, coords_are_cartesian=True,
                     to_unit_cell=True)
    prim.merge_sites(tol=0.01, mode="delete")
    return prim


def _compact_supercell_matrix(lattice: Lattice, n_cells: int) -> np.ndarray:
    """Integer matrix of the most compact supercell of ``n_cells`` primitive cells.

    All Hermite normal forms of determinant ``n_cells`` are enumerated; the chosen one has
    the longest shortest lattice vector after LLL reduction (largest distance between
    periodic images), then the shortest longest vector. Returned LLL-reduced.
    """
    best_key, best_matrix = None, None
    inv = np.linalg.inv(lattice.matrix)
    for a in range(1, n_cells + 1):
        if n_cells % a:
            continue
        for c in range(1, n_cells // a + 1):
            if (n_cells // a) % c:
                continue
            f = n_cells // (a * c)
            for b, d, e in itertools.product(range(c), range(f), range(f)):
                hnf = np.array([[a, 0, 0], [b, c, 0], [d, e, f]])
                reduced = Lattice(hnf @ lattice.matrix).get_lll_reduced_lattice()
                lengths = sorted(reduced.abc)
                key = (round(lengths[0], 3), -round(lengths[2], 3))
                if best_key is None or key > best_key:
                    best_key = key
                    best_matrix = np.rint(reduced.matrix @ inv).astype(int)
    assert best_matrix is not None
    if np.linalg.det(best_matrix) < 0:
        best_matrix[2] *= -1
    return best_matrix


def layered_cell(
    supercell: Sequence[int] | None = None,
    a_A: float = NCM811_A_A,
    c_A: float = NCM811_C_A,
    z_O: float = NCM811_Z_O,
) -> Structure:
    """The unordered NCM811 cell (all TM = Ni3+) whose TM sites :func:`ncm811` orders.

    Parameters
    ----------
    supercell : repetitions (A, B, C) of :func:`layered_primitive` (1 TM each) along a, b and
        t; A·B·C must be a multiple of 10. ``None``: the most compact 10-TM supercell.
    """
    prim = layered_primitive(a_A, c_A, z_O)
    if supercell is None:
        matrix = _compact_supercell_matrix(prim.lattice, NCM811_TM_UNIT)
    else:
        reps = check_repeated_atoms(len(prim), check_positive_ints("supercell", supercell, 3),
                                    "ncm811")
        if math.prod(reps) % NCM811_TM_UNIT:
            raise ValueError(
                f"supercell {reps} holds {math.prod(reps)} TM sites; NCM811 (8:1:1) needs a "
                f"multiple of {NCM811_TM_UNIT} (e.g. 5 2 1)"
            )
        matrix = np.diag(reps)
    cell = prim.copy()
    cell.make_supercell(matrix)
    return cell.get_sorted_structure()


def tm_indices(structure: Structure) -> list[int]:
    return [i for i, s in enumerate(structure) if s.specie.symbol in _TM]


def _n_ni2(structure: Structure, tm_counts: dict[str, int]) -> int:
    """Number of Ni2+ that makes the cell neutral with Li+, O2-, Co3+, Mn4+, Ni3+."""
    comp = structure.composition.element_composition
    n_li, n_o = int(comp["Li"]), int(comp["O"])
    ni_charge = 2 * n_o - n_li - 3 * tm_counts["Co"] - 4 * tm_counts["Mn"]
    n_ni2 = 3 * tm_counts["Ni"] - ni_charge
    if not 0 <= n_ni2 <= tm_counts["Ni"]:
        raise ValueError(
            f"cell {structure.composition.reduced_formula} ({n_li} Li, {n_o} O, "
            f"{sum(tm_counts.values())} TM) cannot be charge balanced with Ni2+/Ni3+"
        )
    return n_ni2


def order_ncm811_tm(
    cell: Structure,
    ordering: Sequence[str] | None = None,
    n_samples: int = 2000,
    seed: int = 0,
) -> tuple[Structure, OrderingResult]:
    """Decorate the TM sites of ``cell`` with Ni2+/Ni3+/Co3+/Mn4+ in the 8:1:1 ratio.

    Parameters
    ----------
    cell : a layered cell (bulk or slab) with Li, O and a TM placeholder, with oxidation states
        on Li and O; its number of TM sites must be a multiple of 10.
    ordering : element symbols ("Ni", "Co", "Mn") for the TM sites in site order; ``None``:
        arrangement of lowest Ewald energy.
    n_samples, seed : sampling when the arrangements are too many to enumerate.

    Returns
    -------
    (Structure, OrderingResult)
        The decorated cell (with ``magmom``; other site properties kept) and the search record.
    """
    tm = tm_indices(cell)
    if len(tm) == 0 or len(tm) % NCM811_TM_UNIT:
        raise ValueError(
            f"cell has {len(tm)} TM sites; NCM811 (8:1:1) needs a multiple of {NCM811_TM_UNIT}"
        )
    k = len(tm) // NCM811_TM_UNIT
    counts = {el: n * k for el, n in NCM811_FRACTIONS.items()}
    n_ni2 = _n_ni2(cell, counts)
    labels = {"Ni2+": n_ni2, "Ni3+": counts["Ni"] - n_ni2, "Co3+": counts["Co"],
              "Mn4+": counts["Mn"]}
    charges = {"Ni2+": 2.0, "Ni3+": 3.0, "Co3+": 3.0, "Mn4+": 4.0}
    fixed = np.array([0.0 if i in set(tm) else float(s.specie.oxi_state)
                      for i, s in enumerate(cell)])
    matrix = ewald_matrix_per_unit_charge(cell)
    if ordering is None:
        groups = [Group(tuple(tm), {lab: n for lab, n in labels.items() if n})]
        result = _dispersed_first(
            cell, lowest_ewald_ordering(matrix, fixed, groups, charges, n_samples, seed))
    else:
        ordering = [str(x) for x in ordering]
        if len(ordering) != len(tm) or any(x not in _TM for x in ordering):
            raise ValueError(
                f"ordering must list {len(tm)} elements from Ni/Co/Mn (one per TM site), "
                f"got {len(ordering)} entries"
            )
        given = {el: ordering.count(el) for el in _TM}
        if given != counts:
            raise ValueError(f"ordering must hold Ni:Co:Mn = {counts}, got {given}")
        for i, el in zip(tm, ordering, strict=True):
            fixed[i] = 4.0 if el == "Mn" else 3.0
        ni_sites = tuple(i for i, el in zip(tm, ordering, strict=True) if el == "Ni")
        groups = [Group(ni_sites, {lab: n for lab, n in
                                   (("Ni2+", n_ni2), ("Ni3+", counts["Ni"] - n_ni2)) if n})]
        result = lowest_ewald_ordering(matrix, fixed, groups, charges, n_samples, seed)
        explicit = {i: ("Co3+" if el == "Co" else "Mn4+")
                    for i, el in zip(tm, ordering, strict=True) if el != "Ni"}
        result = OrderingResult({**result.labels, **explicit}, result.energy_eV,
                                result.sampled_energies_eV, result.exhaustive)
    decorated = cell.copy()
    for i, lab in result.labels.items():
        decorated.replace(i, Species.from_str(lab),
                          properties={k: v[i] for k, v in cell.site_properties.items()})
    _set_magmoms(decorated)
    return decorated, result


def _dopant_separation_A(cell: Structure, labels: dict[int, str]) -> float:
    """Shortest distance (Å) between two Co/Mn dopants (inf with fewer than two)."""
    dopants = [i for i, lab in labels.items() if lab in ("Co3+", "Mn4+")]
    return min((cell.get_distance(i, j) for i, j in itertools.combinations(dopants, 2)),
               default=math.inf)


def _dispersed_first(cell: Structure, result: OrderingResult) -> OrderingResult:
    """Re-rank: by Ewald energy (to 1 µeV), then by decreasing dopant separation."""
    ranked = sorted(result.ranked, key=lambda item: (
        round(item[0], 6), -round(_dopant_separation_A(cell, item[1]), 3)))
    return OrderingResult(ranked[0][1], ranked[0][0], result.sampled_energies_eV,
                          result.exhaustive, tuple(ranked))


def ncm811(
    supercell: Sequence[int] | None = None,
    ordering: Sequence[str] | None = None,
    n_samples: int = 2000,
    seed: int = 0,
) -> Structure:
    """LiNi0.8Co0.1Mn0.1O2 (R-3m, a = 2.87, c = 14.20 Å) with the lowest-Ewald TM ordering.

    Parameters
    ----------
    supercell : repetitions of the one-TM cell (hexagonal a, b and the rhombohedral t, see
        :func:`layered_primitive`); A·B·C must be a multiple of 10. ``None`` (default): the
        most compact 10-TM cell, Li10Ni8CoMnO20 (40 atoms).
    ordering : explicit TM elements in the site order of :func:`layered_cell` (same
        ``supercell``); ``None``: lowest Ewald energy.
    n_samples, seed : sampling of arrangements when there are too many to enumerate.

    Returns
    -------
    Structure
        Oxidation states Li+, Ni2+, Ni3+, Co3+, Mn4+, O2- (neutral) and site property
        ``magmom`` (μB).
    """
    cell = layered_cell(supercell)
    decorated, _ = order_ncm811_tm(cell, ordering, n_samples, seed)
    return by_element(decorated)


def ncm811_candidates(
    n_candidates: int = 5,
    supercell: Sequence[int] | None = None,
    n_samples: int = 2000,
    seed: int = 0,
) -> list[tuple[float, Structure]]:
    """The lowest-Ewald, symmetry-distinct NCM811 TM orderings, for screening with an engine.

    The point-charge model cannot tell Co3+ from Ni3+ and ignores relaxation, so the
    Ewald minimum need not be the lowest-energy ordering for DFT or a force field; relaxing
    a few of these candidates is the way to pick one.

    Parameters
    ----------
    n_candidates : number of distinct orderings to return.
    supercell, n_samples, seed : as in :func:`ncm811`.

    Returns
    -------
    list of (Ewald energy in eV, Structure)
        In increasing Ewald energy; the first is :func:`ncm811`'s structure. Arrangements
        equivalent by symmetry (pymatgen ``StructureMatcher``) are returned once.
    """
    from pymatgen.analysis.structure_matcher import StructureMatcher

    if int(n_candidates) != n_candidates or n_candidates < 1:
        raise ValueError(f"n_candidates must be a positive integer, got {n_candidates!r}")
    cell = layered_cell(supercell)
    _, result = order_ncm811_tm(cell, None, n_samples, seed)
    matcher = StructureMatcher(primitive_cell=False, scale=False, attempt_supercell=False)
    def fingerprint(structure: Structure) -> tuple:
        # Distances between the minority ions (Mn4+, Co3+, Ni2+) are invariant under the
        # symmetry operations; only arrangements with equal fingerprints go to the matcher.
        special = [i for i, site in enumerate(structure) if str(site.specie) != "Ni3+"
                   and site.specie.symbol in _TM]
        return tuple(sorted(
            (*sorted((str(structure[i].specie), str(structure[j].specie))),
             round(float(structure.get_distance(i, j)), 2))
            for i, j in itertools.combinations(special, 2)))

    chosen: list[tuple[float, Structure, tuple]] = []
    for energy_eV, labels in result.ranked:
        structure = cell.copy()
        for i, lab in labels.items():
            structure.replace(i, Species.from_str(lab))
        key = fingerprint(structure)
        if any(key == k and matcher.fit(structure, other) for _, other, k in chosen):
            continue
        chosen.append((energy_eV, structure, key))
        if len(chosen) == n_candidates:
            break
    return [(e, by_element(_set_magmoms(s))) for e, s, _ in chosen]


def _build_lco(options: BuildOptions) -> Structure:
    return lco(options.supercell or (1, 1, 1))


def _build_ncm811(options: BuildOptions) -> Structure:
    return ncm811(options.supercell)


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("lco", "LiCoO2, R-3m (hexagonal cell, 3 f.u.; --supercell repeats it)",
                 _build_lco, frozenset({"supercell"})),
    CatalogEntry("ncm811", "LiNi0.8Co0.1Mn0.1O2, R-3m, 10-TM cell, lowest-Ewald TM order",
                 _build_ncm811, frozenset({"supercell"})),
)
