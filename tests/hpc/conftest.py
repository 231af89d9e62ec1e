"""Fixtures for the SLURM tests: the local one-node cluster and a jobflow-remote project.

The cluster is the real one of ``scripts/slurm-cluster.sh`` (``.ci/run`` starts it; as
root this fixture starts it too). The jobflow-remote queue is the in-process mongomock-ng
store of :mod:`ssbflow.hpc.testing.mockqueue` (no MongoDB server here); everything else is real.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ssbflow.hpc import slurm
from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_SCRIPT = ROOT / "scripts" / "slurm-cluster.sh"

#: Runner delays for tests (s); production keeps jobflow-remote's defaults (30 s).
FAST_RUNNER = {
    "delay_checkout": 1,
    "delay_check_run_status": 1,
    "delay_advance_status": 1,
    "max_step_attempts": 1,
    "delta_retry": [1],
}


def cluster(action: str) -> None:
    """Run ``scripts/slurm-cluster.sh ACTION``."""
    subprocess.run(["bash", str(CLUSTER_SCRIPT), action], check=True, capture_output=True,
                   timeout=120)


@pytest.fixture(scope="session")
def slurm_cluster() -> None:
    """The local SLURM answers ``squeue`` (started here when possible)."""
    if not slurm.slurm_available() and os.geteuid() == 0 and CLUSTER_SCRIPT.exists():
        try:
            cluster("start")
        except (subprocess.SubprocessError, OSError):
            pass
    need(slurm.slurm_available(), "local SLURM (bash scripts/slurm-cluster.sh start)")


@pytest.fixture
def isolated_profiles(tmp_path, monkeypatch) -> Path:
    """No user clusters.yaml; jobflow-remote projects in a temporary folder."""
    import jobflow_remote

    monkeypatch.setenv("SSBFLOW_CLUSTERS", str(tmp_path / "no-clusters.yaml"))
    monkeypatch.delenv("SSBFLOW_MONGO_URI", raising=False)
    folder = tmp_path / "jfremote"
    folder.mkdir()
    monkeypatch.setattr(jobflow_remote.SETTINGS, "projects_folder", str(folder))
    monkeypatch.setenv("JFREMOTE_PROJECTS_FOLDER", str(folder))
    return folder


@pytest.fixture
def jfr_project(slurm_cluster, isolated_profiles, tmp_path, monkeypatch) -> dict:
    """A jobflow-remote project for the ``local`` profile: real SLURM worker, outputs in
    montydb, queue in the shared in-process mongomock-ng client (emptied first)."""
    from ssbflow.hpc import remote
    from ssbflow.hpc.profiles import load_profile
    from ssbflow.hpc.testing.mockqueue import reset_shared_client

    reset_shared_client()
    work = tmp_path / "work"
    user = tmp_path / "clusters.yaml"
    user.write_text(f"local: {{partition: debug, walltime: '00:10:00', memory: 1G, "
                    f"work_dir: {work}}}\n")
    monkeypatch.setenv("SSBFLOW_CLUSTERS", str(user))
    profile = load_profile("local")
    queue = {"@module": "ssbflow.hpc.testing.mockqueue", "@class": "SharedMongomockStore",
             "collection_name": "jobs", "database": "ssbflow_test"}
    project = remote.build_project(profile, db=tmp_path / "db", queue_store=queue,
                                   runner=FAST_RUNNER)
    remote.write_project(project)
    yield {"name": project["name"], "db": tmp_path / "db", "profile": profile,
           "tmp": tmp_path}
    reset_shared_client()
