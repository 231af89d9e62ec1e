"""Volumetric I/O on real CP2K cubes and on VASP files written by pymatgen."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from pymatgen.io.common import VolumetricData
from pymatgen.io.vasp.outputs import Chgcar, Elfcar, Locpot

from ssbflow.analysis.slices import line_profile, plane_slice
from ssbflow.analysis.volumetric import BOHR_A, HARTREE_EV
from ssbflow.analysis.volumetric_io import (
    format_scientific,
    read_cube,
    read_volumetric,
    write_chgcar,
    write_cube,
)
from ssbflow.errors import InputError

pytestmark = pytest.mark.cp2k


def test_n2_density_holds_ten_valence_electrons(cp2k_n2):
    grid = read_volumetric(cp2k_n2.density)
    assert grid.kind == "density" and grid.units == "e/A^3"
    # GTH-PBE-q5: five valence electrons per N; the cube is the pseudo-valence density in Å⁻³
    assert grid.integral() == pytest.approx(10.0, abs=0.02)
    # lattice in Å: the box of the input
    assert grid.structure.lattice.abc == pytest.approx((7.0, 7.0, 9.0), abs=1e-4)
    # the two N atoms, 1.10 Å apart
    assert grid.structure.get_distance(0, 1) == pytest.approx(1.10, abs=1e-4)


def test_reader_agrees_with_pymatgen_cube_reader(cp2k_n2):
    ours = read_cube(cp2k_n2.density)
    theirs = VolumetricData.from_cube(str(cp2k_n2.density))
    np.testing.assert_allclose(ours.data * BOHR_A**3, theirs.data["total"], rtol=1e-12)
    np.testing.assert_allclose(ours.structure.cart_coords, theirs.structure.cart_coords,
                               atol=1e-5)


def test_gzipped_cube_as_atomate2_leaves_it_reads_the_same(cp2k_n2, tmp_path):
    gz = tmp_path / cp2k_n2.density.with_suffix(".cube.gz").name
    gz.write_bytes(gzip.compress(cp2k_n2.density.read_bytes()))
    plain, packed = read_volumetric(cp2k_n2.density), read_volumetric(gz)
    assert packed.kind == "density"
    assert np.array_equal(packed.data, plain.data)
    np.testing.assert_array_equal(packed.structure.cart_coords, plain.structure.cart_coords)


def test_round_trip_cube_chgcar_cube_keeps_the_integral(cp2k_n2, tmp_path):
    grid = read_volumetric(cp2k_n2.density)
    chgcar = write_chgcar(grid, tmp_path / "n2_CHGCAR.vasp")
    # pymatgen reads our CHGCAR: it holds rho * V_cell
    pmg = Chgcar.from_file(str(chgcar))
    assert pmg.data["total"].shape == grid.shape
    assert pmg.data["total"].mean() == pytest.approx(grid.integral(), rel=1e-9)
    back = read_volumetric(chgcar)
    cube = write_cube(back, tmp_path / "n2.cube")
    again = read_volumetric(cube, kind="density")
    assert again.integral() == pytest.approx(grid.integral(), abs=1e-6)
    np.testing.assert_allclose(again.structure.lattice.matrix, grid.structure.lattice.matrix,
                               atol=1e-6)


def test_vasp_files_written_by_pymatgen(cp2k_n2, tmp_path):
    density = read_volumetric(cp2k_n2.density)
    structure = density.structure
    # CHGCAR convention: rho * V_cell; our reader returns e/Å³
    Chgcar(structure, {"total": density.data * structure.volume}).write_file(
        str(tmp_path / "CHGCAR"))
    chg = read_volumetric(tmp_path / "CHGCAR")
    assert chg.kind == "density"
    # pymatgen writes the lattice with 6 decimals: the volume (and so ρ) to ~1e-7
    np.testing.assert_allclose(chg.data, density.data, rtol=1e-6, atol=1e-12)
    # LOCPOT holds eV as it is
    hartree = read_volumetric(cp2k_n2.hartree)
    Locpot(hartree.structure, {"total": hartree.data}).write_file(str(tmp_path / "LOCPOT"))
    pot = read_volumetric(tmp_path / "LOCPOT")
    assert pot.kind == "potential" and pot.units == "eV"
    np.testing.assert_allclose(pot.data, hartree.data, rtol=1e-9, atol=1e-12)


def test_spin_polarised_elfcar_holds_up_and_down(cp2k_n2, tmp_path):
    elf = read_volumetric(cp2k_n2.elf)
    up, down = elf.data, 0.5 * elf.data  # two different channels
    Elfcar(elf.structure, {"total": up, "diff": down}).write_file(str(tmp_path / "ELFCAR"))
    got_up = read_volumetric(tmp_path / "ELFCAR")
    got_down = read_volumetric(tmp_path / "ELFCAR", spin="down")
    assert got_up.kind == "elf"
    np.testing.assert_allclose(got_up.data, up, atol=1e-9)
    np.testing.assert_allclose(got_down.data, down, atol=1e-9)
    Elfcar(elf.structure, {"total": up}).write_file(str(tmp_path / "ELFCAR_single"))
    with pytest.raises(InputError, match="non-spin-polarised"):
        read_volumetric(tmp_path / "ELFCAR_single", spin="down")


def test_hartree_cube_converted_to_eV(cp2k_n2):
    grid = read_volumetric(cp2k_n2.hartree)
    raw = read_cube(cp2k_n2.hartree, kind="other")
    assert grid.kind == "potential"
    np.testing.assert_allclose(grid.data, raw.data * HARTREE_EV)


def test_truncated_cube_is_refused_with_its_name(cp2k_n2, tmp_path):
    text = cp2k_n2.elf.read_text().splitlines()
    bad = tmp_path / "cut-ELF.cube"
    bad.write_text("\n".join(text[:-5]) + "\n")
    with pytest.raises(InputError, match=r"cut-ELF\.cube: truncated"):
        read_volumetric(bad)


def test_non_volumetric_file_is_refused(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("this is not a grid\n1 2 3\n")
    with pytest.raises(InputError, match="not a volumetric file"):
        read_volumetric(bad)


def test_scientific_formatter_matches_python_formatting():
    rng = np.random.default_rng(7)
    values = rng.normal(size=20000) * 10.0 ** rng.integers(-30, 30, size=20000)
    values[:4] = [0.0, 1.0, -9.999995e-3, 123456.5]
    for digits in (5, 10):
        fields = format_scientific(values, digits)
        text = [bytes(row).decode() for row in fields]
        expected = [f" {v:{digits + 7}.{digits}E}" for v in values]
        mismatched = [(a, b) for a, b in zip(text, expected, strict=True) if a != b]
        # exact except, at most, a last-digit tie now and then
        assert len(mismatched) <= len(values) * 1e-3, mismatched[:3]


def test_plane_and_line_sampling_respect_the_molecule_symmetry(cp2k_n2):
    elf = read_volumetric(cp2k_n2.elf)
    line = line_profile(elf, 0, 1, n_points=101)
    assert line.length_A == pytest.approx(1.10, abs=1e-4)
    assert line.labels == ("N", "N")
    # N2 is symmetric about the bond midpoint: the profile N0 -> N1 reads the same backwards
    np.testing.assert_allclose(line.values, line.values[::-1], atol=0.02)
    # plane through N0 with normal x holds the bond (s along z); mirror symmetry z -> -z about
    # the midpoint and t -> -t (x, y equivalent in the square box)
    plane = plane_slice(elf, center_atom=0, normal=(1.0, 0.0, 0.0), half_width_A=2.0,
                        step_A=0.05)
    assert plane.values.min() >= 0.0 and plane.values.max() <= 1.0
    np.testing.assert_allclose(plane.values, plane.values[:, ::-1], atol=0.02)
    assert {label for label, _, _ in plane.atoms} == {"N"} and len(plane.atoms) == 2
