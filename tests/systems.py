"""Small real systems shared by the tests and the benchmarks (benchmarks/bench_engines.py)."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Lattice, Structure
from pymatgen.core.surface import SlabGenerator


def rattled_lif_slab() -> tuple[Structure, np.ndarray]:
    """Rock-salt LiF (001) slab: 4 layers of 2 atoms, bottom layer fixed, the rest rattled."""
    bulk = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.03), ["Li", "F"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])
    slab = SlabGenerator(bulk, (0, 0, 1), 5, 8, center_slab=True,
                         lll_reduce=False).get_slab().get_orthogonal_c_slab()
    z = slab.cart_coords[:, 2]
    fixed = z < z.min() + 0.5
    slab.add_site_property("selective_dynamics", [[not f] * 3 for f in fixed])
    rng = np.random.default_rng(7)
    for i in np.flatnonzero(~fixed):
        slab.translate_sites([int(i)], rng.normal(0.0, 0.08, 3), frac_coords=False,
                             to_unit_cell=False)
    return slab, fixed
