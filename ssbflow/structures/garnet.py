"""Garnet solid electrolytes: tetragonal and cubic Li7La3Zr2O12 (LLZO) and Ta-doped LLZTO.

Every structure carries oxidation states (Li+, La3+, Zr4+, Ta5+, O2-) and is charge neutral.

Cubic LLZO (Ia-3d) has Li partially occupying tetrahedral 24d and octahedral 96h sites; an
ordered model must pick 56 of the 120 sites per cell without occupying two sites closer than
:data:`LI_LI_MIN_A` (face-sharing 24d/96h pairs and the two 96h halves of one octahedral
cage). :func:`llzo_cubic` picks the ordering of lowest Ewald energy found by simulated
annealing from several random starts; :func:`llzto` does the same for the Ta and Li-vacancy
arrangement. Pymatgen's ``EwaldMinimizer`` (used by ``OrderDisorderedStructureTransformation``)
cannot impose the Li-Li exclusion rule and its exact search does not scale to choosing 56 of
120 sites, hence the small annealer written here on top of pymatgen's ``EwaldSummation``
interaction matrix.
"""

from __future__ import annotations

import copy
import functools
import warnings
from dataclasses import dataclass
from importlib import resources

import numpy as np
from pymatgen.core import Lattice, Structure
from pymatgen.core.ewald import EwaldSummation

from ssbflow.structures.catalog import BuildOptions, CatalogEntry

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


def unit_charge_ewald_matrix(structure: Structure) -> np.ndarray:
    """Ewald interaction matrix ``A`` (eV per e²) of the sites of ``structure``.

    For any charge vector ``q`` on these sites with ``sum(q) == 0`` (a vacancy is ``q = 0``),
    ``q @ A @ q`` is the Ewald energy in eV. Built from pymatgen's ``EwaldSummation``
    (real + reciprocal + self terms) of ``structure``'s own oxidation states, divided by
    ``q_i q_j``; every site must carry a non-zero oxidation state.
    """
    charges = np.array([site.specie.oxi_state for site in structure], dtype=float)
    if np.any(charges == 0):
        raise ValueError("structure: every site needs a non-zero oxidation state")
    matrix = EwaldSummation(structure).total_energy_matrix
    return matrix / np.outer(charges, charges)


@dataclass
class AnnealResult:
    """Outcome of :func:`anneal_occupation`.

    Attributes
    ----------
    occupied : bool mask over the candidate sites.
    energy_eV : Ewald energy of the best arrangement found.
    start_energies_eV : Ewald energies of the random starting arrangements.
    """

    occupied: np.ndarray
    energy_eV: float
    start_energies_eV: list[float]


def random_valid_occupation(
    start: np.ndarray,
    conflicts: np.ndarray,
    rng: np.random.Generator,
    n_moves: int = 3000,
) -> np.ndarray:
    """A random arrangement reached by ``n_moves`` random conflict-free swaps from ``start``.

    Infinite-temperature random walk over the same moves as :func:`anneal_occupation`
    (empty one occupied site, fill one empty site that conflicts with no other occupied
    site); ``start`` must itself be conflict-free.
    """
    occ = np.asarray(start, dtype=bool).copy()
    n_block = conflicts[:, occ].sum(axis=1)
    for _ in range(n_moves):
        i = rng.choice(np.flatnonzero(occ))
        j = rng.choice(np.flatnonzero(~occ))
        if n_block[j] - int(conflicts[j, i]) > 0:
            continue
        occ[i], occ[j] = False, True
        n_block += conflicts[:, j].astype(int) - conflicts[:, i].astype(int)
    return occ


