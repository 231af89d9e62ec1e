"""NCM811 slabs: cut the layered R-3m cell, repeat it in-plane, order the TM sites.

Bulk cells and the TM ordering are in :mod:`ssbflow.structures.cathodes`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from pymatgen.core import Lattice, Structure

from ssbflow.structures.catalog import BuildOptions, CatalogEntry
from ssbflow.structures.cathodes import (
    NCM811_TM_UNIT,
    by_element,
    check_positive_ints,
    layered_prototype,
    order_ncm811_tm,
    tm_indices,
)
from ssbflow.structures.limits import check_repeated_atoms
from ssbflow.structures.slabs import make_slab


def _in_plane_widths_A(lattice: Lattice) -> tuple[float, float]:
    """Perpendicular widths (Å) of a slab cell across its a and b faces (in the xy plane)."""
    a, b = lattice.matrix[0][:2], lattice.matrix[1][:2]
    area = abs(a[0] * b[1] - a[1] * b[0])
    return area / float(np.linalg.norm(b)), area / float(np.linalg.norm(a))


def _slab_supercell(slab: Structure, min_width_A: float | Sequence[float]) -> tuple[int, int]:
    """Smallest in-plane repetition giving a multiple of 10 TM and the requested widths.

    ``min_width_A``: one width (Å) for both in-plane directions, or two (long, short) that
    may go either way round.
    """
    widths = (min_width_A, min_width_A) if np.isscalar(min_width_A) else tuple(min_width_A)
    if len(widths) != 2 or min(widths) < 0:
        raise ValueError(f"min_width_A must be one or two widths >= 0 Å, got {min_width_A!r}")
    n_tm = len(tm_indices(slab))
    w_a, w_b = _in_plane_widths_A(slab.lattice)
    candidates = []
    for na, nb in itertools.product(range(1, 31), repeat=2):
        wa, wb = na * w_a, nb * w_b
        fits = (wa >= widths[0] and wb >= widths[1]) or (wa >= widths[1] and wb >= widths[0])
        if (n_tm * na * nb) % NCM811_TM_UNIT or not fits:
            continue
        candidates.append((na * nb, -min(wa, wb), (na, nb)))
    if not candidates:
        raise ValueError(f"no in-plane supercell up to 30x30 fits min_width_A={min_width_A}")
    return min(candidates)[2]


def ncm811_slab(
    miller: Sequence[int] = (1, 0, 4),
    thickness: float = 10.0,
    vacuum: float = 15.0,
    termination: int | str = 0,
    supercell: Sequence[int] | None = None,
    symmetric: bool = False,
    fix_bottom: float = 0.5,
    min_width_A: float | Sequence[float] = 0.0,
    n_samples: int = 2000,
    seed: int = 0,
) -> Structure:
    """NCM811 slab: cut the R-3m cell (hexagonal Miller indices), then order the TM sites.

    The slab is cut from the LiNiO2-type prototype (a = 2.87, c = 14.20 Å) with
    :func:`ssbflow.structures.slabs.make_slab` (c along z, ``vacuum`` Å of vacuum, bottom
    fraction ``fix_bottom`` fixed by selective dynamics); the in-plane cell is repeated until
    it holds a multiple of 10 TM, then Ni2+/Ni3+/Co3+/Mn4+ are placed by lowest Ewald energy
    (Ni2+ count from the slab's charge balance).

    Parameters
    ----------
    miller : hexagonal Miller indices; (1, 0, 4) is the non-polar, stoichiometric surface,
        (0, 0, 3) the polar basal plane.
    thickness, vacuum : minimum slab thickness and vacuum (Å).
    termination : index or name of the termination (see ``slabs.list_terminations`` of
        :func:`layered_prototype`); names refer to the prototype, where Ni stands for any TM:
        ``"o-rich"``, ``"li-rich"``, ``"ni-rich"`` (alias ``"tm-rich"``).
    supercell : in-plane repetitions (A, B) or (A, B, 1); ``None``: the smallest giving a
        multiple of 10 TM with both widths >= ``min_width_A``.
    symmetric, fix_bottom : passed to ``make_slab``.
    min_width_A : minimum in-plane widths (Å) when ``supercell`` is ``None``: one value, or
        (long, short) in either orientation.
    n_samples, seed : sampling of TM arrangements when there are too many to enumerate.
    """
    miller_t = tuple(int(h) for h in miller)
    if len(miller_t) != 3 or not any(miller_t):
        raise ValueError(f"miller must be three integers, not all zero; got {tuple(miller)}")
    if thickness <= 0:
        raise ValueError(f"thickness must be > 0 Å, got {thickness}")
    if vacuum <= 0:
        raise ValueError(f"vacuum must be > 0 Å, got {vacuum}")
    if isinstance(termination, str) and termination.lower() == "tm-rich":
        termination = "ni-rich"
    slab = make_slab(layered_prototype(), miller_t, thickness=thickness, vacuum=vacuum,
                     termination=termination, symmetric=symmetric, fix_bottom=fix_bottom)
    if supercell is None:
        reps = _slab_supercell(slab, min_width_A)
    else:
        reps3 = tuple(supercell) + (1,) * (3 - len(tuple(supercell)))
        full = check_positive_ints("supercell", reps3, 3)
        if full[2] != 1:
            raise ValueError(f"supercell of a slab repeats in-plane only; got C = {full[2]}")
        reps = full[:2]
        n_tm = len(tm_indices(slab)) * reps[0] * reps[1]
        if n_tm % NCM811_TM_UNIT:
            raise ValueError(
                f"supercell {reps} gives {n_tm} TM sites; NCM811 (8:1:1) needs a multiple of "
                f"{NCM811_TM_UNIT}"
            )
    check_repeated_atoms(len(slab), (reps[0], reps[1], 1), "ncm811 slab")
    slab.make_supercell([reps[0], reps[1], 1])
    decorated, _ = order_ncm811_tm(slab, None, n_samples, seed)
    return by_element(decorated)


def _build_ncm811_slab(options: BuildOptions) -> Structure:
    kwargs = {k: v for k, v in options.given().items()}
    return ncm811_slab(**kwargs)




CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("ncm811-slab", "NCM811 slab, default (104), TM ordered, bottom fixed",
                 _build_ncm811_slab,
                 frozenset({"miller", "thickness", "vacuum", "termination", "supercell"})),
)
