"""Multi-objective ranking: Pareto front (non-dominated set) and a weighted score.

Each objective is a column of values with a direction (``"minimise"`` or ``"maximise"``).
A candidate dominates another when it is at least as good in every objective and strictly
better in one; the front is the set no candidate dominates. Candidates with a missing value
(NaN) in any objective are neither on the front nor scored. Written here (O(n²·k) numpy, n of
hundreds) because neither pymatgen nor scipy has a non-dominated sort.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DIRECTIONS = ("minimise", "maximise")


def _oriented(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Values with every objective turned into one to minimise."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[1] != len(directions):
        raise ValueError(f"values: expected shape (n, {len(directions)}), got {values.shape}")
    bad = [d for d in directions if d not in DIRECTIONS]
    if bad:
        raise ValueError(f"direction {bad[0]!r}: expected minimise or maximise")
    signs = np.array([1.0 if d == "minimise" else -1.0 for d in directions])
    return values * signs


def pareto_front(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values`` (n candidates × k objectives)."""
    v = _oriented(values, directions)
    complete = ~np.isnan(v).any(axis=1)
    front = np.zeros(len(v), dtype=bool)
    ok = v[complete]
    # no_worse[i, j]: j is at least as good as i everywhere; better[i, j]: somewhere better
    no_worse = (ok[None, :, :] <= ok[:, None, :]).all(axis=2)
    better = (ok[None, :, :] < ok[:, None, :]).any(axis=2)
    front[np.flatnonzero(complete)] = ~(no_worse & better).any(axis=1)
    return front


def weighted_score(values: np.ndarray, directions: Sequence[str],
                   weights: Sequence[float]) -> np.ndarray:
    """Weighted mean of min–max normalised objectives (1 = best in all, 0 = worst; NaN when
    a value is missing). An objective with one distinct known value contributes 1 to every
    candidate that has it."""
    v = _oriented(values, directions)
    w = np.asarray(weights, dtype=float)
    if w.shape != (v.shape[1],) or (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights: expected one non-negative weight per objective, sum > 0")
    known = ~np.isnan(v)
    low = np.min(np.where(known, v, np.inf), axis=0)  # no warning for an all-NaN column
    high = np.max(np.where(known, v, -np.inf), axis=0)
    spread = high > low
    goodness = np.where(spread, (high - v) / np.where(spread, high - low, 1.0), 1.0)
    goodness[~known] = np.nan  # a missing value is never scored
    return goodness @ w / w.sum()
