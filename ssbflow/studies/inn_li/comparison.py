"""inn-li next to its source study: an InN layer on LLZ that reacts with Li.

Source claims (shared/reference/science.md, study 5): InN reacts with Li at room temperature
(InN + 3Li → Li3N + In; In + xLi → LixIn); of the metals whose reaction energies with Li were
compared (Au, Zn, In, Fe among them), In is the most reactive, and InN more so; LLZ Ea 0.36 eV.
"""

from __future__ import annotations

from typing import Any

from pymatgen.core import Composition

from ssbflow.studies.comparison import ClaimRow, finite

SOURCE = "InN-on-LLZ study (science.md, study 5)"

#: Ranking metrics: key of the ranking rows -> how the row names it.
METRICS = {"reaction_energy_eV_per_atom": "eV/atom of mixture",
           "reaction_energy_eV_per_Li": "eV per Li"}

_HULL = ("most negative reaction energy with Li over mixing ratios on the convex hull of the "
         "computed phases (force field; pymatgen InterfacialReactivity)")


def _energy(row: dict[str, Any], key: str) -> float:
    # a candidate that forms no compound with Li has no per-Li energy: it does not react (0)
    value = finite(row.get(key))
    return 0.0 if value is None else value


def _metal_rows(rows: dict[str, dict[str, Any]]) -> list[ClaimRow]:
    metals = [c for c in rows if len(Composition(c).elements) == 1 and c != "Li"]
    out = []
    for key, unit in METRICS.items():
        claim = f"In is the most reactive metal with Li ({unit})"
        if "In" not in metals:
            out.append(ClaimRow(claim=claim, source_value="In",
                                why=f"not computed: In is not among the candidates ({SOURCE})"))
            continue
        order = sorted(metals, key=lambda m: _energy(rows[m], key))
        value = (f"{order[0]} ({_energy(rows[order[0]], key):.3f}); In "
                 f"{_energy(rows['In'], key):.3f}, rank {order.index('In') + 1} of {len(order)}")
        out.append(ClaimRow(
            claim=claim, source_value="In", ssbflow_value=value, agrees=order[0] == "In",
            why=f"{_HULL}, in {unit}; agrees when In's is the most negative among the metals "
                f"computed ({', '.join(metals)}); the study's metal list may differ ({SOURCE})"))
    return out


def _inn_rows(rows: dict[str, dict[str, Any]], cell: dict[str, Any] | None) -> list[ClaimRow]:
    out = []
    both = "In" in rows and "InN" in rows
    for key, unit in METRICS.items():
        diff = _energy(rows["InN"], key) - _energy(rows["In"], key) if both else None
        out.append(ClaimRow(
            claim=f"InN reacts more strongly with Li than In: E(InN) − E(In) ({unit})",
            source_value="< 0", ssbflow_value=diff,
            agrees=None if diff is None else bool(diff < 0),
            why=f"{_HULL}, in {unit}; agrees when the difference is < 0 ({SOURCE})" if both
            else f"not computed: In and InN are not both candidates ({SOURCE})"))
    inn = rows.get("InN")
    if inn is None:
        out.append(ClaimRow(claim="InN reacts with Li: InN + 3Li → Li3N + In (eV/atom)",
                            source_value="reacts at room temperature",
                            why=f"not computed: InN is not a candidate ({SOURCE})"))
        return out
    energy = finite(inn.get("reaction_energy_eV_per_atom"))
    products = str(inn.get("products", ""))
    md = ""
    if cell and cell.get("in_n_bonds") and cell.get("time_fs"):
        md = (f"; the reaction-cell MD shows In–N bonds {cell['in_n_bonds'][0]} -> "
              f"{cell['in_n_bonds'][-1]} over {cell['time_fs'][-1] / 1000:.2f} ps (a ps-long "
              "MD cannot show a conversion that takes hours)")
    out.append(ClaimRow(
        claim="InN reacts with Li: InN + 3Li → Li3N + In (eV/atom)",
        source_value="reacts at room temperature", ssbflow_value=energy,
        agrees=None if energy is None else bool(energy < 0 and "Li3N" in products),
        why=f"{_HULL}: products {products or 'none'}; agrees when the energy is < 0 and Li3N "
            f"is among the products (thermodynamics at 0 K){md} ({SOURCE})"))
    return out


def source_comparison(results: dict[str, Any]) -> list[ClaimRow]:
    """The inn-li claim rows from its results document.

    Parameters
    ----------
    results : the ``results.json`` document of ``inn-li`` (``ranking`` rows with
        ``candidate``, ``reaction_energy_eV_per_atom``, ``reaction_energy_eV_per_Li``,
        ``products``; ``reaction_cell`` or ``None``).

    Returns
    -------
    list of ClaimRow
        In the most reactive metal and InN more reactive than In (each per atom and per Li),
        InN + 3Li → Li3N + In, and LLZ's Ea (not computed by this study).
    """
    rows = {r["candidate"]: r for r in results.get("ranking") or []}
    return [*_metal_rows(rows), *_inn_rows(rows, results.get("reaction_cell")),
            ClaimRow(claim="LLZ Ea (eV)", source_value=0.36,
                     why="not computed by inn-li: see the Arrhenius Ea of "
                         f"`ssbflow run llzo-li-diffusion` ({SOURCE})")]
