"""Benchmark: OpenMM speed (ns/day) of the polymer-li-diffusion box on this machine.

Run on demand (not part of the test suite)::

    .venv/bin/python benchmarks/bench_openmm.py [--polymer pvdf] [--ps 20] [--threads 1]
        [--platform CPU|CUDA|OpenCL] [--n-chains 24] [--n-units 8] [--n-li 24]
        [--solvent-per-li 3]

Builds the acceptance box of ``polymer-li-diffusion --engine openmm`` (default: 24 PVDF
chains of 8 units + 24 LiFSI + 72 DMF, 2,304 atoms; GAFF2/ABCG2 parameters from the cache or
made here) with the package's own job functions, then runs a short protocol (minimise,
compress 2 ps, NPT ``--ps``, NVT ``--ps``; 4 fs with hydrogen mass repartitioning, PME,
1 nm cutoff) and prints ns/day per stage with the platform record. What a (polymer, T) of
the study costs follows: equilibration 610 ps + production at the NPT and NVT speeds.

Reference numbers: the study's own 1-ns runs report ``ns_per_day`` per diffusion row (one
CPU thread of the 2-core development VM, the other busy with the second box, 2026-12-05:
PVDF 2,304 atoms 34–41 ns/day NVT; dPVDF 1,920 atoms 55–60 ns/day). This script at
``nice -n 15`` beside those two runs gave 4.9 ns/day: time it on an idle machine.
Target on a GPU node (``openmm-gpu`` template): at least 10x the one-thread CPU speed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polymer", choices=("pvdf", "dpvdf"), default="pvdf")
    parser.add_argument("--ps", type=float, default=20.0, help="NPT and NVT length (ps)")
    parser.add_argument("--threads", type=int, default=1, help="CPU platform threads")
    parser.add_argument("--platform", default=None, help="force CPU, CUDA or OpenCL")
    parser.add_argument("--n-chains", type=int, default=24)
    parser.add_argument("--n-units", type=int, default=8)
    parser.add_argument("--n-li", type=int, default=24)
    parser.add_argument("--solvent-per-li", type=float, default=3.0)
    args = parser.parse_args()
    os.environ["OPENMM_CPU_THREADS"] = str(args.threads)

    from ssbflow.methods.classical_md import MdProtocol, build_box_job, md_protocol_job
    from ssbflow.studies.li_diffusion.openmm_flow import POLYMER_DENSITY_G_CM3, box_components
    from ssbflow.studies.li_diffusion.options import PolymerDiffusionOptions

    options = PolymerDiffusionOptions(engine="openmm", n_chains=args.n_chains,
                                      n_units=args.n_units, n_li=args.n_li,
                                      solvent_per_li=args.solvent_per_li)
    comps = box_components(args.polymer, options)
    protocol = MdProtocol(temperature_K=500.0, production_ps=args.ps, npt_ps=args.ps,
                          compress_ps=2.0, frame_ps=1.0, platform=args.platform,
                          cutoff_nm=options.cutoff_nm)
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as work:
        os.chdir(work)
        try:
            t0 = time.perf_counter()
            box = build_box_job.original(comps, pack_density_g_cm3=options.pack_density_g_cm3,
                                         cutoff_nm=options.cutoff_nm,
                                         liquid_density_g_cm3=POLYMER_DENSITY_G_CM3)
            t_box = time.perf_counter() - t0
            Path("md").mkdir()
            os.chdir("md")
            out = md_protocol_job.original(box, comps, dataclasses.asdict(protocol))
        finally:
            os.chdir(cwd)
    print(f"{args.polymer}: {out['n_atoms']} atoms ({', '.join(f'{n} {s}' for s, n in comps)})")
    print(f"box and parameters {t_box:.1f} s; platform {json.dumps(out['platform'])}")
    for stage, speed in out["ns_per_day"].items():
        print(f"  {stage:>10}: {speed:7.1f} ns/day ({out['wall_s'][stage]:.1f} s)")
    npt, nvt = out["ns_per_day"].get("npt"), out["ns_per_day"].get("production")
    if npt and nvt:
        hours = 0.61 / npt * 24 + 1.0 / nvt * 24
        print(f"one (polymer, T) of the study, 610 ps equilibration + 1 ns NVT: {hours:.2f} h")


if __name__ == "__main__":
    main()
