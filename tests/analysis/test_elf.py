"""ELF from real CP2K cubes: N2 (bond and lone pairs) and ammonia borane with/without NH3."""

from __future__ import annotations

import numpy as np
import pytest

from ssbflow.analysis.elf import (
    analyze_elf,
    elf_slice_difference,
    plot_elf_difference,
    read_elf,
    write_elf_plots,
)
from ssbflow.analysis.slices import sample_points
from ssbflow.errors import InputError

pytestmark = pytest.mark.cp2k


def test_n2_elf_is_bounded_and_high_at_bond_and_lone_pairs(cp2k_n2):
    elf = read_elf(cp2k_n2.elf)
    assert elf.kind == "elf"
    assert 0.0 <= elf.data.min() and elf.data.max() <= 1.0
    assert elf.data.max() > 0.95
    n0, n1 = elf.structure[0].coords, elf.structure[1].coords
    axis = (n1 - n0) / np.linalg.norm(n1 - n0)
    bond_mid = sample_points(elf, 0.5 * (n0 + n1))[0]
    # lone pairs on the axis, outside each N (about 0.6-0.7 Å from the nucleus)
    lone = sample_points(elf, np.array([n0 - 0.65 * axis, n1 + 0.65 * axis]))
    assert bond_mid > 0.8
    assert lone.min() > 0.9
    # at the nuclei (pseudopotential cores, no core electrons) the ELF is low: the valence
    # shell is localised in the bond and the lone pairs, not on the nucleus
    core = sample_points(elf, np.array([n0, n1]))
    assert core.max() < bond_mid


def test_line_profile_and_slice_plots(cp2k_n2, tmp_path):
    result = analyze_elf(cp2k_n2.elf, center_atom=0, normal=(0.0, 1.0, 0.0), line=(0, 1))
    assert result.line is not None and result.plane is not None
    assert result.line.length_A == pytest.approx(1.10, abs=1e-4)
    assert result.line.values.max() <= 1.0
    files = write_elf_plots(result, tmp_path, "n2")
    for key in ("slice_png", "line_png"):
        assert open(files[key], "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    summary = result.summary()
    assert summary["min"] >= 0.0 and summary["max"] <= 1.0


def test_elf_difference_shows_the_new_bond(cp2k_cdd, tmp_path):
    with_nh3 = read_elf(cp2k_cdd.elf_total)
    bh3_alone = read_elf(cp2k_cdd.elf_a)
    diff = elf_slice_difference(with_nh3, bh3_alone, plane=(0, 4, 5))  # B, N, H(N)
    # plane coordinates: s along B -> N; the bond midpoint is at s = |BN| / 2, t = 0
    bn = np.linalg.norm(with_nh3.structure[4].coords - with_nh3.structure[0].coords)
    i = int(np.argmin(np.abs(diff.s_A - bn / 2)))
    j = int(np.argmin(np.abs(diff.t_A)))
    assert diff.values[i, j] > 0.2  # the B–N bond pair is localised only with NH3 present
    png = plot_elf_difference(diff, tmp_path / "diff.png")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_elf_difference_needs_matching_grids(cp2k_cdd, cp2k_n2):
    with pytest.raises(InputError, match="mismatch"):
        elf_slice_difference(cp2k_cdd.elf_total, cp2k_n2.elf, plane=(0, 4, 5))


def test_density_file_is_not_an_elf(cp2k_n2, tmp_path):
    # a potential has values far outside [0, 1]
    with pytest.raises(InputError, match=r"an ELF lies in \[0, 1\]"):
        read_elf(cp2k_n2.hartree)
