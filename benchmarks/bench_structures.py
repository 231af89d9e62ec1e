"""Benchmark: build times of the garnet, slab and adsorption structures.

Targets (one core, idle machine): ``llzo_cubic`` (Ewald-ordered Li, 7 annealing runs) < 20 s;
``llzto`` (x = 0.5, one cell, cubic base included) < 30 s; default ``llzo_slab`` < 20 s;
``sn_on_llzo`` < 25 s (slab generation included; the slab cache is cleared between runs).

Run on demand (not part of the tests)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_structures.py
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
                    f"{max(out[1].start_energies_eV):.3f} eV)"
        if name == "llzto":
            extra = f", Ewald {structure.properties['ewald_energy_eV']:.3f} eV"
        ok = seconds < TARGETS_S[name]
        failed += not ok
        print(f"{name:12s} {seconds:7.2f} s (target < {TARGETS_S[name]:.0f} s) "
              f"{'ok' if ok else 'SLOW'}: {structure.composition.formula.replace(' ', '')}, "
              f"{len(structure)} atoms{extra}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
