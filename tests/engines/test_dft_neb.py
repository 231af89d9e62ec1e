"""NEB with the DFT engines: a real CP2K CI-NEB of H + H2 → H2 + H, and VASP NEB inputs.

CP2K system: collinear H3 in a 6 × 3.5 × 3.5 Å cell, PBE+D3(BJ), SZV-MOLOPT-SR-GTH (the
``fast`` preset's basis), 150 Ry cutoff (reduced from the preset's 300 Ry to keep the
band cheap; recorded as a reduction), UKS doublet. Fixed endpoints H···H–H with
H···H = 1.6 Å and H–H = 0.75 Å and their mirror image; 3 moving images (IDPP); one MPI
rank per replica.
"""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.vasp.inputs import Incar, Poscar

from ssbflow.cli import main
from ssbflow.engines.cp2k import sets as cp2k_inputs
from ssbflow.engines.cp2k.neb import (
    HA_PER_BOHR_EV_PER_A,
    Cp2kNebSettings,
    cp2k_neb_input_set,
    relax_endpoint_cp2k,
)
from ssbflow.engines.neb import idpp_images
from ssbflow.engines.vasp.neb import write_vasp_neb_inputs
from ssbflow.errors import EngineUnavailableError
from ssbflow.methods.neb import run_neb, vacancy_hop_endpoints

_CELL = Lattice.orthorhombic(6.0, 3.5, 3.5)
_CUTOFF_RY = 150.0
_FMAX = 0.1


def _h3(r_left_A: float, r_right_A: float) -> Structure:
    """Collinear H–H–H along x, middle atom at the cell centre (mirror plane x = 3 Å)."""
    x, y, z = 3.0, 1.75, 1.75
    return Structure(_CELL, ["H", "H", "H"],
                     [[x - r_left_A, y, z], [x, y, z], [x + r_right_A, y, z]],
                     coords_are_cartesian=True)


@pytest.fixture(scope="module")
def h3_band(tmp_path_factory, cp2k_exe):
    """The band through ssbflow's NEB entry point: IDPP (3 moving images) + CP2K &BAND,
    endpoints kept as given (they are not minima here: fixed NEB endpoints), one MPI rank
    per replica (the default; mpirun comes with Debian's cp2k)."""
    out = tmp_path_factory.mktemp("cp2k_neb")
    result = run_neb(_h3(1.6, 0.75), _h3(0.75, 1.6), out, n_images=3, fmax_eV_per_A=_FMAX,
                     max_steps=40, relax_endpoints=False, engine="cp2k", label="H + H2",
                     engine_options={"preset": "fast", "cutoff_Ry": _CUTOFF_RY})
    return result, out


@pytest.mark.cp2k
def test_h3_exchange_barrier_is_positive_symmetric_with_climbing_image_on_top(h3_band):
    result, out = h3_band
    assert result.converged
    energies = np.array(result.image_energies_eV)
    assert result.barrier_eV > 0.05
    # the endpoints are mirror images through a plane that maps the FFT grid onto itself:
    # equal energies up to SCF noise (EPS_SCF 1e-5 → ~1e-6 Ha)
    assert abs(result.reaction_energy_eV) < 2e-3
    assert result.saddle_index == 2  # the climbing (middle) image is the highest
    assert np.all(np.diff(energies[:3]) > 0) and np.all(np.diff(energies[2:]) < 0)
    # the band is symmetric too (images 1 and 3 are mirror images)
    assert energies[1] == pytest.approx(energies[3], abs=5e-3)
    # GGA barriers of H + H2 lie below the exact 0.42 eV (9.6 kcal/mol): Kohn–Sham GGAs
    # underestimate it (Johnson, Gonzales, Gill, Pople, Chem. Phys. Lett. 221, 100 (1994))
    assert result.barrier_eV < 0.42
    # the climbing image is the symmetric H3 saddle: equal bonds, about 0.93 Å (exact
    # surface 0.930 Å; GGAs within a few hundredths)
    saddle = json.loads((out / "neb_result.json").read_text())
    assert saddle["settings"]["band_type"] == "CI-NEB"
    from ase.io import read

    ci = read(out / "saddle.extxyz")
    r12, r23 = ci.get_distance(0, 1), ci.get_distance(1, 2)
    assert r12 == pytest.approx(r23, abs=0.01)
    assert 0.88 < r12 < 0.98


