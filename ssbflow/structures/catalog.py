"""Named structures for ``ssbflow build``.

Each module of :mod:`ssbflow.structures` may define ``CATALOG``: a tuple of
:class:`CatalogEntry`. :func:`all_entries` finds them by importing every module of the
package (nothing to register); this module holds no state of its own.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

from pymatgen.core import Molecule, Structure

from ssbflow.structures.limits import (
    MAX_THICKNESS_A,
    MAX_VACUUM_A,
    atom_limit,
    check_length,
    check_miller,
    check_repeats,
)

#: Options a catalog entry may accept; the CLI passes only those an entry declares.
KNOWN_OPTIONS = frozenset({"miller", "thickness", "vacuum", "termination", "supercell"})


@dataclass(frozen=True)
class BuildOptions:
    """Options from the command line; ``None`` means "the builder's default".

    Attributes
    ----------
    miller : Miller indices of a surface.
    thickness : minimum slab thickness in Å.
    vacuum : vacuum thickness in Å.
    termination : index of a termination or a named choice (e.g. ``"la-rich"``).
    supercell : repetitions along a, b, c.
    """

    miller: tuple[int, int, int] | None = None
    thickness: float | None = None
    vacuum: float | None = None
    termination: int | str | None = None
    supercell: tuple[int, int, int] | None = None

    def given(self) -> dict[str, object]:
        """The options that were set, by name."""
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def check(self) -> None:
        """Check the sizes against :mod:`ssbflow.structures.limits` (before any building).

        Raises
        ------
        InputError
            A length out of (0, max] Å, a repetition out of [1, max], Miller indices too large.
        """
        if self.thickness is not None:
            check_length("--thickness", self.thickness, MAX_THICKNESS_A)
        if self.vacuum is not None:
            check_length("--vacuum", self.vacuum, MAX_VACUUM_A)
        if self.supercell is not None:
            check_repeats("--supercell", self.supercell, 3)
        if self.miller is not None:
            check_miller(self.miller)


@dataclass(frozen=True)
class CatalogEntry:
    """A named structure: what it is and how to build it from :class:`BuildOptions`."""

    name: str
    summary: str
    build: Callable[[BuildOptions], Structure | Molecule]
    options: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        unknown = set(self.options) - KNOWN_OPTIONS
        if unknown:
            raise ValueError(f"catalog entry {self.name!r}: unknown options {sorted(unknown)}")


def builder_modules() -> list[str]:
    """Names of the modules of :mod:`ssbflow.structures` (sorted)."""
    import ssbflow.structures as package

    return sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.ispkg)


def all_entries() -> dict[str, CatalogEntry]:
    """Every catalog entry of every builder module, by name (sorted)."""
    entries: dict[str, CatalogEntry] = {}
    for module_name in builder_modules():
        module = importlib.import_module(f"ssbflow.structures.{module_name}")
        for entry in getattr(module, "CATALOG", ()):
            if entry.name in entries:
                raise RuntimeError(f"catalog name {entry.name!r} defined twice")
            entries[entry.name] = entry
    return dict(sorted(entries.items()))


def build(name: str, options: BuildOptions | None = None,
          max_atoms: int | None = None) -> Structure | Molecule:
    """Build the catalog structure ``name`` with ``options``.

    ``max_atoms`` raises the atom limit of :mod:`ssbflow.structures.limits` (default
    :data:`~ssbflow.structures.limits.MAX_ATOMS`); sizes are checked before building.

    Raises
    ------
    ValueError
        Unknown name, an option the entry does not accept, a size out of bounds or a
        structure of more than ``max_atoms`` atoms.
    """
    options = options or BuildOptions()
    entries = all_entries()
    if name not in entries:
        raise ValueError(
            f"unknown structure NAME {name!r}; expected one of: {', '.join(entries)}"
        )
    entry = entries[name]
    rejected = sorted(set(options.given()) - entry.options)
    if rejected:
        accepted = ", ".join(f"--{o}" for o in sorted(entry.options)) or "none"
        raise ValueError(
            f"{name!r} does not take --{rejected[0]}; options it accepts: {accepted}"
        )
    options.check()
    with atom_limit(max_atoms, hint="raise --max-atoms to build it"):
        return entry.build(options)
