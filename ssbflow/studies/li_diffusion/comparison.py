"""polymer-li-diffusion and llzo-li-diffusion next to their source studies.

Source claims (shared/reference/science.md): study 4 (NCM811 with dehydrofluorinated PVDF):
MD Li+ migration rate (the MSD slope) 1.23e-3 Å²/ps in dehydrofluorinated PVDF vs
0.20e-3 Å²/ps in PVDF (about 6x faster); its GRSE electrolyte has σ 0.61 mS/cm (30 °C),
Ea 0.18 eV. Study 5 (InN layer on LLZ): LLZ Ea 0.36 eV.
"""

from __future__ import annotations

import math
from typing import Any

from ssbflow.studies.comparison import ClaimRow, finite, in_band, within

SOURCE_POLYMER = "NCM811/dehydrofluorinated PVDF study (science.md, study 4), MD"
SOURCE_LLZ = "InN-on-LLZ study (science.md, study 5)"

#: The studies :func:`source_comparison` has rows for.
COMPARED_STUDIES = ("polymer-li-diffusion", "llzo-li-diffusion")

#: Published Li+ MSD slopes (Å²/ps).
SLOPE_PVDF_A2_PER_PS = 0.20e-3
SLOPE_DPVDF_A2_PER_PS = 1.23e-3

#: Ratios within this factor of the published one agree (the study's "about 6x").
RATIO_FACTOR = 2.0

#: Slopes within this factor agree (same order of magnitude).
SLOPE_FACTOR = 3.0

#: Published LLZ activation energy (eV) and the tolerance (eV; chosen here: the scatter of
#: measured garnet Ea between samples is of this order).
EA_LLZ_EV = 0.36
EA_TOL_EV = 0.1

#: Temperature (K) the Arrhenius fits are extrapolated to for the published slopes (the
#: reference notes do not give the study's MD temperature; room temperature assumed).
ROOM_K = 300.0

#: 1 cm²/s in Å²/ps (1e16 Å² per cm², 1e12 ps per s).
A2_PER_PS_PER_CM2_S = 1e4


