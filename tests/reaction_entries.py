"""CHGNet entries of the library phases, relaxed once per test process (shared by the
reaction tests; cells are 2–40 atoms)."""

from __future__ import annotations

from functools import cache

from pymatgen.entries.computed_entries import ComputedStructureEntry

from ssbflow.methods.phases import compute_entries, library_structures

_CACHE: dict[str, ComputedStructureEntry] = {}


@cache
def entries(*names: str) -> tuple[ComputedStructureEntry, ...]:
    """Relaxed entries of library phases ``names`` (each phase relaxed once per process)."""
    return tuple(compute_entries(library_structures(names), cache=_CACHE))


LI_IN_N = ("li", "in", "n2", "li3n", "inn", "liin")
