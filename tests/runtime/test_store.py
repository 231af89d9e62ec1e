"""The embedded store: outputs written by one process are read back by another."""

from __future__ import annotations

import json
import subprocess
import sys

from jobflow import Flow, run_locally
from pymatgen.core import Lattice, Structure

from ssbflow.methods.structure_jobs import describe_structure, make_supercell
from ssbflow.runtime.store import get_job_store, mask_uri


def _rocksalt_lif() -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.03), ["Li", "F"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_two_job_flow_outputs_survive_the_process(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "db"
    first = make_supercell(_rocksalt_lif(), [2, 1, 1])
    second = describe_structure(first.output)  # resolved from the store
    flow = Flow([first, second])
    run_locally(flow, store=get_job_store(db), ensure_success=True)

    reader = (
        "import json, sys\n"
        "from ssbflow.runtime.store import get_job_store\n"
        "s = get_job_store(sys.argv[1]); s.connect()\n"
        "print(json.dumps([s.get_output(u) for u in sys.argv[2:]]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", reader, str(db), first.uuid, second.uuid],
        capture_output=True, text=True, check=True,
    )
    supercell, summary = json.loads(out.stdout)
    assert len(Structure.from_dict(supercell)) == 16
    # LiF rock salt, a = 4.03 Å: 2x1x1 conventional cells, density 2.64 g/cm^3
    assert summary["n_atoms"] == 16
    assert abs(summary["density_g_cm3"] - 2.64) < 0.02
    assert abs(summary["volume_A3"] - 2 * 4.03**3) < 1e-6


def test_db_path_that_is_a_file_is_refused(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    try:
        get_job_store(blocker)
    except ValueError as exc:
        assert "--db" in str(exc) and "not-a-dir" in str(exc)
    else:
        raise AssertionError("a file as store directory must be refused")


def test_mongo_credentials_are_masked():
    masked = mask_uri("mongodb+srv://alice:s3cret@cluster0.example.org/ssb?retryWrites=true")
    assert "s3cret" not in masked and "alice" in masked and "***" in masked
