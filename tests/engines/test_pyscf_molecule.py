"""Frontier orbitals and ΔSCF IP/EA of water with the real engine (PySCF, seconds)."""

from __future__ import annotations

import pytest
from pymatgen.core import Molecule

from ssbflow.engines.pyscf_molecule import frontier_orbitals


def test_water_frontier_orbitals_and_vertical_ip_ea():
    water = Molecule(["O", "H", "H"], [[0, 0, 0.1173], [0, 0.7572, -0.4692],
                                       [0, -0.7572, -0.4692]])
    r = frontier_orbitals(water)
    assert r["homo_eV"] < r["lumo_eV"]
    assert r["gap_eV"] == pytest.approx(r["lumo_eV"] - r["homo_eV"])
    assert r["ip_eV"] > 0 and r["ip_eV"] > r["ea_eV"]
    # B3LYP/def2-SVP vertical IP of water: 12.4 eV (experiment 12.6 eV)
    assert 11.5 < r["ip_eV"] < 13.5
    # Koopmans-like sense: -HOMO underestimates the ΔSCF IP with B3LYP
    assert -r["homo_eV"] < r["ip_eV"]
    assert r["method"] == {"code": "PySCF", "xc": "B3LYP", "basis": "def2-SVP",
                           "density_fitting": "def2-universal-jkfit",
                           "ip_ea": "vertical ΔSCF (UKS ions at the neutral geometry)"}


def test_iodine_gets_the_def2_ecp_and_light_elements_do_not():
    """def2-SVP is valence-only beyond Kr: HI has 1 + 25 electrons with the ECP (53 + 1
    all-electron without it); HF keeps all its 10."""
    from ssbflow.engines.pyscf_molecule import build_mole

    hi = build_mole(Molecule(["H", "I"], [[0, 0, 0], [0, 0, 1.61]]), 0)
    assert hi.nelectron == 26 and hi.spin == 0
    hf = build_mole(Molecule(["H", "F"], [[0, 0, 0], [0, 0, 0.92]]), 0)
    assert hf.nelectron == 10 and not hf._ecp


def test_an_anion_is_computed_at_its_own_charge(monkeypatch):
    """OH⁻ (charge kept from a charged SMILES): the reference SCF is the anion (10
    electrons), IP from the neutral radical, EA from the dianion; the charge is recorded."""
    import numpy as np

    import ssbflow.engines.pyscf_molecule as engine
    from ssbflow.structures.smiles import molecule_from_smiles

    hydroxide = molecule_from_smiles("[OH-]")
    assert hydroxide.charge == -1
    charges, electrons = [], []

    class FakeSCF:
        mo_occ, mo_energy = np.array([2.0, 0.0]), np.array([-0.1, 0.2])

    def fake_scf(mol, charge, *args, **kwargs):
        charges.append(charge)
        electrons.append(engine.build_mole(mol, charge).nelectron)
        return FakeSCF(), -75.0 - 0.1 * charge

    monkeypatch.setattr(engine, "_scf", fake_scf)
    r = frontier_orbitals(hydroxide)
    assert charges == [-1, 0, -2] and electrons == [10, 9, 11]
    assert r["charge"] == -1
    assert r["ip_eV"] == pytest.approx(-0.1 * 27.211386, rel=1e-5)


def test_pyscf_scratch_files_go_to_the_job_folder(tmp_path, monkeypatch):
    """The SCF chkfile and DF scratch are created in the job's folder (cwd), not in
    PySCF's TMPDIR; no chkfile is kept (one H2 SCF, < 1 s)."""
    from pyscf import lib

    from ssbflow.engines.pyscf_molecule import _scf

    outside, job = tmp_path / "tmpdir", tmp_path / "job"
    outside.mkdir()
    job.mkdir()
    monkeypatch.setattr(lib.param, "TMPDIR", str(outside))
    monkeypatch.chdir(job)
    folders = []
    real = lib.NamedTemporaryFile

    def recording(*args, **kwargs):
        folders.append(kwargs.get("dir"))
        return real(*args, **kwargs)

    monkeypatch.setattr(lib, "NamedTemporaryFile", recording)
    h2 = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]])
    mf, energy = _scf(h2, 0, "B3LYP", "def2-SVP", 500)
    assert -1.2 < energy < -1.1  # B3LYP H2, hartree
    assert not mf.chkfile
    assert all(str(d).startswith(str(job)) for d in folders), folders
    assert lib.param.TMPDIR == str(outside)  # restored
