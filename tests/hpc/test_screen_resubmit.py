"""``screen --submit`` bookkeeping without a queue: submission.json is written before the
flow is submitted, so a crash in between does not give a second flow on retry; the saved
flow is submitted only when the queue lacks it; the runner's time budget is shared."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from jobflow import Flow

from ssbflow.errors import InputError
from ssbflow.hpc import remote, screening

STUDY = SimpleNamespace(settings=lambda options: {"screen": "three"})
PROFILE = SimpleNamespace(name="local")


@pytest.fixture
def queue(monkeypatch) -> dict:
    """A fake queue: submitted flow uuids, resumes, driver calls."""
    state = {"flows": [], "resumed": [], "drives": [], "fail_submit": False, "states": []}
    flow = Flow([], name="screen")

    def submit(flow, profile, template, project):
        if state["fail_submit"]:
            raise RuntimeError("killed during submission")
        state["flows"].append(flow.uuid)
        return ["1"]

    def status(project, flow_id):
        if flow_id not in state["flows"]:
            raise InputError(f"--flow: no flow {flow_id!r} in project {project!r}")
        return [SimpleNamespace(jobs=[SimpleNamespace(state=s) for s in state["states"]])]

    monkeypatch.setattr("ssbflow.studies.committee.study_flow", lambda study, options: flow)
    monkeypatch.setattr(remote, "project_name", lambda profile: "ssbflow-local")
    monkeypatch.setattr(remote, "submit_flow_remote", submit)
    monkeypatch.setattr(remote, "flow_status", status)
    monkeypatch.setattr(remote, "resume_remote",
                        lambda flow_id, project: state["resumed"].append(flow_id) or {})
    monkeypatch.setattr(screening, "collect_screen", lambda study, options, out: {})
    state["uuid"] = flow.uuid
    return state


def test_a_crash_during_submission_does_not_give_a_second_flow(queue, tmp_path) -> None:
    out = tmp_path / "screen"
    queue["fail_submit"] = True
    with pytest.raises(RuntimeError, match="killed"):
        screening.submit_screen(STUDY, None, PROFILE, out)
    assert json.loads((out / screening.SUBMISSION_FILE).read_text())["flow_id"] == queue["uuid"]
    queue["fail_submit"] = False
    again = screening.submit_screen(STUDY, None, PROFILE, out)  # not in the queue: submitted
    assert again == {"submitted": ["1"]} and queue["flows"] == [queue["uuid"]]
    third = screening.submit_screen(STUDY, None, PROFILE, out)  # in the queue: repaired only
    assert "repaired" in third and queue["flows"] == [queue["uuid"]]
    assert queue["resumed"] == [queue["uuid"]]


def test_unreadable_saved_flow_is_one_line(tmp_path) -> None:
    with pytest.raises(InputError, match=r"submitted-flow\.json cannot be read"):
        screening._load_flow(tmp_path)
    (tmp_path / screening.FLOW_FILE).write_text("{not json")
    with pytest.raises(InputError, match=r"submitted-flow\.json cannot be read"):
        screening._load_flow(tmp_path)


def test_repair_drive_gets_the_rest_of_the_timeout(queue, tmp_path, monkeypatch) -> None:
    clock = [100.0]
    drives = []

    def drive(project, timeout_s):
        drives.append(timeout_s)
        clock[0] += 70.0  # the first drive used 70 s of the 100 s
        return True

    monkeypatch.setattr(screening, "drive", drive)
    monkeypatch.setattr(screening, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    queue["states"] = ["COMPLETED", "FAILED"]  # a SLURM job killed while driving
    screening.submit_screen(STUDY, None, PROFILE, tmp_path / "screen", run=True,
                            timeout_s=100.0)
    assert drives == [100.0, pytest.approx(30.0)]
