"""Garnet solid electrolytes: tetragonal and cubic Li7La3Zr2O12 (LLZO) and Ta-doped LLZTO.

Every structure carries oxidation states (Li+, La3+, Zr4+, Ta5+, O2-) and is charge neutral.

Cubic LLZO (Ia-3d) has Li partially occupying tetrahedral 24d and octahedral 96h sites; an
ordered model must pick 56 of the 120 sites per cell without occupying two sites closer than
:data:`LI_LI_MIN_A` (face-sharing 24d/96h pairs and the two 96h halves of one octahedral
cage). :func:`llzo_cubic` picks the ordering of lowest Ewald energy found by simulated
annealing from several random starts; :func:`llzto` does the same for the Ta and Li-vacancy
arrangement. Both use :func:`ssbflow.structures.ordering.lowest_ewald_ordering` (which says
why not pymatgen's ``EwaldMinimizer``).
"""

from __future__ import annotations

import copy
import functools
import warnings
from importlib import resources

import numpy as np
from pymatgen.core import Lattice, Structure

from ssbflow.structures.catalog import BuildOptions, CatalogEntry
from ssbflow.structures.limits import check_repeated_atoms
from ssbflow.structures.ordering import (
    Anneal,
    Group,
    OrderingResult,
    ewald_matrix_per_unit_charge,
    lowest_ewald_ordering,
)

#: Reference CIF of ordered tetragonal LLZO (package data; see data/structures/SOURCES.md).
LLZO_TETRAGONAL_CIF = "LLZO_tetragonal_I41acd_hofmann.cif"

#: Oxidation states used for every garnet cell.
GARNET_OXIDATION_STATES = {"Li": 1, "La": 3, "Zr": 4, "Ta": 5, "O": -2}

#: Cubic LLZO lattice parameter (Å); Ia-3d refinements report 12.96-12.98 Å.
LLZO_CUBIC_A_A = 12.97

# Ia-3d (No. 230, origin choice 2) Wyckoff representatives of cubic LLZO. Framework: La 24c,
# Zr 16a, O 96h with (x, y, z) ~ (0.100, 0.195, 0.282) as in published X-ray/neutron
# refinements of cubic Li7La3Zr2O12 (e.g. Awaka et al., Chem. Lett. 40, 60 (2011)); the test
# suite checks that this framework coincides with the DFT tetragonal cell (hofmann CIF)
# averaged onto Ia-3d. Li: tetrahedral 24d and the split octahedral 96h position
# (~(0.097, 0.685, 0.580)), within 0.4 Å of the octahedral Li of the tetragonal cell.
_LA_24C = (0.125, 0.0, 0.25)
_ZR_16A = (0.0, 0.0, 0.0)
_O_96H = (0.100, 0.195, 0.282)
_LI_24D = (0.375, 0.0, 0.25)
_LI_96H = (0.097, 0.685, 0.580)

#: Occupied Li sites closer than this (Å) are forbidden (face-sharing 24d/96h, split 96h).
LI_LI_MIN_A = 1.7

#: Li atoms per cubic cell of Li7La3Zr2O12 (Z = 8).
LI_PER_CELL = 56

#: Point charges (e) of the labels the Ewald ordering places ("Vac": empty Li site).
_LABEL_CHARGES = {"Li": 1.0, "Vac": 0.0, "Zr": 4.0, "Ta": 5.0}


def _decorate(structure: Structure) -> Structure:
    """Replace any oxidation states by :data:`GARNET_OXIDATION_STATES`."""
    structure = structure.copy()
    structure.remove_oxidation_states()
    structure.add_oxidation_state_by_element(
        {el.symbol: GARNET_OXIDATION_STATES[el.symbol] for el in structure.composition}
    )
    return structure


def llzo_tetragonal() -> Structure:
    """Ordered tetragonal LLZO, Li56La24Zr16O96, I4_1/acd (No. 142), a = 13.236, c = 12.702 Å.

    Read from the package's DFT-relaxed (PBE) reference CIF (bjmorgan/hofmann, MIT; see
    ``ssbflow/data/structures/SOURCES.md``), with Li on 8a, 16f and 32g.

    Returns
    -------
    Structure
        192 sites with oxidation states Li+, La3+, Zr4+, O2-.
    """
    ref = resources.files("ssbflow.data.structures").joinpath(LLZO_TETRAGONAL_CIF)
    with resources.as_file(ref) as path:
        structure = Structure.from_file(path)
    return _decorate(structure)


