"""Size limits: refused before anything is built, raised on request."""

from __future__ import annotations

import pytest

from ssbflow.errors import InputError
from ssbflow.structures.catalog import BuildOptions, build
from ssbflow.structures.limits import (
    MAX_ATOMS,
    atom_limit,
    check_atoms,
    check_length,
    check_miller,
    check_repeats,
    max_atoms,
)
from ssbflow.structures.slabs import llzo_slab


def test_atom_guard_default_and_raised():
    assert max_atoms() == MAX_ATOMS == 5000
    with pytest.raises(InputError, match="6000 atoms, more than the limit of 5000"):
        check_atoms(6000, "box")
    with atom_limit(10_000):
        assert check_atoms(6000, "box") == 6000
    assert max_atoms() == MAX_ATOMS  # restored
    with pytest.raises(InputError, match="max-atoms"), atom_limit(0):
        pass


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0, 0.0, 1e9, "x"])
def test_lengths_out_of_range(value):
    with pytest.raises(InputError, match="vacuum"):
        check_length("vacuum", value, 200.0)


def test_repeats_and_miller():
    assert check_repeats("supercell", (2, 2, 1), 3) == (2, 2, 1)
    for bad in [(0, 1, 1), (1, 1), (1.5, 1, 1), (21, 1, 1)]:
        with pytest.raises(InputError, match="supercell"):
            check_repeats("supercell", bad, 3)
    with pytest.raises(InputError, match="within"):
        check_miller((11, 0, 0))
    with pytest.raises(InputError, match="no plane"):
        check_miller((0, 0, 0))


def test_huge_slab_refused_before_it_is_generated():
    """A slab of 1e9 Å would fill the memory: the count (from the repeat unit) is checked
    first; 400 Å (6048 atoms) passes the bound on thickness but not the atom guard."""
    with pytest.raises(InputError, match="thickness"):
        llzo_slab(thickness=1e9)
    with pytest.raises(InputError, match="6048 atoms"):
        llzo_slab(thickness=400.0)
    with pytest.raises(InputError, match="--supercell"):
        build("llzo", BuildOptions(supercell=(100, 1, 1)))
    with pytest.raises(InputError, match="5184 atoms"):
        build("llzo", BuildOptions(supercell=(3, 3, 3)))
    assert len(build("li", BuildOptions(supercell=(10, 10, 10)))) == 2000
    assert len(build("li", BuildOptions(supercell=(20, 20, 20)), max_atoms=16_000)) == 16_000
