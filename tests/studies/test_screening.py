"""Screening: ranking, resume without recomputation, failures recorded per candidate."""

from __future__ import annotations

from importlib import resources

import pytest

import ssbflow.methods.phases as phases_module
from ssbflow.errors import InputError
from ssbflow.studies.screening.study import load_screen, ranking_rows, run_screen, write_ranking


def _write(tmp_path, text):
    path = tmp_path / "screen.yaml"
    path.write_text(text)
    return path


SCREEN = """
name: resume-test
metrics: [reaction_energy_with_li]
candidates:
  - formula: Ag
  - formula: Xx3N
  - formula: Cu
"""


class Interrupted(Exception):
    pass


def test_screen_resumes_without_recomputing_and_isolates_failures(tmp_path, monkeypatch):
    spec = load_screen(_write(tmp_path, SCREEN))
    db = tmp_path / "db"
    relaxed: list[str] = []
    real_relax = phases_module.relax_structure_mlip

    def counting_relax(structure, **kwargs):
        relaxed.append(structure.composition.reduced_formula)
        return real_relax(structure, **kwargs)

    monkeypatch.setattr(phases_module, "relax_structure_mlip", counting_relax)

    def stop_after_first(name, done, total):
        if done == 1:
            raise Interrupted  # the screen is killed after the first candidate

    with pytest.raises(Interrupted):
        run_screen(spec, db, progress=stop_after_first)
    assert sorted(relaxed) == ["Ag", "Li", "LiAg"]

    relaxed.clear()
    result = run_screen(spec, db)
    assert result.reused == ["Ag"]
    assert result.computed == ["Xx3N", "Cu"]
    # only Cu was relaxed: Ag, LiAg and Li came from the store
    assert relaxed == ["Cu"]

    docs = {d["name"]: d for d in result.documents}
    assert docs["Ag"]["status"] == "ok"
    assert docs["Ag"]["metrics"]["reaction_energy_with_li"]["products"] == ["LiAg"]
    assert docs["Cu"]["metrics"]["reaction_energy_with_li"]["reaction"] == "no reaction"
    assert docs["Xx3N"]["status"] == "failed"
    assert "unknown element 'Xx'" in docs["Xx3N"]["errors"]["reaction_energy_with_li"]

    relaxed.clear()
    again = run_screen(spec, db)
    assert again.computed == [] and relaxed == []

    rows = ranking_rows(again.documents, "reaction_energy_with_li")
    assert [r["candidate"] for r in rows] == ["Ag", "Cu", "Xx3N"]
    assert rows[0]["reaction_energy_eV_per_atom"] < 0 and rows[2]["rank"] == ""
    files = write_ranking(rows, "reaction_energy_with_li", tmp_path / "out", "test")
    assert all(p.stat().st_size > 0 for p in files)
    assert "Xx3N" in (tmp_path / "out" / "reaction_energy_with_li.md").read_text()


def test_shipped_examples_parse():
    examples = resources.files("ssbflow.examples")
    metals = load_screen(examples / "screen_metals_inn.yaml")
    assert {c.value for c in metals.candidates} == {"Au", "Zn", "In", "Fe", "Ag", "Sn", "Mg",
                                                    "Al", "Cu", "InN"}
    nitriles = load_screen(examples / "screen_nitriles.yaml")
    assert {c.value for c in nitriles.candidates} == {
        "succinonitrile", "adiponitrile", "glutaronitrile", "malononitrile", "acetonitrile"}
    assert nitriles.metrics == ["adsorption_energy_on_llzo"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("candidates: 3", "candidates"),
        ("metrics: [melting_point]\ncandidates: [Li]", "unknown metric"),
        ("candidates:\n  - {formula: Au, molecule: sn}", "exactly one"),
        ("candidates: [Au, Au]", "appears twice"),
        ("candidates: [\n", "not valid YAML"),
    ],
)
def test_bad_screening_files(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        load_screen(_write(tmp_path, text))


def test_molecule_screen_relaxes_the_slab_once_and_ranks(tmp_path, monkeypatch):
    """Two nitriles on a small LiF(001) slab (stands in for LLZO: same code path, seconds of
    CHGNet instead of minutes): ranked by adsorption energy, the slab relaxed once, resumed."""
    import ssbflow.methods.adsorption as adsorption_module
    from tests.methods.test_adsorption import _lif_slab

    _lif_slab().to(filename=str(tmp_path / "lif.cif"))
    spec = load_screen(_write(tmp_path, """
name: nitriles-on-lif
metrics: [adsorption_energy_on_llzo]
adsorption: {slab: lif.cif, site_species: Li, n_sites: 1, orientations: [upright]}
candidates:
  - molecule: acetonitrile
  - molecule: malononitrile
"""))
    slab_relaxations: list[int] = []
    real = adsorption_module.mlip_relaxed_slab

    def counting(slab, **kwargs):
        slab_relaxations.append(len(slab))
        return real(slab, **kwargs)

    monkeypatch.setattr(adsorption_module, "mlip_relaxed_slab", counting)

    def stop_after_first(name, done, total):
        if done == 1:
            raise Interrupted

    db = tmp_path / "db"
    with pytest.raises(Interrupted):
        run_screen(spec, db, progress=stop_after_first)
    result = run_screen(spec, db)
    assert result.reused == ["acetonitrile"] and result.computed == ["malononitrile"]
    # one relaxation of the 16-atom slab for the whole screen, resume included
    assert slab_relaxations == [16]
    docs = {d["name"]: d for d in result.documents}
    assert all(d["status"] == "ok" for d in docs.values()), docs
    for d in docs.values():
        # a nitrile N lone pair on a surface Li+: bound, weaker than a covalent bond
        assert -2.5 < d["metrics"]["adsorption_energy_on_llzo"]["adsorption_energy_eV"] < 0.0
    rows = ranking_rows(result.documents, "adsorption_energy_on_llzo")
    assert [r["rank"] for r in rows] == [1, 2]
    energies = [r["adsorption_energy_eV"] for r in rows]
    assert energies == sorted(energies)
