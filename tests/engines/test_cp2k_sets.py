"""CP2K inputs written by ssbflow's generators (no CP2K run; the runs are in test_engines)."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.cp2k.inputs import Cp2kInput

from ssbflow.engines.cp2k import sets as ci
from ssbflow.errors import EngineUnavailableError
from tests.conftest import need


@pytest.fixture(autouse=True)
def _need_cp2k_data():
    try:
        ci.cp2k_data_dir()
    except EngineUnavailableError as err:
        need(False, f"CP2K data files ({err})")


def _llzo_like(n_fu: int = 1, vacuum_A: float = 0.0) -> Structure:
    """Li7La3Zr2O12 composition on a simple grid (input generation only, not a real garnet)."""
    species = (["Li"] * 7 + ["La"] * 3 + ["Zr"] * 2 + ["O"] * 12) * n_fu
    n = len(species)
    side = int(np.ceil(n ** (1 / 3)))
    grid = np.array([(i, j, k) for i in range(side) for j in range(side) for k in range(side)])
    coords = grid[:n] * 2.2 + 1.0
    c = side * 2.2 + vacuum_A
    return Structure(Lattice.orthorhombic(side * 2.2, side * 2.2, c), species, coords,
                     coords_are_cartesian=True)


def _input(kind: str, structure: Structure, preset: str = "fast", **kwargs) -> Cp2kInput:
    return ci.make_generator(kind, preset, **kwargs).get_input_set(structure).cp2k_input


def test_every_element_gets_named_basis_and_one_potential_file(tmp_path):
    structure = _llzo_like()
    iset = ci.make_generator("static", "fast").get_input_set(structure)
    iset.write_input(tmp_path)
    text = (tmp_path / "cp2k.inp").read_text()
    kinds = {k.split("\n")[0].split()[0]: k for k in text.split("&KIND ")[1:]}
    assert {name.split("_")[0] for name in kinds} == {"Li", "La", "Zr", "O"}
    for block in kinds.values():
        assert "BASIS_SET " in block and "POTENTIAL GTH-PBE-q" in block
    la = next(b for name, b in kinds.items() if name.startswith("La"))
    assert "DZVP-MOLOPT-SR-GTH" in la and "GTH-PBE-q11" in la  # no SZV exists for La
    li = next(b for name, b in kinds.items() if name.startswith("Li"))
    assert "SZV-MOLOPT-SR-GTH" in li and "GTH-PBE-q3" in li
    assert text.count("POTENTIAL_FILE_NAME") == 1
    assert "POTENTIAL_FILE_NAME POTENTIAL" in text
    # the run folder holds the definitions CP2K will read
    potential = (tmp_path / "POTENTIAL").read_text()
    basis = (tmp_path / "BASIS").read_text()
    assert "La GTH-PBE-q11" in potential
    assert "La DZVP-MOLOPT-SR-GTH" in basis


def test_fast_and_production_presets_differ_as_documented():
    structure = _llzo_like()
    fast = _input("static", structure, "fast")
    prod = _input("static", structure, "production")
    assert fast["FORCE_EVAL"]["DFT"]["MGRID"]["CUTOFF"].values[0] == 300
    assert prod["FORCE_EVAL"]["DFT"]["MGRID"]["CUTOFF"].values[0] >= 500
    assert "DZVP-MOLOPT-SR-GTH" in prod.get_str() and "SZV-MOLOPT-SR-GTH" not in prod.get_str()
    reductions = ci.CP2K_PRESETS["fast"].reductions()
    assert any("basis" in r for r in reductions)
    assert any("cutoff" in r for r in reductions)
    assert any("Gamma" in r for r in reductions)
    assert ci.CP2K_PRESETS["production"].reductions() == []


def test_closed_shells_run_restricted_open_shells_unrestricted():
    llzo = _llzo_like()
    assert ci.n_valence_electrons(llzo, ci.CP2K_PRESETS["fast"]) == 7 * 3 + 3 * 11 + 2 * 12 + 72
    assert _input("static", llzo)["FORCE_EVAL"]["DFT"]["UKS"].values[0] is False
    lone_li = Structure(Lattice.cubic(8.0), ["Li"], [[0.5, 0.5, 0.5]])
    assert _input("static", lone_li)["FORCE_EVAL"]["DFT"]["UKS"].values[0] is True
    lco = Structure(Lattice.hexagonal(2.82, 14.05), ["Li", "Co", "O", "O"],
                    [[0, 0, 0.5], [0, 0, 0], [0, 0, 0.26], [0, 0, 0.74]])
    assert _input("static", lco)["FORCE_EVAL"]["DFT"]["UKS"].values[0] is True


def test_slab_electronic_run_prints_cubes_charges_and_dipole_correction():
    slab = _llzo_like(vacuum_A=12.0)
    assert ci.looks_like_slab(slab)
    text = _input("electronic", slab, slab=True).get_str()
    for key in ("E_DENSITY_CUBE", "ELF_CUBE", "V_HARTREE_CUBE", "MULLIKEN", "HIRSHFELD"):
        assert f"&{key}" in text
    assert "SHAPE_FUNCTION DENSITY" in text
    assert "STRIDE 2 2 2" in text
    assert "SURFACE_DIPOLE_CORRECTION True" in text and "SURF_DIP_DIR Z" in text
    bulk_text = _input("electronic", _llzo_like(), slab=False).get_str()
    assert "SURFACE_DIPOLE_CORRECTION" not in bulk_text
    assert "&ELF_CUBE" in bulk_text
    plain = _input("static", slab).get_str()
    assert "&E_DENSITY_CUBE" not in plain and "SURFACE_DIPOLE_CORRECTION" not in plain


def test_dispersion_is_d3bj_with_cp2k_parameter_file():
    text = _input("static", _llzo_like()).get_str()
    assert "DFTD3(BJ)" in text and "REFERENCE_FUNCTIONAL PBE" in text
    path = next(line.split()[-1] for line in text.splitlines() if "PARAMETER_FILE_NAME" in line)
    assert path.endswith("dftd3.dat")
    assert (ci.cp2k_data_dir() / "dftd3.dat").is_file()
    assert "VDW_POTENTIAL" not in _input("static", _llzo_like(), dispersion=False).get_str()


def test_selective_dynamics_become_fixed_atoms_and_site_order_is_kept():
    slab = _llzo_like(vacuum_A=12.0)
    z = slab.cart_coords[:, 2]
    fixed = z < z.min() + 0.5
    slab.add_site_property("selective_dynamics", [[not f] * 3 for f in fixed])
    cp2k_input = _input("relax", slab)
    text = cp2k_input.get_str()
    assert "RUN_TYPE GEO_OPT" in text
    lists = [line.split()[-1] for line in text.splitlines() if line.strip().startswith("LIST")]
    fixed_1based = set()
    for item in lists:
        start, end = (int(x) for x in item.split(".."))
        fixed_1based.update(range(start, end + 1))
    assert fixed_1based == {i + 1 for i in np.flatnonzero(fixed)}
    assert "COMPONENTS_TO_FIX XYZ" in text
    # coordinates are written in the input order (indices of results match the input)
    coord = cp2k_input["FORCE_EVAL"]["SUBSYS"]["COORD"].get_str().splitlines()[1:-1]
    assert [line.split()[0].split("_")[0] for line in coord] == [s.symbol for s in slab.species]


def test_relax_force_criterion_is_converted_to_atomic_units():
    cp2k_input = _input("relax", _llzo_like(), fmax_eV_per_A=0.05, max_steps=77)
    geo = cp2k_input["MOTION"]["GEO_OPT"]
    # 0.05 eV/Å = 9.72e-4 Hartree/Bohr
    assert geo["MAX_FORCE"].values[0] == pytest.approx(0.05 / 51.422, rel=1e-3)
    assert geo["MAX_ITER"].values[0] == 77


def test_production_slab_kpoints_have_one_point_along_the_normal():
    slab = _llzo_like(vacuum_A=12.0)
    cp2k_input = _input("static", slab, "production")
    scheme = cp2k_input["FORCE_EVAL"]["DFT"]["KPOINTS"]["SCHEME"].values[0].split()
    assert scheme[0] == "MONKHORST-PACK" and scheme[3] == "1" and int(scheme[1]) > 1
    # k-points need diagonalisation with smearing and a finite number of added orbitals
    scf = cp2k_input["FORCE_EVAL"]["DFT"]["SCF"]
    assert scf.check("SMEAR") and 0 < scf["ADDED_MOS"].values[0] < 200
    assert "&KPOINTS" not in _input("static", slab, "fast").get_str()  # fast: Gamma point


def test_unknown_preset_or_kind_is_a_value_error():
    with pytest.raises(ValueError, match="preset"):
        ci.make_generator("static", "ultra")
    with pytest.raises(ValueError, match="kind"):
        ci.make_generator("phonons", "fast")


def test_missing_basis_names_the_element():
    with pytest.raises(ValueError, match="element La"):
        ci.basis_and_potential({"La"}, ci.CP2K_PRESETS["fast"], {"La": "SZV-MOLOPT-SR-GTH"})


def test_md_input_runs_nvt_at_the_requested_temperature():
    cp2k_input = _input("md", _llzo_like(), temperature_K=650.0, n_steps=40, timestep_fs=0.5)
    md = cp2k_input["MOTION"]["MD"]
    assert cp2k_input["GLOBAL"]["RUN_TYPE"].values[0] == "MD"
    assert md["ENSEMBLE"].values[0] == "NVT"
    assert md["TEMPERATURE"].values[0] == 650.0
    assert md["STEPS"].values[0] == 40
    assert md["TIMESTEP"].values[0] == 0.5
    assert "&E_DENSITY_CUBE" not in cp2k_input.get_str()  # no cubes every MD step
