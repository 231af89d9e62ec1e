"""Electrochemical stability limits of a molecule from its ionisation potential and electron
affinity.

An electron removed at the oxidation potential E_ox (vs Li/Li+) has the energy
``IP = e·(E_ox + E_abs(Li/Li+))``, so ``E_ox = IP/e − E_abs(Li/Li+)`` and likewise
``E_red = EA/e − E_abs(Li/Li+)``. ``E_abs(Li/Li+) = 4.44 V − 3.04 V = 1.40 V``: the absolute
potential of the standard hydrogen electrode, 4.44 V (Trasatti, Pure Appl. Chem. 58, 955
(1986), IUPAC recommendation) minus the standard potential of Li+/Li, −3.04 V vs SHE (CRC
Handbook). The same conversion is used in electrolyte screening (e.g. Borodin et al.,
J. Phys. Chem. C 117, 8661 (2013)). Gas-phase vertical IP/EA without solvation overestimate
the width of the window; the limits rank candidates, they do not predict a measured onset.
"""

from __future__ import annotations

#: Absolute potential of the standard hydrogen electrode (V; Trasatti 1986, IUPAC).
SHE_ABSOLUTE_V = 4.44
#: Standard potential of Li+/Li vs SHE (V; CRC Handbook).
LI_VS_SHE_V = -3.04
#: Absolute potential of Li/Li+ (V).
LI_ABSOLUTE_V = SHE_ABSOLUTE_V + LI_VS_SHE_V

#: Recorded with every limit: how it was obtained.
CONVERSION = (f"E vs Li/Li+ = (IP or EA)/e - {LI_ABSOLUTE_V:.2f} V (absolute SHE 4.44 V, "
              "Trasatti 1986; Li+/Li -3.04 V vs SHE); gas phase, vertical, no solvation")


def oxidation_limit_V(ip_eV: float) -> float:
    """Oxidation limit vs Li/Li+ (V) from the ionisation potential (eV)."""
    return ip_eV - LI_ABSOLUTE_V


def reduction_limit_V(ea_eV: float) -> float:
    """Reduction limit vs Li/Li+ (V) from the electron affinity (eV)."""
    return ea_eV - LI_ABSOLUTE_V
