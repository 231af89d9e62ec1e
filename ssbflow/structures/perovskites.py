"""Perovskite Li-ion conductor LLTO, Li3x La(2/3-x) TiO3 (x ~ 0.11: Li0.33La0.56TiO3).

Cell: the tetragonal P4/mmm doubled perovskite (a ~ 3.87, c ~ 7.75 Å): Ti4+ in corner-sharing
octahedra, two A-site layers per cell, the La-rich layer at z = 0 and the La-poor layer at
z = 1/2 (alternating layers as refined for La2/3-xLi3xTiO3; see shared/reference/SOURCES.md).
Ideal perovskite positions are used (Ti at z = 1/4, 3/4); relax with an engine.

A-site model. In a supercell of N A sites the counts n_Li, n_La are integers with
n_Li + 3 n_La = 2N (neutral with Ti4+ and O2-), chosen closest to Li0.33La0.56 (exactly
x = 1/9 when N is a multiple of 9, e.g. the default 3x3x1 doubled cells: Li6La10Ti18O54).
A fraction ``la_poor_share`` of La (default 0.2, i.e. La occupancies of about 0.9 / 0.2 on the
two layers) goes to the La-poor layers; Li and vacancies fill the rest. Within these layer
counts the arrangement of La, Li and vacancies is the one of lowest Ewald energy (all
arrangements when few enough, else sampling and swap refinement; every split of Li between
the layers is tried). The layering has to be imposed: with point charges on ideal perovskite
positions the Ewald energy alone prefers La spread over both layers (the default cell's
layered optimum is 15.5 eV per 88-atom cell above the unconstrained one);
``la_poor_share=None`` gives that unconstrained electrostatic optimum instead. Li is kept on
the A-site centre; in refined structures it is displaced towards the O4 window, which a
relaxation recovers.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

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

#: Doubled-perovskite lattice parameters of Li0.33La0.56TiO3 (Å).
LLTO_A_A = 3.87
LLTO_C_A = 7.75

#: Target composition per Ti.
LLTO_TARGET_LI = 1.0 / 3.0
LLTO_TARGET_LA = 5.0 / 9.0

_CHARGES = {"La": 3.0, "Li": 1.0, "Vac": 0.0}


def llto_site_counts(n_a_sites: int) -> tuple[int, int]:
    """Neutral (n_Li, n_La) for ``n_a_sites`` A sites closest to Li0.33La0.56TiO3.

    Neutrality with Ti4+ and O2-: n_Li + 3 n_La = 2 N; occupancy n_Li + n_La <= N.
    """
    if n_a_sites < 1:
        raise ValueError(f"n_a_sites must be >= 1, got {n_a_sites}")
    best = None
    for n_la in range(0, n_a_sites + 1):
        n_li = 2 * n_a_sites - 3 * n_la
        if n_li < 0 or n_li + n_la > n_a_sites:
            continue
        err = abs(n_li / n_a_sites - LLTO_TARGET_LI) + abs(n_la / n_a_sites - LLTO_TARGET_LA)
        if best is None or err < best[0] - 1e-12:
            best = (err, n_li, n_la)
    assert best is not None
    return best[1], best[2]


def llto_framework(supercell: Sequence[int] = (3, 3, 1)) -> Structure:
    """The Ti-O framework plus all A sites (all La3+ as placeholders) of the doubled perovskite.

    Site property ``a_layer``: ``"la-rich"`` (z = 0 of each doubled cell), ``"la-poor"``
    (z = 1/2), ``""`` for Ti and O.
    """
    reps = check_repeated_atoms(10, supercell, "llto")  # 10 sites in the doubled cell
    species = [Species("La", 3), Species("La", 3), Species("Ti", 4), Species("Ti", 4),
               Species("O", -2), Species("O", -2), Species("O", -2), Species("O", -2),
               Species("O", -2), Species("O", -2)]
    coords = [[0, 0, 0], [0, 0, 0.5], [0.5, 0.5, 0.25], [0.5, 0.5, 0.75],
              [0.5, 0.5, 0], [0.5, 0.5, 0.5],
              [0, 0.5, 0.25], [0.5, 0, 0.25], [0, 0.5, 0.75], [0.5, 0, 0.75]]
    layers = ["la-rich", "la-poor"] + [""] * 8
    cell = Structure(Lattice.tetragonal(LLTO_A_A, LLTO_C_A), species, coords,
                     site_properties={"a_layer": layers})
    cell.make_supercell(reps)
    return cell


def llto_with_ordering(
    supercell: Sequence[int] = (3, 3, 1),
    la_poor_share: float | None = 0.2,
    n_samples: int = 2000,
    seed: int = 0,
) -> tuple[Structure, OrderingResult]:
    """:func:`llto` plus the record of the Ewald search (energies of all candidates)."""
    if la_poor_share is not None and not 0.0 <= la_poor_share <= 0.5:
        raise ValueError(f"la_poor_share must be within [0, 0.5], got {la_poor_share}")
    frame = llto_framework(supercell)
    layer = frame.site_properties["a_layer"]
    rich = tuple(i for i, lab in enumerate(layer) if lab == "la-rich")
    poor = tuple(i for i, lab in enumerate(layer) if lab == "la-poor")
    n_sites = len(rich) + len(poor)
    n_li, n_la = llto_site_counts(n_sites)
    n_vac = n_sites - n_li - n_la
    matrix = ewald_matrix_per_unit_charge(frame)
    fixed = np.array([0.0 if lab else float(s.specie.oxi_state)
                      for s, lab in zip(frame, layer, strict=True)])
    if la_poor_share is None:
        group = Group(rich + poor, {k: v for k, v in
                                    (("La", n_la), ("Li", n_li), ("Vac", n_vac)) if v})
        best = lowest_ewald_ordering(matrix, fixed, [group], _CHARGES, n_samples, seed)
        return _decorate(frame, best), best
    n_la_poor = round(la_poor_share * n_la)
    n_la_rich = n_la - n_la_poor
    if n_la_rich > len(rich):
        n_la_rich, n_la_poor = len(rich), n_la - len(rich)
    if n_la_poor > len(poor):
        raise ValueError(f"la_poor_share={la_poor_share} puts more La on the La-poor layers "
                         "than they have sites")
    best: OrderingResult | None = None
    energies = []
    free_rich = len(rich) - n_la_rich
    for li_rich in range(0, min(n_li, free_rich) + 1):
        vac_rich = free_rich - li_rich
        li_poor, vac_poor = n_li - li_rich, n_vac - vac_rich
        if vac_rich > n_vac or li_poor < 0 or vac_poor < 0:
            continue
        groups = [
            Group(rich, {k: v for k, v in
                         (("La", n_la_rich), ("Li", li_rich), ("Vac", vac_rich)) if v}),
            Group(poor, {k: v for k, v in
                         (("La", n_la_poor), ("Li", li_poor), ("Vac", vac_poor)) if v}),
        ]
        result = lowest_ewald_ordering(matrix, fixed, groups, _CHARGES, n_samples, seed)
        energies.append(result.sampled_energies_eV)
        if best is None or result.energy_eV < best.energy_eV - 1e-9:
            best = result
    assert best is not None
    record = OrderingResult(best.labels, best.energy_eV, np.concatenate(energies),
                            best.exhaustive)
    return _decorate(frame, best), record


def llto_with_a_site_counts(supercell: tuple[int, int, int],
                            counts: dict[str, int]) -> Structure:
    """The LLTO framework of ``supercell`` with the A sites holding ``counts`` (``La``,
    ``Li``, ``Vac``; every A site once, either layer), lowest-Ewald ordering, oxidation
    states removed. E.g. ``(2, 2, 1)`` with ``{"La": 5, "Li": 1, "Vac": 2}`` is the neutral
    Li1La5Ti8O24 cell with two empty A sites."""
    frame = llto_framework(supercell)
    layers = frame.site_properties["a_layer"]
    a_sites = tuple(i for i, lab in enumerate(layers) if lab)
    if sum(counts.values()) != len(a_sites):
        raise ValueError(f"counts {counts} fill {sum(counts.values())} A sites; the "
                         f"{tuple(supercell)} cell has {len(a_sites)}")
    fixed = np.array([0.0 if lab else float(s.specie.oxi_state)
                      for s, lab in zip(frame, layers, strict=True)])
    best = lowest_ewald_ordering(ewald_matrix_per_unit_charge(frame), fixed,
                                 [Group(a_sites, dict(counts))], _CHARGES)
    cell = _decorate(frame, best)
    cell.remove_oxidation_states()
    return cell


def _decorate(frame: Structure, result: OrderingResult) -> Structure:
    """Put the chosen A-site occupants on ``frame``; drop vacancies and ``a_layer``."""
    structure = frame.copy()
    structure.remove_site_property("a_layer")
    vacancies = []
    for i, lab in result.labels.items():
        if lab == "Vac":
            vacancies.append(i)
        else:
            structure.replace(i, Species(lab, int(_CHARGES[lab])))
    structure.remove_sites(vacancies)
    return structure.get_sorted_structure()


def llto(
    supercell: Sequence[int] = (3, 3, 1),
    la_poor_share: float | None = 0.2,
    n_samples: int = 2000,
    seed: int = 0,
) -> Structure:
    """Ordered, neutral Li0.33La0.56TiO3-like supercell of the P4/mmm doubled perovskite.

    Parameters
    ----------
    supercell : repetitions of the doubled cell (a, a, 2a). The default (3, 3, 1) has 18 A
        sites and gives exactly Li6La10Ti18O54 = Li0.333La0.556TiO3 (88 atoms).
    la_poor_share : fraction of La on the La-poor layers (z = 1/2); ``None``: no layering
        imposed (lowest Ewald energy over all A sites).
    n_samples, seed : sampling of A-site arrangements when there are too many to enumerate.

    Returns
    -------
    Structure
        Li+, La3+, Ti4+, O2- (charge neutral). Warns
        when the supercell cannot give Li0.33La0.56 exactly.
    """
    structure, _ = llto_with_ordering(supercell, la_poor_share, n_samples, seed)
    n_ti = structure.composition["Ti4+"]
    li = structure.composition["Li+"] / n_ti
    la = structure.composition["La3+"] / n_ti
    if not (math.isclose(li, LLTO_TARGET_LI, abs_tol=0.005)
            and math.isclose(la, LLTO_TARGET_LA, abs_tol=0.005)):
        warnings.warn(
            f"supercell {tuple(supercell)}: realised Li{li:.3f}La{la:.3f}TiO3 (neutral); "
            "Li0.333La0.556TiO3 needs a multiple of 9 A sites",
            stacklevel=2,
        )
    return structure


def _build_llto(options: BuildOptions) -> Structure:
    return llto(options.supercell or (3, 3, 1))


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("llto", "Li0.33La0.56TiO3, P4/mmm doubled perovskite, Ewald-ordered A sites",
                 _build_llto, frozenset({"supercell"})),
)
