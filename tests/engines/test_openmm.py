"""OpenMM engine: GAFF2 parameters from SMILES (AmberTools), the cache, Li+, FSI-, platform,
and a packmol box turned into an OpenMM system."""

from __future__ import annotations

import numpy as np
import pytest

from ssbflow.engines.openmm import box, parameters, platform
from ssbflow.errors import InputError

FSI = "FS(=O)(=O)[N-]S(=O)(=O)F"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("ffcache")


def test_fsi_is_symmetric_with_gaffs_own_s_n_torsion(cache) -> None:
    p = parameters.parameterize(FSI, cache)
    types, charges = p["types"], np.asarray(p["charges_e"])
    s_atoms = [i for i, t in enumerate(types) if t.startswith("s")]
    assert len(s_atoms) == 2 and types[s_atoms[0]] == types[s_atoms[1]] == "sy"
    assert charges[s_atoms[0]] == pytest.approx(charges[s_atoms[1]], abs=1e-6)
    f_atoms = [i for i, t in enumerate(types) if t == "f"]
    assert charges[f_atoms[0]] == pytest.approx(charges[f_atoms[1]], abs=1e-6)
    assert charges.sum() == pytest.approx(-1.0, abs=1e-3)
    # antechamber alone types the two S differently (s6/sy) with unequal charges
    assert p["retyped_atoms"] and p["charge_shift_max_e"] > 0.01
    # no S-N torsion is borrowed by parmchk2: every dihedral is GAFF2's own
    assert not [t for t in p["borrowed_terms"] if t["term"].count("-") == 3]


def test_parameters_are_made_once_per_canonical_smiles(cache, monkeypatch) -> None:
    first = parameters.parameterize("N#CC", cache)
    calls = []
    monkeypatch.setattr(parameters, "_parameterize_molecule",
                        lambda *a, **k: calls.append(a))
    again = parameters.parameterize("CC#N", cache)  # same molecule, other SMILES
    assert calls == [] and again["cached"] and again["smiles"] == first["smiles"] == "CC#N"
    assert again["charges_e"] == first["charges_e"]
    monkeypatch.setenv("SSBFLOW_FF_CACHE", str(cache / "env"))
    assert parameters.default_cache_dir() == cache / "env"


def test_li_is_the_joung_cheatham_ion(cache) -> None:
    import parmed

    p = parameters.parameterize("[Li+]", cache)
    (atom,) = parmed.load_file(p["prmtop"]).atoms
    assert atom.charge == pytest.approx(1.0)
    assert atom.rmin == pytest.approx(1.025, abs=1e-3)
    assert atom.epsilon == pytest.approx(0.0279896, abs=1e-6)


def test_bad_smiles_names_itself() -> None:
    with pytest.raises(InputError, match="not-a-smiles"):
        parameters.canonical_smiles("not-a-smiles")


def test_platform_is_the_first_that_works_and_is_recorded() -> None:
    plat, props = platform.select_platform()
    record = platform.platform_record(plat, props)
    assert record["platform_order"] == ["CUDA", "OpenCL", "CPU"]
    assert record["platform"] in ("CUDA", "OpenCL", "CPU")
    with pytest.raises(InputError, match="platform"):
        platform.select_platform("Metal")


def test_openmm_default_platform_variable_is_honoured(monkeypatch) -> None:
    monkeypatch.setenv("OPENMM_DEFAULT_PLATFORM", "Reference")
    plat, _ = platform.select_platform()
    assert plat.getName() == "Reference"  # not the first of CUDA > OpenCL > CPU
    monkeypatch.setenv("OPENMM_DEFAULT_PLATFORM", "Metal")
    with pytest.raises(InputError, match=r"\$OPENMM_DEFAULT_PLATFORM 'Metal'"):
        platform.select_platform()


