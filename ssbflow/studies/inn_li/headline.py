"""inn-li numbers a model committee compares (:mod:`ssbflow.studies.committee`)."""

from __future__ import annotations

from typing import Any


def headline(results: dict[str, Any]) -> dict[str, float | None]:
    """Reaction energy with Li (eV/atom of the mixture) of every candidate."""
    return {f"{row['candidate']} + Li (eV/atom)": row.get("reaction_energy_eV_per_atom")
            for row in results.get("ranking", [])}


def rankings(results: dict[str, Any]) -> dict[str, list[str]]:
    """Candidates, most reactive with Li first (the study's ranking)."""
    rows = sorted(results.get("ranking", []), key=lambda r: r.get("rank", 0))
    return {"reactivity with Li": [r["candidate"] for r in rows]} if rows else {}
