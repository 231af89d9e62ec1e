"""The Typer groups that command modules attach to."""

from __future__ import annotations

from dataclasses import dataclass

import typer


@dataclass(frozen=True)
class CliGroups:
    """Top-level app and the ``analyze`` and ``run`` sub-groups; ``argv`` is the command line
    being parsed (``None``: build every command), so that a module can skip imports the
    command does not need."""

    root: typer.Typer
    analyze: typer.Typer
    run: typer.Typer
    argv: tuple[str, ...] | None = None
