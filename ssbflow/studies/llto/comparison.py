"""llto-li and llto-li-migration next to their source study: the Li–LLTO composite anode.

Source claims (shared/reference/science.md, study 2): Li reduces Ti4+ to Ti3+ (and makes
some O vacancies) in Li0.33La0.56TiO3; Li self-diffusion coefficient 4.5e-11 cm²/s in the
composite (60 wt% LLTO); LLTO bulk Ea = 0.3 eV. Computed reference for the hop: 0.42 eV along
[100] (DFT, B3LYP, Catti, J. Phys. Chem. C 112, 11068 (2008)); experiment 0.3–0.4 eV.
"""

from __future__ import annotations

from typing import Any

from ssbflow.studies.comparison import ClaimRow, finite, within
from ssbflow.studies.llto.electronic import TI3_THRESHOLD_UB, start_family

SOURCE = "Li–LLTO composite anode study (science.md, study 2)"

#: Published activation energies (eV).
EA_BULK_EV = 0.3
EA_DFT_100_EV = 0.42

#: Measured onset of Li insertion / Ti4+ reduction in Li0.29La0.57TiO3 (V vs Li/Li+): LLTO
#: turns into a mixed conductor below ca. 1.7 V (GITT; Ring, Nenning, Fleig, J. Electrochem.
#: Soc. 170, 050530 (2023), doi:10.1149/1945-7111/acd480).
REDUCTION_ONSET_EXP_V = 1.7

#: Activation-energy tolerance (eV): the spread of measured LLTO bulk Ea (0.3–0.4 eV).
EA_TOL_EV = 0.1


def migration_source_comparison(results: dict[str, Any]) -> list[ClaimRow]:
    """The llto-li-migration claim rows (bulk and DFT barriers) from its results document.

    Parameters
    ----------
    results : the ``results.json`` document of ``llto-li-migration`` (``barriers``,
        ``hop``, ``settings``).

    Returns
    -------
    list of ClaimRow
        The band's barrier against the study's 0.3 eV and against the DFT 0.42 eV.
    """
    row = (results.get("barriers") or [{}])[0]
    barrier = finite(row.get("barrier_eV"))
    saddle = bool(row.get("saddle_above_both_ends"))
    cell = "x".join(str(n) for n in (results.get("settings") or {}).get("supercell", []))
    what = (f"one CI-NEB hop of Li between neighbouring A sites through the O4 window "
            f"({finite(row.get('hop_length_A'))} Å, {cell} cell, force field; universal force "
            "fields under-predict barriers, Deng et al., npj Comput. Mater. 2025)")
    if not row.get("converged", True):
        what += "; band not converged (an estimate)"
    rows = []
    for claim, ref, source in (
            ("Li migration barrier in LLTO, bulk Ea (eV)", EA_BULK_EV,
             f"{SOURCE}, from σ(T) of the ceramic"),
            ("Li migration barrier in LLTO, DFT along [100] (eV)", EA_DFT_100_EV,
             "Catti, J. Phys. Chem. C 112, 11068 (2008), B3LYP")):
        if saddle:
            why = f"{what}; agrees within {EA_TOL_EV} eV ({source})"
        else:
            why = (f"not a migration barrier: the band rises monotonically to the final state "
                   f"(reverse barrier {finite(row.get('reverse_barrier_eV'))} eV), so its "
                   f"maximum is the site energy of the target cage; {what} ({source})")
        rows.append(ClaimRow(claim=claim, source_value=ref, ssbflow_value=barrier,
                             agrees=within(barrier, ref, EA_TOL_EV) if saddle else None,
                             why=why))
    return rows


def _other_starts(dft: dict[str, Any]) -> str:
    """What the start that lost gave, per defect cell (Ti3+ count, energy above the kept)."""
    parts = []
    for label, cell in (dft.get("cells") or {}).items():
        energies, counts = cell.get("energies_by_start_eV", {}), cell.get("n_ti3_by_start", {})
        kept = cell.get("start_kept")
        if kept not in energies:
            continue
        others = [(e, st) for st, e in energies.items()
                  if start_family(st) != start_family(kept) and st in counts]
        if others:
            energy, start = min(others)
            parts.append(f"{label}: the best {start} start gives {counts[start]} Ti3+ at "
                         f"{energy - energies[kept]:+.3f} eV")
    if not parts:
        return ""
    return ("; " + "; ".join(parts) + " (single points; the localised starts scan the "
            "polaron's breathing amplitude, no full DFT relaxation)")


