"""Frontier orbitals and ΔSCF IP/EA of water with the real engine (PySCF, seconds)."""

from __future__ import annotations

import pytest
from pymatgen.core import Molecule

from ssbflow.engines.pyscf_molecule import frontier_orbitals


def test_water_frontier_orbitals_and_vertical_ip_ea():
    water = Molecule(["O", "H", "H"], [[0, 0, 0.1173], [0, 0.7572, -0.4692],
                                       [0, -0.7572, -0.4692]])
    r = frontier_orbitals(water)
    assert r["homo_eV"] < r["lumo_eV"]
    assert r["gap_eV"] == pytest.approx(r["lumo_eV"] - r["homo_eV"])
    assert r["ip_eV"] > 0 and r["ip_eV"] > r["ea_eV"]
    # B3LYP/def2-SVP vertical IP of water: 12.4 eV (experiment 12.6 eV)
    assert 11.5 < r["ip_eV"] < 13.5
    # Koopmans-like sense: -HOMO underestimates the ΔSCF IP with B3LYP
    assert -r["homo_eV"] < r["ip_eV"]
    assert r["method"] == {"code": "PySCF", "xc": "B3LYP", "basis": "def2-SVP",
                           "density_fitting": "def2-universal-jkfit",
                           "ip_ea": "vertical ΔSCF (UKS ions at the neutral geometry)"}
