"""``ssbflow reaction``, ``ssbflow screen`` and ``ssbflow run inn-li`` through the CLI entry
point (real CHGNet)."""

from __future__ import annotations

import json

import pytest

from ssbflow.cli import main


def _run(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_reaction_inn_li_json(capsys):
    code, out, _ = _run(capsys, "reaction", "InN", "Li", "--json")
    assert code == 0
    doc = json.loads(out)  # stdout holds exactly one JSON object
    assert doc["reaction_energy_eV_per_atom"] < 0
    assert doc["reaction_energy_eV_per_Li"] < doc["reaction_energy_eV_per_atom"]
    assert "Li3N" in doc["products"]
    assert set(doc["mixing_ratio"]) == {"InN", "Li"}
    assert "->" in doc["reaction"]


def test_named_reaction_json(capsys):
    code, out, _ = _run(capsys, "reaction", "--named", "InN + 3 Li -> Li3N + In", "--json")
    assert code == 0
    assert json.loads(out)["reaction_energy_eV"] < 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("reaction", "InN", "Xx"), "unknown element 'Xx'"),
        (("reaction", "--named", "InN + 2 Li -> Li3N + In"), "not balanced"),
        (("reaction", "Li2S", "Li"), "no structure for 'Li2S'"),
        (("reaction", "InN"), "missing reactants"),
        (("screen", "does-not-exist.yaml"), "does not exist"),
        (("run", "inn-li", "--md-steps", "-1"), "--md-steps -1"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(capsys, args, message):
    code, _, err = _run(capsys, *args)
    assert code == 2
    assert message in err
    assert err.strip().count("\n") == 0 and err.startswith("ssbflow: error:")


def test_screen_cli_ranks_and_records_failures(capsys, tmp_path):
    yaml_path = tmp_path / "s.yaml"
    yaml_path.write_text("name: cli\ncandidates: [In, Fe, Qq]\n")
    args = ("screen", str(yaml_path), "--out", str(tmp_path / "out"), "--db",
            str(tmp_path / "db"), "--json")
    code, out, _ = _run(capsys, *args)
    assert code == 0
    doc = json.loads(out)
    rows = doc["rankings"]["reaction_energy_with_li"]
    assert [r["candidate"] for r in rows] == ["In", "Fe", "Qq"]
    assert rows[0]["products"] == "LiIn"
    assert "unknown element 'Qq'" in doc["errors"]["Qq"]["reaction_energy_with_li"]
    assert (tmp_path / "out" / "reaction_energy_with_li.png").stat().st_size > 0
    code, out, _ = _run(capsys, *args)
    assert json.loads(out)["reused"] == ["In", "Fe", "Qq"]
    assert json.loads(out)["computed"] == []
    # the failed candidate is computed again on request, the others stay in the store
    code, out, _ = _run(capsys, *args, "--retry-failed")
    doc = json.loads(out)
    assert code == 0 and doc["computed"] == ["Qq"] and doc["reused"] == ["In", "Fe"]
    assert [r["candidate"] for r in doc["rankings"]["reaction_energy_with_li"]] == [
        "In", "Fe", "Qq"]


def test_reaction_models_give_per_model_mean_and_spread(capsys):
    code, out, _ = _run(capsys, "reaction", "Ag", "Li", "--models", "CHGNet,SevenNet-0",
                        "--json")
    assert code == 0
    doc = json.loads(out)
    row = doc["committee"]["reaction_energy_eV_per_atom"]
    per_model = {m: doc["per_model"][m]["reaction_energy_eV_per_atom"] for m in doc["models"]}
    assert row["per_model"] == per_model and len(per_model) == 2
    assert row["spread"] == pytest.approx(max(per_model.values()) - min(per_model.values()))
    assert doc["per_model"]["SevenNet-0"]["energy_source"].startswith("mlip:SevenNet-0")


def test_screen_committee_compares_rankings(capsys, tmp_path):
    yaml_path = tmp_path / "s.yaml"
    yaml_path.write_text("name: committee\ncandidates: [Ag, Zn]\n")
    code, out, _ = _run(capsys, "screen", str(yaml_path), "--models", "CHGNet,SevenNet-0",
                        "--out", str(tmp_path / "out"), "--db", str(tmp_path / "db"), "--json")
    assert code == 0
    doc = json.loads(out)
    rows = {q: r for q, r in doc["committee"].items() if q.endswith("reaction_energy_eV_per_atom")}
    assert set(rows) == {"Ag: reaction_energy_eV_per_atom", "Zn: reaction_energy_eV_per_atom"}
    for row in rows.values():
        values = list(row["per_model"].values())
        assert len(values) == 2 and values[0] != values[1]
        assert row["spread"] == pytest.approx(abs(values[0] - values[1]))
    ranking = doc["committee_rankings"]["reaction_energy_with_li"]
    assert set(ranking["per_model"]) == {"CHGNet", "SevenNet-0"}
    assert (ranking["flag"] is None) == ranking["same_order"]
    own = json.loads((tmp_path / "out" / "models" / "SevenNet-0" / "results.json").read_text())
    assert own["settings"]["model"] == "SevenNet-0"
    # rerun: every model's candidate jobs are found in the store (reused was [] before)
    code, out, _ = _run(capsys, "screen", str(yaml_path), "--models", "CHGNet,SevenNet-0",
                        "--out", str(tmp_path / "out"), "--db", str(tmp_path / "db"), "--json")
    assert code == 0 and json.loads(out)["reused"] == ["Ag", "Zn"]
    assert json.loads(out)["computed"] == []


@pytest.mark.cp2k
@pytest.mark.slow
def test_check_dft_gives_a_real_cp2k_reaction_energy(capsys, tmp_path, monkeypatch, cp2k_exe):
    """``reaction --check-dft`` end to end (real CHGNet relaxations, real CP2K single points at
    the CHGNet geometries) on H2 + F2 -> 2 HF, three 2-atom molecules in 6 Å boxes (no
    supercell at the Γ-point ``fast`` preset). Experiment: ΔH = 2 × ΔfH(HF, g) = 2 × −273.3
    kJ/mol = −5.67 eV; the single-zeta ``fast`` preset gave −3.6 eV (CHGNet −5.75 eV)."""
    import tempfile

    from pymatgen.core import Lattice, Structure

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # CP2K runs under tmp_path
    cifs = tmp_path / "cifs"
    cifs.mkdir()
    for name, (a, b, bond_A) in {"H2": ("H", "H", 0.74), "F2": ("F", "F", 1.42),
                                 "HF": ("H", "F", 0.92)}.items():
        Structure(Lattice.cubic(6.0), [a, b], [[3, 3, 3], [3 + bond_A, 3, 3]],
                  coords_are_cartesian=True).to(filename=str(cifs / f"{name}.cif"))
    code, out, _ = _run(capsys, "reaction", "--named", "H2 + F2 -> 2 HF",
                        "--structures", str(cifs), "--check-dft", "--json")
    assert code == 0
    doc = json.loads(out)
    check = doc["dft_check"]
    assert check["energy_source"].startswith("cp2k:fast")
    assert {c["formula"]: (c["supercell"], c["n_atoms"]) for c in check["cells"].values()} == {
        "H2": ([1, 1, 1], 2), "F2": ([1, 1, 1], 2), "HF": ([1, 1, 1], 2)}
    assert -7.0 < check["reaction_energy_eV"] < -2.5  # strongly exothermic, as measured
    assert check["mlip_reaction_energy_eV"] == pytest.approx(doc["reaction_energy_eV"])
    assert check["dft_minus_mlip_eV"] == pytest.approx(
        check["reaction_energy_eV"] - check["mlip_reaction_energy_eV"])
    assert check["run_dir"].startswith(str(tmp_path))
