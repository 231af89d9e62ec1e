"""A CP2K started by a job dies with the Python that runs the job, even by SIGKILL.

The one-job-at-a-time runner (``--workers 1``) runs jobs in its own process, so CP2K is its
child; before :func:`ssbflow.engines.cp2k.engine.die_with_parent_prefix` a killed run left
CP2K running in the job's folder. Real CP2K on a small Li cell (a geometry optimisation
that runs for tens of seconds on one thread).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ssbflow.engines.cp2k.engine import find_cp2k_executable

pytestmark = pytest.mark.skipif(find_cp2k_executable() is None, reason="needs CP2K")

RELAX = """
import sys
from pymatgen.core import Lattice, Structure
from ssbflow.engines.cp2k.neb import relax_endpoint_cp2k

cell = Structure(Lattice.cubic(3.44), ["Li", "Li"], [[0, 0, 0], [0.5, 0.5, 0.5]])
cell.make_supercell([2, 2, 2])
cell.perturb(0.15, min_distance=0.05)
relax_endpoint_cp2k(cell, sys.argv[1], fmax_eV_per_A=0.001, max_steps=500, threads=1)
"""


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command name) of the live processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        state, ppid = text.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.append((int(stat.parent.name), name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_sigkill_of_the_job_process_kills_its_cp2k(tmp_path) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "SSBFLOW_CP2K_THREADS": "1"}
    env.pop("SSBFLOW_CP2K_CMD", None)  # the default command is the one guarded
    job = subprocess.Popen([sys.executable, "-c", RELAX, str(tmp_path / "relax")], env=env)
    cp2k: list[int] = []
    deadline = time.time() + 120
    while not cp2k and time.time() < deadline and job.poll() is None:
        cp2k = [pid for pid, name in _children(job.pid) if name.startswith("cp2k")]
        time.sleep(0.1)
    try:
        assert cp2k, "CP2K never started under the job's Python"
        time.sleep(1.0)
        assert _alive(cp2k[0]), "CP2K ended before the kill: the cell is too small to test"
        job.send_signal(signal.SIGKILL)
        job.wait(10)
        deadline = time.time() + 10
        while _alive(cp2k[0]) and time.time() < deadline:
            time.sleep(0.1)
        assert not _alive(cp2k[0]), "CP2K outlived the Python that started it"
    finally:
        for pid in cp2k:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if job.poll() is None:
            job.kill()
