"""The transport commands through ``ssbflow.cli.main`` (exit codes, JSON keys)."""

from __future__ import annotations

import json

import pytest

from ssbflow.cli import main


def test_analyze_arrhenius_json(tmp_path, capsys) -> None:
    csv = tmp_path / "sigma.csv"
    csv.write_text("T,sigma\n303.15,0.61\n353.15,1.59\n")
    assert main(["analyze", "arrhenius", str(csv), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["Ea_eV"] == pytest.approx(0.18, abs=0.005)
    assert data["Ea_stderr_eV"] is None


def test_analyze_arrhenius_bad_file_exit_2(tmp_path, capsys) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("T,sigma\n303.15,abc\n353.15,1.59\n")
    assert main(["analyze", "arrhenius", str(csv)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ssbflow: error:") and "\n" not in err
