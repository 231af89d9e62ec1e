"""Continuing a classical MD production into a longer one (``--continue-from RUN``).

A production that ended before the MSD became diffusive is extended, not repeated: the new
job copies the old job's ``checkpoint.json`` and frame files into its own folder (the old
folder is only read) and :func:`ssbflow.methods.classical_md.run_protocol` resumes the
production from the old last frame to the new length. The equilibration is not run again
(on 2 cores it is ~20 min of each (polymer, T) box of the polymer study), and the first
frames are the old ones, bit for bit.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ssbflow.errors import InputError
from ssbflow.methods.classical_md_frames import CHECKPOINT, FRAMES, SITES


def previous_job_folder(run_dir: str | Path, job_name: str) -> Path:
    """The folder of job ``job_name`` in the run folder ``run_dir`` (the runner names job
    folders ``<name, spaces as _>-<uuid>-<index>``) that holds a checkpoint.

    Raises
    ------
    InputError
        None or several such folders.
    """
    stem = job_name.replace(" ", "_")
    found = sorted(p.parent for p in Path(run_dir).glob(f"jobs/{stem}-*/{CHECKPOINT}"))
    if len(found) != 1:
        raise InputError(f"--continue-from {str(run_dir)!r}: expected one folder of job "
                         f"{job_name!r} with a {CHECKPOINT}, found {len(found)}")
    return found[0]


def seed_from_previous(source: Path, stages: list[dict[str, Any]], frame_steps: int) -> None:
    """Copy the checkpoint and frames of ``source`` into the current folder, set to go on
    with the production ``stages[-1]`` of the new protocol.

    The old run must have the same stages, the same equilibration steps and the same frame
    interval, and must have started its production; the new production must not be
    shorter than what it already holds.

    Raises
    ------
    InputError
        One line naming the old checkpoint and what differs.
    """
    ckpt = Path(source) / CHECKPOINT
    doc = json.loads(ckpt.read_text())
    prog = doc["progress"]
    names = [s["name"] for s in stages]
    last = len(stages) - 1
    if prog.get("stages") != names or names[last] != "production":
        raise InputError(f"{ckpt}: stages {prog.get('stages')}, the new protocol has {names}")
    if prog["stage"] < last:
        raise InputError(f"{ckpt}: its production has not started; resume that run instead")
    done = prog["n_frames"] * frame_steps
    equilibration = sum(s["steps"] for s in stages[:last])
    if prog["total_steps"] - done != equilibration:
        raise InputError(f"{ckpt}: {prog['total_steps'] - done} equilibration steps and "
                         f"{prog['n_frames']} frames; the new protocol has {equilibration} "
                         f"steps and {frame_steps} steps per frame (same --npt-ps, "
                         "--anneal-ps, --cool-ps and --frame-ps needed)")
    if done > stages[last]["steps"]:
        raise InputError(f"{ckpt}: {done} production steps done, more than the new "
                         f"production's {stages[last]['steps']}")
    for name in (FRAMES, SITES):
        if (Path(source) / name).exists():
            shutil.copyfile(Path(source) / name, name)
    prog.update(stage=last, stage_steps=done, continued_from=str(Path(source).absolute()))
    doc["progress"] = prog
    Path(CHECKPOINT + ".tmp").write_text(json.dumps(doc))
    Path(CHECKPOINT + ".tmp").replace(CHECKPOINT)  # the checkpoint last: it counts the frames