def _greedy_occupation(
    n_sites: int, n_occupied: int, conflicts: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A random conflict-free set of ``n_occupied`` sites by greedy filling (with retries)."""
    for _ in range(200):
        occupied = np.zeros(n_sites, dtype=bool)
        blocked = np.zeros(n_sites, dtype=bool)
        for i in rng.permutation(n_sites):
            if not blocked[i]:
                occupied[i] = True
                blocked |= conflicts[i]
                blocked[i] = True
                if occupied.sum() == n_occupied:
                    return occupied
    raise ValueError(
        f"cannot place {n_occupied} ions on {n_sites} sites without a forbidden close pair"
    )


def anneal_occupation(
    interaction_eV: np.ndarray,
    field_eV: np.ndarray,
    n_occupied: int,
    conflicts: np.ndarray | None = None,
    n_starts: int = 6,
    n_steps: int = 6000,
    kT_start_eV: float = 1.0,
    kT_end_eV: float = 0.005,
    seed: int = 0,
    initial: list[np.ndarray] | None = None,
) -> AnnealResult:
    """Choose ``n_occupied`` of ``n`` sites minimising ``E = Σ h_i n_i + Σ_ij A_ij n_i n_j``.

    Metropolis swaps (one occupied site emptied, one empty site filled) with a geometric
    temperature schedule, from the ``initial`` arrangements (or one greedy random filling)
    and ``n_starts`` random arrangements made from the first of them by
    :func:`random_valid_occupation`; the lowest arrangement over all runs is returned.

    Parameters
    ----------
    interaction_eV
        Symmetric (n, n) matrix ``A`` (diagonal = self energy of a site).
    field_eV
        (n,) linear term ``h`` (interaction with the fixed part of the cell, both orders).
    n_occupied
        Number of sites to occupy.
    conflicts
        (n, n) bool matrix of pairs that may not both be occupied.
    n_starts, n_steps, kT_start_eV, kT_end_eV, seed
        Annealing parameters (independent starts, swap attempts per start, temperatures).
    initial
        Extra starting arrangements (bool masks), e.g. a known ordering.
    """
    n_sites = len(field_eV)
    if not 0 < n_occupied <= n_sites:
        raise ValueError(f"n_occupied must be in 1..{n_sites}, got {n_occupied}")
    if conflicts is None:
        conflicts = np.zeros((n_sites, n_sites), dtype=bool)
    rng = np.random.default_rng(seed)
    diag = np.diag(interaction_eV)

    def energy(occ: np.ndarray) -> float:
        idx = np.flatnonzero(occ)
        return float(field_eV[idx].sum() + interaction_eV[np.ix_(idx, idx)].sum())

    starts = [np.asarray(m, dtype=bool).copy() for m in (initial or [])]
    if not starts:
        starts.append(_greedy_occupation(n_sites, n_occupied, conflicts, rng))
    starts += [random_valid_occupation(starts[0], conflicts, rng) for _ in range(n_starts)]
    start_energies = [energy(s) for s in starts]
    best_occ, best_e = starts[0].copy(), start_energies[0]
    temps = np.geomspace(kT_start_eV, kT_end_eV, n_steps)
    for occ in starts:
        occ = occ.copy()
        potential = interaction_eV[:, occ].sum(axis=1)  # Σ_{l occupied} A_kl
        n_block = conflicts[:, occ].sum(axis=1)  # occupied conflicting neighbours
        e_now = energy(occ)
        for kT in temps:
            i = rng.choice(np.flatnonzero(occ))
            j = rng.choice(np.flatnonzero(~occ))
            # j may not conflict with any occupied site other than i
            if n_block[j] - int(conflicts[j, i]) > 0:
                continue
            delta = (
                field_eV[j] + diag[j] + 2.0 * (potential[j] - interaction_eV[j, i])
                - field_eV[i] - diag[i] - 2.0 * (potential[i] - diag[i])
            )
            if delta <= 0 or rng.random() < np.exp(-delta / kT):
                occ[i], occ[j] = False, True
                potential += interaction_eV[:, j] - interaction_eV[:, i]
                n_block += conflicts[:, j].astype(int) - conflicts[:, i].astype(int)
                e_now += delta
                if e_now < best_e - 1e-9:
                    best_e, best_occ = e_now, occ.copy()
    return AnnealResult(occupied=best_occ, energy_eV=energy(best_occ),
                        start_energies_eV=start_energies)


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
) -> tuple[Structure, AnnealResult]:
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
) -> tuple[Structure, AnnealResult]:
    sites = cubic_llzo_sites(a_A)
    charges = np.array([s.specie.oxi_state for s in sites])
    matrix = unit_charge_ewald_matrix(sites)
    li = np.array([s.specie.symbol == "Li" for s in sites])
    li_idx, fw_idx = np.flatnonzero(li), np.flatnonzero(~li)
    dist = sites.distance_matrix[np.ix_(li_idx, li_idx)]
    conflicts = (dist < LI_LI_MIN_A) & ~np.eye(len(li_idx), dtype=bool)
    field = 2.0 * matrix[np.ix_(li_idx, fw_idx)] @ charges[fw_idx]
    interaction = matrix[np.ix_(li_idx, li_idx)]
    initial = []
    tet_mask = _tetragonal_ordering_on_cubic_sites(sites)
    if tet_mask.sum() == LI_PER_CELL and not (conflicts & np.outer(tet_mask, tet_mask)).any():
        initial.append(tet_mask)
    result = anneal_occupation(interaction, field, LI_PER_CELL, conflicts, n_starts=n_starts,
                               n_steps=n_steps, seed=seed, initial=initial)
    constant = float(charges[fw_idx] @ matrix[np.ix_(fw_idx, fw_idx)] @ charges[fw_idx])
    result.energy_eV += constant
    result.start_energies_eV = [e + constant for e in result.start_energies_eV]
    empty = li_idx[~result.occupied]
    ordered = sites.copy()
    ordered.remove_sites(list(empty))
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
    supercell = tuple(int(n) for n in supercell)
    if len(supercell) != 3 or min(supercell) < 1:
        raise ValueError(f"supercell must be three integers >= 1, got {supercell}")
    cell = _decorate(base if base is not None else llzo_cubic()) * supercell
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
    charges = np.array([s.specie.oxi_state for s in cell])
    matrix = unit_charge_ewald_matrix(cell)
    # Variables: Ta occupation on Zr sites (adds +1 e each) and vacancies on Li (adds -1 e).
    # With delta-charge d on variable sites, E = E0 + 2 d·(A q0) + d^T A d.
    var = np.concatenate([zr_idx, li_idx])
    sign = np.concatenate([np.ones(len(zr_idx)), -np.ones(len(li_idx))])
    base_potential = matrix[var] @ charges
    # Two independent groups of equal size n_ta: anneal them jointly by treating the choice
    # as occupation of 2*n_ta "defects"; swaps stay inside a group (see _anneal_two_groups).
    occupied, energy, starts = _anneal_two_groups(
        matrix[np.ix_(var, var)] * np.outer(sign, sign),
        2.0 * sign * base_potential,
        len(zr_idx), n_ta, n_starts, n_steps, seed,
    )
    e0 = float(charges @ matrix @ charges)
    ta_sites = zr_idx[occupied[: len(zr_idx)]]
    vac_sites = li_idx[occupied[len(zr_idx):]]
    doped = cell.copy()
    for i in ta_sites:
        doped.replace(int(i), "Ta5+", properties=dict(doped[int(i)].properties))
    doped.remove_sites([int(i) for i in vac_sites])
    doped.properties["x_Ta"] = x_real
    doped.properties["ewald_energy_eV"] = energy + e0
    doped.properties["ewald_start_energies_eV"] = [e + e0 for e in starts]
    return doped


def _anneal_two_groups(
    interaction: np.ndarray,
    field: np.ndarray,
    n_first: int,
    n_each: int,
    n_starts: int,
    n_steps: int,
    seed: int,
) -> tuple[np.ndarray, float, list[float]]:
    """Choose ``n_each`` sites in ``[0, n_first)`` and ``n_each`` in ``[n_first, n)``.

    Minimises ``field·m + m^T interaction m`` over 0/1 masks ``m`` by Metropolis swaps
    inside each group, geometric temperature schedule 1 eV -> 5 meV.
    """
    n = len(field)
    rng = np.random.default_rng(seed)
    groups = [np.arange(n_first), np.arange(n_first, n)]
    if n_each > len(groups[0]) or n_each > len(groups[1]):
        raise ValueError(f"x: cannot substitute {n_each} sites in this cell")
    diag = np.diag(interaction)

    def energy(mask: np.ndarray) -> float:
        idx = np.flatnonzero(mask)
        return float(field[idx].sum() + interaction[np.ix_(idx, idx)].sum())

    starts = []
    for _ in range(n_starts):
        mask = np.zeros(n, dtype=bool)
        for g in groups:
            mask[rng.choice(g, n_each, replace=False)] = True
        starts.append(mask)
    start_energies = [energy(m) for m in starts]
    best_mask, best_e = starts[0].copy(), start_energies[0]
    temps = np.geomspace(1.0, 0.005, n_steps)
    for mask in starts:
        mask = mask.copy()
        potential = interaction[:, mask].sum(axis=1)
        e_now = energy(mask)
        for kT in temps:
            g = groups[int(rng.integers(2))]
            in_g = mask[g]
            if in_g.all():
                continue
            i = rng.choice(g[in_g])
            j = rng.choice(g[~in_g])
            delta = (
                field[j] + diag[j] + 2.0 * (potential[j] - interaction[j, i])
                - field[i] - diag[i] - 2.0 * (potential[i] - diag[i])
            )
            if delta <= 0 or rng.random() < np.exp(-delta / kT):
                mask[i], mask[j] = False, True
                potential += interaction[:, j] - interaction[:, i]
                e_now += delta
                if e_now < best_e - 1e-9:
                    best_e, best_mask = e_now, mask.copy()
    return best_mask, energy(best_mask), start_energies


def bulk_supercell(structure: Structure, supercell: tuple[int, int, int]) -> Structure:
    """``structure`` repeated ``supercell`` times (three integers >= 1)."""
    try:
        reps = tuple(int(n) for n in supercell)
    except (TypeError, ValueError):
        raise ValueError(f"supercell must be three integers >= 1, got {supercell!r}") from None
    if len(reps) != 3 or min(reps) < 1:
        raise ValueError(f"supercell must be three integers >= 1, got {supercell!r}")
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
