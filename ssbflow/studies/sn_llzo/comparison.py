"""sn-llzo next to its source study: succinonitrile (SN) interlayer on garnet LLZTO.

Source claims (shared/reference/science.md, study 1): the nitrile N coordinates surface La;
the charge density difference shows electron accumulation on N and depletion on La ("La
loses and N gains electrons", read from the CDD, Fig. 2g, and XPS shifts); SN has a lower
work function than LLZO.
"""

from __future__ import annotations

from typing import Any

from ssbflow.studies.comparison import ClaimRow, finite

SOURCE = "SN on LLZTO study (science.md, study 1)"

#: A charge change smaller than this (e) counts as no transfer (population noise).
CHARGE_TOL_E = 0.01

#: Longest La–N distance (Å) counted as coordination (La–N in La nitrile complexes 2.6–2.7 Å).
LA_N_BOND_MAX_A = 3.0

#: What the Bader rows add to ``why`` (measured on the README main job's cubes).
BADER_NOTE = (". Bader here partitions CP2K's valence (GTH) density with a model core at each "
              "nucleus: over core widths 0.1–0.3 Å the La changes move by < 0.01 e, the N "
              "changes by up to 0.07 e, their signs stay")

#: Charge schemes the electronic stage may report, in table order.
SCHEMES = ("bader", "hirshfeld", "mulliken")


def _coordination(results: dict[str, Any]) -> ClaimRow:
    scan = results.get("site_scan") or []
    best = min(scan, key=lambda s: s["adsorption_energy_eV"]) if scan else None
    if best is None:
        return ClaimRow(claim="nitrile N coordinates a surface La (La–N, Å)",
                        source_value="N–La coordination", why="no site scan in the results")
    distance = finite(best.get("anchor_site_distance_A"))
    energy = finite(best.get("adsorption_energy_eV"))
    agrees = (best.get("site_species") == "La" and energy is not None and energy < 0
              and distance is not None and distance <= LA_N_BOND_MAX_A)
    return ClaimRow(
        claim="nitrile N coordinates a surface La (La–N, Å)", source_value="N–La coordination",
        ssbflow_value=distance, agrees=bool(agrees),
        why=f"most stable site of the scan: {best.get('site_species')}{best.get('site')} "
            f"({best.get('orientation')}), E_ads {energy} eV; agrees when it is La, E_ads < 0 "
            f"and N–La <= {LA_N_BOND_MAX_A} Å; geometry and E_ads from the force field "
            f"(MLIP), not DFT ({SOURCE})")


def _anchor_row(rows: list[dict[str, Any]], element: str, index: Any) -> dict[str, Any] | None:
    """The row of the anchoring atom (by AB index), else the first row of ``element``."""
    atoms = [r for r in rows if r.get("element") == element]
    exact = [r for r in atoms if index is not None and r.get("index") == index]
    return (exact or atoms or [None])[0]


def _charge_rows(results: dict[str, Any]) -> list[ClaimRow]:
    charges = results.get("charges") or {}
    anchors = (results.get("electronic") or {}).get("anchor_atoms") or {}
    schemes = [s for s in SCHEMES if isinstance(charges.get(s), list)]
    schemes += [s for s in charges if isinstance(charges[s], list) and s not in schemes]
    claims = {"La": ("La loses electrons on adsorption", "depletion on La (CDD), > 0", 1,
                     anchors.get("site")),
              "N": ("N gains electrons on adsorption", "accumulation on N (CDD), < 0", -1,
                    anchors.get("anchor"))}
    rows = []
    if not schemes:
        note = charges.get("note", "the electronic stage did not run (--electronic none)")
        for element, (claim, source, _, _) in claims.items():
            rows.append(ClaimRow(claim=f"{claim}: q(AB) − q(fragment) of {element} (e)",
                                 source_value=source,
                                 why=f"not computed: {note} ({SOURCE})"))
        return rows
    for scheme in schemes:
        for element, (claim, source, sign, index) in claims.items():
            atom = _anchor_row(charges[scheme], element, index)
            change = finite(atom.get("change_e")) if atom else None
            agrees = None if change is None else bool(sign * change > CHARGE_TOL_E)
            where = (f"{element}{atom.get('index')}: {atom.get('reference_charge_e')}"
                     f" e in its fragment -> {atom.get('charge_e')} e in AB"
                     if atom else f"no {element} among the charged atoms")
            others = [f"{r.get('element')}{r.get('index')} {finite(r.get('change_e')):+.3f}"
                      for r in charges[scheme] if r.get("element") == element
                      and r is not atom and finite(r.get("change_e")) is not None]
            also = f"; the other {element} reported change by {', '.join(others)} e" if others \
                else ""
            rows.append(ClaimRow(
                claim=f"{claim}: q(AB) − q(fragment) of {element} (e, {scheme})",
                source_value=source, ssbflow_value=change, agrees=agrees,
                why=f"{where} (the anchoring atom){also}; agrees when the change has the "
                    f"study's sign and exceeds {CHARGE_TOL_E} e. The study reads this from its "
                    "CDD and XPS, not from a population analysis, and describes N taking "
                    "electrons from the nitrile C and La back-donating, so the sign can "
                    f"differ between methods{BADER_NOTE if scheme == 'bader' else ''} "
                    f"({SOURCE})"))
    return rows


