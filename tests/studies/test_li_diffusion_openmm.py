"""``polymer-li-diffusion --engine openmm``: both polymer boxes by classical MD through the
study's own analysis and report; an mlip run's stored settings are what they were."""

from __future__ import annotations

import pytest

from ssbflow.errors import InputError
from ssbflow.runtime.studies import run_study
from ssbflow.studies.registry import get_study

#: Stored settings of an mlip run before the engine choice existed (main, session 6).
MLIP_SETTINGS = {"study", "mlip_model", "temperatures_K", "n_steps", "timestep_fs",
                 "save_every", "species", "seed", "pre_relax_steps", "n_chains", "n_units",
                 "n_li", "box_seed"}


def test_mlip_settings_are_unchanged() -> None:
    study = get_study("polymer-li-diffusion")
    assert set(study.settings(study.parse_options({}))) == MLIP_SETTINGS
    openmm = study.settings(study.parse_options({"engine": "openmm"}))
    assert openmm["engine"] == "openmm" and "production_ns" in openmm
    # a dry box stores no solvent settings (openmm runs made before the option resume)
    assert "solvent_per_li" not in openmm and "solvent_smiles" not in openmm
    wet = study.settings(study.parse_options({"engine": "openmm", "solvent_per_li": 2}))
    assert wet["solvent_per_li"] == 2 and wet["solvent_smiles"] == "CN(C)C=O"
    with pytest.raises(InputError, match="--solvent-smiles"):
        study.parse_options({"engine": "openmm", "solvent_smiles": "C1CC"})
    with pytest.raises(InputError, match="--engine"):
        study.parse_options({"engine": "gromacs"})


def test_openmm_engine_runs_both_polymers_through_the_study_analysis(tmp_path) -> None:
    doc = run_study("polymer-li-diffusion", tmp_path / "run", db=tmp_path / "db", quiet=True,
                    engine="openmm", n_chains=8, n_units=2, n_li=4, temperatures_K=(450.0,),
                    production_ns=0.004, npt_ps=4.0, anneal_ps=4.0, cool_ps=4.0,
                    frame_ps=0.2, sites_ps=0.4, cutoff_nm=0.55, solvent_per_li=1.0,
                    cache_dir=str(tmp_path / "cache"))
    assert doc["engine"]["engine"] == "openmm"
    assert doc["engine"]["platform"] in ("CUDA", "OpenCL", "CPU")
    systems = {row["system"]: row for row in doc["systems"]}
    # one cell row per (polymer, T), with the model's density at T (NPT mean volume)
    assert {(r["system"], r["T_K"]) for r in doc["systems"]} == {("pvdf", 450.0),
                                                                  ("dpvdf", 450.0)}
    assert all(0.5 < r["density_g_cm3"] < 2.5 for r in doc["systems"])
    # PVDF n=2: C4H6F4 (14 atoms) x 8; dPVDF n=2: C4H4F2 (10 atoms) x 8; 4 LiFSI (40 atoms);
    # 4 DMF (C3H7NO, 12 atoms) of residual solvent, one per Li+
    assert systems["pvdf"]["n_atoms"] == 200 and systems["dpvdf"]["n_atoms"] == 168
    assert systems["pvdf"]["n_solvent"] == 4
    assert {(r["system"], r["T_K"]) for r in doc["diffusion"]} == {("pvdf", 450.0),
                                                                    ("dpvdf", 450.0)}
    assert all(r["D_cm2_s"] > 0 and abs(r["md_ps"] - 4.0) < 1e-9 for r in doc["diffusion"])
    assert all(r["ns_per_day"] > 0 and r["resumes"] == 0 for r in doc["diffusion"])
    assert doc["source_comparison"]  # the NCM811 study's rows, from these numbers
    # Li+ shells from the sites saved every 0.4 ps (10 frames of 4 ps per box)
    coord = {(r["system"], r["pair"]): r for r in doc["coordination"]}
    assert {p for _, p in coord} == {"Li–F(polymer)", "Li–F(FSI)", "Li–O(FSI)", "Li–N(FSI)",
                                     "Li–O(solvent)", "Li–N(solvent)"}
    assert all(r["n_frames"] == 10 and r["n_centres"] == 4 for r in coord.values())
    assert all(sum(r["cn_first_shell"] or 0.0 for (s, _), r in coord.items() if s == kind) > 1
               for kind in ("pvdf", "dpvdf"))
    assert all(0.0 <= r["free_fraction"] <= 1.0 for r in coord.values())
    report = (tmp_path / "run" / "report.md").read_text()
    assert "Li+ coordination pvdf_450K" in report and "D(dPVDF)/D(PVDF)" in report
    assert (tmp_path / "run" / "rdf_dpvdf_450K.png").stat().st_size > 0


