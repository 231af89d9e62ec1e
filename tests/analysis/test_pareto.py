"""Pareto front and weighted score on constructed numbers; redox-limit conversion."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ssbflow.analysis.pareto import pareto_front, weighted_score
from ssbflow.analysis.redox import LI_ABSOLUTE_V, oxidation_limit_V, reduction_limit_V


def test_front_is_the_non_dominated_set():
    # objectives: binding energy (minimise), oxidation limit (maximise)
    values = np.array([
        [-1.0, 5.0],   # A: front (best binding)
        [-0.5, 6.0],   # B: front (trade-off)
        [-0.2, 7.0],   # C: front (best oxidation limit)
        [-0.5, 5.5],   # D: dominated by B
        [-1.0, 4.0],   # E: dominated by A (equal binding, worse limit)
        [0.0, 7.0],    # F: dominated by C
        [np.nan, 9.0],  # G: incomplete, never on the front
    ])
    front = pareto_front(values, ["minimise", "maximise"])
    assert front.tolist() == [True, True, True, False, False, False, False]


def test_duplicates_are_both_on_the_front_and_direction_flips():
    values = np.array([[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
    assert pareto_front(values, ["minimise", "minimise"]).tolist() == [True, True, False]
    assert pareto_front(values, ["maximise", "maximise"]).tolist() == [False, False, True]


def test_weighted_score_is_normalised_and_follows_weights():
    values = np.array([[-1.0, 5.0], [-0.2, 7.0], [-0.6, 6.0]])
    only_binding = weighted_score(values, ["minimise", "maximise"], [1.0, 0.0])
    assert only_binding.tolist() == pytest.approx([1.0, 0.0, 0.5])
    equal = weighted_score(values, ["minimise", "maximise"], [1.0, 1.0])
    assert equal.tolist() == pytest.approx([0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="direction"):
        pareto_front(values, ["minimise", "upwards"])


def test_redox_limits_use_the_absolute_li_potential():
    assert LI_ABSOLUTE_V == pytest.approx(1.40)
    assert oxidation_limit_V(12.2) == pytest.approx(10.8)
    assert reduction_limit_V(-2.0) == pytest.approx(-3.4)
    assert not math.isnan(oxidation_limit_V(0.0))


def test_a_missing_value_is_not_scored_even_where_the_others_are_all_equal():
    """The second objective has one known value (7.0): it used to give the row that misses
    it a goodness of 1, so that row had a score; a missing value gives NaN."""
    values = np.array([[-1.0, 7.0], [-0.2, np.nan], [-0.6, 7.0]])
    score = weighted_score(values, ["minimise", "maximise"], [1.0, 1.0])
    assert score[0] == pytest.approx(1.0) and score[2] == pytest.approx(0.75)
    assert math.isnan(score[1])
    all_missing = weighted_score(np.array([[1.0, np.nan], [2.0, np.nan]]),
                                 ["minimise", "minimise"], [1.0, 1.0])
    assert np.isnan(all_missing).all()
