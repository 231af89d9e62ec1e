"""``ssbflow run STUDY`` and ``ssbflow resume`` generated from the study registry, with a toy
study (three counting jobs) registered for the test."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ssbflow.cli import main, make_app
from tests.cli import toy_study

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def toy(monkeypatch, tmp_path):
    toy_study.register(monkeypatch)
    log = tmp_path / "log"
    log.mkdir()
    return log


def _json(capsys, argv: list[str]) -> dict:
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_options_of_every_kind_come_from_the_model(toy, tmp_path, capsys):
    out, db = tmp_path / "run", tmp_path / "db"
    doc = _json(capsys, ["run", "toy", "--log-dir", str(toy), "--a", "2", "--miller", "1", "1",
                         "0", "-T", "400", "--temperature", "500", "--label", "3", "--extra",
                         '{"x": 1.5}', "--out", str(out), "--db", str(db), "--json"])
    assert doc["value"] == (2 + 900) ** 2
    opts = doc["options"]
    assert opts["miller"] == [1, 1, 0] and opts["temperatures_K"] == [400.0, 500.0]
    assert opts["label"] == 3 and opts["extra"] == {"x": 1.5} and opts["hold"] is False
    # the options are stored with the run, under the model's names
    settings = json.loads((out / "run.json").read_text())["settings"]
    assert settings["study"] == "toy" and settings["temperatures_K"] == [400.0, 500.0]
    # defaults from the model; the same command again is a resume
    assert _json(capsys, ["run", "toy", "--log-dir", str(toy), "--out", str(tmp_path / "r2"),
                          "--db", str(db), "--json"])["value"] == 301.0 ** 2
    capsys.readouterr()
    assert main(["run", "toy", "--log-dir", str(toy), "--out", str(tmp_path / "r2"),
                 "--db", str(db)]) == 0
    assert capsys.readouterr().out.strip() == f"value: {301.0 ** 2}"
    assert (toy / "calls.log").read_text().split() == ["add", "square"] * 2


@pytest.mark.parametrize(("args", "needle"), [
    (["--a", "-1"], "--a must be >= 0"),
    (["--miller", "1", "1"], "--miller"),
    (["--extra", "{oops"], "--extra '{oops'"),
    (["--no-such-option", "1"], "no-such-option"),
])
def test_bad_option_is_one_line_and_writes_nothing(toy, tmp_path, capsys, args, needle):
    out = tmp_path / "run"
    code = main(["run", "toy", "--log-dir", str(toy), "--out", str(out), "--db",
                 str(tmp_path / "db"), *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and needle in err, err
    assert not out.exists()


KILLABLE = """
import sys
from tests.cli import toy_study
from ssbflow.studies import registry
registry.STUDIES["toy"] = "tests.cli.toy_study:TOY"
from ssbflow.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_resume_continues_a_killed_run(toy, tmp_path, capsys):
    out, db = tmp_path / "run", tmp_path / "db"
    (toy / "hold").touch()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, "run", "toy", "--log-dir",
                             str(toy), "--hold", "--out", str(out), "--db", str(db), "--quiet"],
                            env=env, cwd=tmp_path)
    deadline = time.time() + 120
    while not (toy / "started").exists():
        assert proc.poll() is None and time.time() < deadline, "job never started"
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (toy / "hold").unlink()
    doc = _json(capsys, ["resume", str(out), "--db", str(db), "--json"])
    assert doc["value"] == 2 * (1 + 300)
    assert (toy / "calls.log").read_text().split() == ["add", "slow", "slow"]  # add reused
    assert (out / "results.json").is_file()


def test_resume_of_a_folder_without_run_is_one_line(tmp_path, capsys):
    assert main(["resume", str(tmp_path)]) == 2
    assert "run.json missing" in capsys.readouterr().err


def test_every_registered_study_has_one_generated_run_command():
    from ssbflow.cli.studies import GENERATED
    from ssbflow.studies.registry import study_names

    app = make_app()
    run = next(g.typer_instance for g in app.registered_groups if g.name == "run")
    names = [c.name for c in run.registered_commands]
    assert len(names) == len(set(names))
    by_name = {c.name: c for c in run.registered_commands}
    for name in study_names():
        assert getattr(by_name[name].callback, GENERATED, False), name


def test_a_command_builds_only_the_studies_it_needs():
    """``run STUDY`` imports one study, other commands none (each study import cost the
    start-up 2.5–3 s of CPU); ``run`` alone and ``make_app()`` still build them all."""
    from ssbflow.cli.studies import studies_to_build
    from ssbflow.studies.registry import study_names

    assert studies_to_build(("run", "inn-li", "--json")) == ["inn-li"]
    assert studies_to_build(("run", "--help")) == studies_to_build(None) == study_names()
    assert studies_to_build(("run", "unobtainium")) == study_names()  # click lists them
    assert studies_to_build(("reaction", "InN", "Li")) == studies_to_build(()) == []
    code = ("import sys; from ssbflow.cli import main; main(['build', '--help']); "
            "print(sorted(m for m in sys.modules if m.startswith('ssbflow.studies.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.splitlines()[-1]
    assert "ssbflow.studies.sn_llzo.study" not in out and "ssbflow.studies.llto" not in out


def test_submit_checks_the_options_before_submitting(toy, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SSBFLOW_CLUSTERS", str(tmp_path / "no-clusters.yaml"))
    out = tmp_path / "run"
    assert main(["submit", "toy", "--out", str(out), "--dry-run", "--log-dir", str(toy),
                 "--a", "-1"]) == 2
    assert "--a must be >= 0" in capsys.readouterr().err
    doc = _json(capsys, ["submit", "toy", "--out", str(out), "--dry-run", "--json",
                         "--log-dir", str(toy), "-T", "400"])
    assert doc["job_id"] == "" and "ssbflow run toy --log-dir" in doc["command"]
    assert "-T 400" in doc["command"]


def test_a_field_named_with_its_unit_also_takes_the_flag_without_it(toy):
    from ssbflow.cli.options import parse_study_args

    values = parse_study_args(toy_study.TOY, ["--log-dir", str(toy), "--temperatures", "250"])
    assert values["temperatures_K"] == [250.0]


def test_no_flag_belongs_to_two_options_of_any_study():
    """A unit-less alias shared by two fields (``anneal_K``, ``anneal_ps`` -> ``--anneal``)
    used to be given to both: click then set whichever it met last."""
    from ssbflow.cli.options import _flag_declarations
    from ssbflow.studies.registry import get_study, study_names

    for name in study_names():
        study = get_study(name)
        owner: dict[str, str] = {}
        for field in study.options.model_fields:
            for flag in _flag_declarations(study, field):
                assert owner.setdefault(flag, field) == field, (name, flag, field, owner[flag])
    polymer = get_study("polymer-li-diffusion")
    assert "--anneal" not in _flag_declarations(polymer, "anneal_K")
    assert "--anneal-K" in _flag_declarations(polymer, "anneal_K")
    assert "--cool" in _flag_declarations(polymer, "cool_ps")  # unique: keeps its alias
