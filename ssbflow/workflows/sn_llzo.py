"""Kept for one release: the README's old entry point. Use
``ssbflow.runtime.run_study("sn-llzo", out, **options)``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ssbflow.runtime import run_study
from ssbflow.studies.sn_llzo.study import sn_llzo_options

__all__ = ["run_sn_llzo", "sn_llzo_options"]


def run_sn_llzo(
    out: str | Path = "ssbflow-runs/sn-llzo",
    db: str | Path | None = None,
    quiet: bool = False,
    **options: Any,
) -> dict:
    """Run (or resume) the SN-on-LLZO study: ``run_study("sn-llzo", out, db, quiet, **options)``."""
    return run_study("sn-llzo", out, db=db, quiet=quiet, **options)
