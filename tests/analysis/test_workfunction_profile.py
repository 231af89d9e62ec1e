"""Vacuum-level choice on hand-made potential profiles (no engine needed: pure geometry of the
plateau search; the real CP2K cases are in test_workfunction.py)."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from ssbflow.analysis.volumetric import VolumetricGrid
from ssbflow.analysis.workfunction import work_function

PERIOD_A = 20.0
NZ = 400


def _dipole_layer_grid(top_eV: float, bottom_eV: float) -> VolumetricGrid:
    """A 'molecule' at z = 9–11 Å; flat vacuum on both sides with a step at z = 0 (the
    dipole-correction sheet), as CP2K writes it for a polar molecule in a slab-shaped box."""
    structure = Structure(Lattice.from_parameters(6, 6, PERIOD_A, 90, 90, 90), ["C", "N"],
                          [[0, 0, 9 / PERIOD_A], [0, 0, 11 / PERIOD_A]])
    z = np.arange(NZ) * PERIOD_A / NZ
    well = -8.0 * np.exp(-((z - 10.0) / 1.2) ** 2)
    # smooth step from the bottom plateau (z < 10) to the top one (z > 10) across the molecule
    profile = bottom_eV + (top_eV - bottom_eV) / (1 + np.exp(-(z - 10.0) / 0.4)) + well
    data = np.broadcast_to(profile, (2, 2, NZ)).copy()
    return VolumetricGrid(structure, data, kind="potential", units="eV", source="synthetic")


def test_molecule_reference_is_the_mean_of_the_two_plateaus():
    grid = _dipole_layer_grid(top_eV=1.5, bottom_eV=-0.5)
    result = work_function(grid, homo_eV=-6.0)
    # isolated-molecule vacuum level: halfway between the sides of the periodic dipole layer
    assert result.vacuum_level_eV == pytest.approx(0.5, abs=0.02)
    assert result.work_function_eV == pytest.approx(6.5, abs=0.02)
    summary = result.summary()
    assert summary["vacuum_minus_homo_top_eV"] == pytest.approx(7.5, abs=0.02)
    assert summary["vacuum_minus_homo_bottom_eV"] == pytest.approx(5.5, abs=0.02)


def test_slab_work_function_keeps_the_top_side():
    grid = _dipole_layer_grid(top_eV=1.5, bottom_eV=-0.5)
    result = work_function(grid, fermi_eV=-3.0)
    # a slab's work function is side-specific: the top (adsorbate) side is the headline value
    assert result.work_function_eV == pytest.approx(4.5, abs=0.02)
    assert result.work_function_bottom_eV == pytest.approx(2.5, abs=0.02)