def _common(diffusion: list[dict[str, Any]], a: str, b: str
            ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The (a, b) rows at every temperature both systems ran, lowest first."""
    runs = {(r["system"], float(r["T_K"])): r for r in diffusion}
    common = sorted({t for s, t in runs if s == a} & {t for s, t in runs if s == b})
    return [(runs[(a, t)], runs[(b, t)]) for t in common]


def ratio_with_stderr(a: float | None, a_err: float | None, b: float | None,
                      b_err: float | None) -> tuple[float | None, float | None]:
    """b / a and its standard error (independent errors, first order); ``None`` parts when a
    value (or error) is missing or ``a`` is 0."""
    a, b, a_err, b_err = finite(a), finite(b), finite(a_err), finite(b_err)
    if a is None or b is None or a == 0:
        return None, None
    ratio = b / a
    if a_err is None or b_err is None or b == 0:
        return ratio, None
    return ratio, abs(ratio) * math.hypot(a_err / a, b_err / b)


def _d_ratio(pvdf: dict[str, Any], dpvdf: dict[str, Any]) -> dict[str, Any]:
    ratio, err = ratio_with_stderr(pvdf.get("msd_slope_A2_per_ps"),
                                   pvdf.get("msd_slope_stderr_A2_per_ps"),
                                   dpvdf.get("msd_slope_A2_per_ps"),
                                   dpvdf.get("msd_slope_stderr_A2_per_ps"))
    return {"T_K": float(pvdf["T_K"]), "D_ratio": ratio, "D_ratio_stderr": err,
            "diffusive": bool(pvdf.get("diffusive")) and bool(dpvdf.get("diffusive"))}


def d_ratios(results: dict[str, Any]) -> dict[str, Any] | None:
    """D(dPVDF)/D(PVDF) (long-window MSD slopes) with its standard error at every
    temperature both boxes ran (``per_T``), the temperature a verdict is taken at
    (``verdict_T_K``: the lowest one where both MSDs are diffusive, else ``None``), and at
    the lowest common temperature (the study's, room temperature, when it was run) the D
    ratio and the ratio of the short-window slopes; ``None`` without a common temperature."""
    pairs = _common(results.get("diffusion") or [], "pvdf", "dpvdf")
    if not pairs:
        return None
    per_t = [_d_ratio(*pair) for pair in pairs]
    pvdf, dpvdf = pairs[0]
    short, short_err = ratio_with_stderr(pvdf.get("short_slope_A2_per_ps"),
                                         pvdf.get("short_slope_stderr_A2_per_ps"),
                                         dpvdf.get("short_slope_A2_per_ps"),
                                         dpvdf.get("short_slope_stderr_A2_per_ps"))
    return {**per_t[0], "per_T": per_t,
            "verdict_T_K": next((r["T_K"] for r in per_t if r["diffusive"]), None),
            "short_window_ps": pvdf.get("short_window_ps"), "short_slope_ratio": short,
            "short_slope_ratio_stderr": short_err,
            "short_slope_pvdf_A2_per_ps": pvdf.get("short_slope_A2_per_ps"),
            "short_slope_dpvdf_A2_per_ps": dpvdf.get("short_slope_A2_per_ps"),
            "short_slope_pvdf_stderr_A2_per_ps": pvdf.get("short_slope_stderr_A2_per_ps"),
            "short_slope_dpvdf_stderr_A2_per_ps": dpvdf.get("short_slope_stderr_A2_per_ps")}


def _band(text: str) -> str:
    return f"; {text}" if text else ""


def _pm(err: float | None) -> str:
    return "" if err is None else f" ± {err:.2g} (standard error)"


def _short_rows(results: dict[str, Any]) -> list[ClaimRow]:
    """The short-window slopes and their ratio next to the published ones (the kind of
    slope the study's numbers look like; its window is not in the reference notes)."""
    ratios = d_ratios(results) or {}
    window = ratios.get("short_window_ps")
    ref = SLOPE_DPVDF_A2_PER_PS / SLOPE_PVDF_A2_PER_PS
    at = (f"at {ratios['T_K']:.0f} K, MSD slope fitted over {window} ps (a short window; the "
          "study's window is not in the reference notes)") if ratios else ""
    rows = []
    short = finite(ratios.get("short_slope_ratio"))
    agrees, band = in_band(short, ratios.get("short_slope_ratio_stderr"), ref / RATIO_FACTOR,
                           ref * RATIO_FACTOR)
    rows.append(ClaimRow(
        claim="Li+ short-window MSD slope ratio dPVDF/PVDF, about 6x", source_value=round(ref, 2),
        ssbflow_value=short, agrees=agrees,
        why=(f"not computed: no run covers the short window ({SOURCE_POLYMER})" if short is None
             else f"{at}; ratio{_pm(ratios.get('short_slope_ratio_stderr'))}; agrees within "
             f"a factor {RATIO_FACTOR:g} of {ref:.2f}{_band(band)} ({SOURCE_POLYMER})")))
    for system, label, ref_slope in (("pvdf", "PVDF", SLOPE_PVDF_A2_PER_PS),
                                     ("dpvdf", "dehydrofluorinated PVDF",
                                      SLOPE_DPVDF_A2_PER_PS)):
        slope = finite(ratios.get(f"short_slope_{system}_A2_per_ps"))
        agrees, band = in_band(slope, ratios.get(f"short_slope_{system}_stderr_A2_per_ps"),
                               ref_slope / SLOPE_FACTOR, ref_slope * SLOPE_FACTOR)
        rows.append(ClaimRow(
            claim=f"Li+ short-window MSD slope in {label} (Å²/ps)", source_value=ref_slope,
            ssbflow_value=slope, agrees=agrees,
            why=(f"not computed: no run covers the short window ({SOURCE_POLYMER})"
                 if slope is None else f"{at}; agrees within a factor {SLOPE_FACTOR:g}"
                 f"{_band(band)} ({SOURCE_POLYMER})")))
    return rows


def _ratio_rows(results: dict[str, Any]) -> list[ClaimRow]:
    ratios = d_ratios(results)
    ref = SLOPE_DPVDF_A2_PER_PS / SLOPE_PVDF_A2_PER_PS
    claims = [("Li+ moves faster in dehydrofluorinated PVDF than in PVDF: MSD slope ratio "
               "dPVDF/PVDF", "> 1", (1.0, math.inf), "agrees when the ratio is > 1"),
              ("Li+ MSD slope ratio dPVDF/PVDF, about 6x", round(ref, 2),
               (ref / RATIO_FACTOR, ref * RATIO_FACTOR),
               f"agrees within a factor {RATIO_FACTOR:g} of {ref:.2f}")]
    if ratios is None:
        return [ClaimRow(claim=c, source_value=s,
                         why=f"not computed: no temperature with both boxes ({SOURCE_POLYMER})")
                for c, s, _, _ in claims]
    # the verdict at the lowest temperature where both MSDs are diffusive (a D ratio of
    # caged MSDs is no diffusion ratio), else at the lowest common one without a verdict
    row = next((r for r in ratios["per_T"] if r["diffusive"]), ratios["per_T"][0])
    ratio, diffusive = row["D_ratio"], row["diffusive"]
    which = ("the lowest temperature where both MSDs are diffusive" if diffusive
             else "the lowest temperature both boxes ran")
    at = f"at {row['T_K']:.0f} K ({which}), force-field NVT MD"
    err = "" if row["D_ratio_stderr"] is None else f"; ratio{_pm(row['D_ratio_stderr'])}"
    rows = []
    for claim, source, (lo, hi), criterion in claims:
        if ratio is None:
            why, agrees = f"not computed: no MSD slope {at} ({SOURCE_POLYMER})", None
        elif not diffusive:
            why, agrees = ((f"slopes {at} are not diffusive (ballistic/caged MSD) at any "
                            f"common temperature: not a diffusion ratio, no verdict{err}; "
                            f"{criterion} ({SOURCE_POLYMER})"), None)
        else:
            agrees, band = in_band(ratio, row["D_ratio_stderr"], lo, hi)
            why = f"{at}{err}; {criterion}{_band(band)} ({SOURCE_POLYMER})"
        rows.append(ClaimRow(claim=f"{claim} ({row['T_K']:.0f} K)", source_value=source,
                             ssbflow_value=ratio, agrees=agrees, why=why))
    return rows


def _slope_rows(results: dict[str, Any]) -> list[ClaimRow]:
    fits = {r["system"]: r for r in results.get("arrhenius") or []}
    rows = []
    for system, label, ref in (("pvdf", "PVDF", SLOPE_PVDF_A2_PER_PS),
                               ("dpvdf", "dehydrofluorinated PVDF", SLOPE_DPVDF_A2_PER_PS)):
        fit = fits.get(system, {})
        d_room = finite(fit.get("D_300K_cm2_s"))
        slope = None if d_room is None else 6.0 * d_room * A2_PER_PS_PER_CM2_S
        d_err = finite(fit.get("D_300K_stderr_cm2_s"))
        err = "" if d_err is None else _pm(6.0 * d_err * A2_PER_PS_PER_CM2_S)
        temps = "/".join(f"{t:.0f}" for t in fit.get("temperatures_K") or [])
        claim = f"Li+ MSD slope in {label} (Å²/ps)"
        base = (f"6 D({ROOM_K:.0f} K){err} from the Arrhenius fit of the force-field D(T)"
                f"{f' at {temps} K' if temps else ''} (the study's MD temperature is not in "
                "the reference notes; room temperature assumed); agrees within a factor "
                f"{SLOPE_FACTOR:g}")
        if slope is None:
            why, agrees = f"not computed: no Arrhenius fit for {label} ({SOURCE_POLYMER})", None
        elif not fit.get("from_diffusive_msd", False):
            why, agrees = (f"{base}; the fit uses non-diffusive MSDs (an estimate only): no "
                           f"verdict ({SOURCE_POLYMER})"), None
        else:
            agrees, band = in_band(slope, None if d_err is None else
                                   6.0 * d_err * A2_PER_PS_PER_CM2_S,
                                   ref / SLOPE_FACTOR, ref * SLOPE_FACTOR)
            why = f"{base}{_band(band)} ({SOURCE_POLYMER})"
        rows.append(ClaimRow(claim=claim, source_value=ref, ssbflow_value=slope,
                             agrees=agrees, why=why))
    return rows


def polymer_source_comparison(results: dict[str, Any]) -> list[ClaimRow]:
    """The polymer-li-diffusion claim rows from its results document.

    Parameters
    ----------
    results : the ``results.json`` document (``diffusion`` rows per system and
        temperature, ``arrhenius`` rows per system).

    Returns
    -------
    list of ClaimRow
        dPVDF faster than PVDF, the ratio, the two slopes, and the GRSE Ea (not computed).
    """
    return [*_ratio_rows(results), *_slope_rows(results), *_short_rows(results),
            ClaimRow(claim="GRSE electrolyte Ea (eV)", source_value=0.18,
                     why=f"not computed: the package models no GRSE electrolyte "
                         f"({SOURCE_POLYMER})")]


def llzo_source_comparison(results: dict[str, Any]) -> list[ClaimRow]:
    """The llzo-li-diffusion claim row (LLZ Ea) from its results document.

    Parameters
    ----------
    results : the ``results.json`` document (``arrhenius`` rows, ``settings``).

    Returns
    -------
    list of ClaimRow
        One row: the Arrhenius Ea of D(T) against the study's 0.36 eV.
    """
    fit = next((r for r in results.get("arrhenius") or [] if r.get("system") == "llzo"), {})
    ea = finite(fit.get("Ea_eV"))
    temps = (results.get("settings") or {}).get("temperatures_K", [])
    what = (f"Ea of D(T) = D0 exp(−Ea/kT) from force-field NVT MD of bulk tetragonal LLZO at "
            f"{', '.join(f'{t:.0f}' for t in temps)} K (above ≈ 900 K the Li sublattice "
            "disorders as in cubic LLZO) vs the study's Arrhenius fit of σ = A exp(−Ea/kT) "
            "measured on its pellet near room temperature")
    if ea is None:
        why, agrees = f"not computed: no Arrhenius fit ({SOURCE_LLZ})", None
    elif not fit.get("from_diffusive_msd", False):
        why, agrees = f"{what}; fit from non-diffusive MSDs: no verdict ({SOURCE_LLZ})", None
    else:
        why = f"{what}; agrees within {EA_TOL_EV} eV ({SOURCE_LLZ})"
        agrees = within(ea, EA_LLZ_EV, EA_TOL_EV)
    return [ClaimRow(claim="Li conduction activation energy of LLZ (eV)",
                     source_value=EA_LLZ_EV, ssbflow_value=ea, agrees=agrees, why=why)]


def source_comparison(results: dict[str, Any]) -> list[ClaimRow]:
    """The rows of either diffusion study, chosen by ``results["study"]``.

    Raises
    ------
    ValueError
        ``results["study"]`` is not one of the two diffusion studies.
    """
    study = results.get("study")
    if study == "polymer-li-diffusion":
        return polymer_source_comparison(results)
    if study == "llzo-li-diffusion":
        return llzo_source_comparison(results)
    raise ValueError(f"results['study'] {study!r}: expected 'polymer-li-diffusion' or "
                     "'llzo-li-diffusion'")
