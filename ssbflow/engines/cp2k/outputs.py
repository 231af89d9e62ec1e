"""Readers of CP2K output files that pymatgen's ``Cp2kOutput`` does not cover."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ssbflow.errors import SsbflowError

_ENERGY_RE = re.compile(r"E\s*=\s*(-?\d+\.\d+(?:[eE][-+]?\d+)?)")


def read_xyz_frames(path: Path) -> list[tuple[list[str], np.ndarray, float | None]]:
    """Frames of a CP2K xyz trajectory: (symbols, positions Å, energy Ha from the comment).

    Written here because ASE's xyz reader drops CP2K's ``i = n, E = x`` comment.
    """
    if not path.is_file():
        raise SsbflowError(f"{path.name} not found in {path.parent}: the CP2K run wrote no "
                           "trajectory (see cp2k.out)")
    lines = path.read_text().splitlines()
    frames = []
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        n = int(lines[i].split()[0])
        match = _ENERGY_RE.search(lines[i + 1])
        rows = [line.split() for line in lines[i + 2:i + 2 + n]]
        if len(rows) < n:
            break  # a frame cut short by an interrupted run
        frames.append(([r[0] for r in rows], np.array([[float(v) for v in r[1:4]] for r in rows]),
                       float(match.group(1)) if match else None))
        i += 2 + n
    if not frames:
        raise SsbflowError(f"{path}: no complete frame")
    return frames


def scf_step_count(run_dir: Path, pattern: str = "*.out") -> int:
    """OT/diagonalisation steps of all SCF runs in the outputs matching ``pattern``."""
    total = 0
    for path in run_dir.glob(pattern):
        total += sum(int(m) for m in re.findall(r"SCF run converged in\s+(\d+) steps",
                                                path.read_text(errors="replace")))
    return total


def abort_message(cp2k_out: Path) -> str:
    """The last ``[ABORT]`` message of a CP2K output on one line (empty when none)."""
    if not cp2k_out.is_file():
        return ""
    abort = re.findall(r"\[ABORT\]\s*\*\s*\n((?:.*\n){1,4})", cp2k_out.read_text())
    return " ".join(abort[-1].replace("*", " ").split()) if abort else ""
