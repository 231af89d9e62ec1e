"""Exceptions that the CLI turns into one-line messages.

``InputError`` is for invalid user input (a parameter or a file that is not what was
expected); the CLI exits with code 2 for it, as for any usage error. ``SsbflowError`` is
for everything else the user can act on (a missing engine, a failed run); exit code 1.
Builders raise plain ``ValueError`` naming the parameter, which the CLI treats like
``InputError``.
"""

from __future__ import annotations


class SsbflowError(Exception):
    """An error with a message meant for the user, shown as one line."""


class InputError(SsbflowError, ValueError):
    """Invalid input: a parameter or file that is not what was expected."""


class EngineUnavailableError(SsbflowError):
    """An engine (CP2K, VASP, a force field) was asked for but cannot run here."""
