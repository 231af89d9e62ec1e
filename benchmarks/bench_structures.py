"""Benchmark: build times of the garnet, slab and adsorption structures.

Targets (one core, idle machine): ``llzo_cubic`` (Ewald-ordered Li, 7 annealing runs) < 20 s;
``llzto`` (x = 0.5, one cell, cubic base included) < 30 s; default ``llzo_slab`` < 20 s;
``sn_on_llzo`` < 25 s (slab generation included; the slab cache is cleared between runs).

Run on demand (not part of the tests)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_structures.py

``--pymatgen`` also orders NCM811 (10 TM) and LLZTO (x = 0.5) with pymatgen's
``OrderDisorderedStructureTransformation`` (ALGO_FAST) and prints time and Ewald energy next
to ours (the figures quoted in ``ssbflow/structures/ordering.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

TARGETS_S = {"llzo_cubic": 20.0, "llzto": 30.0, "llzo_slab": 20.0, "sn_on_llzo": 25.0}


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> int:
    from ssbflow.structures import adsorption, garnet, slabs

    def clear() -> None:
        garnet._order_cubic_llzo_cached.cache_clear()
        slabs._generate.cache_clear()

    cases: dict[str, Callable[[], object]] = {
        "llzo_cubic": lambda: garnet.order_cubic_llzo(),
        "llzto": lambda: garnet.llzto(0.5),
        "llzo_slab": lambda: slabs.llzo_slab(),
        "sn_on_llzo": lambda: adsorption.sn_on_llzo(),
    }
    failed = 0
    for name, fn in cases.items():
        clear()
        seconds, out = _timed(fn)
        structure = out[0] if isinstance(out, tuple) else out
        extra = ""
        if name == "llzo_cubic":
            extra = f", Ewald {out[1].energy_eV:.3f} eV (random starts from " \
                    f"{max(out[1].sampled_energies_eV):.3f} eV)"
        if name == "llzto":
            extra = f", Ewald {structure.properties['ewald_energy_eV']:.3f} eV"
        ok = seconds < TARGETS_S[name]
        failed += not ok
        print(f"{name:12s} {seconds:7.2f} s (target < {TARGETS_S[name]:.0f} s) "
              f"{'ok' if ok else 'SLOW'}: {structure.composition.formula.replace(' ', '')}, "
              f"{len(structure)} atoms{extra}")
    return 1 if failed else 0


def compare_with_pymatgen() -> None:
    """Time and Ewald energy: our ordering search vs pymatgen's EwaldMinimizer."""
    import warnings

    from pymatgen.analysis.ewald import EwaldSummation
    from pymatgen.core import Species
    from pymatgen.transformations.standard_transformations import (
        OrderDisorderedStructureTransformation,
    )

    from ssbflow.structures import cathodes, garnet

    cubic = garnet.llzo_cubic()
    ncm_cell = cathodes.layered_cell()
    ncm_mix = {Species("Ni", 2): 0.1, Species("Ni", 3): 0.7, Species("Co", 3): 0.1,
               Species("Mn", 4): 0.1}
    llzto_mix = {"Zr": {Species("Zr", 4): 0.75, Species("Ta", 5): 0.25},
                 "Li": {Species("Li", 1): 52 / 56}}
    cases = {
        "ncm811": (cathodes.ncm811, ncm_cell, {"Ni": ncm_mix}),
        "llzto": (lambda: garnet.llzto(0.5, base=cubic), cubic, llzto_mix),
    }
    for name, (ours, cell, mixes) in cases.items():
        seconds, ordered = _timed(ours)
        disordered = cell.copy()
        for i, site in enumerate(cell):
            if site.specie.symbol in mixes:
                disordered.replace(i, mixes[site.specie.symbol])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pmg_seconds, ranked = _timed(
                lambda d=disordered: OrderDisorderedStructureTransformation(
                    algo=0).apply_transformation(d, return_ranked_list=1))
        print(f"{name:8s} ours {seconds:6.2f} s {EwaldSummation(ordered).total_energy:.3f} eV"
              f" | pymatgen {pmg_seconds:6.2f} s "
              f"{EwaldSummation(ranked[0]['structure']).total_energy:.3f} eV")


if __name__ == "__main__":
    import sys

    if "--pymatgen" in sys.argv:
        compare_with_pymatgen()
    raise SystemExit(main())
