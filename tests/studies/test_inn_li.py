"""The inn-li study flow on a reduced candidate list, run through the store with resume."""

from __future__ import annotations

import json

import pytest

from ssbflow.errors import InputError
from ssbflow.runtime.execute import execute_study
from ssbflow.runtime.studies import run_study
from ssbflow.studies.inn_li.study import STUDY, make_inn_li_flow
from ssbflow.studies.registry import get_study

OPTIONS = {"candidates": ["In", "InN"], "md_steps": 20}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("inn-li")
    db = tmp_path_factory.mktemp("db")
    opts = STUDY.parse_options(OPTIONS)
    settings = STUDY.settings(opts)
    output, timings, summary = execute_study(lambda: make_inn_li_flow(opts), settings, out,
                                             db=db, quiet=True)
    results = STUDY.write_report(output, out, timings)
    return out, db, opts, settings, results, summary


def test_registered_with_defaults():
    assert get_study("inn-li") is STUDY
    defaults = STUDY.parse_options()
    assert defaults.md_steps == 1000 and defaults.engine == "mlip"
    assert defaults.candidates == ("Au", "Zn", "In", "Fe", "Ag", "Sn", "Mg", "Al", "Cu", "InN")
    with pytest.raises(InputError, match="--md-steps"):
        STUDY.parse_options({"md_steps": -1})
    with pytest.raises(InputError, match="unknown element 'Xx'"):
        STUDY.parse_options({"candidates": ["Xx"]})


def test_ranking_and_report_files(study):
    out, *_rest, results, _summary = study
    rows = {r["candidate"]: r for r in results["ranking"]}
    assert rows["InN"]["reaction_energy_eV_per_atom"] < 0
    assert "Li3N" in rows["InN"]["products"]
    assert rows["In"]["products"] == "LiIn"
    for name in ("li_reactivity.csv", "li_reactivity.md", "li_reactivity.png", "report.md"):
        assert (out / name).stat().st_size > 0
    assert "InN" in (out / "li_reactivity.md").read_text()
    assert json.loads((out / "results.json").read_text())["ranking"][0]["rank"] == 1


def test_reaction_cell_bonds(study):
    out, *_rest, results, _summary = study
    cell = results["reaction_cell"]
    assert cell["time_fs"][0] == 0 and cell["time_fs"][-1] == pytest.approx(20.0)
    # 30 In in the InN slab: 4 N per In in the bulk, 3 at a surface; a 20 fs run keeps them
    n_in = 30
    for bonds in cell["in_n_bonds"]:
        assert 3 * n_in <= bonds <= 4 * n_in
    # Li of the film touch the N-terminated face: some N have Li neighbours from the start
    assert cell["li_per_n"][0] > 0
    assert (out / "inn_li_reaction_cell.png").stat().st_size > 0


def test_jobs_write_only_in_their_folders(study):
    out, *_rest = study
    # the trajectory stays in the MD job's folder; the run folder holds only the report
    (trajectory,) = out.glob("jobs/*/inn_li_md.extxyz")
    assert trajectory.parent.name.startswith("inn_li_md")
    assert not (out / "inn_li_md.extxyz").exists()


def test_second_run_reuses_every_job(study):
    out, db, opts, settings, results, first = study
    assert first.ran and not first.reused
    _, _, again = execute_study(lambda: make_inn_li_flow(opts), settings, out, db=db,
                                quiet=True)
    assert again.ran == [] and len(again.reused) == len(first.ran)
    # the same run through the registry: everything from the store, the same report
    rerun = run_study("inn-li", out, db=db, quiet=True, **OPTIONS)
    assert rerun["ranking"] == results["ranking"]


def test_notes_flag_modelled_and_missing_li_phases():
    from ssbflow.studies.inn_li.study import library_note

    # Li–Sn and Li–Mg phases are models (bcc stackings, B2 approximant): the table says so
    assert "Li5Sn2" in library_note("Sn") and "Li2Sn5" in library_note("Sn")
    assert "B2" in library_note("Mg")
    # Li–Fe has no compound; Li–In has a refined LiIn structure and needs no caveat
    assert "no compound" in library_note("Fe")
    assert library_note("In") == ""
