"""Site orderings of lowest electrostatic (Ewald) energy: the one search every builder uses.

A set of *variable* sites is split into groups; each group receives a fixed multiset of
species labels (8 Ni / 1 Co / 1 Mn over 10 transition-metal sites; La / Li / vacancy over the
A sites of one perovskite layer; 56 Li / 64 vacancies over the 120 Li sites of cubic LLZO;
Ta / Zr over the Zr sites and vacancy / Li over the Li sites of LLZTO). Every label carries a
point charge (0 for a vacancy). The energy of an arrangement is ``q @ A @ q`` with ``A``
from :func:`ewald_matrix_per_unit_charge`, so one Ewald summation serves every candidate.

:func:`lowest_ewald_ordering` enumerates all arrangements when there are few (exact);
otherwise it starts from random arrangements and refines them by swaps of two sites of one
group: steepest descent from the best of ``n_samples`` random arrangements (default), or,
with ``anneal=Anneal(...)``, Metropolis annealing from ``anneal.n_starts`` random starts,
which can also keep pairs of sites from both holding ions (``exclusive``: the face-sharing
Li sites of cubic LLZO).

Why not pymatgen's ``OrderDisorderedStructureTransformation`` (``EwaldMinimizer``, ALGO_FAST),
measured 2026-12 on one shared core: it cannot keep excluded pairs empty (cubic LLZO, 56 Li on
120 sites: no result in 150 s; ours 4.6 s) nor fix per-layer counts (LLTO); on NCM811 (10 TM)
it matches ours (-1100.326 eV, 0.21 s vs 0.19 s); on LLZTO (x = 0.5, one cell) it finds
-4993.75 eV in 9.1 s where our annealer gives -4992.96 eV in 4.6 s (kept so that ``llzto``
builds the same structure as before).
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

#: Ewald energies closer than this (eV) count as equal (round-off between equivalent orderings).
TIE_TOL_EV = 1e-6


def ewald_matrix_per_unit_charge(structure: Structure) -> np.ndarray:
    """Ewald interaction matrix ``A`` (eV/e²) of the site positions of ``structure``.

    Every site is given charge +1 (species and oxidation states are ignored) and ``A`` is
    pymatgen's :class:`~pymatgen.analysis.ewald.EwaldSummation` pair matrix (real +
    reciprocal + self terms, the 1/2 of the pair sum included), so that for any charge
    vector ``q`` on these sites the Ewald energy of the neutral cell is ``q @ A @ q`` (a
    vacancy is ``q = 0``). The compensating-background term of a charged ``q`` is left out;
    it depends only on the total charge, the same for all arrangements compared here.
    (The garnet builders' former ``unit_charge_ewald_matrix``, pymatgen's matrix of the
    structure's own oxidation states divided by ``q_i q_j``, is the same matrix to 1e-15 eV.)
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
    counts : how many sites get each label; must add up to ``len(sites)``. Annealing moves
        the labels other than the *last* one (in a two-label group: a site holding the first
        label swaps with one holding the second, e.g. Li into a vacancy).
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
class Anneal:
    """Simulated annealing instead of sampling plus steepest descent.

    Attributes
    ----------
    n_starts : random starting arrangements (besides ``initial`` ones).
    n_steps : swap attempts per start, temperature falling geometrically.
    kT_start_eV, kT_end_eV : first and last temperature (eV).
    """

    n_starts: int = 6
    n_steps: int = 6000
    kT_start_eV: float = 1.0
    kT_end_eV: float = 0.005


@dataclass(frozen=True)
class OrderingResult:
    """Outcome of :func:`lowest_ewald_ordering`.

    Attributes
    ----------
    labels : label per site index, for every variable site.
    energy_eV : Ewald energy of the chosen arrangement (whole cell, eV).
    sampled_energies_eV : Ewald energies of every enumerated or randomly sampled arrangement
        (with annealing: of the starting arrangements).
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


class _Problem:
    """Variable sites, their labels as integer codes and (with ``matrix``) the energy model.

    ``E = const + h·q + q A q`` (eV) with ``q`` the charges of the variable sites.
    """

    def __init__(self, groups: Sequence[Group], label_charges: Mapping[str, float],
                 matrix: np.ndarray | None = None, fixed_charges: np.ndarray | None = None
                 ) -> None:
        self.groups = list(groups)
        self.var = np.array([i for g in groups for i in g.sites], dtype=int)
        if len(set(self.var.tolist())) != len(self.var):
            raise ValueError("groups: a site belongs to more than one group")
        missing = {lab for g in groups for lab in g.counts} - set(label_charges)
        if missing:
            raise ValueError(f"label_charges: no charge for {sorted(missing)}")
        self.charge = {lab: float(c) for lab, c in label_charges.items()}
        self.names = sorted(self.charge)
        self.code_charge = np.array([self.charge[n] for n in self.names])
        self.last = [self.names.index(list(g.counts)[-1]) for g in groups]
        self.group_of = np.concatenate([[k] * len(g.sites) for k, g in enumerate(groups)])
        self.positions = [np.flatnonzero(self.group_of == k) for k in range(len(groups))]
        if matrix is not None:
            q_fixed = np.asarray(fixed_charges, dtype=float).copy()
            q_fixed[self.var] = 0.0
            self.const = float(q_fixed @ matrix @ q_fixed)
            self.h = 2.0 * (matrix @ q_fixed)[self.var]
            self.a = matrix[np.ix_(self.var, self.var)]

    def codes(self, labels: Mapping[int, str]) -> np.ndarray:
        return np.array([self.names.index(labels[int(i)]) for i in self.var])

    def labels(self, row: Sequence[str]) -> dict[int, str]:
        return {int(i): str(lab) for i, lab in zip(self.var, row, strict=True)}

    def charges(self, rows: np.ndarray) -> np.ndarray:
        lookup = np.vectorize(lambda lab: self.charge[lab])
        return lookup(rows).astype(float)

    def energies(self, rows: np.ndarray) -> np.ndarray:  # rows of labels = arrangements
        q = self.charges(rows)
        return self.const + q @ self.h + np.einsum("ij,jk,ik->i", q, self.a, q)

    def relative_energy(self, code: np.ndarray) -> float:
        """``h·q + q A q`` of an arrangement of codes, summed label by label (no constant)."""
        masks = [(self.code_charge[c], code == c) for c in np.unique(code)
                 if self.code_charge[c] != 0]
        linear = sum(c * self.h[m].sum() for c, m in masks)
        quadratic = sum(c1 * c2 * self.a[np.ix_(m1, m2)].sum()
                        for c1, m1 in masks for c2, m2 in masks)
        return float(linear + quadratic)


def lowest_ewald_ordering(
    matrix: np.ndarray,
    fixed_charges: np.ndarray,
    groups: Sequence[Group],
    label_charges: Mapping[str, float],
    n_samples: int = 2000,
    seed: int = 0,
    max_exhaustive: int = MAX_EXHAUSTIVE,
    n_ranked: int = 200,
    anneal: Anneal | None = None,
    exclusive: np.ndarray | None = None,
    initial: Sequence[Mapping[int, str]] = (),
) -> OrderingResult:
    """Arrangement of labels over the groups' sites with the lowest Ewald energy.

    Parameters
    ----------
    matrix : Ewald matrix of all sites (:func:`ewald_matrix_per_unit_charge`).
    fixed_charges : charge (e) of every site; the entries of variable sites are ignored.
    groups : variable sites and the labels each group receives.
    label_charges : charge (e) of each label (0 for a vacancy).
    n_samples : random arrangements drawn when enumeration is too large.
    seed : random seed (sampling and annealing).
    max_exhaustive : enumerate all arrangements when there are at most this many.
    n_ranked : how many of the lowest arrangements to keep in ``OrderingResult.ranked``.
    anneal : anneal from random starts instead (never enumerates; see :class:`Anneal`).
    exclusive : (n, n) bool over all sites of ``matrix``: pairs of variable sites that may
        not both hold a charged label (annealing only).
    initial : starting arrangements (label per variable site) for annealing; with
        ``exclusive`` the random starts are random walks from the first one (default: a
        random greedy filling).

    Returns
    -------
    OrderingResult
    """
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    problem = _Problem(groups, label_charges, matrix, fixed_charges)
    if anneal is not None:
        return _annealed(problem, anneal, seed, exclusive, initial)
    if exclusive is not None or initial:
        raise ValueError("exclusive and initial need anneal=Anneal(...)")
    n_total = math.prod(g.n_arrangements() for g in groups)
    exhaustive = n_total <= max_exhaustive
    if exhaustive:
        per_group = [list(_arrangements(dict(g.counts), len(g.sites))) for g in groups]
        rows = np.array([sum(combo, ()) for combo in itertools.product(*per_group)])
        e = problem.energies(rows)
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
        e = problem.energies(rows)
        best_row, best_e = None, math.inf
        for start in np.argsort(np.round(e / TIE_TOL_EV), kind="stable")[:5]:
            row, e_row = _swap_descent(problem, rows[start].copy())
            if e_row < best_e - TIE_TOL_EV:
                best_row, best_e = list(row), e_row
    ranked = [(best_e, problem.labels(best_row))]
    for k in np.argsort(e, kind="stable"):
        if len(ranked) >= n_ranked:
            break
        if list(rows[k]) != list(best_row):
            ranked.append((float(e[k]), problem.labels(rows[k])))
    return OrderingResult(labels=problem.labels(best_row), energy_eV=best_e,
                          sampled_energies_eV=e, exhaustive=exhaustive, ranked=tuple(ranked))


def _swap_descent(problem: _Problem, row: np.ndarray) -> tuple[np.ndarray, float]:
    """Apply the best energy-lowering swap within a group until none lowers the energy."""
    a_vv, h = problem.a, problem.h
    q = problem.charges(row)
    same_group = problem.group_of[:, None] == problem.group_of[None, :]
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
    return row, float(problem.const + q @ h + q @ a_vv @ q)


class _Walker:
    """One arrangement (label codes) and its swap moves within a group.

    A move takes a site whose label is not its group's last label and a site of the same
    group with another label; with exclusions it is refused when a charged label would end
    up next to another charged label on an excluded pair.
    """

    def __init__(self, problem: _Problem, code: np.ndarray, exclusive: np.ndarray | None,
                 rng: np.random.Generator) -> None:
        self.p, self.rng = problem, rng
        self.code = np.array(code, dtype=int)
        self.excl = exclusive
        self.ion = [bool(c != 0) for c in problem.code_charge]  # label code -> charged
        if exclusive is not None:
            self.n_block = exclusive[:, self.charged()].sum(axis=1)

    def charged(self) -> np.ndarray:
        return self.p.code_charge[self.code] != 0

    def propose(self) -> tuple[int, int] | None:
        """Two sites to swap, or ``None`` (no move in the drawn group, or an exclusion)."""
        k = int(self.rng.integers(len(self.p.groups))) if len(self.p.groups) > 1 else 0
        pos = self.p.positions[k]
        moving = self.code[pos] != self.p.last[k]
        if moving.all():
            return None
        i = int(self.rng.choice(pos[moving]))
        j = int(self.rng.choice(pos[self.code[pos] != self.code[i]]))
        if self.excl is not None:
            ci, cj = self.ion[self.code[i]], self.ion[self.code[j]]
            if ci and self.n_block[j] - (0 if cj else int(self.excl[j, i])) > 0:
                return None
            if cj and self.n_block[i] - (0 if ci else int(self.excl[i, j])) > 0:
                return None
        return i, j

    def swap(self, i: int, j: int) -> None:
        if self.excl is not None:
            ci, cj = int(self.ion[self.code[i]]), int(self.ion[self.code[j]])
            self.n_block += (cj - ci) * self.excl[:, i] + (ci - cj) * self.excl[:, j]
        self.code[[i, j]] = self.code[[j, i]]

    def walk(self, n_moves: int) -> np.ndarray:
        """Infinite-temperature walk: ``n_moves`` proposals, every allowed one accepted."""
        for _ in range(n_moves):
            move = self.propose()
            if move is not None:
                self.swap(*move)
        return self.code.copy()


def _random_codes(problem: _Problem, rng: np.random.Generator) -> np.ndarray:
    """Each group's labels but the last on randomly drawn sites, the last label on the rest."""
    code = np.empty(len(problem.var), dtype=int)
    for g, pos in zip(problem.groups, problem.positions, strict=True):
        free = pos
        *drawn, last = list(g.counts)
        for lab in drawn:
            chosen = rng.choice(free, g.counts[lab], replace=False)
            code[chosen] = problem.names.index(lab)
            free = np.setdiff1d(free, chosen)
        code[free] = problem.names.index(last)
    return code


def _greedy_codes(problem: _Problem, exclusive: np.ndarray,
                  rng: np.random.Generator) -> np.ndarray:
    """Charged labels on random sites with no charged excluded partner (200 tries)."""
    for _ in range(200):
        code = np.empty(len(problem.var), dtype=int)
        blocked = np.zeros(len(problem.var), dtype=bool)
        ok = True
        for g, pos in zip(problem.groups, problem.positions, strict=True):
            queue = [problem.names.index(lab) for lab in g.counts for _ in range(g.counts[lab])]
            ions = [c for c in queue if problem.code_charge[c] != 0]
            empty = [c for c in queue if problem.code_charge[c] == 0]
            for i in pos[rng.permutation(len(pos))]:
                if ions and not blocked[i]:
                    code[i] = ions.pop(0)
                    blocked |= exclusive[i]
                    blocked[i] = True
                elif empty:
                    code[i] = empty.pop(0)
                else:
                    ok = False
            ok = ok and not ions
        if ok:
            return code
    raise ValueError("exclusive: cannot place the charged labels without an excluded pair")


def _annealed(problem: _Problem, anneal: Anneal, seed: int, exclusive: np.ndarray | None,
              initial: Sequence[Mapping[int, str]]) -> OrderingResult:
    """Metropolis swaps with a geometric temperature schedule from every start; the lowest
    arrangement over all runs."""
    rng = np.random.default_rng(seed)
    excl = None if exclusive is None else np.asarray(exclusive, bool)[
        np.ix_(problem.var, problem.var)]
    starts = [problem.codes(labels) for labels in initial]
    if excl is not None:
        if not starts:
            starts.append(_greedy_codes(problem, excl, rng))
        starts += [_Walker(problem, starts[0], excl, rng).walk(3000)
                   for _ in range(anneal.n_starts)]
    else:
        starts += [_random_codes(problem, rng) for _ in range(anneal.n_starts)]
    start_e = [problem.relative_energy(c) for c in starts]
    best_code, best_e = starts[0].copy(), start_e[0]
    a, h, diag = problem.a, problem.h, np.diag(problem.a)
    for code in starts:
        walker = _Walker(problem, code, excl, rng)
        g = np.zeros(len(problem.var))
        for c in np.unique(code):
            if problem.code_charge[c] != 0:
                g += problem.code_charge[c] * a[:, code == c].sum(axis=1)  # g = A q
        e_now = problem.relative_energy(code)
        for kT in np.geomspace(anneal.kT_start_eV, anneal.kT_end_eV, anneal.n_steps):
            move = walker.propose()
            if move is None:
                continue
            i, j = move
            c = problem.code_charge[walker.code[i]] - problem.code_charge[walker.code[j]]
            c2 = c * c  # the charge c goes from i to j
            delta = (c * h[j] + c2 * diag[j] + 2.0 * (c * g[j] - c2 * a[j, i])
                     - c * h[i] - c2 * diag[i] - 2.0 * (c * g[i] - c2 * diag[i]))
            if delta <= 0 or rng.random() < np.exp(-delta / kT):
                walker.swap(i, j)
                g += c * (a[:, j] - a[:, i])
                e_now += delta
                if e_now < best_e - 1e-9:
                    best_e, best_code = e_now, walker.code.copy()
    row = [problem.names[c] for c in best_code]
    energy = problem.relative_energy(best_code) + problem.const
    return OrderingResult(labels=problem.labels(row), energy_eV=energy,
                          sampled_energies_eV=np.array(start_e) + problem.const,
                          exhaustive=False, ranked=((energy, problem.labels(row)),))


def random_walk(
    groups: Sequence[Group],
    label_charges: Mapping[str, float],
    start: Mapping[int, str],
    rng: np.random.Generator,
    exclusive: np.ndarray | None = None,
    n_moves: int = 3000,
) -> dict[int, str]:
    """A random arrangement reached by ``n_moves`` random swaps from ``start``.

    The moves of the annealer at infinite temperature (``exclusive`` as in
    :func:`lowest_ewald_ordering`; ``start`` must respect it). Label per variable site.
    """
    problem = _Problem(groups, label_charges)
    excl = None if exclusive is None else np.asarray(exclusive, bool)[
        np.ix_(problem.var, problem.var)]
    code = _Walker(problem, problem.codes(start), excl, rng).walk(n_moves)
    return problem.labels([problem.names[c] for c in code])
