"""Insertion and vacancy-formation energies from total energies (eV): the one set of
formulas for the force-field and the DFT+U numbers of ``llto-li``."""

from __future__ import annotations

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
