"""A study run once per force field (``--models``): per-model values, mean and spread of
the headline numbers, each model's own report, resume from the store (real CHGNet and
SevenNet-0 on inn-li with one candidate and no MD)."""

from __future__ import annotations

import json

import pytest

from ssbflow.errors import InputError
from ssbflow.runtime import run_study
from ssbflow.studies.inn_li.schema import InnLiOptions

OPTIONS = {"candidates": ["Ag"], "md_steps": 0, "models": "CHGNet,SevenNet-0"}


@pytest.fixture(scope="module")
def committee_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("committee")
    results = run_study("inn-li", out / "run", db=out / "db", quiet=True, **OPTIONS)
    return out, results


def test_spread_is_the_difference_of_the_two_models_own_results(committee_run):
    out, results = committee_run
    row = results["committee"]["Ag + Li (eV/atom)"]
    assert row["models"] == ["CHGNet", "SevenNet-0"]
    own = {m: json.loads((out / "run" / "models" / m / "results.json").read_text())
           for m in row["models"]}
    values = {m: own[m]["ranking"][0]["reaction_energy_eV_per_atom"] for m in own}
    assert row["per_model"] == pytest.approx(values)
    assert values["CHGNet"] != values["SevenNet-0"]
    assert row["spread"] == pytest.approx(abs(values["CHGNet"] - values["SevenNet-0"]))
    assert all(v < 0 for v in values.values())  # Li and Ag form LiAg with every model
    # each member ran with its own model, recorded in its settings and energy source
    assert own["SevenNet-0"]["settings"]["mlip_model"] == "SevenNet-0"
    assert "## Model committee" in (out / "run" / "report.md").read_text()


def test_rankings_are_compared_and_rerun_reuses_every_job(committee_run):
    out, results = committee_run
    assert results["committee_rankings"]["reactivity with Li"]["same_order"]
    again = run_study("inn-li", out / "run", db=out / "db", quiet=True, **OPTIONS)
    assert again["committee"] == results["committee"]


def test_one_model_is_a_plain_run_and_a_committee_needs_the_mlip_engine():
    one = InnLiOptions(models="SevenNet-0")
    assert one.mlip_model == "SevenNet-0" and one.models == ()
    assert "models" not in one.model_dump()  # a plain run stores what it stored before
    assert InnLiOptions(committee=True).models[0] == "CHGNet"
    with pytest.raises(ValueError, match="--models: a committee needs --engine mlip"):
        InnLiOptions(engine="cp2k", models="CHGNet,SevenNet-0")
    with pytest.raises(InputError):
        run_study("inn-li", "/nonexistent-never-written", models="CHGNet,Nope")
