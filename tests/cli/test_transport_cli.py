"""The transport commands through ``ssbflow.cli.main`` (exit codes, JSON keys)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ssbflow.cli import main


def test_analyze_arrhenius_json(tmp_path, capsys) -> None:
    csv = tmp_path / "sigma.csv"
    csv.write_text("T,sigma\n303.15,0.61\n353.15,1.59\n")
    assert main(["analyze", "arrhenius", str(csv), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["Ea_eV"] == pytest.approx(0.18, abs=0.005)
    assert data["Ea_stderr_eV"] is None
    # the σT convention does not reproduce the quoted 0.18 eV (it adds about k T̄ = 0.03 eV)
    assert main(["analyze", "arrhenius", str(csv), "--form", "sigmaT", "--json"]) == 0
    data_t = json.loads(capsys.readouterr().out)
    assert data_t["form"] == "sigmaT" and data_t["Ea_eV"] == pytest.approx(0.205, abs=0.005)
    assert main(["analyze", "arrhenius", str(csv), "--form", "sigmat"]) == 2


def test_analyze_arrhenius_bad_file_exit_2(tmp_path, capsys) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("T,sigma\n303.15,abc\n353.15,1.59\n")
    assert main(["analyze", "arrhenius", str(csv)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ssbflow: error:") and "\n" not in err


def test_run_llzo_li_diffusion_tiny_and_resume(tmp_path, capsys) -> None:
    """Two temperatures, 8 CHGNet steps each on tetragonal LLZO (192 atoms): the report
    folder holds the tables and plots, and a second call resumes instead of redoing."""
    out = tmp_path / "llzo"
    args = ["run", "llzo-li-diffusion", "--out", str(out), "-T", "600", "-T", "1200",
            "--n-steps", "8", "--save-every", "2", "--db", str(tmp_path / "db"), "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = doc["diffusion"]
    assert [r["T_K"] for r in rows] == [600.0, 1200.0]
    for r in rows:
        assert r["md_ps"] == pytest.approx(0.008)
        assert r["msd_slope_A2_per_ps"] is not None
    for name in ("results.json", "report.md", "diffusion.csv", "msd_llzo.png"):
        assert (out / name).is_file()
    trajectory = Path(doc["files"]["trajectories"]["llzo_600K"])
    assert trajectory.is_file() and trajectory.is_relative_to(out / "jobs")
    # MSD grows faster at the higher temperature even in 8 fs (ballistic regime ∝ T)
    assert rows[1]["msd_slope_A2_per_ps"] > rows[0]["msd_slope_A2_per_ps"]
    mtime = trajectory.stat().st_mtime
    args.remove("--json")
    assert main(args) == 0  # resume: nothing left to run, trajectory untouched
    printed = capsys.readouterr()
    assert "reused from store: md llzo 600 K" in printed.err
    assert "llzo    600" in printed.out and "report:" in printed.out  # the text summary
    assert trajectory.stat().st_mtime == mtime


def test_run_commands_reject_bad_options(tmp_path, capsys) -> None:
    assert main(["run", "llzo-li-diffusion", "--out", str(tmp_path), "--n-steps", "7",
                 "--save-every", "5"]) == 2
    assert "multiple of --save-every" in capsys.readouterr().err
    assert main(["run", "ncm-pvdf", "--out", str(tmp_path), "--fmax", "0"]) == 2
