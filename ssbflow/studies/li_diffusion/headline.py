"""Li-diffusion numbers a model committee compares (:mod:`ssbflow.studies.committee`)."""

from __future__ import annotations

import math
from typing import Any


def _log10(value: Any) -> float | None:
    return math.log10(value) if isinstance(value, int | float) and value > 0 else None


def headline(results: dict[str, Any]) -> dict[str, float | None]:
    """MSD slope (Å²/ps) and log10 D (cm²/s) at each (system, T); Ea (eV) and log10 D(300 K)
    of each system. D as log10: its spread across models reads in decades."""
    values: dict[str, float | None] = {}
    for row in results.get("diffusion", []):
        key = f"{row.get('system')} {row.get('T_K'):g} K"
        values[f"MSD slope {key} (Å²/ps)"] = row.get("msd_slope_A2_per_ps")
        values[f"log10 D {key} (cm²/s)"] = _log10(row.get("D_cm2_s"))
    for row in results.get("arrhenius", []):
        values[f"Ea {row.get('system')} (eV)"] = row.get("Ea_eV")
        values[f"log10 D(300 K) {row.get('system')} (cm²/s)"] = _log10(row.get("D_300K_cm2_s"))
    return values


def rankings(results: dict[str, Any]) -> dict[str, list[str]]:
    """Systems, fastest Li diffusion at 300 K first (from the Arrhenius fits)."""
    rows = [r for r in results.get("arrhenius", []) if _log10(r.get("D_300K_cm2_s")) is not None]
    if len(rows) < 2:
        return {}
    rows.sort(key=lambda r: -float(r["D_300K_cm2_s"]))
    return {"D(300 K), fastest first": [str(r["system"]) for r in rows]}
