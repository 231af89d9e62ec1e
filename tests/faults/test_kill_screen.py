"""A local screen killed with SIGKILL in its second candidate, then the same command: only
the unfinished candidates are computed (real process, real PySCF, real montydb store)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.faults.test_kill_resume import CLI, ENV, _kill_when, _start

SCREEN = """
name: killed-screen
metrics: [frontier_orbitals]
objectives: [{oxidation_limit_V: maximise}]
candidates:
  - {smiles: "[H][H]", name: H2}
  - {smiles: "O", name: water}
  - {smiles: "N", name: ammonia}
"""


def test_sigkilled_screen_rerun_computes_only_the_unfinished_candidates(tmp_path) -> None:
    spec = tmp_path / "screen.yaml"
    spec.write_text(SCREEN)
    out, db = tmp_path / "run", tmp_path / "db"
    argv = ["screen", str(spec), "--out", str(out), "--db", str(db)]

    first = _start(argv, tmp_path)
    # the second candidate's job folder exists: the first one's PySCF job is stored
    _kill_when(first, lambda: any(out.glob("jobs/frontier_water-*")))
    # a job that runs again gets a clean folder (the runner removes what a killed attempt
    # left); one reused from the store is not touched: mark both folders
    for name in ("H2", "water"):
        (next(out.glob(f"jobs/frontier_{name}-*")) / "sentinel").write_text("before rerun")

    again = subprocess.run([sys.executable, "-c", CLI, *argv, "--json"], env=ENV,
                           cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    doc = json.loads(again.stdout)
    assert next(out.glob("jobs/frontier_H2-*/sentinel")).exists()  # reused, not rerun
    assert not list(out.glob("jobs/frontier_water-*/sentinel"))  # killed: computed again
    assert any(out.glob("jobs/frontier_ammonia-*"))  # never started: computed
    assert doc["errors"] == {} or not any(doc["errors"].values())
    limits = {r["candidate"]: r["oxidation_limit_V"]
              for r in doc["rankings"]["frontier_orbitals"]}
    assert set(limits) == {"H2", "water", "ammonia"}
    # vertical IP: H2 15.4 eV and water 12.6 eV (experiment) → limits IP/e − 1.40 V
    assert limits["H2"] > limits["water"] > limits["ammonia"] > 0