@pytest.mark.cp2k
def test_h3_barrier_matches_an_independent_geometry_optimisation_of_the_saddle(
        h3_band, tmp_path):
    """The symmetric H3 saddle is a minimum in the symmetric subspace, so a CP2K GEO_OPT
    started from a symmetric geometry (middle atom fixed) finds it without any band.
    E(saddle) − E(endpoint) must equal the NEB barrier. Tolerance 5 meV: with residual
    forces ≤ 0.1 eV/Å on the climbing image and a symmetric-stretch force constant of a
    few eV/Å², the energy error is F²/2k ≲ 1 meV; SCF noise is ~1e-6 Ha."""
    result, out = h3_band
    start = _h3(1.0, 1.0)
    start.add_site_property("selective_dynamics",
                            [[True, False, False], [False, False, False], [True, False, False]])
    relaxed = relax_endpoint_cp2k(start, tmp_path / "saddle_opt", fmax_eV_per_A=0.05,
                                  cutoff_Ry=_CUTOFF_RY)
    from ase.io import read

    e_initial = read(out / "initial.extxyz").get_potential_energy()
    reference_eV = relaxed.properties["energy_eV"] - e_initial
    assert relaxed.properties["geo_opt_steps"] >= 1
    assert result.image_energies_eV[2] == pytest.approx(reference_eV, abs=5e-3)
    assert result.barrier_eV == pytest.approx(reference_eV, abs=5e-3)
    # the optimisation moved the outer atoms, kept the middle one fixed and the symmetry
    assert relaxed[1].coords == pytest.approx(start[1].coords, abs=1e-6)
    d_left = relaxed.get_distance(0, 1)
    assert d_left == pytest.approx(relaxed.get_distance(1, 2), abs=0.005)
    assert d_left < 0.98


@pytest.mark.cp2k
def test_cp2k_band_folder_is_read_by_analyze_neb(h3_band, capsys):
    result, out = h3_band
    for key in ("band", "saddle", "profile_png", "result_json", "initial", "final"):
        assert (out / result.files[key].split("/")[-1]).is_file(), key
    saved = json.loads((out / "neb_result.json").read_text())
    assert saved["engine_settings"]["engine"] == "cp2k"
    assert any("150 Ry" in r for r in saved["engine_settings"]["reductions"])
    assert saved["scf_steps_total"] > 0 and saved["optimizer_steps"] >= 1
    if shutil.which("mpirun"):
        assert "mpirun -np 5" in saved["engine_settings"]["cp2k_cmd"]
    assert main(["analyze", "neb", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["barrier_eV"] == pytest.approx(result.barrier_eV, abs=1e-9)
    assert data["converged"] is True


def test_cp2k_band_input_reuses_the_force_eval_of_the_relaxation(tmp_path):
    images = idpp_images(_h3(1.6, 0.75), _h3(0.75, 1.6), n_images=3)
    for image in images:  # constraints must reach the band
        image.add_site_property("selective_dynamics", [[True] * 3, [False] * 3, [True] * 3])
    settings = Cp2kNebSettings(fmax_eV_per_A=0.05, max_steps=50)
    cp2k_input = cp2k_neb_input_set(images, settings).cp2k_input
    assert cp2k_input["GLOBAL"]["RUN_TYPE"].values[0] == "BAND"
    band = cp2k_input["MOTION"]["BAND"]
    assert band["BAND_TYPE"].values[0] == "CI-NEB"
    assert band["NUMBER_OF_REPLICA"].values[0] == 5
    assert len(band["REPLICA"]) == 5
    # 0.05 eV/Å = 9.72e-4 Hartree/Bohr
    max_force = band["CONVERGENCE_CONTROL"]["MAX_FORCE"].values[0]
    assert max_force == pytest.approx(0.05 / 51.422, rel=1e-3)
    assert HA_PER_BOHR_EV_PER_A == pytest.approx(51.422, rel=1e-4)
    assert band["OPTIMIZE_BAND"]["DIIS"]["MAX_STEPS"].values[0] == 50
    assert not band["ROTATE_FRAMES"].values[0]  # periodic cells are never rotated
    text = cp2k_input.get_str()
    assert re.search(r"&FIXED_ATOMS\s+COMPONENTS_TO_FIX XYZ\s+LIST 2\.\.2\s", text)
    assert cp2k_input["MOTION"].get("GEO_OPT") is None
    # the DFT part is the one every other ssbflow CP2K job gets (basis, potential, spin)
    static = cp2k_inputs.make_generator("static", "fast").get_input_set(images[0]).cp2k_input
    kinds = re.findall(r"&KIND.*?&END KIND", text, re.S)
    assert kinds and kinds == re.findall(r"&KIND.*?&END KIND", static.get_str(), re.S)
    assert "BASIS_SET SZV-MOLOPT-SR-GTH" in kinds[0] and "POTENTIAL GTH-PBE-q1" in kinds[0]
    dft, static_dft = cp2k_input["FORCE_EVAL"]["DFT"], static["FORCE_EVAL"]["DFT"]
    assert dft["UKS"].values[0] is True  # 3 electrons: unrestricted, as for every job
    assert dft["MGRID"]["CUTOFF"].values == static_dft["MGRID"]["CUTOFF"].values
    assert dft["XC"]["VDW_POTENTIAL"]["PAIR_POTENTIAL"]["TYPE"].values[0] == "DFTD3(BJ)"


def test_idpp_band_is_continuous_across_the_cell_boundary():
    """A hop across the periodic boundary: CP2K needs unwrapped, continuous replicas."""
    lattice = Lattice.cubic(5.0)
    a = Structure(lattice, ["Li", "F"], [[0.95, 0.5, 0.5], [0.5, 0.0, 0.0]])
    b = Structure(lattice, ["Li", "F"], [[0.15, 0.5, 0.5], [0.5, 0.0, 0.0]])
    band = idpp_images(a, b, 3)
    steps = [np.linalg.norm(band[k + 1][0].coords - band[k][0].coords) for k in range(4)]
    assert sum(steps) == pytest.approx(1.0, abs=1e-6)  # 0.2 lattice vectors, not 0.8
    assert max(steps) < 0.3


def test_run_neb_dispatches_to_the_dft_engines(tmp_path):
    s = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.63), ["Li", "O"],
                                  [[0.25, 0.25, 0.25], [0, 0, 0]])
    initial, final = vacancy_hop_endpoints(s, 0, 1)
    with pytest.raises(EngineUnavailableError, match="VASP NEB inputs written to"):
        run_neb(initial, final, tmp_path, n_images=3, engine="vasp")
    assert sorted(p.name for p in (tmp_path / "vasp_neb").iterdir() if p.is_dir()) == [
        "00", "01", "02", "03", "04"]
    with pytest.raises(ValueError, match="engine 'qe'"):
        run_neb(initial, final, tmp_path, engine="qe")
    with pytest.raises(ValueError, match="unknown cp2k NEB option"):
        run_neb(initial, final, tmp_path, engine="cp2k", engine_options={"kpoints": 3})


