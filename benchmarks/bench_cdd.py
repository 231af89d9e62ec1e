"""Benchmark: end-to-end charge density difference on a large grid, ssbflow vs pymatgen.

Steps timed (the same for both): read three density cubes (AB, A, B), Δρ = ρ_AB − ρ_A − ρ_B,
write Δρ as a cube and as a CHGCAR. pymatgen: ``VolumetricData.from_cube``, array arithmetic,
``to_cube`` and ``Chgcar.write_file``; ssbflow: ``ssbflow.analysis.volumetric``.
Target: >= 5x faster end to end, with identical numbers (same Δρ; files that read back to the
same values within their printed precision).

Run on demand (not part of the tests)::

    .venv/bin/python benchmarks/bench_cdd.py [--shape 160 160 400] [--keep DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from pymatgen.core import Lattice, Structure
from pymatgen.io.common import VolumetricData
from pymatgen.io.vasp.outputs import Chgcar  # imported up front: import time is not timed

from ssbflow.analysis.volumetric import BOHR_A, VolumetricGrid, read_cube, write_chgcar, write_cube


def _density(structure: Structure, shape: tuple[int, int, int], seed: int) -> np.ndarray:
    """A smooth positive density (sum of periodic Gaussians on the atoms) plus noise (e/Å³)."""
    rng = np.random.default_rng(seed)
    frac = [np.arange(n) / n for n in shape]
    data = np.zeros(shape)
    for site in structure:
        parts = []
        for axis in range(3):
            d = frac[axis] - site.frac_coords[axis]
            d -= np.round(d)
            length = structure.lattice.abc[axis]
            parts.append(np.exp(-((d * length) ** 2) / 0.8))
        data += parts[0][:, None, None] * parts[1][None, :, None] * parts[2][None, None, :]
    return data * 0.5 + 1e-4 * rng.random(shape)


def make_inputs(folder: Path, shape: tuple[int, int, int]) -> list[Path]:
    """Write three CP2K-like density cubes (AB, A, B) on ``shape``."""
    lattice = Lattice.orthorhombic(12.0, 12.0, 30.0)
    slab = Structure(lattice, ["Li"] * 4, [[0, 0, 0.3], [0.5, 0.5, 0.3], [0.5, 0, 0.36],
                                           [0, 0.5, 0.36]])
    mol = Structure(lattice, ["N", "C"], [[0.5, 0.5, 0.45], [0.5, 0.5, 0.49]])
    both = Structure(lattice, slab.species + mol.species,
                     np.vstack([slab.frac_coords, mol.frac_coords]))
    paths = []
    for name, structure, seed in (("ab", both, 1), ("a", slab, 2), ("b", mol, 3)):
        grid = VolumetricGrid(structure, _density(structure, shape, seed), "density")
        paths.append(write_cube(grid, folder / f"{name}-ELECTRON_DENSITY-1_0.cube"))
    return paths


def run_ssbflow(paths: list[Path], out: Path) -> tuple[dict[str, float], np.ndarray]:
    """The CDD chain with ssbflow's reader and writers; returns timings and Δρ (e/Bohr³)."""
    times = {}
    t = time.perf_counter()
    ab, a, b = (read_cube(p, kind="density") for p in paths)
    times["read 3 cubes"] = time.perf_counter() - t
    t = time.perf_counter()
    ab.check_same_grid(a)
    ab.check_same_grid(b)
    delta = ab.replace_data(ab.data - a.data - b.data)
    times["difference"] = time.perf_counter() - t
    t = time.perf_counter()
    write_cube(delta, out / "ssbflow_cdd.cube")
    times["write cube"] = time.perf_counter() - t
    t = time.perf_counter()
    write_chgcar(delta, out / "ssbflow_cdd_CHGCAR.vasp")
    times["write CHGCAR"] = time.perf_counter() - t
    return times, delta.data * BOHR_A**3


def run_pymatgen(paths: list[Path], out: Path) -> tuple[dict[str, float], np.ndarray]:
    """The same chain with pymatgen; returns timings and Δρ (e/Bohr³, the cube's units)."""
    times = {}
    t = time.perf_counter()
    ab, a, b = (VolumetricData.from_cube(str(p)) for p in paths)
    times["read 3 cubes"] = time.perf_counter() - t
    t = time.perf_counter()
    diff = ab.data["total"] - a.data["total"] - b.data["total"]
    delta = VolumetricData(ab.structure, {"total": diff})
    times["difference"] = time.perf_counter() - t
    t = time.perf_counter()
    delta.to_cube(str(out / "pymatgen_cdd.cube"))
    times["write cube"] = time.perf_counter() - t
    t = time.perf_counter()
    # CHGCAR holds rho * V: convert e/Bohr^3 -> e/A^3 and multiply by the volume
    volume = ab.structure.volume
    chgcar = Chgcar(ab.structure, {"total": diff / BOHR_A**3 * volume})
    chgcar.write_file(str(out / "pymatgen_cdd_CHGCAR"))
    times["write CHGCAR"] = time.perf_counter() - t
    return times, diff


def main() -> None:
    """Build inputs, run both chains, print the timings, ratio and the agreement."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shape", type=int, nargs=3, default=(160, 160, 400))
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the files in")
    args = parser.parse_args()
    shape = tuple(args.shape)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"grid {shape[0]}x{shape[1]}x{shape[2]} = {np.prod(shape):.3g} points; "
              "writing the three input cubes ...")
        paths = make_inputs(folder, shape)
        ours, d_ours = run_ssbflow(paths, folder)
        theirs, d_theirs = run_pymatgen(paths, folder)
        print(f"{'step':16s} {'ssbflow (s)':>12s} {'pymatgen (s)':>13s} {'ratio':>7s}")
        for step in ours:
            ratio = theirs[step] / ours[step] if ours[step] > 0 else float("inf")
            print(f"{step:16s} {ours[step]:12.2f} {theirs[step]:13.2f} {ratio:7.1f}")
        total_ours, total_theirs = sum(ours.values()), sum(theirs.values())
        print(f"{'end to end':16s} {total_ours:12.2f} {total_theirs:13.2f} "
              f"{total_theirs / total_ours:7.1f}")
        print(f"max |Δρ(ssbflow) − Δρ(pymatgen)| in memory: "
              f"{np.max(np.abs(d_ours - d_theirs)):.3e} e/Bohr³")
        cube_ours = read_cube(folder / "ssbflow_cdd.cube", kind="other").data
        cube_theirs = read_cube(folder / "pymatgen_cdd.cube", kind="other").data
        c_ours = Chgcar.from_file(str(folder / "ssbflow_cdd_CHGCAR.vasp")).data["total"]
        c_theirs = Chgcar.from_file(str(folder / "pymatgen_cdd_CHGCAR")).data["total"]
        scale = np.max(np.abs(d_theirs))
        print(f"cube files read back: max difference {np.max(np.abs(cube_ours - cube_theirs)):.2e}"
              f" e/Bohr³ (values up to {scale:.3g}; cube precision 5-6 digits)")
        print(f"CHGCAR files read back: max relative difference "
              f"{np.max(np.abs(c_ours - c_theirs)) / np.max(np.abs(c_theirs)):.2e}")
        print(f"speed-up end to end: {total_theirs / total_ours:.1f}x (target >= 5x)")


if __name__ == "__main__":
    main()
