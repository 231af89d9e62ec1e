"""``ssbflow screen FILE --submit local``: each candidate its own SLURM job through
jobflow-remote; a candidate's SLURM job killed midway, the screen resubmitted: only that
candidate is computed again, the ranking collected from the store. Real SLURM, real PySCF;
queue in the in-process mongomock-ng store."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from ssbflow.cli import main
from ssbflow.hpc import remote
from ssbflow.hpc.screening import drive

pytestmark = pytest.mark.slurm

SCREEN = """
name: three-on-slurm
metrics: [frontier_orbitals]
objectives: [{oxidation_limit_V: maximise}, {reduction_limit_V: minimise}]
candidates:
  - {smiles: "[H][H]", name: H2}
  - {smiles: "O", name: water}
  - {smiles: "CC#N", name: acetonitrile}
"""


def _screen(capsys, *argv: str) -> dict:
    capsys.readouterr()
    code = main(["screen", *argv, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def _slurm_state(slurm_id: str) -> str:
    return subprocess.run(["squeue", "-h", "-j", slurm_id, "-o", "%T"], capture_output=True,
                          text=True, timeout=30).stdout.strip()


def test_screen_on_slurm_killed_candidate_is_the_only_one_recomputed(jfr_project, capsys):
    path = jfr_project["tmp"] / "screen.yaml"
    path.write_text(SCREEN)
    out = jfr_project["tmp"] / "screen"
    first = _screen(capsys, str(path), "--submit", "local", "--out", str(out))
    # one frontier-orbital (PySCF) job and one candidate job per candidate, one ranking
    assert first["state"] in ("READY", "WAITING") and len(first["submitted"]) == 7
    assert set(first["candidates"]) == {"H2", "water", "acetonitrile"}
    # drive the runner until acetonitrile's DFT job runs on SLURM, then kill it (SIGKILL)
    deadline = time.monotonic() + 240
    killed = None
    while killed is None and time.monotonic() < deadline:
        drive(jfr_project["name"], 3)
        (status,) = remote.flow_status(jfr_project["name"], first["flow_id"])
        job = next(j for j in status.jobs if j.name == "frontier acetonitrile")
        if job.slurm_id and _slurm_state(job.slurm_id) == "RUNNING":
            subprocess.run(["scancel", "-s", "KILL", job.slurm_id], check=True, timeout=30)
            killed = job.slurm_id
    assert killed, "acetonitrile's SLURM job never ran"
    # the others finish; the status collects them from the store (ranking so far)
    drive(jfr_project["name"], 150)
    partial = _screen(capsys, str(path), "--status", "--out", str(out))
    assert partial["final"] is False
    assert partial["candidates"]["acetonitrile"] != "COMPLETED"
    assert {"H2", "water"} <= {r["candidate"] for r in partial["pareto"]}
    done_before = {f"{kind} {n}": partial["slurm_ids"][f"{kind} {n}"]
                   for n in ("H2", "water") for kind in ("frontier", "candidate")}
    # resubmitted: the same flow, only the killed candidate (and the ranking) run again
    final = _screen(capsys, str(path), "--submit", "local", "--out", str(out), "--run",
                    "--timeout", "240")
    assert final["state"] == "COMPLETED", final
    assert final["flow_id"] == first["flow_id"] and "submitted" not in final
    for name, slurm_id in done_before.items():
        assert final["slurm_ids"][name] == slurm_id
    assert final["slurm_ids"]["frontier acetonitrile"] not in (killed, None)
    assert final["final"] is True
    results = json.loads((out / "results.json").read_text())
    docs = {d["name"]: d for d in results["candidates"]}
    assert all(d["status"] == "ok" for d in docs.values()), docs
    fo = docs["acetonitrile"]["metrics"]["frontier_orbitals"]
    assert fo["homo_eV"] < fo["lumo_eV"] and fo["ip_eV"] > fo["ea_eV"]
    assert {r["candidate"] for r in results["pareto"]} == {"H2", "water", "acetonitrile"}
    assert (out / "pareto.png").stat().st_size > 0