def _one_sided(summary: dict[str, Any] | None, key: str) -> float | None:
    """The work function of the top face (the SN side in AB), or the one value."""
    if not summary:
        return None
    top = finite(summary.get(f"{key}_top_eV"))
    return top if top is not None else finite(summary.get(f"{key}_eV"))


def _work_function_rows(results: dict[str, Any]) -> list[ClaimRow]:
    electronic = results.get("electronic") or {}
    slab = finite(results.get("work_function_slab_eV"))
    slab_top = _one_sided(electronic.get("work_function_slab"), "work_function")
    molecule = finite(results.get("molecule_vacuum_minus_homo_eV"))
    fermi = ("Φ(slab) = V_vac − E_F with CP2K's E(Fermi), which for this insulating slab is "
             "its highest occupied level (VBM-referenced)")
    diff = None if molecule is None or slab is None else molecule - slab
    rows = [ClaimRow(
        claim="SN has a lower work function than LLZO: Φ(SN) − Φ(LLZO) (eV)",
        source_value="< 0", ssbflow_value=diff,
        agrees=None if diff is None else bool(diff < 0),
        why=(f"Φ(SN) here is V_vac − ε_HOMO of one SN molecule in a box ({molecule} eV; an "
             "ionisation-energy analogue, not a work function; the study's may be that of an "
             f"SN film); {fermi} ({slab} eV); agrees when the difference is < 0 ({SOURCE})")
        if diff is not None else
        f"not computed: the electronic stage did not run or gave no vacuum level ({SOURCE})")]
    ab = _one_sided(electronic.get("work_function_ab"), "work_function")
    delta = None if ab is None or slab_top is None else ab - slab_top
    levels = [finite((electronic.get(k) or {}).get(q)) for k in ("work_function_ab",
              "work_function_slab") for q in ("vacuum_level_eV", "fermi_level_eV")]
    split = ("" if None in levels else
             f"; ΔΦ = ΔV_vac (SN face) {levels[0] - levels[2]:+.2f} eV − ΔE(Fermi) "
             f"{levels[1] - levels[3]:+.2f} eV (E(Fermi) of AB is its highest occupied "
             "level: a slab band shifted by the molecule or a molecular level above the "
             "slab's VBM)")
    far = [finite((electronic.get(k) or {}).get("work_function_bottom_eV"))
           for k in ("work_function_ab", "work_function_slab")]
    far_text = ("" if None in far else
                f"; far face: Φ(AB) {round(far[0], 3)} eV vs {round(far[1], 3)} eV for the "
                "bare slab")
    rows.append(ClaimRow(
        claim="SN lowers the work function of the face it covers: "
              "Φ(AB, SN face) − Φ(bare slab, same face) (eV)",
        source_value="< 0", ssbflow_value=delta,
        agrees=None if delta is None else bool(delta < 0),
        why=(f"like-for-like test of the claim: Φ(AB) {round(ab, 3)} eV on the SN-covered face vs "
             f"{round(slab_top, 3)} eV for the bare slab (both V_vac − E(Fermi), dipole corrected; "
             "E(Fermi) is CP2K's, the highest occupied level of these insulating cells, so "
             f"both are VBM/HOMO-referenced){split}{far_text}; agrees when ΔΦ < 0 "
             f"({SOURCE})") if delta is not None else
        "not computed: the electronic stage computes no work function of AB (the SN-covered "
        f"face needs the AB Hartree potential) ({SOURCE})"))
    return rows


def source_comparison(results: dict[str, Any]) -> list[ClaimRow]:
    """The sn-llzo claim rows from its results document (see the module docstring).

    Parameters
    ----------
    results : the ``results.json`` document of ``sn-llzo`` (``site_scan``, ``charges``,
        ``work_function_slab_eV``, ``molecule_vacuum_minus_homo_eV``, ``electronic``).

    Returns
    -------
    list of ClaimRow
        N–La coordination, La and N charge changes per charge scheme, the two work-function
        comparisons.
    """
    return [_coordination(results), *_charge_rows(results), *_work_function_rows(results)]