def test_short_window_slope_of_a_random_walk() -> None:
    import numpy as np

    from ssbflow.studies.li_diffusion.jobs import _short_window

    rng = np.random.default_rng(3)
    steps = rng.normal(0.0, 0.1, (400, 40, 3))  # 0.03 Å² per 0.5 ps frame: 0.06 Å²/ps
    frames = {"positions_A": np.cumsum(steps, axis=0), "symbols": ["Li"] * 40,
              "masses_amu": np.full(40, 6.94), "time_ps": 0.5 * np.arange(1, 401)}
    out = _short_window(frames, "Li")
    assert out["short_window_ps"] == "1-10"
    assert out["short_slope_A2_per_ps"] == pytest.approx(0.06, rel=0.15)
    assert 0 < out["short_slope_stderr_A2_per_ps"] < 0.02
    frames["time_ps"] = 0.005 * np.arange(1, 401)  # 2 ps of frames: shorter than the window
    assert _short_window(frames, "Li")["short_slope_A2_per_ps"] is None


def test_openmm_engine_check_refuses_a_run_without_openmm(monkeypatch) -> None:
    import sys

    from ssbflow.errors import EngineUnavailableError

    study = get_study("polymer-li-diffusion")
    options = study.parse_options({"engine": "openmm"})
    study.check(options)
    monkeypatch.setitem(sys.modules, "openmm", None)  # import openmm fails
    with pytest.raises(EngineUnavailableError, match="pip install openmm"):
        study.check(options)


def test_shaped_trajectory_goes_to_the_data_store() -> None:
    import numpy as np
    from jobflow import JobStore
    from maggma.stores import MemoryStore

    from ssbflow.studies.li_diffusion.openmm_flow import FSI, as_diffusion_run

    com = np.arange(5 * 3 * 3, dtype=float).reshape(5, 3, 3).tolist()
    md = {"frames": {"com_A": com, "time_ps": [1.0, 2.0, 3.0, 4.0, 5.0], "sites": None},
          "labels": ["CC", "[Li+]", FSI], "molecule_masses_amu": [30.0, 6.94, 180.1],
          "total_mass_amu": 217.0, "volume_A3": 1000.0, "n_atoms": 19, "n_frames": 5,
          "ns_per_day": {}, "wall_s": {}, "platform": {"platform": "CPU"},
          "temperature_K": 300.0, "protocol": {"production_ps": 5.0, "timestep_fs": 4.0}}
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    store.connect()
    shaped = as_diffusion_run(md, "pvdf", 1, 1)
    shaped.run(store)
    doc = store.docs_store.query_one({"uuid": shaped.uuid})
    # the main document holds a reference, not the (n_frames, molecules, 3) trajectory
    assert "positions_A" not in doc["output"]["md"]["frames"]
    out = store.get_output(shaped.uuid, load=True)
    assert out["md"]["frames"]["positions_A"] == com


def test_flow_runs_both_polymers_at_one_temperature_before_the_next() -> None:
    # the runner takes ready jobs in flow order: (PVDF, dPVDF) pairs complete one
    # temperature at a time, so an interrupted run already has ratios to report
    from ssbflow.studies.li_diffusion.openmm_flow import make_openmm_polymer_flow
    from ssbflow.studies.li_diffusion.options import PolymerDiffusionOptions

    options = PolymerDiffusionOptions(engine="openmm", temperatures_K=(500.0, 400.0))
    flow = make_openmm_polymer_flow(options, "polymer-li-diffusion", "t", [])
    shaped = [j.name for j in flow.jobs if j.name.startswith("shape ")]
    assert shaped == ["shape pvdf 500 K", "shape dpvdf 500 K", "shape pvdf 400 K",
                      "shape dpvdf 400 K"]
