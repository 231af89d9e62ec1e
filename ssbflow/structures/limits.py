"""Upper bounds on every size a user can ask for, checked before anything is allocated.

A structure of more than :data:`MAX_ATOMS` atoms is refused unless the limit is raised
(``ssbflow build --max-atoms N``, or :func:`atom_limit` in Python): a slab of ``--thickness
1e9`` or a ``--supercell 100 100 100`` would otherwise fill the memory of the machine before
anything is written. The builders estimate their atom count from the small cell they repeat
and call :func:`check_atoms` before repeating it. Lengths and counts that do not set an atom
count directly have fixed bounds (:data:`MAX_VACUUM_A`, :data:`MAX_REPEATS`, ...), used by
the builders here and by the studies' options (``Field(le=...)``).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from contextvars import ContextVar

from ssbflow.errors import InputError

#: Default largest structure (atoms) a builder makes; ``--max-atoms`` raises it.
MAX_ATOMS = 5000
#: Largest slab thickness (Å).
MAX_THICKNESS_A = 500.0
#: Largest vacuum gap (Å): beyond ~100 Å only the cost of a DFT grid grows.
MAX_VACUUM_A = 200.0
#: Largest repetition of a cell along one axis (``--supercell``).
MAX_REPEATS = 20
#: Largest |h|, |k|, |l| of a surface (the surface cell grows with the indices).
MAX_MILLER_INDEX = 10
#: Most MD steps of one run (10 ns at 1 fs).
MAX_MD_STEPS = 10_000_000
#: Most intermediate NEB images.
MAX_NEB_IMAGES = 50
#: Most adsorption sites scanned.
MAX_SITES = 200
#: Most optimiser steps of one relaxation.
MAX_OPT_STEPS = 100_000
#: Most molecules or ion pairs packed into one box.
MAX_BOX_MOLECULES = 500

_max_atoms: ContextVar[int] = ContextVar("max_atoms", default=MAX_ATOMS)
#: How the caller can raise the limit, for the message (``ssbflow build``: ``--max-atoms``).
_hint: ContextVar[str] = ContextVar("max_atoms_hint", default="")


def max_atoms() -> int:
    """The atom limit in force (:data:`MAX_ATOMS` unless raised by :func:`atom_limit`)."""
    return _max_atoms.get()


@contextlib.contextmanager
def atom_limit(n_atoms: int | None, hint: str = "") -> Iterator[int]:
    """Builders called inside accept up to ``n_atoms`` atoms (``None``: the default);
    ``hint`` tells in the refusal how to raise the limit.

    Raises
    ------
    InputError
        ``n_atoms`` is not a positive integer.
    """
    limit = MAX_ATOMS if n_atoms is None else int(n_atoms)
    if limit < 1 or (n_atoms is not None and limit != n_atoms):
        raise InputError(f"--max-atoms must be a positive integer, got {n_atoms!r}")
    token, hint_token = _max_atoms.set(limit), _hint.set(hint)
    try:
        yield limit
    finally:
        _max_atoms.reset(token)
        _hint.reset(hint_token)


def check_atoms(n_atoms: float, what: str, hint: str | None = None) -> int:
    """Refuse a structure of more than :func:`max_atoms` atoms, before it is made.

    Parameters
    ----------
    n_atoms : the (estimated) number of atoms.
    what : what would be built, for the message (e.g. ``"llzo slab of 1e+09 Å"``).
    hint : how to get past the limit, for the message (default: the one of
        :func:`atom_limit`, if any).

    Raises
    ------
    InputError
        ``n_atoms`` is above the limit.
    """
    limit = max_atoms()
    hint = _hint.get() if hint is None else hint
    if not n_atoms <= limit:  # also refuses nan
        shown = f"{n_atoms:.3g}" if n_atoms >= 1e6 else f"{int(n_atoms)}"
        raise InputError(f"{what} would hold {shown} atoms, more than the limit of {limit}"
                         + (f"; {hint}" if hint else ""))
    return int(n_atoms)


def check_length(name: str, value: float, upper_A: float) -> float:
    """``value`` as a length in (0, ``upper_A``] Å.

    Raises
    ------
    InputError
        Not a number, not finite, not positive or above ``upper_A``.
    """
    try:
        length = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number of Å, got {value!r}") from None
    if not (math.isfinite(length) and 0.0 < length <= upper_A):
        raise InputError(f"{name} must be a length in (0, {upper_A:g}] Å, got {value}")
    return length


def check_repeats(name: str, value: Sequence[int], length: int) -> tuple[int, ...]:
    """``value`` as ``length`` integers in [1, :data:`MAX_REPEATS`].

    Raises
    ------
    InputError
        Wrong count, not integers, or out of range.
    """
    try:
        reps = tuple(int(v) for v in value)
        exact = all(int(v) == v for v in value)
    except (TypeError, ValueError, OverflowError):
        reps, exact = (), False
    if len(reps) != length or not exact or not all(1 <= n <= MAX_REPEATS for n in reps):
        raise InputError(f"{name} must be {length} integers from 1 to {MAX_REPEATS}, "
                         f"got {tuple(value) if isinstance(value, Sequence) else value!r}")
    return reps


def check_miller(value: Sequence[int]) -> tuple[int, int, int]:
    """``value`` as Miller indices H K L, not all zero, each within ±:data:`MAX_MILLER_INDEX`.

    Raises
    ------
    InputError
        Wrong count, not integers, all zero or too large.
    """
    try:
        hkl = tuple(int(m) for m in value)
        exact = all(int(m) == m for m in value)
    except (TypeError, ValueError, OverflowError):
        hkl, exact = (), False
    if len(hkl) != 3 or not exact:
        raise InputError(f"miller must be three integers H K L, got {value!r}")
    if hkl == (0, 0, 0):
        raise InputError("miller must not be (0, 0, 0): it defines no plane")
    if max(abs(m) for m in hkl) > MAX_MILLER_INDEX:
        raise InputError(f"miller {hkl}: indices must be within ±{MAX_MILLER_INDEX}")
    return hkl  # type: ignore[return-value]


def check_repeated_atoms(n_cell: int, reps: Sequence[int], what: str,
                         hint: str | None = None) -> tuple[int, ...]:
    """Check ``reps`` (three integers, each in [1, :data:`MAX_REPEATS`]) and that ``n_cell``
    atoms repeated ``reps`` times stay within :func:`max_atoms`; the repetitions as integers."""
    reps = check_repeats("supercell", reps, 3)
    check_atoms(n_cell * math.prod(reps), f"{what} {'x'.join(map(str, reps))}", hint)
    return reps
