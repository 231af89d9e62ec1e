"""The inn-li study flow on a reduced candidate list, run through the store with resume."""

from __future__ import annotations

import pytest

from ssbflow.runtime.execute import execute_study
from ssbflow.studies.inn_li.study import InnLiStudyMaker


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("inn-li")
    db = tmp_path_factory.mktemp("db")
    maker = InnLiStudyMaker(report_dir=str(out), candidates=["In", "InN"], md_steps=20)
    settings = {"study": "inn-li-test", "md_steps": 20}
    output, _, summary = execute_study(maker.make, settings, out, db=db, quiet=True)
    return out, db, maker, settings, output, summary


def test_ranking_and_report_files(study):
    out, *_rest, output, _summary = study
    rows = {r["candidate"]: r for r in output["ranking"]["rows"]}
    assert rows["InN"]["reaction_energy_eV_per_atom"] < 0
    assert "Li3N" in rows["InN"]["products"]
    assert rows["In"]["products"] == "LiIn"
    for name in ("li_reactivity.csv", "li_reactivity.md", "li_reactivity.png"):
        assert (out / name).stat().st_size > 0


def test_reaction_cell_bonds(study):
    out, *_rest, output, _summary = study
    cell = output["reaction_cell"]
    assert cell["time_fs"][0] == 0 and cell["time_fs"][-1] == pytest.approx(20.0)
    # 30 In in the InN slab: 4 N per In in the bulk, 3 at a surface; a 20 fs run keeps them
    n_in = 30
    for bonds in cell["in_n_bonds"]:
        assert 3 * n_in <= bonds <= 4 * n_in
    # Li of the film touch the N-terminated face: some N have Li neighbours from the start
    assert cell["li_per_n"][0] > 0
    assert (out / "inn_li_reaction_cell.png").stat().st_size > 0


def test_second_run_reuses_every_job(study):
    out, db, maker, settings, _output, first = study
    assert first.ran and not first.reused
    _, _, again = execute_study(maker.make, settings, out, db=db, quiet=True)
    assert again.ran == [] and len(again.reused) == len(first.ran)


def test_notes_flag_modelled_and_missing_li_phases():
    from ssbflow.studies.inn_li.study import library_note

    # Li–Sn and Li–Mg phases are models (bcc stackings, B2 approximant): the table says so
    assert "Li5Sn2" in library_note("Sn") and "Li2Sn5" in library_note("Sn")
    assert "B2" in library_note("Mg")
    # Li–Fe has no compound; Li–In has a refined LiIn structure and needs no caveat
    assert "no compound" in library_note("Fe")
    assert library_note("In") == ""