def reduction_source_comparison(results: dict[str, Any]) -> list[ClaimRow]:
    """The llto-li claim rows (Ti3+, O vacancies, Li insertion) from its results document.

    Parameters
    ----------
    results : the ``results.json`` document of ``llto-li`` (``ti3_*``,
        ``o_vacancy_formation_energy_eV``, ``insertion_voltage_V``; with a DFT+U stage its
        ``dft`` section, whose Ti3+ counts, Li/Li2O vacancy energy and insertion voltage
        then make the Ti3+, O-vacancy and voltage rows).

    Returns
    -------
    list of ClaimRow
        Ti3+ formation, O-vacancy formation, spontaneous Li insertion, and the claims this
        study does not compute (Li self-diffusion, bulk Ea).
    """
    dft = results.get("dft")
    source = dft if dft else results
    host = source.get("ti3_host")
    lith, vac = source.get("ti3_lithiated"), source.get("ti3_o_vacancy")
    counted = None if lith is None or vac is None else f"{lith} (+Li) / {vac} (−O)"
    ti3 = None if counted is None else bool(max(lith, vac) > (host or 0))
    if dft:
        e_vac = finite(dft.get("o_vacancy_formation_energy_li_li2o_eV"))
        ti3_why = (f"spin-polarised {dft.get('engine')} DFT+U, U_eff(Ti 3d) = "
                   f"{dft.get('u_ti_eV')} eV, Mulliken spin moments of the lowest-energy run "
                   f"(delocalised start or a breathing amplitude of the localised one) on "
                   f"{dft.get('formula_host')}, counted above "
                   f"{TI3_THRESHOLD_UB} μB; agrees when a defect cell has more such Ti than "
                   f"the host ({host}){_other_starts(dft)} ({SOURCE})")
        vac_why = (f"E_f = E(LLTO − O) − E(LLTO) + μ_O, μ_O = E(Li2O) − 2 E(Li), DFT+U on "
                   f"{dft.get('formula_host')} (vs ½ O2: "
                   f"{finite(dft.get('o_vacancy_formation_energy_vs_half_O2_eV'))} eV); "
                   f"agrees when E_f < 0 (Li pulls O out spontaneously) ({SOURCE})")
    else:
        e_vac = finite(results.get("o_vacancy_formation_energy_eV"))
        ti3_why = (f"force-field site moments (CHGNet magmom; Ti4+ d0 ≈ 0, Ti3+ d1 ≈ 1 μB), "
                   f"counted above {TI3_THRESHOLD_UB} μB; agrees when a defect cell has "
                   f"more such Ti than the host ({host}); a force field may spread the "
                   f"electron instead of localising it: spin-polarised DFT+U is the "
                   f"like-for-like test ({SOURCE})")
        vac_why = (f"E_f = E(LLTO − O) − E(LLTO) + μ_O with μ_O of Li/Li2O equilibrium (the "
                   f"most reducing condition Li metal imposes), force field, one vacancy "
                   f"per cell; agrees when E_f < 0 (Li pulls O out spontaneously) "
                   f"({SOURCE})")
    voltage = finite(source.get("insertion_voltage_V"))
    voltage_level = (f"spin-polarised {dft.get('engine')} DFT+U on {dft.get('formula_host')}"
                     if dft else "force field")
    return [
        ClaimRow(claim="Li reduces Ti4+ to Ti3+ (Ti with a moment ≥ 0.5 μB after Li insertion "
                       "/ O removal)",
                 source_value="Ti3+ forms", ssbflow_value=counted, agrees=ti3, why=ti3_why),
        ClaimRow(claim="Li metal makes O vacancies in LLTO: E_f(V_O) at Li/Li2O (eV)",
                 source_value="O vacancies form", ssbflow_value=e_vac,
                 agrees=None if e_vac is None else bool(e_vac < 0), why=vac_why),
        ClaimRow(claim="Li metal reduces LLTO: Li insertion voltage vs Li/Li+ (V)",
                 source_value="> 0 (spontaneous)", ssbflow_value=voltage,
                 agrees=None if voltage is None else bool(voltage > 0),
                 why=f"V = −E_ins/e for one Li in an empty A site vs bcc Li "
                     f"({voltage_level}); agrees when V > 0 ({SOURCE}); measured onset of "
                     f"Li insertion into LLTO: below ca. {REDUCTION_ONSET_EXP_V} V (Ring, "
                     f"Nenning, Fleig, J. Electrochem. Soc. 170, 050530 (2023)): a single "
                     f"Li in a small cell is the dilute limit, and PBE+U voltages of Ti4+/Ti3+ "
                     f"grow with U"),
        ClaimRow(claim="Li self-diffusion coefficient in the Li–LLTO composite (cm²/s)",
                 source_value=4.5e-11,
                 why=f"not computed: the package models no Li–LLTO composite ({SOURCE})"),
        ClaimRow(claim="LLTO bulk Ea (eV)", source_value=EA_BULK_EV,
                 why="not computed by llto-li: see the Li hop barrier of "
                     f"`ssbflow run llto-li-migration` ({SOURCE})"),
    ]


def source_comparison(results: dict[str, Any]) -> list[ClaimRow]:
    """The rows of either LLTO study, chosen by ``results["study"]``.

    Raises
    ------
    ValueError
        ``results["study"]`` is neither ``llto-li`` nor ``llto-li-migration``.
    """
    study = results.get("study")
    if study == "llto-li-migration":
        return migration_source_comparison(results)
    if study == "llto-li":
        return reduction_source_comparison(results)
    raise ValueError(f"results['study'] {study!r}: expected 'llto-li' or 'llto-li-migration'")
