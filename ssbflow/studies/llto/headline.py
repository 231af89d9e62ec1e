"""llto-li numbers a model committee compares (:mod:`ssbflow.studies.committee`)."""

from __future__ import annotations

from typing import Any


def reduction_headline(results: dict[str, Any]) -> dict[str, float | None]:
    """Li insertion energy (eV/Li), voltage (V), O-vacancy formation energy (eV) and the
    number of Ti above 0.5 μB in the Li cell (``None`` for a model without moments)."""
    ti3 = results.get("ti3_lithiated")
    return {
        "Li insertion energy (eV/Li)": results.get("insertion_energy_eV_per_Li"),
        "insertion voltage (V)": results.get("insertion_voltage_V"),
        "O-vacancy formation energy at Li/Li2O (eV)":
            results.get("o_vacancy_formation_energy_eV"),
        "Ti with m > 0.5 μB, +Li cell": None if ti3 is None else float(ti3),
    }
