"""report.md sections of the DFT spot checks (:mod:`ssbflow.methods.dft_check`), shared by
the studies."""

from __future__ import annotations

from typing import Any

#: What every DFT spot check is, in one sentence.
CAVEAT = ("CP2K single points at the MLIP geometry (no DFT relaxation); a spot check of the "
          "force field's energetics, not a DFT result of the study.")


def _settings_line(check: dict[str, Any]) -> str:
    smear = check.get("smearing") or "no smearing"
    cells = (f"; bulk cells repeated to >= {check['min_length_A']:g} Å"
             if check.get("min_length_A") else "")
    note = f" {check['note']}." if check.get("note") else ""
    return (f"{check.get('functional')}, {check.get('basis')}, {check.get('cutoff_Ry'):g} Ry, "
            f"{check.get('kpoints')}, {smear}{cells} (preset {check.get('preset')}).{note}")


def reaction_lines(checks: list[dict[str, Any]] | None) -> list[str]:
    """Markdown of :func:`ssbflow.methods.dft_check.reaction_dft_check` rows."""
    if not checks:
        return []
    lines = ["## DFT spot check (reaction energies)", "", CAVEAT + " " + _settings_line(checks[0]),
             "", "| reaction | MLIP (eV) | DFT (eV) | DFT − MLIP (eV) | cells | CP2K wall (s) |",
             "|---|---|---|---|---|---|"]
    for c in checks:
        cells = ", ".join(f"{v['formula']} {'x'.join(map(str, v['supercell']))} "
                          f"({v['n_atoms']} at.)" for v in c["cells"].values())
        lines.append(f"| {c['reaction']} | {c['mlip_reaction_energy_eV']:.3f} | "
                     f"{c['reaction_energy_eV']:.3f} | {c['dft_minus_mlip_eV']:+.3f} | {cells} | "
                     f"{c['wall_s']:.0f} |")
    return [*lines, ""]


def band_lines(checks: dict[str, dict[str, Any]] | None) -> list[str]:
    """Markdown of :func:`ssbflow.methods.dft_check.band_dft_check` results by system."""
    if not checks:
        return []
    first = next(iter(checks.values()))
    lines = ["## DFT spot check (barrier along the MLIP path)", "",
             CAVEAT + " Barrier = E(highest MLIP image) − E(initial). " + _settings_line(first),
             "", "| system | MLIP (eV) | DFT (eV) | DFT − MLIP (eV) | cell | CP2K wall (s) |",
             "|---|---|---|---|---|---|"]
    for system, c in checks.items():
        lines.append(f"| {system} | {c['mlip_barrier_eV']:.3f} | {c['barrier_eV']:.3f} | "
                     f"{c['dft_minus_mlip_eV']:+.3f} | {c['cell']['kind']} "
                     f"({c['cell']['n_atoms']} atoms) | {c['wall_s']:.0f} |")
    return [*lines, ""]


def adsorption_dft_check(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The MLIP adsorption energy next to the electronic stage's DFT interaction energy.

    Parameters
    ----------
    doc : an adsorption results document (``adsorption_energy_eV``, ``electronic``,
        ``settings["electronic_engine"]``).

    Returns
    -------
    dict or None
        ``mlip_adsorption_energy_eV``, ``dft_interaction_energy_eV``, ``dft_minus_mlip_eV``,
        functional/basis of the DFT and a note on what the DFT number is; ``None`` without
        a DFT interaction energy (no electronic stage, or a failed one).
    """
    electronic = doc.get("electronic") or {}
    dft = electronic.get("dft_interaction_energy_eV")
    mlip = doc.get("adsorption_energy_eV")
    if dft is None or mlip is None:
        return None
    engine = (doc.get("settings") or {}).get("electronic_engine") or {}
    basis = engine.get("basis_preference") or []
    xc = engine.get("xc")
    return {
        "mlip_adsorption_energy_eV": float(mlip),
        "dft_interaction_energy_eV": float(dft),
        "dft_minus_mlip_eV": float(dft) - float(mlip),
        "engine": electronic.get("engine") or engine.get("engine"),
        "functional": (f"{xc}+{engine['dispersion']}" if xc and engine.get("dispersion")
                       else xc),
        "basis": basis[0] if basis else None,
        "cutoff_Ry": engine.get("cutoff_Ry"), "kpoints": engine.get("kpoints"),
        "preset": engine.get("preset"),
        "note": "the DFT number is an interaction energy E(AB) − E(A) − E(B) at the MLIP "
                "geometry of AB (frozen fragments, no fragment relaxation, no BSSE "
                "correction); the MLIP number is an adsorption energy with relaxed "
                "fragments, so DFT − MLIP also holds the fragments' relaxation energy",
    }


def adsorption_lines(check: dict[str, Any] | None) -> list[str]:
    """Markdown of :func:`adsorption_dft_check`."""
    if not check:
        return []
    return ["## DFT spot check (adsorption)", "",
            "| MLIP E_ads (eV) | DFT interaction energy (eV) | DFT − MLIP (eV) | DFT |",
            "|---|---|---|---|",
            f"| {check['mlip_adsorption_energy_eV']:.3f} | "
            f"{check['dft_interaction_energy_eV']:.3f} | {check['dft_minus_mlip_eV']:+.3f} | "
            f"{check['engine']} {check['functional']}, {check['basis']} |", "",
            f"Note: {check['note']}.", ""]
