"""Screening numbers a model committee compares (:mod:`ssbflow.studies.committee`)."""

from __future__ import annotations

from typing import Any

from ssbflow.studies.screening.spec import METRICS


def headline(results: dict[str, Any]) -> dict[str, float | None]:
    """Each candidate's value of each metric, keyed ``"<candidate>: <value key>"``; the unit
    is the key's suffix (eV, eV/atom, Å)."""
    values: dict[str, float | None] = {}
    for metric, rows in (results.get("rankings") or {}).items():
        key = METRICS[metric][0] if metric in METRICS else metric
        for row in rows:
            values[f"{row['candidate']}: {key}"] = row.get(key)
    return values


def rankings(results: dict[str, Any]) -> dict[str, list[str]]:
    """Each metric's ranking (the order of the report's table, best first), candidates with
    a value only."""
    out = {}
    for metric, rows in (results.get("rankings") or {}).items():
        key = METRICS[metric][0] if metric in METRICS else metric
        out[metric] = [r["candidate"] for r in rows if r.get(key) is not None]
    return out
