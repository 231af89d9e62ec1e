"""Benchmark of the main job (SN on LLZO) on this machine; run on demand, not in tests.

Goals (2 cores): whole main job (CHGNet + CP2K 'fast') <= 30 min; ``--electronic none``
<= 10 min. Prints wall time per job and in total, and which stage dominates.

Usage: ``python benchmarks/bench_main_job.py [--electronic none|cp2k] [--n-sites N]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from ssbflow.runtime import run_study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--electronic", default="cp2k", choices=["none", "cp2k"])
    parser.add_argument("--n-sites", type=int, default=None)
    parser.add_argument("--out", default=None, help="keep the run folder here")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="bench-main-"))
    start = time.perf_counter()
    doc = run_study("sn-llzo", out=out / "run", db=out / "db", electronic=args.electronic,
                      n_sites=args.n_sites, quiet=True)
    total = time.perf_counter() - start
    timings = doc["timings_s"]
    print(json.dumps({"total_s": round(total, 1), "jobs_s": timings,
                      "adsorption_energy_eV": doc["adsorption_energy_eV"]}, indent=1))
    slowest = max(timings, key=timings.get)
    print(f"slowest job: {slowest} ({timings[slowest]:.0f} s of {total:.0f} s)")


if __name__ == "__main__":
    main()
