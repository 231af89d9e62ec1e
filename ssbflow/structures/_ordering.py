"""Site orderings of lowest electrostatic (Ewald) energy (cathode and perovskite builders).

A set of *variable* sites is split into groups; each group receives a fixed multiset of
species labels (e.g. 8 Ni / 1 Co / 1 Mn over 10 transition-metal sites, or La / Li /
vacancy over the A sites of one perovskite layer). Every label carries a point charge
(0 for a vacancy). The energy of an arrangement is ``q @ A @ q`` with ``A`` the unit-charge
Ewald interaction matrix from pymatgen's :class:`~pymatgen.analysis.ewald.EwaldSummation`,
so one Ewald summation serves every candidate.

Pymatgen's ``OrderDisorderedStructureTransformation`` / ``EwaldMinimizer`` do the same job for
one partially occupied structure, but they cannot express per-layer constraints (La-rich and
La-poor layers of LLTO) and their exact search does not scale to the 36-site A sublattice of
larger LLTO cells; this module enumerates all arrangements when there are few (exact) and
otherwise samples random arrangements and refines the best ones by steepest-descent swaps.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from pymatgen.analysis.ewald import EwaldSummation
from pymatgen.core import Species, Structure

#: Above this many distinct arrangements, sample instead of enumerating.
MAX_EXHAUSTIVE = 50_000


def unit_charge_ewald_matrix(structure: Structure) -> np.ndarray:
    """Ewald interaction matrix ``A`` (eV/e²) of the site positions of ``structure``.

    Every site is given charge +1 (species are ignored), so that for any charge vector ``q``
    the Ewald energy of the neutral cell is ``q @ A @ q`` (pymatgen's matrix already holds the
    1/2 of the pair sum). The compensating-background term of a charged cell is omitted; it
    depends only on the total charge, which is the same for all arrangements compared here.
    """
    dummy = Structure(
        structure.lattice, [Species("H", 1)] * len(structure), structure.frac_coords
    )
    return np.asarray(EwaldSummation(dummy).total_energy_matrix)


@dataclass(frozen=True)
class Group:
    """Variable sites that share one multiset of labels.

    Attributes
    ----------
    sites : indices (into the full structure) of the sites of this group.
    counts : how many sites get each label; must add up to ``len(sites)``.
    """

    sites: tuple[int, ...]
    counts: Mapping[str, int]

    def __post_init__(self) -> None:
        if sum(self.counts.values()) != len(self.sites):
            raise ValueError(
                f"group of {len(self.sites)} sites given {sum(self.counts.values())} labels"
            )

    def n_arrangements(self) -> int:
        """Number of distinct label arrangements over the sites (multinomial coefficient)."""
        n = math.factorial(len(self.sites))
        for c in self.counts.values():
            n //= math.factorial(c)
        return n

    def base(self) -> list[str]:
        """The labels in a fixed order (the first arrangement)."""
        return [lab for lab, c in sorted(self.counts.items()) for _ in range(c)]


@dataclass(frozen=True)
class OrderingResult:
    """Outcome of :func:`lowest_ewald_ordering`.

    Attributes
    ----------
    labels : label per site index, for every variable site.
    energy_eV : Ewald energy of the chosen arrangement (whole cell, eV).
    sampled_energies_eV : Ewald energies of every enumerated or randomly sampled arrangement.
    exhaustive : True when all distinct arrangements were enumerated (the minimum is exact).
    ranked : the lowest-energy arrangements seen, ``(energy_eV, labels)`` in increasing
        energy (at most ``n_ranked``; the chosen arrangement first). Symmetry-equivalent
        arrangements are not merged.
    """

    labels: dict[int, str]
    energy_eV: float
    sampled_energies_eV: np.ndarray
    exhaustive: bool
    ranked: tuple[tuple[float, dict[int, str]], ...] = ()


def _arrangements(labels: dict[str, int], n: int) -> Iterator[tuple[str, ...]]:
    """All distinct sequences of length ``n`` holding ``labels`` (label -> count)."""
    if n == 0:
        yield ()
        return
    items = sorted(labels.items())
    lab, count = items[0]
    rest = dict(items[1:])
    for positions in itertools.combinations(range(n), count):
        pos_set = set(positions)
        free = [i for i in range(n) if i not in pos_set]
        for tail in _arrangements(rest, len(free)):
            seq = [lab] * n
            for i, t in zip(free, tail, strict=True):
                seq[i] = t
            yield tuple(seq)


#: Ewald energies closer than this (eV) count as equal (round-off between equivalent orderings).
TIE_TOL_EV = 1e-6


def lowest_ewald_ordering(
    matrix: np.ndarray,
    fixed_charges: np.ndarray,
    groups: Sequence[Group],
    label_charges: Mapping[str, float],
    n_samples: int = 2000,
    seed: int = 0,
    max_exhaustive: int = MAX_EXHAUSTIVE,
    n_ranked: int = 200,
) -> OrderingResult:
    """Arrangement of labels over the groups' sites with the lowest Ewald energy.

    Parameters
    ----------
    matrix : unit-charge Ewald matrix of all sites (:func:`unit_charge_ewald_matrix`).
    fixed_charges : charge (e) of every site; the entries of variable sites are ignored.
    groups : variable sites and the labels each group receives.
    label_charges : charge (e) of each label (0 for a vacancy).
    n_samples : random arrangements drawn when enumeration is too large.
    seed : random seed (sampling mode only).
    max_exhaustive : enumerate all arrangements when there are at most this many.
    n_ranked : how many of the lowest arrangements to keep in ``OrderingResult.ranked``.

    Returns
    -------
    OrderingResult
    """
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    var = np.array([i for g in groups for i in g.sites], dtype=int)
    q_fixed = np.asarray(fixed_charges, dtype=float).copy()
    q_fixed[var] = 0.0
    const = float(q_fixed @ matrix @ q_fixed)
    h = 2.0 * (matrix @ q_fixed)[var]
    a_vv = matrix[np.ix_(var, var)]

    def energies(q_var: np.ndarray) -> np.ndarray:  # rows = arrangements
        return const + q_var @ h + np.einsum("ij,jk,ik->i", q_var, a_vv, q_var)

    def to_charges(label_rows: np.ndarray) -> np.ndarray:
        lookup = np.vectorize(lambda lab: float(label_charges[lab]))
        return lookup(label_rows).astype(float)

    n_total = math.prod(g.n_arrangements() for g in groups)
    exhaustive = n_total <= max_exhaustive
    if exhaustive:
        per_group = [list(_arrangements(dict(g.counts), len(g.sites))) for g in groups]
        rows = np.array([sum(combo, ()) for combo in itertools.product(*per_group)])
        e = energies(to_charges(rows))
        # symmetry-equivalent arrangements tie to round-off, which changes with the BLAS
        # thread count: take the first of the tied ones so the result is reproducible
        best = int(np.flatnonzero(e <= e.min() + TIE_TOL_EV)[0])
        best_row = list(rows[best])
        best_e = float(e[best])
    else:
        rng = np.random.default_rng(seed)
        bases = [np.array(g.base()) for g in groups]
        rows = np.array(
            [np.concatenate([rng.permutation(b) for b in bases]) for _ in range(n_samples)]
        )
        e = energies(to_charges(rows))
        group_of = np.concatenate([[k] * len(g.sites) for k, g in enumerate(groups)])
        best_row, best_e = None, math.inf
        for start in np.argsort(np.round(e / TIE_TOL_EV), kind="stable")[:5]:
            row, e_row = _swap_descent(rows[start].copy(), group_of, a_vv, h, const,
                                       label_charges)
            if e_row < best_e - TIE_TOL_EV:
                best_row, best_e = list(row), e_row
    def as_labels(row: Sequence[str]) -> dict[int, str]:
        return {int(i): str(lab) for i, lab in zip(var, row, strict=True)}

    ranked = [(best_e, as_labels(best_row))]
    for k in np.argsort(e, kind="stable"):
        if len(ranked) >= n_ranked:
            break
        if list(rows[k]) != list(best_row):
            ranked.append((float(e[k]), as_labels(rows[k])))
    return OrderingResult(labels=as_labels(best_row), energy_eV=best_e, sampled_energies_eV=e,
                          exhaustive=exhaustive, ranked=tuple(ranked))


def _swap_descent(
    row: np.ndarray,
    group_of: np.ndarray,
    a_vv: np.ndarray,
    h: np.ndarray,
    const: float,
    label_charges: Mapping[str, float],
) -> tuple[np.ndarray, float]:
    """Apply the best energy-lowering swap within a group until none lowers the energy."""
    q = np.array([label_charges[lab] for lab in row], dtype=float)
    same_group = group_of[:, None] == group_of[None, :]
    diag = np.diag(a_vv)
    while True:
        g = a_vv @ q
        dq = q[None, :] - q[:, None]  # swapping i<->j changes q_i by dq[i, j]
        # Energy change of the swap: linear terms plus the pair self-interaction.
        delta = (dq * (h[:, None] - h[None, :]) + 2.0 * dq * (g[:, None] - g[None, :])
                 + dq**2 * (diag[:, None] + diag[None, :] - 2.0 * a_vv))
        delta[~same_group | (dq == 0.0)] = np.inf
        # first of the (round-off) tied best swaps, for a reproducible result
        flat = np.flatnonzero(delta.ravel() <= delta.min() + TIE_TOL_EV)[0]
        i, j = np.unravel_index(int(flat), delta.shape)
        if delta[i, j] > -TIE_TOL_EV:
            break
        row[[i, j]] = row[[j, i]]
        q[[i, j]] = q[[j, i]]
    return row, float(const + q @ h + q @ a_vv @ q)
