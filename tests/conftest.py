"""Shared test configuration.

Real engines and services are used (CHGNet, Debian's CP2K, a local SLURM). Where one is
missing, a test that needs it is skipped on a developer machine but *fails* in CI
(``CI`` set), because ``.ci/run`` installs everything: a green CI must mean the real
thing ran.
"""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = bool(os.environ.get("CI"))


def need(condition: bool, what: str) -> None:
    """Skip (locally) or fail (in CI) when ``condition`` is false."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI (.ci/run installs it)")
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="session")
def cp2k_exe() -> str:
    """Path of Debian's CP2K binary (``cp2k.psmp``)."""
    exe = shutil.which("cp2k.psmp") or shutil.which("cp2k")
    need(exe is not None, "cp2k.psmp (Debian package cp2k)")
    return str(exe)
