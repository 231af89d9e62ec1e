"""sn-llzo numbers a model committee compares (:mod:`ssbflow.studies.committee`)."""

from __future__ import annotations

from typing import Any

#: Adsorption energies closer than this (eV) count as a tie in the site ranking.
TIE_eV = 1e-3


def _site_label(row: dict[str, Any]) -> str:
    return f"{row.get('site_species', '')}{row.get('site')} {row.get('orientation', '')}".strip()


def headline(results: dict[str, Any]) -> dict[str, float | None]:
    """E_ads (eV) of the chosen geometry, of every scanned site and orientation, and the
    frozen-fragment DFT interaction energy at that model's geometry where it was computed."""
    values: dict[str, float | None] = {
        "adsorption_energy_eV": results.get("adsorption_energy_eV")}
    for row in results.get("site_scan", []):
        values[f"E_ads {_site_label(row)} (eV)"] = row.get("adsorption_energy_eV")
    dft = (results.get("electronic") or {}).get("dft_interaction_energy_eV")
    if dft is not None:
        values["DFT interaction energy at this geometry (eV)"] = dft
    return values


def rankings(results: dict[str, Any]) -> dict[str, list[str]]:
    """Scanned sites, most strongly bound first (ties within 1 meV by name)."""
    rows = [r for r in results.get("site_scan", []) if r.get("adsorption_energy_eV") is not None]
    rows.sort(key=lambda r: (round(float(r["adsorption_energy_eV"]) / TIE_eV), _site_label(r)))
    return {"adsorption sites": [_site_label(r) for r in rows]} if rows else {}
