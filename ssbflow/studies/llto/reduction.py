"""LLTO reduction by Li (``ssbflow run llto-li``): Li insertion, O vacancies, Ti3+ evidence.

Quantities (all energies from one engine, every cell relaxed):

* Li insertion energy per inserted Li, vs bcc Li:
  E_ins = [E(LLTO + n Li) − E(LLTO) − n E(Li)] / n; as a voltage vs Li/Li⁺: V = −E_ins / e.
* O-vacancy formation energy with the O chemical potential of Li/Li2O equilibrium
  (μ_O = E(Li2O) − 2 E(Li), the most reducing condition Li metal can impose):
  E_f = E(LLTO − O) − E(LLTO) + μ_O.
* Ti3+ evidence: the force field's magnetic moment on Ti (CHGNet predicts site magmoms;
  Ti4+ is d0, ≈ 0 μB; Ti3+ is d1, ≈ 1 μB). Counted with a 0.5 μB threshold.

Defect cells keep the relaxed host cell (positions relaxed only): dilute-defect convention.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Structure

from ssbflow.errors import InputError


def insertion_energy_eV_per_li(e_host_eV: float, e_lithiated_eV: float,
                               e_li_eV_per_atom: float, n_li: int) -> float:
    """E_ins = [E(host + n Li) − E(host) − n E(Li)] / n (eV per inserted Li)."""
    if n_li < 1:
        raise InputError(f"n_li {n_li}: expected at least one inserted Li")
    return (e_lithiated_eV - e_host_eV - n_li * e_li_eV_per_atom) / n_li


def insertion_voltage_V(e_ins_eV_per_li: float) -> float:
    """Average voltage vs Li/Li⁺ of the insertion (V = −E_ins / e; one electron per Li)."""
    return -e_ins_eV_per_li


def mu_o_li_li2o_eV(e_li_eV_per_atom: float, e_li2o_eV_per_fu: float) -> float:
    """O chemical potential at Li/Li2O equilibrium: μ_O = E(Li2O) − 2 E(Li)."""
    return e_li2o_eV_per_fu - 2 * e_li_eV_per_atom


def vacancy_formation_energy_eV(e_defect_eV: float, e_host_eV: float, mu_o_eV: float) -> float:
    """E_f(V_O) = E(host − O) − E(host) + μ_O."""
    return e_defect_eV - e_host_eV + mu_o_eV


def ti_moments_uB(structure: Structure) -> list[float]:
    """Magnetic moments (μB) on the Ti sites (site property ``magmom``)."""
    magmoms = structure.site_properties.get("magmom")
    if magmoms is None:
        raise InputError("structure has no 'magmom' site property (engine gave no moments)")
    return [abs(float(m)) for site, m in zip(structure, magmoms, strict=True)
            if site.specie.symbol == "Ti"]


def count_ti3(structure: Structure, threshold_uB: float = 0.5) -> int:
    """Number of Ti with |m| above ``threshold_uB`` (Ti3+, d1)."""
    return sum(m > threshold_uB for m in ti_moments_uB(structure))


def vacant_a_sites(structure: Structure, supercell: tuple[int, int, int]) -> list[np.ndarray]:
    """Fractional coordinates of the empty A sites of an LLTO cell (La-poor layer first)."""
    from ssbflow.structures.perovskites import llto_framework

    frame = llto_framework(supercell)
    occupied = [s.frac_coords for s in structure if s.specie.symbol in ("La", "Li")]
    vacant = []
    for site, layer in zip(frame, frame.site_properties["a_layer"], strict=True):
        if not layer:
            continue
        d = [structure.lattice.get_distance_and_image(site.frac_coords, f)[0] for f in occupied]
        if min(d) > 1.0:
            vacant.append((layer != "la-poor", site.frac_coords))
    return [f for _, f in sorted(vacant, key=lambda t: t[0])]


@dataclass
class LltoReductionResult:
    """Results of :func:`llto_reduction`."""

    formula_host: str
    insertion_energy_eV_per_Li: float
    insertion_voltage_V: float
    o_vacancy_formation_energy_eV: float
    mu_o_eV: float
    ti3_host: int
    ti3_lithiated: int
    ti3_o_vacancy: int
    ti_moments_lithiated_uB: list[float]
    ti_moments_o_vacancy_uB: list[float]
    energies_eV: dict[str, float]
    settings: dict[str, Any]


def llto_reduction(supercell: tuple[int, int, int] = (3, 3, 1), *,
                   fmax_eV_per_A: float = 0.05, max_steps: int = 300) -> LltoReductionResult:
    """Relax LLTO, LLTO + Li (one Li in an empty A site), LLTO − O, Li and Li2O with CHGNet."""
    from ssbflow.methods.phases import mlip_settings, relax_structure_mlip
    from ssbflow.structures.perovskites import llto
    from ssbflow.structures.phases import phase

    host0 = llto(supercell)
    host0.remove_oxidation_states()
    opts = {"fmax_eV_per_A": fmax_eV_per_A, "max_steps": max_steps}
    host, e_host = relax_structure_mlip(host0, relax_cell=True, **opts)
    vacant = vacant_a_sites(host, supercell)
    if not vacant:
        raise InputError(f"supercell {supercell}: LLTO cell has no empty A site for Li")
    lithiated0 = host.copy()
    lithiated0.remove_site_property("magmom")
    lithiated0.append("Li", vacant[0])
    lithiated, e_lith = relax_structure_mlip(lithiated0, relax_cell=False, **opts)
    # O vacancy: the O shared by the two A layers' Ti octahedra nearest the cell centre
    o_indices = [i for i, s in enumerate(host) if s.specie.symbol == "O"]
    centre = host.lattice.get_cartesian_coords([0.5, 0.5, 0.5])
    o_remove = min(o_indices, key=lambda i: np.linalg.norm(host[i].coords - centre))
    vac0 = host.copy()
    vac0.remove_site_property("magmom")
    vac0.remove_sites([o_remove])
    vacancy, e_vac = relax_structure_mlip(vac0, relax_cell=False, **opts)
    li, e_li = relax_structure_mlip(phase("li"), **opts)
    li2o, e_li2o = relax_structure_mlip(phase("li2o"), **opts)
    e_li_atom = e_li / len(li)
    e_li2o_fu = e_li2o / li2o.composition.get_reduced_composition_and_factor()[1]
    e_ins = insertion_energy_eV_per_li(e_host, e_lith, e_li_atom, 1)
    mu_o = mu_o_li_li2o_eV(e_li_atom, e_li2o_fu)
    return LltoReductionResult(
        formula_host=host.composition.formula.replace(" ", ""),
        insertion_energy_eV_per_Li=e_ins,
        insertion_voltage_V=insertion_voltage_V(e_ins),
        o_vacancy_formation_energy_eV=vacancy_formation_energy_eV(e_vac, e_host, mu_o),
        mu_o_eV=mu_o,
        ti3_host=count_ti3(host),
        ti3_lithiated=count_ti3(lithiated),
        ti3_o_vacancy=count_ti3(vacancy),
        ti_moments_lithiated_uB=sorted(ti_moments_uB(lithiated), reverse=True)[:4],
        ti_moments_o_vacancy_uB=sorted(ti_moments_uB(vacancy), reverse=True)[:4],
        energies_eV={"llto": e_host, "llto+Li": e_lith, "llto-O": e_vac,
                     "Li (per atom)": e_li_atom, "Li2O (per f.u.)": e_li2o_fu},
        settings={**mlip_settings(fmax_eV_per_A=fmax_eV_per_A, max_steps=max_steps),
                  "supercell": list(supercell),
                  "defect_cells": "host cell fixed, positions relaxed"},
    )


def write_llto_report(result: LltoReductionResult, out: Path) -> list[str]:
    """``llto_li.json`` and ``llto_li.md`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    doc = asdict(result)
    (out / "llto_li.json").write_text(json.dumps(doc, indent=1))
    lines = [
        "# LLTO reduction by Li metal (MLIP)", "",
        f"Host: {result.formula_host} (relaxed cell); defect cells at the host cell.", "",
        "| quantity | value |", "|---|---|",
        f"| Li insertion energy (eV/Li, vs bcc Li) | {result.insertion_energy_eV_per_Li:.3f} |",
        f"| insertion voltage (V vs Li/Li+) | {result.insertion_voltage_V:.3f} |",
        f"| μ_O at Li/Li2O (eV) | {result.mu_o_eV:.3f} |",
        f"| O-vacancy formation energy at Li/Li2O (eV) | "
        f"{result.o_vacancy_formation_energy_eV:.3f} |",
        f"| Ti with m > 0.5 μB: host / +Li / −O | {result.ti3_host} / {result.ti3_lithiated} / "
        f"{result.ti3_o_vacancy} |",
        f"| largest Ti moments +Li (μB) | {', '.join(f'{m:.2f}' for m in result.ti_moments_lithiated_uB)} |",  # noqa: E501
        f"| largest Ti moments −O (μB) | {', '.join(f'{m:.2f}' for m in result.ti_moments_o_vacancy_uB)} |",  # noqa: E501
        "",
        "A positive voltage means Li metal inserts spontaneously (reduces Ti4+ to Ti3+); a "
        "negative vacancy formation energy means Li metal pulls O out of LLTO.",
    ]
    if result.ti3_lithiated == 0 and result.ti3_o_vacancy == 0:
        lines += ["", "No Ti carries a moment above 0.5 μB: the force field spreads the added "
                  "electrons instead of localising Ti3+; magnetic or Bader/Mulliken evidence of "
                  "Ti3+ needs spin-polarised DFT(+U)."]
    (out / "llto_li.md").write_text("\n".join(lines) + "\n")
    return [str(out / "llto_li.json"), str(out / "llto_li.md")]