def cubic_llzo_sites(a_A: float = LLZO_CUBIC_A_A) -> Structure:
    """The Ia-3d framework (La 24c, Zr 16a, O 96h) plus *every* Li site (24d and 96h).

    The 120 Li sites are all present (over-full; 56 are occupied in LLZO) and carry the
    site property ``wyckoff`` (Ia-3d Wyckoff label: La 24c, Zr 16a, O 96h, Li 24d or 96h).

    Parameters
    ----------
    a_A
        Cubic lattice parameter in Å (> 0).
    """
    if not a_A > 0:
        raise ValueError(f"a_A must be a positive lattice parameter in Å, got {a_A}")
    lattice = Lattice.cubic(a_A)
    parts = [
        ("La", _LA_24C, "24c"),
        ("Zr", _ZR_16A, "16a"),
        ("O", _O_96H, "96h"),
        ("Li", _LI_24D, "24d"),
        ("Li", _LI_96H, "96h"),
    ]
    species: list[str] = []
    coords: list[np.ndarray] = []
    labels: list[str] = []
    for element, rep, label in parts:
        orbit = Structure.from_spacegroup("Ia-3d", lattice, [element], [rep])
        species += [element] * len(orbit)
        coords += list(orbit.frac_coords)
        labels += [label] * len(orbit)
    structure = Structure(lattice, species, coords, site_properties={"wyckoff": labels})
    return _decorate(structure)


def _tetragonal_ordering_on_cubic_sites(sites: Structure) -> np.ndarray:
    """Mask of the cubic Li sites nearest to the Li of the tetragonal reference cell.

    The hofmann cell maps onto the Ia-3d setting used here by the origin shift
    (0, 1/4, 3/8) (checked: framework atoms within 0.1 Å after scaling to cubic).
    """
    tet = llzo_tetragonal()
    li_frac = np.array([s.frac_coords for s in tet if s.specie.symbol == "Li"])
    li_frac = li_frac + np.array([0.0, 0.25, 0.375])
    li_idx = [i for i, s in enumerate(sites) if s.specie.symbol == "Li"]
    dist = sites.lattice.get_all_distances(li_frac, sites.frac_coords[li_idx])
    mask = np.zeros(len(li_idx), dtype=bool)
    mask[np.unique(dist.argmin(axis=1))] = True
    return mask


def order_cubic_llzo(
    a_A: float = LLZO_CUBIC_A_A, n_starts: int = 6, n_steps: int = 6000, seed: int = 0
) -> tuple[Structure, OrderingResult]:
    """Cubic LLZO ordering of lowest Ewald energy; returns the structure and the search record.

    See :func:`llzo_cubic`. The search is deterministic, so results are cached per
    argument set (copies are returned).
    """
    if not a_A > 0:
        raise ValueError(f"a_A must be a positive lattice parameter in Å, got {a_A}")
    structure, result = _order_cubic_llzo_cached(float(a_A), int(n_starts), int(n_steps),
                                                 int(seed))
    return structure.copy(), copy.deepcopy(result)


@functools.lru_cache(maxsize=4)
def _order_cubic_llzo_cached(
    a_A: float, n_starts: int, n_steps: int, seed: int
) -> tuple[Structure, OrderingResult]:
    sites = cubic_llzo_sites(a_A)
    charges = np.array([s.specie.oxi_state for s in sites])
    li_idx = np.array([i for i, s in enumerate(sites) if s.specie.symbol == "Li"])
    exclusive = (sites.distance_matrix < LI_LI_MIN_A) & ~np.eye(len(sites), dtype=bool)
    group = Group(tuple(int(i) for i in li_idx),
                  {"Li": LI_PER_CELL, "Vac": len(li_idx) - LI_PER_CELL})
    initial = []
    tet_mask = _tetragonal_ordering_on_cubic_sites(sites)
    if tet_mask.sum() == LI_PER_CELL and not (
            exclusive[np.ix_(li_idx, li_idx)] & np.outer(tet_mask, tet_mask)).any():
        initial.append({int(i): "Li" if m else "Vac" for i, m in zip(li_idx, tet_mask,
                                                                      strict=True)})
    result = lowest_ewald_ordering(
        ewald_matrix_per_unit_charge(sites), charges, [group], _LABEL_CHARGES, seed=seed,
        anneal=Anneal(n_starts=n_starts, n_steps=n_steps), exclusive=exclusive,
        initial=initial)
    ordered = sites.copy()
    ordered.remove_sites([i for i, lab in result.labels.items() if lab == "Vac"])
    return ordered, result


def llzo_cubic(
    a_A: float = LLZO_CUBIC_A_A, n_starts: int = 6, n_steps: int = 6000, seed: int = 0
) -> Structure:
    """Ordered cubic LLZO, Li56La24Zr16O96, on the Ia-3d framework (a = ``a_A``).

    La 24c, Zr 16a, O 96h from published refinements; 56 Li on the 120 24d/96h sites with
    no two occupied sites closer than 1.7 Å, chosen as the lowest Ewald energy found by
    simulated annealing (Metropolis site swaps) from ``n_starts`` random conflict-free
    orderings plus the ordering of the tetragonal reference cell. Deterministic for a
    given ``seed``; a few seconds on one core.

    Parameters
    ----------
    a_A
        Cubic lattice parameter (Å).
    n_starts, n_steps, seed
        Random starts, swap attempts per start and random seed of the search.

    Returns
    -------
    Structure
        192 sites with oxidation states; site property ``wyckoff`` (Li on 24d or 96h).
    """
    return order_cubic_llzo(a_A, n_starts=n_starts, n_steps=n_steps, seed=seed)[0]


