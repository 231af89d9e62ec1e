"""Li+ coordination sites of a real OpenMM run (LiFSI in acetonitrile): saved every
``sites_ps``, none lost or duplicated across a crash, and Li+ shells that make sense."""

from __future__ import annotations

import os

import numpy as np
import pytest

from ssbflow.methods import classical_md as cmd
from ssbflow.studies.electrolyte_md.options import FSI_SMILES
from ssbflow.studies.electrolyte_md.study import li_coordination

COMPONENTS = [("CC#N", 40), ("[Li+]", 4), (FSI_SMILES, 4)]


def test_lifsi_in_acetonitrile_li_shells(tmp_path, monkeypatch) -> None:
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        box = cmd.build_box_job.original(COMPONENTS, cache_dir=str(tmp_path / "cache"))
    finally:
        os.chdir(cwd)
    protocol = {"temperature_K": 350.0, "production_ps": 24.0, "npt_ps": 4.0,
                "compress_ps": 4.0, "frame_ps": 0.5, "sites_ps": 1.0, "checkpoint_ps": 2.0,
                "cutoff_nm": 0.6}
    production = len(cmd.MdProtocol(**protocol).stages()) - 1
    monkeypatch.chdir(tmp_path)
    real = cmd._write_checkpoint

    def crash_at_5_ps(context, progress):
        if progress["stage"] == production and progress["stage_steps"] >= 1250:
            raise RuntimeError("killed")  # frames of 4-5 ps on disk, not checkpointed
        real(context, progress)

    monkeypatch.setattr(cmd, "_write_checkpoint", crash_at_5_ps)
    with pytest.raises(RuntimeError, match="killed"):
        cmd.md_protocol_job.original(box, COMPONENTS, protocol)
    assert (tmp_path / cmd.SITES).stat().st_size > 4 * 20 * 3 * 4  # sites past the ckpt
    monkeypatch.setattr(cmd, "_write_checkpoint", real)
    md = cmd.md_protocol_job.original(box, COMPONENTS, protocol)
    sites = md["frames"]["sites"]
    pos = np.asarray(sites["positions_A"])
    n_sites = 40 + 4 + 4 * 7  # N of MeCN, Li, F2 O4 N of FSI
    assert pos.shape == (24, n_sites, 3)  # one every 1 ps of 24 ps: none lost or repeated
    assert sites["time_ps"] == pytest.approx(np.arange(1, 25))
    assert (tmp_path / cmd.SITES).stat().st_size == 24 * n_sites * 3 * 4
    assert np.all((pos >= 0) & (pos <= np.asarray(sites["box_A"]) + 0.005))  # wrapped
    assert sorted(set(sites["atomic_numbers"])) == [3, 7, 8, 9]

    coord = li_coordination(sites, box["net_charges"])
    rows = {r["pair"]: r for r in coord["rows"]}
    assert set(rows) == {"Li–N(CC#N)", "Li–F(FSI)", "Li–O(FSI)", "Li–N(FSI)"}
    # Li+ is solvated: oxygens of FSI- or nitriles sit at about 2 Å
    shells = [r for r in rows.values() if r["cn_first_shell"]]
    assert sum(r["cn_first_shell"] for r in shells) >= 3.0
    assert all(1.7 < r["r_peak_A"] < 2.6 for r in shells if r["pair"] in (
        "Li–N(CC#N)", "Li–O(FSI)") and r["cn_first_shell"] > 0.5)
    assert rows["Li–N(CC#N)"]["g_tail"] == pytest.approx(1.0, abs=0.35)
    assert 0.0 <= coord["free_fraction"] <= 1.0
    print(f"sites {pos.nbytes} B float64 in memory; coordination "
          f"{coord['wall_s_per_frame'] * 1e3:.1f} ms/frame; rows {coord['rows']}, "
          f"free {coord['free_fraction']}")
