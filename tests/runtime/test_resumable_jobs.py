"""A job marked resumable keeps its folder when it runs again after a failure or a kill."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobflow import Flow, job

from ssbflow.runtime.runner import RESUMABLE, prepare_run, run_flow
from ssbflow.runtime.store import get_job_store


def _count_up(n: int, stop_file: str) -> dict:
    """Count to ``n`` in ``progress.txt`` (job folder); stop at 2 while ``stop_file`` exists."""
    path = Path("progress.txt")
    done = int(path.read_text()) if path.exists() else 0
    resumed_from = done
    while done < n:
        if done == 2 and Path(stop_file).exists():
            raise RuntimeError("interrupted")
        done += 1
        path.write_text(str(done))
    return {"resumed_from": resumed_from, "done": done}


count_up_resumable = job(_count_up, name="resumable", metadata={RESUMABLE: True})
count_up_plain = job(_count_up, name="plain")


@pytest.mark.filterwarnings("ignore:Some jobs are not connected")
def test_resumable_job_continues_in_its_folder_plain_job_starts_clean(tmp_path) -> None:
    stop = tmp_path / "stop"
    stop.touch()
    run_dir, store = tmp_path / "run", get_job_store(tmp_path / "db")

    def make() -> Flow:
        return Flow([count_up_resumable(5, str(stop)), count_up_plain(5, str(stop))])

    flow = prepare_run(run_dir, make, {"study": "count"})
    first = run_flow(flow, store, run_dir, stop_on_error=False)
    assert sorted(first.failed) == ["plain", "resumable"]

    stop.unlink()
    second = run_flow(prepare_run(run_dir, make, {"study": "count"}), store, run_dir)
    assert second.ok and sorted(second.ran) == ["plain", "resumable"]
    store.connect()
    resumable, plain = (store.get_output(j.uuid) for j in flow.jobs)
    assert resumable == {"resumed_from": 2, "done": 5}  # continued from its own checkpoint
    assert plain == {"resumed_from": 0, "done": 5}  # folder cleaned: started again
    # each job got its own metadata dict (the decorator's is copied per job)
    assert flow.jobs[0].metadata == {RESUMABLE: True} and flow.jobs[1].metadata == {}
