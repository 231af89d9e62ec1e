"""The main study, SN on LLZO, through the CLI: the real 96-atom LLZO slab with CHGNet
(electronic stage off to keep the suite within its budget: the CP2K stage is tested end to
end on a reduced system in test_adsorption_study.py)."""

from __future__ import annotations

import json

import pytest
from pymatgen.core import Composition, Structure

from ssbflow.cli import main


@pytest.fixture(scope="module")
def sn_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sn-llzo")
    args = ["run", "sn-llzo", "--electronic", "none", "--n-sites", "1", "--orientation",
            "upright", "--out", str(out / "run"), "--db", str(out / "db"), "--quiet"]
    assert main(args) == 0
    first = json.loads((out / "run" / "results.json").read_text())
    assert main(args) == 0  # the same command again: a resume
    second = json.loads((out / "run" / "results.json").read_text())
    return out, first, second


def test_sn_binds_to_surface_la_through_n(sn_run):
    out, doc, _ = sn_run
    assert doc["adsorption_energy_eV"] < 0  # binding
    best = doc["site_scan"][0]
    assert best["site_species"] == "La" and best["orientation"] == "upright"
    # nitrile N coordinated to La: La–N bonds in La nitrile complexes are 2.6–2.7 Å
    assert 2.2 < best["anchor_site_distance_A"] < 3.0
    assert doc["formula_slab"] == "Li7La3Zr2O12" and doc["formula_molecule"] == "C4H4N2"
    relaxed = Structure.from_file(out / "run" / "slab_molecule_relaxed.cif")
    assert relaxed.composition.element_composition == Composition("Li28La12Zr8C4H4N2O48")
    assert (out / "run" / "site_scan.png").stat().st_size > 1000
    assert doc["settings"]["geometry_engine"]["model"] == "CHGNet"


def test_second_run_takes_everything_from_the_store(sn_run):
    _, first, second = sn_run
    assert second["adsorption_energy_eV"] == first["adsorption_energy_eV"]
    assert set(second["timings_s"]) == set(first["timings_s"])  # no job ran again


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--engine", "abinit"], "engine"),
        (["--preset", "fsat"], "--preset"),
        (["--electronic", "gaussian"], "electronic"),
        (["--orientation", "sideways"], "--orientation"),
        (["--miller", "0", "0", "0"], "--miller"),
        (["--garnet", "llzo-cubic"], "--garnet"),
    ],
)
def test_wrong_input_is_one_line_and_writes_nothing(tmp_path, capsys, args, needle):
    code = main(["run", "sn-llzo", "--out", str(tmp_path / "run"), "--db", str(tmp_path / "db"),
                 *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and needle in err
    assert not (tmp_path / "run").exists() and not (tmp_path / "db").exists()


def test_missing_cp2k_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SSBFLOW_CP2K_EXE", str(tmp_path / "no-cp2k-here"))
    code = main(["run", "sn-llzo", "--electronic", "cp2k", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "CP2K" in err
    assert not (tmp_path / "run").exists()


def test_llzto_flow_cuts_a_neutral_ta_doped_slab(tmp_path):
    from ssbflow.studies.sn_llzo.study import make_sn_llzo_flow, sn_llzo_options

    options = sn_llzo_options(electronic="none", garnet="llzto", n_sites=1,
                              orientations=["upright"])
    assert options["garnet"] == "llzto"
    # LLZO runs keep their old settings (no garnet key), so they resume unchanged
    assert "garnet" not in sn_llzo_options(electronic="none")
    flow = make_sn_llzo_flow(options, str(tmp_path))
    slab = flow.jobs[0].function_args[0]  # the bare-slab relaxation's input
    comp = slab.composition
    assert comp["Ta"] > 0 and comp["Li"] / comp["La"] < 7 / 3  # Ta5+ replaces Zr4+ and one Li+
    ox = {"Li": 1, "La": 3, "Zr": 4, "Ta": 5, "O": -2}
    assert sum(ox[el.symbol] * n for el, n in comp.items()) == 0
