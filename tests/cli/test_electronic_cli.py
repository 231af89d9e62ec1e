"""``ssbflow analyze cdd|elf|workfunction|charges`` on real CP2K outputs (JSON and errors)."""

from __future__ import annotations

import json

import pytest

from ssbflow.cli import main
from tests.analysis.conftest import cp2k_al111, cp2k_cdd, cp2k_n2  # noqa: F401 (fixtures)

pytestmark = pytest.mark.cp2k


def _json(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_cdd_json(cp2k_cdd, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "cdd.cube"
    data = _json(capsys, ["analyze", "cdd", str(cp2k_cdd.total), str(cp2k_cdd.part_a),
                          str(cp2k_cdd.part_b), "-o", str(out), "--axis", "z", "--json"])
    assert abs(data["integral_e"]) < 1e-3
    assert data["transferred_charge_e"] > 0.0
    assert data["max_accumulation_e_per_A3"] > 0.0 > data["max_depletion_e_per_A3"]
    assert out.exists() and (tmp_path / "cdd_CHGCAR.vasp").exists()
    assert set(data["files"]) >= {"cube", "chgcar", "profile_png", "profile_csv"}


def test_cdd_mismatched_grid_is_a_one_line_error(cp2k_cdd, cp2k_n2, tmp_path, capsys):  # noqa: F811
    code = main(["analyze", "cdd", str(cp2k_cdd.total), str(cp2k_cdd.part_a),
                 str(cp2k_n2.density), "-o", str(tmp_path / "x.cube")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("ssbflow: error:") and "mismatch" in err
    assert err.count("\n") == 1


def test_truncated_and_non_volumetric_files(cp2k_cdd, tmp_path, capsys):  # noqa: F811
    cut = tmp_path / "cut.cube"
    cut.write_text("\n".join(cp2k_cdd.part_b.read_text().splitlines()[:-3]))
    code = main(["analyze", "cdd", str(cp2k_cdd.total), str(cp2k_cdd.part_a), str(cut),
                 "-o", str(tmp_path / "x.cube")])
    err = capsys.readouterr().err
    assert code == 2 and "cut.cube: truncated" in err and err.count("\n") == 1
    text = tmp_path / "README.txt"
    text.write_text("not a grid\n")
    code = main(["analyze", "elf", str(text)])
    err = capsys.readouterr().err
    assert code == 2 and "not a volumetric file" in err


def test_elf_json(cp2k_cdd, tmp_path, capsys):  # noqa: F811
    data = _json(capsys, ["analyze", "elf", str(cp2k_cdd.elf_total), "--plane", "0", "4", "5",
                          "--line", "0", "4", "-o", str(tmp_path), "--json"])
    assert 0.0 <= data["min"] < data["max"] <= 1.0
    assert set(data["files"]) >= {"slice_png", "line_png"}


@pytest.mark.slow  # needs the Al(111) k-point run
def test_workfunction_json(cp2k_al111, tmp_path, capsys):  # noqa: F811
    data = _json(capsys, ["analyze", "workfunction", str(cp2k_al111.hartree), "--output",
                          str(cp2k_al111.log), "--plot-dir", str(tmp_path), "--json"])
    assert data["work_function_eV"] == pytest.approx(
        data["vacuum_level_eV"] - data["fermi_level_eV"])
    assert 3.5 < data["work_function_eV"] < 4.5
    assert data["plateau_spread_eV"] < 0.05


@pytest.mark.slow  # needs the Al(111) k-point run
def test_workfunction_needs_a_fermi_level(cp2k_al111, capsys):  # noqa: F811
    code = main(["analyze", "workfunction", str(cp2k_al111.hartree)])
    assert code == 2 and "fermi" in capsys.readouterr().err


def test_charges_json_and_csv(cp2k_cdd, tmp_path, capsys):  # noqa: F811
    data = _json(capsys, ["analyze", "charges", str(cp2k_cdd.log_total), "--reference",
                          str(cp2k_cdd.log_a), "--reference", str(cp2k_cdd.log_b), "--atoms",
                          "0,4", "-o", str(tmp_path), "--json"])
    assert [row["element"] for row in data["atoms"]] == ["B", "N"]
    assert data["atoms"][1]["change_e"] > 0.0
    assert (tmp_path / "charges_hirshfeld.csv").exists()