# ----------------------------------------------------------------------------- VASP


def _licoo2_hop() -> tuple[Structure, Structure]:
    bulk = Structure(Lattice.hexagonal(2.82, 14.05), ["Li", "Co", "O", "O"],
                     [[0, 0, 0.5], [0, 0, 0], [0, 0, 0.26], [0, 0, 0.74]])
    cell = bulk * (3, 3, 1)
    li = [i for i, site in enumerate(cell) if site.specie.symbol == "Li"]
    j = min(li[1:], key=lambda k: cell.get_distance(li[0], k))
    return vacancy_hop_endpoints(cell, li[0], j)


def test_vasp_neb_inputs_for_a_li_hop_in_licoo2(tmp_path):
    initial, final = _licoo2_hop()
    images = idpp_images(initial, final, 3)
    out = write_vasp_neb_inputs(images, tmp_path / "neb")
    incar = Incar.from_file(out / "INCAR")
    assert incar["IMAGES"] == 3
    assert incar["LCLIMB"] is True and incar["IBRION"] == 3
    assert incar["SPRING"] == -5
    assert incar["IVDW"] == 12 and incar["GGA"].upper() == "PE"
    assert incar["ISPIN"] == 2 and incar["LDAU"] is True  # Co: MP GGA+U, spin polarised
    assert incar["EDIFFG"] == pytest.approx(-0.05) and incar["EDIFF"] <= 1e-6
    assert not incar.get("LAECHG", False) and not incar.get("LVTOT", False)
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == ["00", "01", "02", "03", "04"]
    spec = (out / "POTCAR.spec").read_text().split()
    n_atoms = len(initial)
    positions = []
    for name in folders:
        poscar = Poscar.from_file(out / name / "POSCAR")
        assert len(poscar.structure) == n_atoms
        # one POTCAR block per element, in POSCAR order
        assert [s.split("_")[0] for s in spec] == poscar.site_symbols
        assert (out / name / "KPOINTS").is_file()
        positions.append(poscar.structure.cart_coords)
    # the sorted images still describe the hop: one Li moves, by half the hop at 02
    moved = np.linalg.norm(positions[4] - positions[0], axis=1)
    k = int(np.argmax(moved))
    assert moved[k] == pytest.approx(2.82, abs=0.05)  # Li–Li in-plane distance = a
    assert np.sort(moved)[-2] < 1e-6  # the endpoints differ by the moving Li only
    half = np.linalg.norm(positions[2][k] - positions[0][k])
    assert half == pytest.approx(moved[k] / 2, abs=0.1)


def test_vasp_neb_inputs_without_transition_metals_are_spin_restricted(tmp_path):
    s = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.63), ["Li", "O"],
                                  [[0.25, 0.25, 0.25], [0, 0, 0]])
    initial, final = vacancy_hop_endpoints(s, 0, 1)
    out = write_vasp_neb_inputs(idpp_images(initial, final, 1), tmp_path / "neb", climb=False)
    incar = Incar.from_file(out / "INCAR")
    assert incar["IMAGES"] == 1
    assert incar["ISPIN"] == 1 and not incar.get("LDAU", False)
    assert "LCLIMB" not in incar
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["00", "01", "02"]
    assert (out / "POTCAR.spec").read_text().split() == ["Li_sv", "O"]
