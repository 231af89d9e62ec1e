"""Screening: a flow per screen; ranking, resume without recomputation, failures recorded
per candidate."""

from __future__ import annotations

from importlib import resources

import pytest

import ssbflow.methods.phases as phases_module
from ssbflow.errors import InputError
from ssbflow.runtime.execute import execute_study
from ssbflow.studies.registry import get_study
from ssbflow.studies.screening.report import ranking_rows, write_ranking
from ssbflow.studies.screening.spec import load_screen

STUDY = get_study("screening")


def _write(tmp_path, text):
    path = tmp_path / "screen.yaml"
    path.write_text(text)
    return path


def _run(spec, out, db):
    """Run (or resume) the screen in ``out``: its results document and what the call did."""
    opts = STUDY.parse_options({"spec": spec})
    output, timings, summary = execute_study(lambda: STUDY.make_flow(opts), STUDY.settings(opts),
                                             out, db=db, quiet=True)
    return STUDY.write_report(output, out, timings), summary


def _candidates(names):
    return sorted(n.removeprefix("candidate ") for n in names if n.startswith("candidate "))
SCREEN = """
name: resume-test
metrics: [reaction_energy_with_li]
candidates:
  - formula: Ag
  - formula: Xx3N
  - formula: Cu
"""


class Killed(BaseException):
    """Stands in for SIGKILL: no job catches it, the run stops where it is."""


def test_screen_resumes_without_recomputing_and_isolates_failures(tmp_path, monkeypatch):
    spec = load_screen(_write(tmp_path, SCREEN))
    db, out = tmp_path / "db", tmp_path / "run"
    relaxed: list[str] = []
    real_relax = phases_module.relax_structure_mlip
    kill_at = ["Cu"]

    def counting_relax(structure, **kwargs):
        formula = structure.composition.reduced_formula
        if formula in kill_at:
            kill_at.remove(formula)
            raise Killed  # the screen is killed while it relaxes Cu
        relaxed.append(formula)
        return real_relax(structure, **kwargs)

    monkeypatch.setattr(phases_module, "relax_structure_mlip", counting_relax)
    with pytest.raises(Killed):
        _run(spec, out, db)
    assert sorted(relaxed) == ["Ag", "Li", "LiAg"]

    relaxed.clear()
    results, summary = _run(spec, out, db)
    # only Cu was relaxed: Ag, LiAg and Li came from the store; each phase is one job
    assert relaxed == ["Cu"]
    assert sorted(summary.reused) == ["relax ag", "relax li", "relax liag"]
    assert _candidates(summary.ran) == ["Ag", "Cu", "Xx3N"]

    docs = {d["name"]: d for d in results["candidates"]}
    assert docs["Ag"]["status"] == "ok"
    assert docs["Ag"]["metrics"]["reaction_energy_with_li"]["products"] == ["LiAg"]
    assert docs["Cu"]["metrics"]["reaction_energy_with_li"]["reaction"] == "no reaction"
    assert docs["Xx3N"]["status"] == "failed"
    assert "unknown element 'Xx'" in docs["Xx3N"]["errors"]["reaction_energy_with_li"]

    relaxed.clear()
    again, summary = _run(spec, out, db)
    assert summary.ran == [] and relaxed == []
    assert _candidates(summary.reused) == ["Ag", "Cu", "Xx3N"]

    rows = again["rankings"]["reaction_energy_with_li"]
    assert rows == ranking_rows(again["candidates"], "reaction_energy_with_li")
    assert [r["candidate"] for r in rows] == ["Ag", "Cu", "Xx3N"]
    assert rows[0]["reaction_energy_eV_per_atom"] < 0 and rows[2]["rank"] == ""
    for ext in ("csv", "md", "png"):
        assert (out / f"reaction_energy_with_li.{ext}").stat().st_size > 0
    assert "Xx3N" in (out / "reaction_energy_with_li.md").read_text()
    assert "unknown element 'Xx'" in (out / "report.md").read_text()
    files = write_ranking(rows, "reaction_energy_with_li", tmp_path / "out", "test")
    assert all(p.stat().st_size > 0 for p in files)


