"""Numbers and files of the ``llto-li`` DFT+U stage (:mod:`ssbflow.studies.llto.electronic`).

Per cell the run of lowest energy is kept (the delocalised start or one breathing amplitude of
the localised one). Ti3+ = Ti with |m| >= 0.5 μB (Mulliken spin
moment). DFT-level quantities (same definitions as the force-field ones in
:mod:`ssbflow.studies.llto.reduction`):

* E_ins = E(host + Li) − E(host) − E(Li, bcc, per atom); V = −E_ins / e;
* E_f(V_O) vs ½ O2: E(host − O) − E(host) + ½ E(O2, triplet);
* E_f(V_O) at Li/Li2O: E(host − O) − E(host) + E(Li2O) − 2 E(Li).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from jobflow import job
from pymatgen.core import Structure

from ssbflow.analysis.defect_energies import (
    insertion_energy_eV_per_li,
    insertion_voltage_V,
    mu_o_li_li2o_eV,
    vacancy_formation_energy_eV,
)
from ssbflow.io import as_structure
from ssbflow.studies.llto.electronic import TI3_THRESHOLD_UB, start_family

#: Radius (Å) within which the neighbours of a reduced Ti are listed.
NEIGHBOUR_RADIUS_A = 3.6


def _family(run: dict[str, Any]) -> str:
    return start_family(run["start"])


def kept_run(runs: list[dict[str, Any]]) -> tuple[dict[str, Any], float | None]:
    """The run of lowest energy and its margin (eV) below the best run of the other kind of
    start (localised vs delocalised; ``None``: only one kind)."""
    ordered = sorted(runs, key=lambda r: r["energy_eV"])
    others = [r for r in ordered if _family(r) != _family(ordered[0])]
    margin = others[0]["energy_eV"] - ordered[0]["energy_eV"] if others else None
    return ordered[0], margin


def breathing_scan(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """E(amplitude) of the localised starts: ``points`` (amplitude Å, energy eV, Ti3+ count,
    largest |m| μB), and with three or more points the vertex of the parabola through the
    lowest three (``vertex_A``, ``vertex_energy_eV``; ``None`` unless it is a minimum
    inside the scanned range), which says whether the scan brackets the relaxed polaron."""
    local = sorted((r for r in runs if r is not None and _family(r) == "localised"
                    and r.get("breathing_A") is not None), key=lambda r: r["breathing_A"])
    if not local:
        return None
    points = [{"breathing_A": r["breathing_A"], "energy_eV": r["energy_eV"],
               "n_ti3": _n_ti3(r), "largest_ti_moment_uB": max(
                   (abs(m) for el, m in zip(r["symbols"], r["moments_uB"], strict=True)
                    if el == "Ti"), default=0.0)} for r in local]
    vertex = vertex_energy = None
    # the parabola only through points of one state: those that kept the polaron
    polaron = [p for p in points if p["n_ti3"] > 0]
    if len(polaron) >= 3:
        best = sorted(polaron, key=lambda p: p["energy_eV"])[:3]
        x = np.array([p["breathing_A"] for p in best])
        y = np.array([p["energy_eV"] for p in best])
        a, b, c = np.polyfit(x, y, 2)
        if a > 0 and x.min() <= -b / (2 * a) <= x.max():
            vertex = float(-b / (2 * a))
            vertex_energy = float(c - b * b / (4 * a))
    return {"points": points, "vertex_A": vertex, "vertex_energy_eV": vertex_energy}


def _n_ti3(run: dict[str, Any]) -> int:
    return sum(abs(m) >= TI3_THRESHOLD_UB
               for el, m in zip(run["symbols"], run["moments_uB"], strict=True) if el == "Ti")


def ti_rows(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-Ti index, spin moment (μB) and net charges (e) of one run."""
    rows = []
    hirsh = run.get("hirshfeld_charges_e")
    mull = run.get("mulliken_charges_e")
    for i, (el, m) in enumerate(zip(run["symbols"], run["moments_uB"], strict=True)):
        if el != "Ti":
            continue
        rows.append({"index": i, "moment_uB": round(float(m), 4),
                     "mulliken_charge_e": None if mull is None else round(float(mull[i]), 4),
                     "hirshfeld_charge_e": None if hirsh is None else round(float(hirsh[i]), 4)})
    return rows


