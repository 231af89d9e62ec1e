"""The Typer groups that command modules attach to."""

from __future__ import annotations

from dataclasses import dataclass

import typer


@dataclass(frozen=True)
class CliGroups:
    """Top-level app and the ``analyze`` and ``run`` sub-groups."""

    root: typer.Typer
    analyze: typer.Typer
    run: typer.Typer
