"""NEB band analysis on bands with an analytic energy surface (no engine needed)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from ssbflow.analysis.neb import analyze_band, analyze_neb, plot_profiles, read_band
from ssbflow.cli import main

HEIGHT_EV, PERIOD_A = 0.4, 3.0


def _band(xs: np.ndarray, tilt_eV_per_A: float = 0.0) -> list[Atoms]:
    """One Li atom moving along x on E(x) = H sin²(πx/L) + tilt·x next to a fixed O."""
    images = []
    for x in xs:
        atoms = Atoms("LiO", positions=[[x, 0, 0], [0, 5, 5]], cell=[12, 12, 12], pbc=True)
        energy = HEIGHT_EV * math.sin(math.pi * x / PERIOD_A) ** 2 + tilt_eV_per_A * x
        dedx = HEIGHT_EV * math.pi / PERIOD_A * math.sin(2 * math.pi * x / PERIOD_A)
        forces = np.zeros((2, 3))
        forces[0, 0] = -(dedx + tilt_eV_per_A)
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
        images.append(atoms)
    return images


def test_spline_with_forces_finds_maximum_between_images() -> None:
    # 4 images: none sits on the top (x = 1.5 Å); the force-curve spline must still find it
    xs = np.linspace(0.0, PERIOD_A, 4)
    res = analyze_band(_band(xs))
    image_max = max(res.image_energies_eV)
    assert image_max < 0.8 * HEIGHT_EV  # the images alone underestimate the barrier
    assert res.barrier_eV == pytest.approx(HEIGHT_EV, rel=0.05)
    assert res.reaction_energy_eV == pytest.approx(0.0, abs=1e-12)
    assert res.path_A[-1] == pytest.approx(PERIOD_A)


def test_asymmetric_band_reaction_energy_and_reverse_barrier() -> None:
    tilt = -0.05
    res = analyze_band(_band(np.linspace(0.0, PERIOD_A, 9), tilt))
    assert res.reaction_energy_eV == pytest.approx(tilt * PERIOD_A, abs=1e-9)
    assert res.reverse_barrier_eV == pytest.approx(res.barrier_eV - res.reaction_energy_eV)
    assert res.saddle_index == 4
    assert not res.has_intermediate_minimum


def test_band_through_a_lower_minimum_is_flagged() -> None:
    # 0 → 1.5 → 3 Å of the well, then on to the next barrier top (x = 4.5 Å): the inner
    # image at x = 3 Å (E = 0) lies 0.4 eV below both endpoints (E = 0.4 eV)
    res = analyze_band(_band(np.linspace(1.5, 4.5, 5)))
    assert res.intermediate_minimum_eV == pytest.approx(-HEIGHT_EV, abs=1e-9)
    assert res.has_intermediate_minimum


def test_band_without_a_maximum_above_both_ends_is_flagged() -> None:
    # half a period, 0 -> 1.5 Å: a monotonic rise of 0.4 eV, zero reverse barrier
    rise = analyze_band(_band(np.linspace(0.0, PERIOD_A / 2, 5)))
    assert rise.barrier_eV == pytest.approx(HEIGHT_EV, rel=0.02)
    assert rise.reverse_barrier_eV == pytest.approx(0.0, abs=1e-3)
    assert not rise.has_saddle and rise.to_dict()["has_saddle"] is False
    # the full period with a tilt: maximum above both ends
    hop = analyze_band(_band(np.linspace(0.0, PERIOD_A, 9), -0.05))
    assert hop.has_saddle and hop.reverse_barrier_eV > hop.barrier_eV > 0.3


def test_read_band_takes_last_band_and_cli_reports_it(tmp_path, capsys) -> None:
    first = _band(np.linspace(0.0, PERIOD_A, 5) * 0.9)  # an earlier, unconverged band
    last = _band(np.linspace(0.0, PERIOD_A, 5))
    for img in first + last:
        img.info["neb_n_images"] = 5
    path = tmp_path / "neb.extxyz"
    write(path, first + last, format="extxyz")
    images, _ = read_band(path)
    assert [a.positions[0, 0] for a in images] == pytest.approx(np.linspace(0, PERIOD_A, 5))
    assert main(["analyze", "neb", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["barrier_eV"] == pytest.approx(HEIGHT_EV, rel=0.02)
    assert data["reaction_energy_eV"] == pytest.approx(0.0, abs=1e-9)
    assert data["files"]["band"] == str(path)
    png = plot_profiles({"a": analyze_neb(path)}, tmp_path / "p.png")
    assert png.stat().st_size > 1000


def test_bad_bands_are_rejected(tmp_path, capsys) -> None:
    with pytest.raises(ValueError, match="at least 3 images"):
        analyze_band(_band(np.array([0.0, 1.0])))
    bare = [Atoms("Li", positions=[[x, 0, 0]], cell=[5, 5, 5], pbc=True) for x in (0, 1, 2)]
    with pytest.raises(ValueError, match="no energy"):
        analyze_band(bare)
    assert main(["analyze", "neb", str(tmp_path)]) == 2
    assert "no NEB band file" in capsys.readouterr().err