def neighbours(structure: Structure, index: int, radius_A: float = NEIGHBOUR_RADIUS_A
               ) -> list[dict[str, Any]]:
    """Neighbours of site ``index`` within ``radius_A``: element, site index, distance (Å)."""
    found = structure.get_neighbors(structure[index], radius_A)
    ordered = sorted(found, key=lambda n: n.nn_distance)
    return [{"element": n.specie.symbol, "index": int(n.index),
             "distance_A": round(n.nn_distance, 3)} for n in ordered]


def cell_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Kept start, energies of all starts, per-Ti table, Ti3+ count and the reduced Ti's
    neighbours of one cell."""
    run, margin = kept_run(runs)
    rows = ti_rows(run)
    reduced = [r for r in rows if abs(r["moment_uB"]) >= TI3_THRESHOLD_UB]
    structure = as_structure(run["structure"])
    others = [abs(r["moment_uB"]) for r in rows if abs(r["moment_uB"]) < TI3_THRESHOLD_UB]
    return {
        "energy_eV": run["energy_eV"],
        "start_kept": run["start"],
        "energies_by_start_eV": {r["start"]: r["energy_eV"] for r in runs},
        "margin_eV": margin,
        "n_ti3": len(reduced),
        "n_ti3_by_start": {r["start"]: _n_ti3(r) for r in runs},
        "breathing_scan": breathing_scan(runs),
        "ti": rows,
        "largest_other_ti_moment_uB": max(others) if others else None,
        "reduced_ti": [{"index": r["index"], "moment_uB": r["moment_uB"],
                        "neighbours": neighbours(structure, r["index"])} for r in reduced],
        "total_moment_uB": round(float(np.sum(run["moments_uB"])), 4),
    }


def finished_runs(runs: dict[str, list[dict[str, Any] | None]]
                  ) -> dict[str, list[dict[str, Any]]]:
    """``runs`` without the ``None`` of failed or never-run jobs; a cell left without any run
    is refused."""
    runs = {label: [r for r in found if r is not None] for label, found in runs.items()}
    missing = [label for label, found in runs.items() if not found]
    if missing:
        raise ValueError(f"DFT+U summary: no finished run for {', '.join(missing)}")
    return runs


def dft_summary(runs: dict[str, list[dict[str, Any]]], settings: dict[str, Any]
                ) -> dict[str, Any]:
    """The DFT+U section of the llto-li results from every run's output (``None`` for a run
    that failed or never ran, e.g. the later amplitudes after a failed first one)."""
    runs = finished_runs(runs)
    cells = {label: cell_summary(runs[label]) for label in ("host", "li", "o_vacancy")}
    li_run, li2o_run, o2_run = runs["Li"][0], runs["Li2O"][0], runs["O2"][0]
    e_li = li_run["energy_eV"] / len(li_run["symbols"])
    n_fu_li2o = li2o_run["symbols"].count("O")
    e_li2o = li2o_run["energy_eV"] / n_fu_li2o
    e_half_o2 = o2_run["energy_eV"] / 2
    e_host, e_lith, e_vac = (cells[k]["energy_eV"] for k in ("host", "li", "o_vacancy"))
    e_ins = insertion_energy_eV_per_li(e_host, e_lith, e_li, 1)
    mu_o_li2o = mu_o_li_li2o_eV(e_li, e_li2o)
    host_structure = as_structure(runs["host"][0]["structure"])
    return {
        **settings,
        "formula_host": host_structure.composition.formula.replace(" ", ""),
        "cells": cells,
        "ti3_host": cells["host"]["n_ti3"],
        "ti3_lithiated": cells["li"]["n_ti3"],
        "ti3_o_vacancy": cells["o_vacancy"]["n_ti3"],
        "insertion_energy_eV_per_Li": e_ins,
        "insertion_voltage_V": insertion_voltage_V(e_ins),
        "o_vacancy_formation_energy_vs_half_O2_eV": vacancy_formation_energy_eV(
            e_vac, e_host, e_half_o2),
        "o_vacancy_formation_energy_li_li2o_eV": vacancy_formation_energy_eV(
            e_vac, e_host, mu_o_li2o),
        "mu_o_li_li2o_eV": mu_o_li2o,
        "references_eV": {"Li (per atom, bcc)": e_li, "Li2O (per f.u.)": e_li2o,
                          "1/2 O2 (triplet)": e_half_o2},
    }


@job(data="files")
def dft_summary_job(runs: dict[str, list[dict[str, Any]]], settings: dict[str, Any]
                    ) -> dict[str, Any]:
    """:func:`dft_summary` plus the files of the kept runs (``{cell: {role: packed}}``)."""
    runs = finished_runs(runs)
    summary = dft_summary(runs, settings)
    files = {}
    for label in ("host", "li", "o_vacancy"):
        run, _ = kept_run(runs[label])
        files[label] = run.get("files", {})
    return {**summary, "files": files}


_KIND_RE = re.compile(r"atomic kind\s+(\S+)")


def read_cp2k_pdos(path: Path) -> tuple[str, float, np.ndarray, np.ndarray]:
    """Kind name, Fermi level (eV), eigenvalues (eV) and d weight of a CP2K ``.pdos`` file
    (``COMPONENTS``: the five d columns summed)."""
    from scipy.constants import physical_constants

    hartree_eV = physical_constants["Hartree energy in eV"][0]
    lines = Path(path).read_text().splitlines()
    kind = _KIND_RE.search(lines[0])
    fermi = re.search(r"E\(Fermi\)\s*=\s*(-?\d+\.\d+)", lines[0])
    # header "MO Eigenvalue [a.u.] Occupation s py pz px d-2 ...": one name per data column
    columns = [name for name in lines[1].lstrip("#").split() if not name.startswith("[")]
    data = np.atleast_2d(np.loadtxt(path))
    d_cols = [k for k, name in enumerate(columns) if name.startswith("d")]
    weights = data[:, d_cols].sum(axis=1) if d_cols else np.zeros(len(data))
    return (kind.group(1) if kind else Path(path).stem,
            float(fermi.group(1)) * hartree_eV if fermi else float("nan"),
            data[:, 1] * hartree_eV, weights)


def plot_ti_d_pdos(pdos_files: list[Path], out_png: Path, sigma_eV: float = 0.1) -> Path | None:
    """Ti 3d PDOS (Gaussian broadened; α up, β down) of every Ti kind, energies relative to
    the Fermi level (the highest occupied state of OT runs); ``None`` when no Ti file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = []
    for path in pdos_files:
        kind, fermi, energies, weights = read_cp2k_pdos(path)
        if not kind.startswith("Ti"):
            continue
        sign = -1.0 if "BETA" in path.name else 1.0
        curves.append((kind, sign, fermi, energies, weights))
    if not curves:
        return None
    fermi = max(c[2] for c in curves)
    grid = np.linspace(-6.0, 4.0, 1000)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for kind, sign, _, energies, weights in sorted(curves, key=lambda c: (c[0], -c[1])):
        dos = (weights[None, :] * np.exp(-0.5 * ((grid[:, None] - (energies - fermi)[None, :])
                                                 / sigma_eV) ** 2)).sum(axis=1)
        dos /= sigma_eV * np.sqrt(2 * np.pi)
        ax.plot(grid, sign * dos, label=f"{kind} {'α' if sign > 0 else 'β'}")
    ax.axvline(0.0, color="k", lw=0.8, ls="--")
    ax.axhline(0.0, color="k", lw=0.5)
    ax.set_xlabel("E − E_F (eV)")
    ax.set_ylabel("Ti 3d PDOS (states/eV)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)
    return out_png


def write_dft_files(dft: dict[str, Any], out_dir: Path) -> list[Path]:
    """Unpack the kept runs' spin-density cubes and PDOS files into ``out_dir/dft/<cell>/``
    and plot each cell's Ti 3d PDOS; returns the files written."""
    from ssbflow.methods.electronic import unpack_files

    written: list[Path] = []
    for label, packed in (dft.get("files") or {}).items():
        folder = out_dir / "dft" / label
        paths = unpack_files(packed, folder)
        written += list(paths.values())
        pdos = [p for role, p in paths.items() if role.startswith("pdos")]
        png = plot_ti_d_pdos(pdos, folder / "ti_3d_pdos.png") if pdos else None
        if png is not None:
            written.append(png)
    return written


def report_lines(dft: dict[str, Any]) -> list[str]:
    """Markdown lines of the DFT+U section of ``report.md``."""
    cells = dft["cells"]
    lines = ["## Spin-polarised DFT+U", "",
             f"{dft['engine']} ({dft['preset']}), U_eff(Ti 3d) = {dft['u_ti_eV']:g} eV "
             f"({dft['u_reference']}); cell {dft['formula_host']}"
             + (" (reduced cell of the fast preset)" if dft.get("reduced_cell") else "") + ".",
             "", "| cell | Ti3+ (|m| ≥ 0.5 μB) | moments ≥ 0.5 μB | largest other |m| | "
             "start kept | margin (eV) | Ti3+ per start |", "|---|---|---|---|---|---|---|"]
    for label, cell in cells.items():
        big = ", ".join(f"Ti{r['index']} {r['moment_uB']:.2f}" for r in cell["reduced_ti"])
        other = cell["largest_other_ti_moment_uB"]
        margin = cell["margin_eV"]
        lines.append(f"| {label} | {cell['n_ti3']} | {big or '—'} | "
                     f"{'—' if other is None else f'{other:.2f}'} | {cell['start_kept']} | "
                     f"{'—' if margin is None else f'{margin:.3f}'} | "
                     + ", ".join(f"{k} {v}" for k, v in cell.get("n_ti3_by_start", {}).items())
                     + " |")
    for label, cell in cells.items():
        scan = cell.get("breathing_scan")
        if not scan:
            continue
        ref = cell["energies_by_start_eV"].get("delocalised")
        pts = ", ".join(f"{p['breathing_A']:.3f} Å: "
                        + (f"{p['energy_eV'] - ref:+.3f} eV" if ref is not None
                           else f"{p['energy_eV']:.3f} eV")
                        + f" ({p['n_ti3']} Ti3+)" for p in scan["points"])
        vertex = ("" if scan["vertex_A"] is None
                  else f"; parabola minimum at {scan['vertex_A']:.3f} Å")
        lines.append(f"- {label}: localised start vs the breathing amplitude of its O "
                     f"(relative to the delocalised start): {pts}{vertex}")
    lines += ["", f"Li insertion (vs bcc Li): {dft['insertion_energy_eV_per_Li']:.3f} eV/Li, "
              f"{dft['insertion_voltage_V']:.3f} V vs Li/Li+.",
              f"O-vacancy formation: {dft['o_vacancy_formation_energy_vs_half_O2_eV']:.3f} eV "
              f"vs ½ O2; {dft['o_vacancy_formation_energy_li_li2o_eV']:.3f} eV at Li/Li2O "
              f"(μ_O = {dft['mu_o_li_li2o_eV']:.3f} eV).", ""]
    for label, cell in cells.items():
        for red in cell["reduced_ti"]:
            near = ", ".join(f"{n['element']}{n['index']} {n['distance_A']:.2f}"
                             for n in red["neighbours"][:8])
            lines.append(f"- {label}: reduced Ti{red['index']} neighbours (Å): {near}")
    return lines
