"""Benchmark: wall time of the engines on small systems, through jobflow ``run_locally``.

* ``chgnet``: CHGNet relaxation (BFGS, fmax 0.05 eV/Å) of a rattled 8-atom LiF (001) slab
  with its bottom layer fixed, for each ASE optimiser given;
* ``cp2k``: CP2K ``fast`` electronic single point (cubes + charges) of H2O in a 6 Å box.

Run on demand (not part of the tests)::

    .venv/bin/python benchmarks/bench_engines.py [--what chgnet cp2k] [--threads 2]
        [--optimizers BFGS FIRE]

Prints one JSON object with the timings (s), steps and energies (eV).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from jobflow import run_locally
from pymatgen.core import Lattice, Molecule, Structure

from ssbflow.engines import get_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's tests/
from tests.systems import rattled_lif_slab


def bench_chgnet(optimizers: list[str]) -> dict:
    """Relax the rattled slab once per optimiser."""
    out = {}
    slab, _ = rattled_lif_slab()
    for opt in optimizers:
        job = get_engine("mlip", device="cpu", optimizer=opt).relax_maker(
            fmax_eV_per_A=0.05).make(slab)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            doc = run_locally(job, root_dir=tmp, ensure_success=True, log=False)[job.uuid][1]
            wall = time.perf_counter() - t0
        out[opt] = {"wall_s": round(wall, 2), "steps": doc.output.output.n_steps,
                    "energy_eV": doc.output.output.energy, "n_atoms": len(slab)}
    return out


def bench_cp2k(threads: int) -> dict:
    """One CP2K fast electronic single point of H2O."""
    water = Molecule(["O", "H", "H"], [[0, 0, 0], [0.757, 0.586, 0], [-0.757, 0.586, 0]])
    box = Structure(Lattice.cubic(6.0), water.species, water.cart_coords + 3.0,
                    coords_are_cartesian=True)
    job = get_engine("cp2k", threads=threads).electronic_maker(slab=False).make(box)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        doc = run_locally(job, root_dir=tmp, ensure_success=True, log=False)[job.uuid][1]
        wall = time.perf_counter() - t0
    run_stats = doc.output.run_stats or {}
    cp2k_s = next(iter(run_stats.values())).total_time if run_stats else None
    return {"wall_s": round(wall, 2), "cp2k_total_time_s": cp2k_s, "threads": threads,
            "energy_eV": doc.output.output.energy}


def main() -> None:
    """Run the selected benchmarks and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--what", nargs="+", default=["chgnet", "cp2k"],
                        choices=["chgnet", "cp2k"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--optimizers", nargs="+", default=["BFGS", "FIRE"])
    args = parser.parse_args()
    result = {}
    if "chgnet" in args.what:
        result["chgnet_relax"] = bench_chgnet(args.optimizers)
    if "cp2k" in args.what:
        result["cp2k_electronic_h2o"] = bench_cp2k(args.threads)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
