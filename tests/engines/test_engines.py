"""Engines with real back ends: CHGNet relaxations/statics/MD and Debian CP2K single points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from jobflow import Flow, run_locally
from pymatgen.core import Lattice, Molecule, Structure
from pymatgen.io.common import VolumetricData

from ssbflow.analysis.charges import parse_cp2k_charges
from ssbflow.engines import get_engine
from ssbflow.engines.base import local_dir
from ssbflow.errors import EngineUnavailableError
from tests.systems import rattled_lif_slab

BOHR_A = 0.529177210903

# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [({"name": "gromacs"}, "engine"), ({"preset": "fastest"}, "preset"),
     ({"mlip_model": "NoSuchNet"}, "mlip_model")],
)
def test_unknown_choice_is_a_value_error_naming_the_parameter(kwargs, parameter):
    with pytest.raises(ValueError, match=parameter) as err:
        get_engine(**kwargs)
    message = str(err.value)
    assert "\n" not in message
    assert "expected one of" in message
    if parameter == "engine":
        assert "mlip" in message and "cp2k" in message and "vasp" in message
    if parameter == "preset":
        assert "fast" in message and "production" in message
    if parameter == "mlip_model":
        assert "CHGNet" in message


def test_cp2k_missing_is_a_one_line_engine_error(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("SSBFLOW_CP2K_EXE", raising=False)
    monkeypatch.delenv("SSBFLOW_CP2K_CMD", raising=False)
    engine = get_engine("cp2k")  # building never looks for CP2K
    with pytest.raises(EngineUnavailableError) as err:
        engine.check_available()
    assert "\n" not in str(err.value)
    assert "CP2K" in str(err.value) and "cp2k.psmp" in str(err.value)


def _water_box() -> Structure:
    water = Molecule(["O", "H", "H"], [[0, 0, 0], [0.757, 0.586, 0], [-0.757, 0.586, 0]])
    return Structure(Lattice.cubic(6.0), water.species, water.cart_coords + 3.0,
                     coords_are_cartesian=True)


def test_cp2k_flow_builds_without_cp2k_and_its_job_fails_in_one_line(
        tmp_path, monkeypatch):
    """A CP2K flow is built where CP2K is missing (a login node); the job says so when it
    runs, in one line naming the executable, before writing any input."""
    from ssbflow.engines.cp2k.engine import SsbflowCp2kStaticMaker

    monkeypatch.setenv("SSBFLOW_CP2K_EXE", "/nonexistent")
    monkeypatch.delenv("SSBFLOW_CP2K_CMD", raising=False)
    engine = get_engine("cp2k", preset="fast", threads=1)
    box = _water_box()
    jobs = [engine.static_maker().make(box), engine.electronic_maker(slab=True).make(box),
            engine.relax_maker().make(box),
            engine.md_maker(temperature_K=300, n_steps=2, timestep_fs=0.5).make(box)]
    assert Flow(jobs).jobs  # the flow exists
    assert engine.settings()["cp2k_version"] is None
    monkeypatch.chdir(tmp_path)
    maker = engine.static_maker()
    with pytest.raises(EngineUnavailableError) as err:
        SsbflowCp2kStaticMaker.make.original(maker, box)
    message = str(err.value)
    assert "\n" not in message and "/nonexistent" in message and "SSBFLOW_CP2K_EXE" in message
    assert list(tmp_path.iterdir()) == []


def test_model_without_its_package_says_what_to_install():
    pytest.importorskip("chgnet")
    try:
        import mace  # noqa: F401
    except ImportError:
        with pytest.raises(EngineUnavailableError, match=r"mace-torch.*weights"):
            get_engine(mlip_model="MACE-MP-0")
    else:  # pragma: no cover - only where MACE is installed
        pytest.skip("mace is installed here")


def test_mlip_has_no_electronic_maker():
    with pytest.raises(ValueError, match="cp2k or vasp"):
        get_engine().electronic_maker(slab=True)


def test_mlip_device_reaches_the_calculator():
    maker = get_engine("mlip", device="cpu").static_maker()
    calculator = maker._get_calculator()
    assert str(calculator.device) == "cpu"


def test_mlip_settings_record_model_version_and_device():
    settings = get_engine(device="cpu").settings()
    assert settings["model"] == "CHGNet"
    assert settings["package"] == "chgnet"
    assert settings["package_version"]
    assert settings["model_version"]
    assert settings["device"] == "cpu"


# ----------------------------------------------------------------------------- CHGNet


@pytest.fixture(scope="module")
def chgnet_runs(tmp_path_factory):
    """One CHGNet relaxation (fmax 0.05 eV/Å) and one static of the same rattled slab."""
    slab, fixed = rattled_lif_slab()
    engine = get_engine("mlip", device="cpu")
    relax = engine.relax_maker(relax_cell=False, fmax_eV_per_A=0.05, max_steps=300).make(slab)
    static = engine.static_maker().make(slab)
    out = run_locally(Flow([relax, static]), root_dir=tmp_path_factory.mktemp("chgnet"),
                      ensure_success=True, log=False)
    return slab, fixed, out[relax.uuid][1].output, out[static.uuid][1].output


def test_chgnet_relax_lowers_energy_and_converges_forces(chgnet_runs):
    _, fixed, relaxed, static = chgnet_runs
    assert relaxed.output.energy < static.output.energy - 0.01
    forces = np.linalg.norm(np.asarray(relaxed.output.forces), axis=1)
    assert forces[~fixed].max() < 0.05
    assert relaxed.is_force_converged


def test_chgnet_relax_keeps_fixed_atoms_in_place(chgnet_runs):
    slab, fixed, relaxed, _ = chgnet_runs
    moved = np.linalg.norm(relaxed.structure.cart_coords - slab.cart_coords, axis=1)
    assert moved[fixed].max() < 1e-8
    assert moved[~fixed].max() > 0.02  # the free atoms did relax
    # the final structure still carries the constraints for the next step
    sd = relaxed.structure.site_properties["selective_dynamics"]
    assert [not any(f) for f in sd] == list(fixed)


def test_chgnet_static_equals_direct_prediction(chgnet_runs):
    from chgnet.model import CHGNet

    slab, _, _, static = chgnet_runs
    prediction = CHGNet.load(use_device="cpu", verbose=False).predict_structure(slab)
    assert static.output.energy == pytest.approx(float(prediction["e"]) * len(slab), abs=2e-3)


def test_chgnet_md_runs_the_requested_steps(tmp_path):
    slab, _ = rattled_lif_slab()
    maker = get_engine(device="cpu").md_maker(temperature_K=300, n_steps=6, timestep_fs=1.0)
    job = maker.make(slab)
    doc = run_locally(job, root_dir=tmp_path, ensure_success=True, log=False)[job.uuid][1].output
    assert np.isfinite(doc.output.energy)
    assert doc.output.n_steps == 7  # initial frame + 6 steps
    trajectory = next(iter(doc.objects.values()))
    assert len(trajectory) == 7
    assert not np.allclose(trajectory[-1].cart_coords, slab.cart_coords)  # atoms moved


# ----------------------------------------------------------------------------- CP2K


@pytest.fixture(scope="module")
def cp2k_water(tmp_path_factory, cp2k_exe):
    """Static and electronic CP2K (fast preset) single points of H2O in a 6 Å box."""
    water = Molecule(["O", "H", "H"], [[0, 0, 0], [0.757, 0.586, 0], [-0.757, 0.586, 0]])
    box = Structure(Lattice.cubic(6.0), water.species, water.cart_coords + 3.0,
                    coords_are_cartesian=True)
    engine = get_engine("cp2k", preset="fast", threads=1)
    static = engine.static_maker().make(box)
    electronic = engine.electronic_maker(slab=False).make(box)
    out = run_locally(Flow([static, electronic]), root_dir=tmp_path_factory.mktemp("cp2k"),
                      ensure_success=True, log=False)
    return box, out[static.uuid][1].output, out[electronic.uuid][1].output


@pytest.mark.cp2k
def test_cp2k_static_energy_is_physical(cp2k_water):
    _, static, electronic = cp2k_water
    energy = static.output.energy
    assert np.isfinite(energy)
    # H2O valence energy with GTH-PBE pseudopotentials is about -17.1 Ha = -466 eV
    assert -480.0 < energy < -450.0
    # printing cubes and charges does not change the physics
    assert electronic.output.energy == pytest.approx(energy, abs=1e-4)
    assert [s.symbol for s in electronic.structure.species] == ["O", "H", "H"]


@pytest.mark.cp2k
def test_cp2k_electronic_writes_cubes_that_hold_the_valence_electrons(cp2k_water):
    _, _, electronic = cp2k_water
    run = local_dir(electronic.dir_name)
    density = list(run.glob("*ELECTRON_DENSITY*.cube"))
    elf = list(run.glob("*ELF*.cube"))
    hartree = list(run.glob("*hartree*.cube"))
    assert density and elf and hartree
    rho = VolumetricData.from_cube(str(density[0]))
    # cube: e/Bohr^3, voxel volume in Bohr^3 -> 8 valence electrons (O 6 + 2 H 1)
    voxel_bohr3 = rho.structure.volume / BOHR_A**3 / rho.data["total"].size
    assert float(rho.data["total"].sum() * voxel_bohr3) == pytest.approx(8.0, abs=0.1)
    elf_values = VolumetricData.from_cube(str(elf[0])).data["total"]
    assert elf_values.min() >= -1e-6 and elf_values.max() <= 1.0 + 1e-6
    assert elf_values.max() > 0.9  # lone pairs / O-H bonds are strongly localised


@pytest.mark.cp2k
def test_cp2k_electronic_charges_have_water_polarity(cp2k_water):
    _, _, electronic = cp2k_water
    output = Path(local_dir(electronic.dir_name)) / "cp2k.out"  # or cp2k.out.gz
    for method in ("mulliken", "hirshfeld"):
        o, h1, h2 = parse_cp2k_charges(output, method).charges_e
        assert o < -0.2 and h1 > 0.1 and h2 > 0.1
        assert h1 == pytest.approx(h2, abs=1e-3)  # symmetric molecule
        assert o + h1 + h2 == pytest.approx(0.0, abs=2e-3)  # neutral


@pytest.mark.cp2k
def test_cp2k_slab_dipole_correction_gives_flat_vacuum_levels_with_the_dipole_step(
        tmp_path, cp2k_exe):
    """H2O with its dipole along z, ``slab=True``: the surface dipole correction makes the
    plane-averaged potential flat on both sides, with a step ΔV = p/(ε0 A) set by the
    molecular dipole (PBE ≈ 1.8 D; 4π·14.40 eV·Å·p/A ≈ 2.7 eV for A = 25 Å²). It also pins
    the sign of CP2K's V_HARTREE cube: it holds the electron's potential energy (−φ), so
    the cube is higher on the O (negative) side."""
    water = Molecule(["O", "H", "H"], [[0, 0, 0], [0.757, 0, 0.586], [-0.757, 0, 0.586]])
    z_mol = 4.5
    box = Structure(Lattice.orthorhombic(5.0, 5.0, 9.0), water.species,
                    water.cart_coords + np.array([2.5, 2.5, z_mol]), coords_are_cartesian=True)
    job = get_engine("cp2k", threads=1).electronic_maker(slab=True).make(box)
    doc = run_locally(job, root_dir=tmp_path, ensure_success=True, log=False)[job.uuid][1].output
    cube = next(local_dir(doc.dir_name).glob("*hartree*.cube"))
    potential = VolumetricData.from_cube(str(cube))
    profile_eV = potential.data["total"].mean(axis=(0, 1)) * 27.211386
    z = np.arange(profile_eV.size) * 9.0 / profile_eV.size
    below = profile_eV[(z > z_mol - 3.0) & (z < z_mol - 2.0)]  # O side (−z)
    above = profile_eV[(z > z_mol + 2.6) & (z < z_mol + 3.6)]  # H side (+z)
    assert np.ptp(below) < 0.05 and np.ptp(above) < 0.05
    step_eV = below.mean() - above.mean()
    assert 1.8 < step_eV < 4.5


def test_cp2k_threads_are_decided_where_the_job_runs(monkeypatch) -> None:
    """A flow built with the default engine carries no thread count: each job reads
    $SSBFLOW_CP2K_THREADS when it starts (a --workers process sets its share there)."""
    from ssbflow.engines.cp2k.engine import cp2k_command

    monkeypatch.delenv("SSBFLOW_CP2K_CMD", raising=False)
    engine = get_engine("cp2k", preset="fast")
    maker = engine.static_maker()
    assert engine.threads is None and maker.cp2k_threads is None
    monkeypatch.setenv("SSBFLOW_CP2K_THREADS", "1")
    assert "env OMP_NUM_THREADS=1 " in cp2k_command(maker.cp2k_threads)
    monkeypatch.setenv("SSBFLOW_CP2K_THREADS", "3")
    assert "env OMP_NUM_THREADS=3 " in cp2k_command(maker.cp2k_threads)
