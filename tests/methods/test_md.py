"""Real CHGNet NVT MD: the trajectory survives a crash and the run resumes from its last frame."""

from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.calculator import Calculator, all_changes
from ase.io import read
from pymatgen.core import Lattice, Structure

from ssbflow.analysis.msd import read_trajectory
from ssbflow.engines.mlip import mlip_calculator
from ssbflow.methods.md import run_nvt_md


class _CrashingCalculator(Calculator):
    """Delegates to CHGNet and raises after ``n_calls`` force evaluations (a killed job)."""

    implemented_properties = ("energy", "forces")

    def __init__(self, n_calls: int) -> None:
        super().__init__()
        self.inner = mlip_calculator("CHGNet")
        self.left = n_calls

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        if self.left <= 0:
            raise KeyboardInterrupt("simulated interruption")
        self.left -= 1
        super().calculate(atoms, properties, system_changes)
        probe = atoms.copy()
        probe.calc = self.inner
        self.results = {"energy": probe.get_potential_energy(), "forces": probe.get_forces()}


@pytest.fixture()
def li2o() -> Structure:
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.63), ["Li", "O"], [[0.25, 0.25, 0.25], [0, 0, 0]]
    )


def test_interrupted_md_keeps_frames_and_resumes(li2o, tmp_path) -> None:
    path = tmp_path / "md.extxyz"
    with pytest.raises(KeyboardInterrupt):
        run_nvt_md(li2o, path, 800.0, 30, timestep_fs=1.0, save_every=5,
                   calculator=_CrashingCalculator(14), progress=False)
    kept = read(path, index=":")
    assert [a.info["step"] for a in kept] == [0, 5, 10]  # frames written before the crash
    positions_before = np.array([a.positions for a in kept])

    # a torn final record (killed while writing) is dropped on resume
    with path.open("a") as handle:
        handle.write("12\nLattice=\"4.63 0 0 0 4.63 0 0 0 4.63\"\nLi 0.1 0.2\n")

    summary = run_nvt_md(li2o, path, 800.0, 30, timestep_fs=1.0, save_every=5, progress=False)
    assert summary.resumed_from_step == 10 and summary.complete
    frames = read(path, index=":")
    steps = [a.info["step"] for a in frames]
    assert steps == [0, 5, 10, 15, 20, 25, 30]
    assert np.allclose([a.info["time_fs"] for a in frames], np.array(steps) * 1.0)
    assert np.allclose(np.array([a.positions for a in frames[:3]]), positions_before)
    # the continuation starts from the saved state: atoms moved, stayed bonded, kept their
    # momenta (temperature of the same order as the target), energies are finite
    assert not np.allclose(frames[-1].positions, frames[2].positions)
    assert all(np.isfinite(a.get_potential_energy()) for a in frames)
    assert 100.0 < frames[3].get_temperature() < 2000.0

    # the resumed file is a valid MSD input: times strictly increasing and evenly spaced
    assert np.allclose(np.diff(read_trajectory(path).time_ps), 0.005)
    assert summary.wall_s_per_step > 0 and 100.0 < summary.mean_temperature_K < 2500.0

    again = run_nvt_md(li2o, path, 800.0, 30, timestep_fs=1.0, save_every=5, progress=False)
    assert again.steps_done == 30 and again.n_frames == 7  # nothing left to do


def test_md_rejects_mismatched_resume_and_bad_settings(li2o, tmp_path) -> None:
    path = tmp_path / "md.extxyz"
    run_nvt_md(li2o, path, 600.0, 5, save_every=5, progress=False)
    with pytest.raises(ValueError, match="another temperature"):
        run_nvt_md(li2o, path, 900.0, 10, save_every=5, progress=False)
    with pytest.raises(ValueError, match="multiple of save_every"):
        run_nvt_md(li2o, tmp_path / "x.extxyz", 600.0, 7, save_every=5, progress=False)


def test_energy_forces_calculator_gives_chgnet_forces_without_stress_cost(li2o) -> None:
    from pymatgen.io.ase import AseAtomsAdaptor

    from ssbflow.engines.mlip import energy_forces_calculator

    full = mlip_calculator("CHGNet")
    fast = energy_forces_calculator(full)
    assert fast is not full and energy_forces_calculator(fast) is fast
    atoms = AseAtomsAdaptor.get_atoms(li2o)
    atoms.rattle(0.05, seed=1)
    ref = atoms.copy()
    ref.calc = full
    atoms.calc = fast
    assert np.allclose(atoms.get_forces(), ref.get_forces(), atol=1e-5)
    assert atoms.get_potential_energy() == pytest.approx(ref.get_potential_energy(), abs=1e-6)
    assert "stress" not in fast.results  # only energy and forces were evaluated
    assert np.allclose(atoms.get_stress(), ref.get_stress(), atol=1e-5)  # still on request


def test_nvt_md_job_is_resumable_and_puts_frames_in_the_data_store(li2o, tmp_path) -> None:
    from jobflow import JobStore, run_locally
    from maggma.stores import MemoryStore

    from ssbflow.methods.md import RESUMABLE, nvt_md_job

    md = nvt_md_job(li2o, str(tmp_path / "md.extxyz"), 600.0, 10, save_every=2)
    short = nvt_md_job(li2o, str(tmp_path / "short.extxyz"), 600.0, 4, save_every=2)
    assert md.metadata == {RESUMABLE: True} and md.metadata is not short.metadata
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    run_locally([md, short], store=store, ensure_success=True, log=False)
    stored = store.get_output(md.uuid)
    assert set(stored["frames"]) >= {"blob_uuid", "store"}  # the main document stays small
    out = store.get_output(md.uuid, load=True)
    frames = out["frames"]
    assert out["steps_done"] == 10 and out["n_frames"] == 6 and out["complete"]
    assert np.array(frames["positions_A"]).shape == (6, len(li2o), 3)
    assert np.allclose(frames["time_ps"], np.arange(6) * 0.002)
    assert frames["symbols"].count("Li") == 8 and frames["temperature_K"] == 600.0
    # the same unwrapped positions as reading the trajectory file
    assert np.allclose(frames["positions_A"], read_trajectory(out["trajectory"]).positions_A)
    # 3 frames are too few for an MSD: the summary only
    assert store.get_output(short.uuid)["frames"] is None
