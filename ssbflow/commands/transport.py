"""Placeholder: commands of this group are added by their issue."""

from __future__ import annotations

from ssbflow.commands._groups import CliGroups


def register(groups: CliGroups) -> None:
    """Nothing to register yet."""
