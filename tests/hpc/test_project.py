"""The jobflow-remote project written from a profile (no SLURM needed)."""

from __future__ import annotations

import pytest
import yaml
from qtoolkit.io.slurm import SlurmIO

from ssbflow.cli import main
from ssbflow.errors import InputError
from ssbflow.hpc import remote
from ssbflow.hpc.profiles import load_profile

URI = "mongodb://alice:s3cret@db.example.org:27017/ssb"
GPU = {"account": "proj", "partition": "gpu", "qos": "high", "walltime": "12:00:00",
       "nodes": 1, "tasks": 4, "cpus_per_task": 8, "gpus": 4, "memory": "200G",
       "modules": ["cuda/12.2"], "pre_commands": ["source $HOME/venv/bin/activate"],
       "host": "login.cluster.org", "user": "alice", "work_dir": "/scratch/alice/jfr",
       "mongo_uri": URI}


def test_remote_cluster_project(isolated_profiles):
    profile = load_profile("local", GPU)
    project = remote.build_project(profile)
    worker = project["workers"]["local"]
    assert worker["type"] == "remote" and worker["host"] == "login.cluster.org"
    assert worker["scheduler_type"] == "slurm"
    assert worker["work_dir"] == "/scratch/alice/jfr"
    assert "execution_cmd" not in worker  # the remote environment comes from pre_run
    assert worker["pre_run"] == "source $HOME/venv/bin/activate"
    assert project["queue"]["store"]["uri"] == URI
    assert project["jobstore"]["additional_stores"]["data"]["type"] == "GridFSStore"
    assert project["exec_config"]["cp2k-cpu"]["modules"] == ["cuda/12.2"]
    assert "ATOMATE2_CP2K_CMD" in project["exec_config"]["cp2k-cpu"]["pre_run"]
    # qtoolkit (what jobflow-remote uses) turns the resources into #SBATCH lines
    header = SlurmIO().get_submission_script(
        ["true"], options=remote.qtoolkit_resources(profile, "mlip-gpu"))
    for line in ("--partition=gpu", "--account=proj", "--qos=high", "--time=12:00:00",
                 "--gres=gpu:1", "--ntasks-per-node=1", "--cpus-per-task=8", "--mem=200G"):
        assert f"#SBATCH {line}" in header
    path = remote.write_project(project)
    assert yaml.safe_load(path.read_text())["name"] == "ssbflow-local"
    assert "s3cret" not in remote.describe_project(project)


def test_init_refuses_without_mongodb_and_bad_profiles(isolated_profiles, tmp_path, capsys):
    with pytest.raises(InputError, match="needs a MongoDB queue database"):
        remote.build_project(load_profile("local"))
    bad = tmp_path / "p.yaml"
    bad.write_text("modules: ['cp2k; curl x | sh']\n")
    assert main(["hpc", "init", "--profile", str(bad)]) == 2
    assert "modules: 'cp2k; curl x | sh' is not allowed" in capsys.readouterr().err


def test_hpc_script_prints_rendered_template(isolated_profiles, capsys):
    assert main(["hpc", "script", "--template", "vasp-gpu", "--profile", "example-gpu"]) == 0
    out = capsys.readouterr().out
    assert "#SBATCH --gres=gpu:4" in out and "--gpus-per-task=1 vasp_std" in out
    assert main(["hpc", "script", "--list"]) == 0
    assert "cp2k-gpu" in capsys.readouterr().out