def test_a_failing_phase_is_recorded_with_its_candidates(tmp_path, monkeypatch):
    """A relaxation that raises fails the candidates needing that phase, not the screen."""
    spec = load_screen(_write(tmp_path, "name: f\ncandidates: [Ag, In]\n"))
    real_relax = phases_module.relax_structure_mlip

    def failing_for_in(structure, **kwargs):
        if structure.composition.reduced_formula == "In":
            raise RuntimeError("force field exploded")
        return real_relax(structure, **kwargs)

    monkeypatch.setattr(phases_module, "relax_structure_mlip", failing_for_in)
    results, summary = _run(spec, tmp_path / "run", tmp_path / "db")
    assert summary.ok
    docs = {d["name"]: d for d in results["candidates"]}
    assert docs["Ag"]["status"] == "ok"
    assert docs["In"]["status"] == "failed"
    assert "phase 'in' failed" in docs["In"]["errors"]["reaction_energy_with_li"]


def test_shipped_examples_parse():
    examples = resources.files("ssbflow.examples")
    metals = load_screen(examples / "screen_metals_inn.yaml")
    assert {c.value for c in metals.candidates} == {"Au", "Zn", "In", "Fe", "Ag", "Sn", "Mg",
                                                    "Al", "Cu", "InN"}
    nitriles = load_screen(examples / "screen_nitriles.yaml")
    assert {c.value for c in nitriles.candidates} == {
        "succinonitrile", "adiponitrile", "glutaronitrile", "malononitrile", "acetonitrile"}
    assert nitriles.metrics == ["adsorption_energy_on_llzo"]
    smiles = load_screen(examples / "screen_interlayer_smiles.yaml")
    assert len(smiles.candidates) >= 20 and {c.kind for c in smiles.candidates} == {"smiles"}
    assert {"adsorption_energy_on_llzo", "frontier_orbitals"} <= set(smiles.metrics)
    assert [o["quantity"] for o in smiles.objectives] == [
        "adsorption_energy_eV", "oxidation_limit_V", "reduction_limit_V"]
    assert {"succinonitrile", "ethylene-carbonate", "dimethoxyethane", "TTE"} <= {
        c.name for c in smiles.candidates}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("candidates: 3", "candidates"),
        ("metrics: [melting_point]\ncandidates: [Li]", "unknown metric"),
        ("candidates:\n  - {formula: Au, molecule: sn}", "exactly one"),
        ("candidates: [Au, Au]", "appears twice"),
        ("candidates: [\n", "not valid YAML"),
        ("candidates: [{smiles: 'C1CC'}]", "candidate 'C1CC'.*not a valid SMILES"),
        ("metrics: [frontier_orbitals]\ncandidates: [{smiles: C}]\n"
         "objectives: [{happiness: maximise}]", "unknown quantity"),
        ("metrics: [frontier_orbitals]\ncandidates: [{smiles: C}]\n"
         "objectives: [{adsorption_energy_eV: minimise}]", "needs metric"),
        # all-zero weights used to pass and fail in the ranking job after every candidate
        ("metrics: [frontier_orbitals]\ncandidates: [{smiles: C}]\nobjectives:\n"
         "  - {quantity: gap_eV, direction: maximise, weight: 0}\n"
         "  - {quantity: ip_eV, direction: maximise, weight: 0}", "objectives: every weight is 0"),
        ("candidates: [3]", "candidate 1 needs exactly one"),  # was a TypeError
        ("metrics: 3\ncandidates: [Au]", "metrics 3; expected a non-empty list"),
        ("metrics: []\ncandidates: [Au]", "metrics \\[\\]; expected a non-empty list"),
        ("candidates: [{smiles: C}]\nadsorption: {orientations: sideways}",
         "orientations \\['sideways'\\]; expected a list of upright, flat"),
        # 62 atoms pass the SMILES limit (200) but not the frontier-orbital one (60)
        ("metrics: [frontier_orbitals]\ncandidates: [{smiles: " + "C" * 20 + ", name: eicosane}]",
         "candidate 'eicosane' has 62 atoms; frontier_orbitals takes at most 60"),
    ],
)
def test_bad_screening_files(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        load_screen(_write(tmp_path, text))


def test_bad_screening_file_messages_are_one_line(tmp_path):
    with pytest.raises(InputError) as err:
        load_screen(_write(tmp_path, "metrics: {a: 1}\ncandidates: [Au]"))
    assert "\n" not in str(err.value)


def test_one_orientation_as_a_plain_string_is_a_one_item_list(tmp_path):
    spec = load_screen(_write(tmp_path, "candidates: [{smiles: C}]\nmetrics: [binding_mode]\n"
                                        "adsorption: {orientations: upright}"))
    assert spec.adsorption["orientations"] == ["upright"]  # was ['u', 'p', 'r', ...]
    # the 62-atom eicosane is fine without frontier_orbitals
    load_screen(_write(tmp_path, "metrics: [binding_mode]\ncandidates: [{smiles: " + "C" * 20
                       + "}]"))


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
    adsorbed: list[str] = []
    real_adsorption = adsorption_module.mlip_adsorption_energy

    def killed_at_second(mol, **kwargs):
        adsorbed.append(mol.composition.hill_formula)
        if len(adsorbed) == 2:
            raise Killed  # the screen is killed in its second candidate
        return real_adsorption(mol, **kwargs)

    monkeypatch.setattr(adsorption_module, "mlip_adsorption_energy", killed_at_second)
    db, out = tmp_path / "db", tmp_path / "run"
    with pytest.raises(Killed):
        _run(spec, out, db)
    results, summary = _run(spec, out, db)
    # the first candidate and the slab come from the store; only the killed one is computed
    assert len(_candidates(summary.reused)) == 1 and len(_candidates(summary.ran)) == 1
    assert "relax slab" in summary.reused
    # one relaxation of the 16-atom slab for the whole screen, resume included
    assert slab_relaxations == [16]
    docs = {d["name"]: d for d in results["candidates"]}
    assert all(d["status"] == "ok" for d in docs.values()), docs
    for d in docs.values():
        # a nitrile N lone pair on a surface Li+: bound, weaker than a covalent bond
        assert -2.5 < d["metrics"]["adsorption_energy_on_llzo"]["adsorption_energy_eV"] < 0.0
    rows = ranking_rows(results["candidates"], "adsorption_energy_on_llzo")
    assert [r["rank"] for r in rows] == [1, 2]
    energies = [r["adsorption_energy_eV"] for r in rows]
    assert energies == sorted(energies)
    assert (out / "adsorption_energy_on_llzo.png").stat().st_size > 0


def test_smiles_screen_frontier_orbitals_binding_mode_and_pareto(tmp_path):
    """Two triatomics by SMILES on the small LiF(001) slab: adsorption, binding mode and
    PySCF frontier orbitals per candidate, a Pareto table and plot over two objectives."""
    from tests.methods.test_adsorption import _lif_slab

    _lif_slab().to(filename=str(tmp_path / "lif.cif"))
    spec = load_screen(_write(tmp_path, """
name: smiles-on-lif
metrics: [adsorption_energy_on_llzo, binding_mode, frontier_orbitals]
adsorption: {slab: lif.cif, site_species: Li, n_sites: 1, orientations: [upright]}
objectives:
  - adsorption_energy_eV: minimise
  - {quantity: oxidation_limit_V, direction: maximise, weight: 2}
candidates:
  - {smiles: "C#N", name: HCN}
  - smiles: "O"
"""))
    assert [c.kind for c in spec.candidates] == ["smiles", "smiles"]
    assert [c.name for c in spec.candidates] == ["HCN", "O"]
    results, _ = _run(spec, tmp_path / "run", tmp_path / "db")
    docs = {d["name"]: d for d in results["candidates"]}
    assert all(d["status"] == "ok" for d in docs.values()), docs
    for name, anchor in (("HCN", "N"), ("O", "O")):
        m = docs[name]["metrics"]
        fo = m["frontier_orbitals"]
        assert fo["homo_eV"] < fo["lumo_eV"] and fo["ip_eV"] > fo["ea_eV"] and fo["ip_eV"] > 0
        assert fo["oxidation_limit_V"] == pytest.approx(fo["ip_eV"] - 1.40)
        assert fo["method"]["basis"] == "def2-SVP" and "Trasatti" in fo["limits_conversion"]
        assert fo["charge"] == 0 and fo["geometry"] == "ETKDGv3+MMFF94"
        assert fo["geometry_converged"] is True
        # the lone pair of N (HCN) or O (water) points at a surface Li+ after relaxation
        mode = m["binding_mode"]
        assert mode["anchor_element"] == anchor == mode["placed_anchor"]
        assert 1.7 < mode["anchor_La_distance_A"] < 2.6
        assert mode["n_contacts"] >= 1 and mode["contacts"].startswith(anchor)
    pareto = results["pareto"]
    assert {r["candidate"] for r in pareto} == {"HCN", "O"}
    assert any(r["on_front"] for r in pareto)
    assert sorted(r["score_rank"] for r in pareto) == [1, 2]
    for ext in ("csv", "md", "png"):
        assert (tmp_path / "run" / f"pareto.{ext}").stat().st_size > 0
    assert "oxidation_limit_V maximise (weight 2)" in (tmp_path / "run" / "pareto.md").read_text()
    table = (tmp_path / "run" / "frontier_orbitals.csv").read_text()
    assert "PySCF B3LYP/def2-SVP (density fitting), vertical ΔSCF" in table


def test_a_committee_screen_runs_each_molecules_dft_once(tmp_path):
    """``--models A,B``: the adsorption is per model, the frontier-orbital DFT (no force
    field) one job per candidate that every model's candidate job reads."""
    from ssbflow.studies.committee import study_flow

    spec = load_screen(_write(tmp_path, """
name: committee-dft-once
metrics: [adsorption_energy_on_llzo, frontier_orbitals]
candidates:
  - {smiles: "C#N", name: HCN}
  - smiles: "O"
"""))
    flow = study_flow(STUDY, STUDY.parse_options({"spec": spec, "models": "CHGNet,SevenNet-0"}))
    names = [job.name for job, _ in flow.iterflow()]
    assert sorted(n for n in names if n.startswith("frontier")) == ["frontier HCN", "frontier O"]
    assert sorted(n for n in names if n.startswith("candidate")) == [
        f"candidate {c} [{m}]" for c in ("HCN", "O") for m in ("CHGNet", "SevenNet-0")]
    frontier = {job.uuid for job, _ in flow.iterflow() if job.name.startswith("frontier")}
    readers = [job for job, _ in flow.iterflow() if job.name.startswith("candidate")]
    for job in readers:  # each candidate job reads one of the two shared DFT jobs
        assert len({ref.uuid for ref in job.input_references} & frontier) == 1


def test_the_widest_homo_lumo_gap_ranks_first():
    """A larger gap is the more stable molecule (it ranked last before); energies stay most
    negative first; a failed candidate is last without a rank."""
    docs = [{"name": n, "metrics": {"frontier_orbitals": {"gap_eV": g}} if g else {},
             "errors": {} if g else {"frontier_orbitals": "SCF did not converge"}}
            for n, g in (("narrow", 5.1), ("wide", 9.8), ("failed", None), ("mid", 7.0))]
    rows = ranking_rows(docs, "frontier_orbitals")
    assert [(r["candidate"], r["rank"]) for r in rows] == [
        ("wide", 1), ("mid", 2), ("narrow", 3), ("failed", "")]
    energies = [{"name": n, "metrics": {"adsorption_energy_on_llzo": {"adsorption_energy_eV": e}},
                 "errors": {}} for n, e in (("weak", -0.3), ("strong", -1.2))]
    assert [r["candidate"] for r in ranking_rows(energies, "adsorption_energy_on_llzo")] == [
        "strong", "weak"]


def test_retry_failed_and_reuse_see_every_model_of_a_committee():
    """--models A,B: the candidate jobs sit in one sub-flow per model ('candidate O
    [SevenNet-0]'), the frontier DFT in a model-independent one. flow.jobs is not recursive:
    the candidate names came out empty, so --retry-failed forgot nothing and 'reused' was 0."""
    from jobflow import JobStore
    from maggma.stores import MemoryStore

    from ssbflow.studies.committee import study_flow
    from ssbflow.studies.screening.spec import ScreenSpec
    from ssbflow.studies.screening.study import (
        candidate_job_names,
        finished_candidates,
        forget_failed,
    )

    spec = ScreenSpec(name="c", metrics=["frontier_orbitals"], candidates=[
        {"name": "HCN", "kind": "smiles", "value": "C#N"},
        {"name": "O", "kind": "smiles", "value": "O"}])
    flow = study_flow(STUDY, STUDY.parse_options({"spec": spec, "models": "CHGNet,SevenNet-0"}))
    names = candidate_job_names(flow)
    assert sorted(names.values()) == ["HCN", "HCN", "O", "O"]
    store = JobStore(MemoryStore())
    store.connect()
    outputs = {"candidate HCN": {"status": "ok"}, "candidate O": {"status": "failed"},
               "frontier HCN": {"homo_eV": -9.0}, "frontier O": {"error": "no SCF"},
               "ranking": {"screen": "c"}}
    jobs = [job for job, _ in flow.iterflow()]
    store.docs_store.update([{"uuid": j.uuid, "index": 1, "name": j.name,
                              "output": outputs[j.name.split(" [")[0]]} for j in jobs],
                            key="uuid")
    assert finished_candidates(flow, store) == {"HCN", "O"}
    assert forget_failed(flow, store) == ["O"]
    left = {d["name"] for d in store.query({}, properties=["name"])}
    # both models' failed O, its failed DFT and both rankings are gone
    assert left == {"candidate HCN [CHGNet]", "candidate HCN [SevenNet-0]", "frontier HCN"}
    assert finished_candidates(flow, store) == {"HCN"}
    killed = next(j for j in jobs if j.name == "candidate HCN [SevenNet-0]")
    store.docs_store.remove_docs({"uuid": killed.uuid})  # one model's job killed midway
    assert finished_candidates(flow, store) == set()


def test_a_committee_screen_ranks_what_every_model_has_finished(tmp_path):
    """``screen --status`` of a submitted committee screen used to rank nothing until the
    flow completed. Now the candidates finished with every model are ranked (each model's
    ranking and the committee's spread), the same numbers as the finished screen's. Real
    CHGNet and SevenNet-0; the queue is the local runner's store."""
    from ssbflow.runtime.store import monty_job_store
    from ssbflow.studies.committee import study_flow, write_study_report
    from ssbflow.studies.screening.partial import partial_output
    from ssbflow.studies.screening.study import screen_jobs

    spec = load_screen(_write(tmp_path, "name: partial-committee\nmetrics: "
                                        "[reaction_energy_with_li]\ncandidates:\n"
                                        "  - formula: Ag\n  - formula: Cu\n"))
    models = ("CHGNet", "SevenNet-0")
    opts = STUDY.parse_options({"spec": spec, "models": ",".join(models)})
    flow = study_flow(STUDY, opts)
    db = tmp_path / "db"
    output, _, _ = execute_study(lambda: flow, STUDY.settings(opts), tmp_path / "run", db=db,
                                 quiet=True)
    final = write_study_report(STUDY, opts, output, tmp_path / "final", {})
    store = monty_job_store(db)
    store.connect()
    # all finished: the same committee table as the finished flow's
    whole = write_study_report(STUDY, opts, partial_output(flow, opts, store),
                               tmp_path / "whole", {})
    assert whole["committee"] == final["committee"]
    key = "reaction_energy_eV_per_atom"
    for model in models:  # Li alloys with Ag (LiAg), not with Cu: with either force field
        assert final["committee"][f"Ag: {key}"]["per_model"][model] < 0
    # SevenNet-0's Cu job killed on its node: Cu is not finished with every model
    cu = next(j for j, name, model in screen_jobs(flow)
              if name == "candidate Cu" and model == "SevenNet-0")
    store.docs_store.remove_docs({"uuid": cu.uuid})
    part = partial_output(flow, opts, store)
    assert {m: [d["name"] for d in r.candidates] for m, r in part.items()} == {
        m: ["Ag"] for m in models}
    partial = write_study_report(STUDY, opts, part, tmp_path / "partial", {})
    assert set(partial["committee"]) == {f"Ag: {key}"}
    assert partial["committee"][f"Ag: {key}"] == final["committee"][f"Ag: {key}"]
    for model in models:  # each model's own report, as for the finished screen
        assert (tmp_path / "partial" / partial["committee_models"][model] / "report.md").exists()
    ag = next(j for j, name, model in screen_jobs(flow)
              if name == "candidate Ag" and model == "CHGNet")
    store.docs_store.remove_docs({"uuid": ag.uuid})
    assert partial_output(flow, opts, store) is None
    store.close()
