"""Committee statistics: the spread is max − min, a changed ranking is flagged."""

from __future__ import annotations

import pytest

from ssbflow.analysis.committee import (
    committee_markdown,
    committee_summary,
    committee_value,
    ranking_agreement,
)


def test_spread_of_two_models_is_their_difference():
    row = committee_value({"A": -2.46, "B": -1.90})
    assert row["spread"] == pytest.approx(0.56)
    assert row["mean"] == pytest.approx(-2.18)
    assert row["models"] == ["A", "B"] and row["n"] == 2


def test_a_model_without_a_value_is_kept_but_not_counted():
    row = committee_value({"A": 1.0, "B": None, "C": 3.0})
    assert row["per_model"]["B"] is None
    assert row["n"] == 2 and row["spread"] == pytest.approx(2.0)
    assert committee_value({"A": None})["mean"] is None


def test_a_ranking_flip_is_flagged_and_an_equal_ranking_is_not():
    flipped = ranking_agreement({"A": ["In", "InN", "Ag"], "B": ["InN", "In", "Ag"]})
    assert not flipped["same_order"] and not flipped["same_first"]
    assert "B differ from A" in flipped["flag"] and "first place" in flipped["flag"]
    same = ranking_agreement({"A": ["x", "y"], "B": ["x", "y"]})
    assert same["same_order"] and same["flag"] is None


def test_summary_collects_quantities_rankings_and_flags():
    summary = committee_summary(
        {"A": {"E (eV)": 1.0, "Ea (eV)": 0.3}, "B": {"E (eV)": 1.5}},
        {"A": {"sites": ["La1", "La2"]}, "B": {"sites": ["La2", "La1"]}})
    assert summary["models"] == ["A", "B"]
    assert summary["quantities"]["E (eV)"]["spread"] == pytest.approx(0.5)
    assert summary["quantities"]["Ea (eV)"]["per_model"] == {"A": 0.3, "B": None}
    assert summary["flags"] and summary["flags"][0].startswith("sites:")
    text = committee_markdown(summary)
    assert "| E (eV) | 1.000 | 1.500 | 1.250 | 0.500 |" in text
    assert "**changes between models**" in text