def test_lifsi_box_system_scales_ion_charges_and_repartitions_h(cache, tmp_path) -> None:
    import openmm

    comps = [("CC#N", 20), ("[Li+]", 2), (FSI, 2)]
    params = box.component_parameters(comps, cache)
    pos, length = box.pack_box(comps, params, tmp_path, density_g_cm3=0.5)
    assert pos.shape == (20 * 6 + 2 + 2 * 9, 3)
    assert np.all(pos.min(axis=0) > -1.0) and np.all(pos.max(axis=0) < length + 1.0)
    structure, molecules = box.combined_structure(comps, params, ion_charge_scale=0.8)
    assert len(molecules) == 24
    system = box.create_system(structure, 2.2 * length, cutoff_nm=1.0)
    nb = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    q = np.array([nb.getParticleParameters(i)[0]._value for i in range(system.getNumParticles())])
    assert q.sum() == pytest.approx(0.0, abs=1e-4)
    assert q[120] == pytest.approx(0.8)  # first Li+
    assert q[122:131].sum() == pytest.approx(-0.8, abs=1e-4)  # one FSI-
    masses = np.array([system.getParticleMass(i)._value for i in range(system.getNumParticles())])
    assert masses[3] == pytest.approx(3.024)  # acetonitrile H, repartitioned
    assert masses.sum() == pytest.approx(sum(a.mass for a in structure.atoms), rel=1e-6)
    with pytest.raises(InputError, match="cutoff_nm"):
        box.create_system(structure, 15.0, cutoff_nm=1.0)


def test_openmm_is_a_registered_engine_that_refuses_periodic_structures() -> None:
    from ssbflow.engines import get_engine
    from ssbflow.engines.registry import ENGINES, NEB_ENGINES, STRUCTURE_ENGINES
    from ssbflow.studies.registry import get_study

    engine = get_engine("openmm")
    engine.check_available()  # openmm, AmberTools and packmol are installed here
    settings = engine.settings()
    assert settings["engine"] == "openmm" and settings["force_field"] == "GAFF2"
    assert settings["openmm_version"]
    for make in (lambda: engine.relax_maker(), engine.static_maker,
                 lambda: engine.md_maker(300.0, 10, 1.0)):
        with pytest.raises(InputError, match=r"openmm.*periodic structure"):
            make()
    assert "openmm" in ENGINES
    assert "openmm" not in STRUCTURE_ENGINES and "openmm" not in NEB_ENGINES
    with pytest.raises(InputError, match="--engine"):  # the slab study needs relaxations
        get_study("sn-llzo").parse_options({"engine": "openmm"})


def test_a_folder_left_by_a_killed_run_with_this_pid_does_not_block_the_cache(tmp_path) -> None:
    import os

    entry = parameters.cache_entry("[Li+]", tmp_path)
    entry.parent.mkdir(parents=True, exist_ok=True)
    (entry.parent / f".new-{entry.name}-{os.getpid()}").mkdir()  # killed run, same PID
    p = parameters.parameterize("[Li+]", tmp_path)
    assert not p["cached"] and (entry / "mol.prmtop").is_file()
    assert parameters.parameterize("[Li+]", tmp_path)["cached"]


def test_density_of_a_mole_of_water_in_18_cm3() -> None:
    from scipy import constants

    volume_A3 = 18.015 * 1e24 / constants.Avogadro  # 18.015 cm³ per mole of molecules
    assert box.density_g_cm3(18.015, volume_A3) == pytest.approx(1.0, rel=1e-3)
    assert box.density_g_cm3(18.015, np.array([volume_A3, 2 * volume_A3])) == pytest.approx(
        [1.0, 0.5], rel=1e-3)


def test_tool_timeout_and_unknown_platform_are_one_line(tmp_path, monkeypatch) -> None:
    import subprocess

    from ssbflow.engines.openmm import tools
    from ssbflow.errors import SsbflowError

    def hang(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], kwargs["timeout"])

    monkeypatch.setattr(subprocess, "run", hang)
    with pytest.raises(SsbflowError, match=r"^packmol: packmol did not finish in 5 s"):
        tools.run_tool(["packmol"], tmp_path, "packmol", timeout_s=5.0)
    with pytest.raises(InputError, match="CUDA, OpenCL, CPU, Reference"):
        platform.select_platform("Metal")