def llzto(
    x: float = 0.5,
    supercell: tuple[int, int, int] = (1, 1, 1),
    base: Structure | None = None,
    n_starts: int = 6,
    n_steps: int = 4000,
    seed: int = 0,
) -> Structure:
    """Ta-doped garnet Li(7-x)La3Zr(2-x)TaxO12 (LLZTO) on an ordered LLZO cell.

    ``round(x · N_fu)`` Zr (N_fu = formula units in the cell) become Ta5+ and as many Li are
    removed, so the cell stays neutral. The realised x = n_Ta / N_fu is the nearest the cell
    allows; a ``UserWarning`` gives it when it differs from ``x``. Which Zr and which Li:
    the lowest Ewald energy found by simulated annealing (swaps Ta<->Zr and Li<->vacancy)
    from ``n_starts`` random arrangements, i.e. ``n_starts`` sampled candidates, each
    annealed for ``n_steps`` swap attempts.

    Parameters
    ----------
    x
        Ta content per formula unit, 0 <= x <= 2.
    supercell
        Repetitions of the base cell (each >= 1) before doping; larger cells allow finer x.
    base
        Ordered LLZO cell with oxidation states (default: :func:`llzo_cubic`).
    n_starts, n_steps, seed
        Sampling parameters.

    Returns
    -------
    Structure
        With ``properties["x_Ta"]`` the realised x.
    """
    if not 0.0 <= x <= 2.0:
        raise ValueError(f"x must be a Ta content between 0 and 2 per formula unit, got {x}")
    base = base if base is not None else llzo_cubic()
    supercell = check_repeated_atoms(len(base), supercell, "llzto")
    cell = _decorate(base) * supercell
    n_fu = cell.composition["La"] / 3
    zr_idx = np.array([i for i, s in enumerate(cell) if s.specie.symbol == "Zr"])
    li_idx = np.array([i for i, s in enumerate(cell) if s.specie.symbol == "Li"])
    if len(zr_idx) == 0 or len(li_idx) == 0:
        raise ValueError("base must contain Zr and Li")
    n_ta = round(x * n_fu)
    x_real = n_ta / n_fu
    if abs(x_real - x) > 1e-9:
        warnings.warn(
            f"llzto: x = {x} not possible in a cell of {n_fu:g} formula units; "
            f"realised x = {x_real:.4g} ({n_ta} Ta)",
            UserWarning,
            stacklevel=2,
        )
    if n_ta == 0:
        cell.properties["x_Ta"] = 0.0
        return cell
    if n_ta > min(len(zr_idx), len(li_idx)):
        raise ValueError(f"x: cannot substitute {n_ta} Ta and remove {n_ta} Li in this cell")
    charges = np.array([s.specie.oxi_state for s in cell])
    # Ta on Zr sites and vacancies on Li sites, two groups annealed together (the last
    # label of each group, Zr and Li, is the host the moving Ta / vacancy swaps with).
    groups = [Group(tuple(int(i) for i in zr_idx), {"Ta": n_ta, "Zr": len(zr_idx) - n_ta}),
              Group(tuple(int(i) for i in li_idx), {"Vac": n_ta, "Li": len(li_idx) - n_ta})]
    result = lowest_ewald_ordering(
        ewald_matrix_per_unit_charge(cell), charges, groups, _LABEL_CHARGES, seed=seed,
        anneal=Anneal(n_starts=n_starts, n_steps=n_steps))
    doped = cell.copy()
    for i, lab in result.labels.items():
        if lab == "Ta":
            doped.replace(i, "Ta5+", properties=dict(doped[i].properties))
    doped.remove_sites([i for i, lab in result.labels.items() if lab == "Vac"])
    doped.properties["x_Ta"] = x_real
    doped.properties["ewald_energy_eV"] = result.energy_eV
    doped.properties["ewald_start_energies_eV"] = result.sampled_energies_eV.tolist()
    return doped


def bulk_supercell(structure: Structure, supercell: tuple[int, int, int]) -> Structure:
    """``structure`` repeated ``supercell`` times (three integers >= 1)."""
    reps = check_repeated_atoms(len(structure), supercell, structure.composition.reduced_formula)
    return structure * reps if reps != (1, 1, 1) else structure


def _build_llzto(options: BuildOptions) -> Structure:
    return llzto(supercell=options.supercell or (1, 1, 1))


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("llzo", "tetragonal LLZO Li56La24Zr16O96, I4_1/acd (DFT reference cell)",
                 lambda o: bulk_supercell(llzo_tetragonal(), o.supercell or (1, 1, 1)),
                 frozenset({"supercell"})),
    CatalogEntry("llzo-cubic", "cubic LLZO Li56La24Zr16O96 on Ia-3d, Ewald-ordered Li",
                 lambda o: bulk_supercell(llzo_cubic(), o.supercell or (1, 1, 1)),
                 frozenset({"supercell"})),
    CatalogEntry("llzto", "Ta-doped LLZO Li6.5La3Zr1.5Ta0.5O12, Ewald-ordered",
                 _build_llzto, frozenset({"supercell"})),
)
