"""Real CHGNet CI-NEB of a Li vacancy hop in Li2O (11 atoms + vacancy, 3 moving images)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.calculators.calculator import Calculator, all_changes
from pymatgen.core import Lattice, Structure

from ssbflow.cli import main
from ssbflow.methods.neb import move_endpoints, moving_index, run_neb, vacancy_hop_endpoints


def _li2o() -> Structure:
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.63), ["Li", "O"], [[0.25, 0.25, 0.25], [0, 0, 0]]
    )


def _nearest_li_pair(s: Structure) -> tuple[int, int]:
    li = [i for i, site in enumerate(s) if site.specie.symbol == "Li"]
    j = min(li[1:], key=lambda k: s.get_distance(li[0], k))
    return li[0], j


@pytest.fixture(scope="session")
def li2o_neb(tmp_path_factory):
    s = _li2o()
    initial, final = vacancy_hop_endpoints(s, *_nearest_li_pair(s))
    out = tmp_path_factory.mktemp("neb")
    result = run_neb(initial, final, out, n_images=3, fmax_eV_per_A=0.05, max_steps=300)
    return result, out


def test_vacancy_hop_barrier_is_positive_symmetric_with_climbing_image_on_top(li2o_neb) -> None:
    result, _ = li2o_neb
    assert result.converged
    # Li2O vacancy migration: DFT and experiment give a few tenths of an eV
    assert 0.1 < result.barrier_eV < 1.0
    assert abs(result.reaction_energy_eV) < 0.01  # equivalent endpoints
    assert result.saddle_index == 2  # the middle (climbing) image is the highest
    energies = np.array(result.image_energies_eV)
    assert energies[2] == pytest.approx(result.barrier_eV, abs=0.01)
    assert np.all(np.diff(energies[:3]) > 0) and np.all(np.diff(energies[2:]) < 0)


def test_neb_files_and_cli(li2o_neb, capsys) -> None:
    result, out = li2o_neb
    for key in ("band", "saddle", "profile_png", "result_json"):
        assert (out / result.files[key].split("/")[-1]).is_file()
    saved = json.loads((out / "neb_result.json").read_text())
    assert saved["settings"]["method"] == "improvedtangent" and saved["converged"]
    assert main(["analyze", "neb", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["barrier_eV"] == pytest.approx(result.barrier_eV, abs=1e-9)
    assert {"barrier_eV", "reaction_energy_eV", "files"} <= set(data)


def test_band_checkpoint_resumes_a_band(li2o_neb, tmp_path) -> None:
    """The band is checkpointed; a second call in a folder holding the checkpoint of a
    finished band continues from it (no new band steps) and gives the same barrier."""
    import shutil

    from ase.io import read

    result, out = li2o_neb
    saved = read(out / "band_checkpoint.extxyz", index=":")
    assert len(saved) == 5 and saved[0].info["stage"] == 2
    assert saved[0].info["steps"] == result.optimizer_steps
    shutil.copy(out / "band_checkpoint.extxyz", tmp_path / "band_checkpoint.extxyz")
    s = _li2o()
    initial, final = vacancy_hop_endpoints(s, *_nearest_li_pair(s))
    again = run_neb(initial, final, tmp_path, n_images=3, fmax_eV_per_A=0.05, max_steps=300)
    assert again.optimizer_steps == result.optimizer_steps
    assert again.barrier_eV == pytest.approx(result.barrier_eV, abs=1e-4)


def test_endpoint_builders() -> None:
    s = _li2o()
    i, j = _nearest_li_pair(s)
    initial, final = vacancy_hop_endpoints(s, i, j)
    assert len(initial) == len(final) == len(s) - 1
    from pymatgen.io.ase import AseAtomsAdaptor

    a0, a1 = AseAtomsAdaptor.get_atoms(initial), AseAtomsAdaptor.get_atoms(final)
    k = moving_index(a0, a1)
    assert np.allclose(final[k].frac_coords % 1, s[j].frac_coords % 1)
    o = next(n for n, site in enumerate(s) if site.specie.symbol == "O")
    with pytest.raises(ValueError, match="different species"):
        vacancy_hop_endpoints(s, i, o)
    with pytest.raises(ValueError, match="not a site index"):
        vacancy_hop_endpoints(s, i, 99)
    with pytest.raises(ValueError, match="from another atom"):
        move_endpoints(s, i, s[o].frac_coords)


class _DoubleWell(Calculator):
    """E = H (1 − (x/a)²)² + ½ k (y² + z²) for atom 0, centred at (5, 5, 5) Å."""

    implemented_properties = ("energy", "forces")

    def __init__(self, height_eV: float, half_A: float, k_eV_per_A2: float) -> None:
        super().__init__()
        self.h, self.a, self.k = height_eV, half_A, k_eV_per_A2

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        x, y, z = self.atoms.positions[0] - 5.0
        u = x / self.a
        forces = np.zeros((len(self.atoms), 3))
        forces[0] = [4 * self.h * u * (1 - u * u) / self.a, -self.k * y, -self.k * z]
        energy = self.h * (1 - u * u) ** 2 + 0.5 * self.k * (y * y + z * z)
        self.results = {"energy": energy, "forces": forces}


def test_vineyard_rate_matches_analytic_double_well(tmp_path) -> None:
    from ase import Atoms

    from ssbflow.methods.neb import vineyard_rate

    height, half, k = 0.3, 1.0, 3.0
    calc = _DoubleWell(height, half, k)
    initial = Atoms("Li", positions=[[5.0 - half, 5.0, 5.0]], cell=[10, 10, 10], pbc=True)
    saddle = Atoms("Li", positions=[[5.0, 5.0, 5.0]], cell=[10, 10, 10], pbc=True)
    rate = vineyard_rate(initial, saddle, height, 300.0, [0], calculator=calc,
                         work_dir=tmp_path)
    # ν = sqrt(k/m)/(2π): 1 sqrt(eV/Å²/amu) = 9.8227e13 rad/s; y and z modes cancel
    nu_x_THz = np.sqrt(8 * height / half**2 / 6.94) * 98.227 / (2 * np.pi)
    assert rate.prefactor_THz == pytest.approx(nu_x_THz, rel=0.02)
    kt = 8.617333262e-5 * 300.0
    assert rate.rate_per_s == pytest.approx(nu_x_THz * 1e12 * np.exp(-height / kt), rel=0.02)
    assert rate.hop_length_A == pytest.approx(2 * half)
    assert rate.D_hop_cm2_s == pytest.approx(rate.rate_per_s * (2e-8) ** 2 / 6, rel=1e-9)
    assert min(rate.frequencies_saddle_THz) < 0 < min(rate.frequencies_min_THz)
