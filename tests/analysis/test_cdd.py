"""Charge density difference on real CP2K densities of ammonia borane and its fragments."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.io.vasp.outputs import Chgcar

from ssbflow.analysis.cdd import (
    charge_density_difference,
    plot_cdd_profile,
    plot_cdd_slice,
    write_cdd,
)
from ssbflow.analysis.slices import sample_points
from ssbflow.analysis.volumetric_io import read_volumetric
from ssbflow.errors import InputError

pytestmark = pytest.mark.cp2k


@pytest.fixture(scope="module")
def cdd(cp2k_cdd):
    return charge_density_difference(cp2k_cdd.total, cp2k_cdd.part_a, cp2k_cdd.part_b)


def test_neutral_fragments_integrate_to_zero(cdd):
    # AB, BH3 and NH3 hold 14, 6 and 8 valence electrons: Δρ of neutral fragments integrates
    # to zero
    assert abs(cdd.integral_e) < 1e-3
    assert cdd.cumulative_e[-1] == pytest.approx(cdd.integral_e)


def test_dative_bond_accumulates_charge_between_the_fragments(cdd):
    structure = cdd.delta.structure
    boron, nitrogen = structure[0].coords, structure[4].coords
    assert structure[0].species_string == "B" and structure[4].species_string == "N"
    # electrons pile up in the B–N bond, shifted towards the acceptor B, taken from the N lone
    # pair (depletion next to N)
    line = sample_points(cdd.delta, boron + np.linspace(0.0, 1.0, 11)[:, None] * (nitrogen - boron))
    assert line[2:6].min() > 0.1  # 20-50 % of the way from B to N
    assert line[8:10].max() < 0.0  # just before N
    # the donor NH3 (above) gives electrons to the acceptor BH3 (below): ΔQ(gap middle) > 0
    assert cdd.transferred_charge_e > 0.1
    # default gap: from the top BH3 atom (B) to the lowest NH3 atom (N)
    z_b, z_n = boron[2], nitrogen[2]
    assert cdd.gap_A == pytest.approx((z_b, z_n), abs=1e-6)
    assert cdd.max_accumulation_e_per_A3 > 0.0 > cdd.max_depletion_e_per_A3


def test_explicit_gap_and_indices_agree_with_the_default(cp2k_cdd, cdd):
    by_index = charge_density_difference(
        cp2k_cdd.total, cp2k_cdd.part_a, cp2k_cdd.part_b,
        slab_indices=cp2k_cdd.slab_indices, molecule_indices=cp2k_cdd.molecule_indices)
    assert by_index.gap_A == pytest.approx(cdd.gap_A)
    explicit = charge_density_difference(cp2k_cdd.total, cp2k_cdd.part_a, cp2k_cdd.part_b,
                                         gap=cdd.gap_A)
    assert explicit.transferred_charge_e == pytest.approx(cdd.transferred_charge_e)


def test_files_and_plots(cdd, tmp_path):
    files = write_cdd(cdd, tmp_path, "ab")
    cube = read_volumetric(files["cube"], kind="density")
    assert cube.integral() == pytest.approx(cdd.integral_e, abs=1e-4)
    chg = Chgcar.from_file(files["chgcar"])
    # CHGCAR holds Δρ · V: its mean is the integral
    assert chg.data["total"].mean() == pytest.approx(cdd.integral_e, abs=1e-6)
    profile = np.loadtxt(files["profile_csv"], delimiter=",", skiprows=1)
    assert profile.shape == (cdd.z_A.size, 4)
    png = plot_cdd_profile(cdd, tmp_path, "ab")
    slice_png = plot_cdd_slice(cdd, (0, 4, 5), tmp_path, "ab")  # B, N, H of NH3
    for path in (png, slice_png):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mismatched_grids_are_refused(cp2k_cdd, cp2k_n2):
    with pytest.raises(InputError, match="mismatch"):
        charge_density_difference(cp2k_cdd.total, cp2k_cdd.part_a, cp2k_n2.density)


def test_non_density_input_is_refused(cp2k_cdd):
    elf = read_volumetric(cp2k_cdd.elf_b)
    with pytest.raises(InputError, match="expected an electron density"):
        charge_density_difference(cp2k_cdd.total, cp2k_cdd.part_a, elf)
