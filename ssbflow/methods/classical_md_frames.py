"""Production frame files of :mod:`ssbflow.methods.classical_md`: their names, flushing
them before a checkpoint, checking them against it on resume, and the stored Li+ sites."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ssbflow.errors import SsbflowError

CHECKPOINT = "checkpoint.json"
FRAMES = "frames.f64"
SITES = "sites.f32"


def sync_frames() -> None:
    """Flush the production frame files to disk (before the checkpoint that counts them)."""
    for name in (FRAMES, SITES):
        if Path(name).exists():
            with open(name, "ab") as handle:
                os.fsync(handle.fileno())


def check_frame_files(progress: dict[str, Any], n_molecules: int, site_bytes: int,
                       sites_every: int) -> None:
    """Raise when a frame file holds fewer frames than the checkpoint counts (lost in a
    crash of the node): resuming would fill the gap with zeros. (No sites file: a run
    checkpointed before sites were saved.)"""
    n = progress.get("n_frames", 0)
    for name, need in ((FRAMES, n * n_molecules * 3 * 8), (SITES, n // sites_every * site_bytes)):
        have = Path(name).stat().st_size if Path(name).exists() else 0
        if have < need and (name == FRAMES or Path(name).exists()):
            raise SsbflowError(f"{Path(name).absolute()}: {have} bytes, the checkpoint counts "
                               f"{need}; frames were lost: delete {CHECKPOINT} to run again")


def sites_doc(sites: dict[str, Any], comps: list[tuple[str, int]],
               time_ps: np.ndarray) -> dict[str, Any] | None:
    """The Li+ coordination sites as stored: wrapped into the box, rounded to 0.01 Å (the
    RDF bins are 0.05 Å), with SMILES per site; ``None`` without Li+."""
    pos = sites["positions_A"]
    if not pos.size or sites["box_A"] is None:
        return None
    box = np.asarray(sites["box_A"], dtype=float)
    wrapped = np.round(pos - box * np.floor(pos / box), 2)
    every = sites["every_frames"]
    return {"positions_A": wrapped.tolist(), "box_A": box.tolist(),
            "atomic_numbers": sites["atomic_numbers"],
            "labels": [comps[k][0] for k in sites["component"]],
            "time_ps": time_ps[every - 1::every][:len(pos)].tolist()}
