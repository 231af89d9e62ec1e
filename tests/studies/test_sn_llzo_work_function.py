"""The SN-face work-function row of sn-llzo from real CP2K Hartree potentials.

A dipole-corrected H3N–BH3 "layer" (NH3 on top of BH3) stands in for SN on the slab and the
frozen BH3 for the bare slab (fixture ``cp2k_dipole``): Φ of AB on both faces from its own
Hartree potential, next to Φ of A, gives the row "SN lowers the work function of the face it
covers"; swapping AB and A flips its verdict.
"""

from __future__ import annotations

import copy

import pytest

from ssbflow.analysis.workfunction import work_function
from ssbflow.studies.sn_llzo.comparison import source_comparison
from tests.analysis.conftest import cp2k_dipole  # noqa: F401 (fixture)
from tests.studies.test_source_comparison import SN

pytestmark = pytest.mark.cp2k

CLAIM = "SN lowers the work function of the face it covers"


def _delta_row(doc: dict):
    (row,) = [r for r in source_comparison(doc) if r.claim.startswith(CLAIM)]
    return row


def test_work_function_of_ab_on_both_faces_decides_the_row(cp2k_dipole):  # noqa: F811
    ab = work_function(cp2k_dipole.hartree_ab, output=cp2k_dipole.log_ab)
    bare = work_function(cp2k_dipole.hartree_a, output=cp2k_dipole.log_a)
    # two vacuum levels on either side of the dipole sheet, E(Fermi) = HOMO of the MO listing
    assert ab.work_function_top_eV is not None and ab.work_function_bottom_eV is not None
    assert len(ab.plateaus) == 2 and ab.plateau_spread_eV < 0.05
    # NH3 on top, bound through N to B: its H face outward and the donated charge point the
    # dipole so that an electron leaves the NH3 face more easily (about 3 eV measured)
    assert ab.work_function_top_eV < bare.work_function_top_eV - 1.0
    doc = copy.deepcopy(SN)
    doc["work_function_slab_eV"] = bare.work_function_eV
    doc["electronic"] = {"work_function_slab": bare.summary(),
                         "work_function_ab": ab.summary()}
    row = _delta_row(doc)
    assert row.agrees is True
    assert row.ssbflow_value == pytest.approx(ab.work_function_top_eV - bare.work_function_top_eV)
    assert "far face" in row.why and "VBM/HOMO-referenced" in row.why and "ΔV_vac" in row.why
    # the other way round (the covered face raised): the verdict flips
    doc["electronic"] = {"work_function_slab": ab.summary(),
                         "work_function_ab": bare.summary()}
    flipped = _delta_row(doc)
    assert flipped.agrees is False and flipped.ssbflow_value == pytest.approx(-row.ssbflow_value)
