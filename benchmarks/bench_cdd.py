"""Benchmark: end-to-end charge density difference on a large grid, ssbflow vs pymatgen.

Steps timed (the same for both): read three density cubes (AB, A, B), Δρ = ρ_AB − ρ_A − ρ_B,
write Δρ as a cube and as a CHGCAR. pymatgen: ``VolumetricData.from_cube``, array arithmetic,
``to_cube`` and ``Chgcar.write_file``; ssbflow: ``ssbflow.analysis.volumetric_io``.
Target: >= 5x faster end to end, with identical numbers (same Δρ; files that read back to the
same values within their printed precision).

Measured 2026-12-04 on the shared 2-core VM under load (pymatgen 2026.10.16), 160x160x400:
read 3 cubes 6.8 vs 7.8 s (1.1x: pymatgen's from_cube is vectorised now), write cube 6.5 vs
13.3 s (2.1x), write CHGCAR 10.1 vs 40.4 s (4.0x), end to end 23.5 vs 61.7 s (2.6x; 4.8x was
measured earlier on an idle machine with an older pymatgen); same Δρ to 3e-17 e/Bohr³.

Steps are timed alternately (ssbflow, then pymatgen, step by step) so that a changing machine
load affects both alike. Run on demand (not part of the tests)::

    .venv/bin/python benchmarks/bench_cdd.py [--shape 160 160 400] [--keep DIR [--reuse]]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pymatgen.core import Lattice, Structure
from pymatgen.io.common import VolumetricData
from pymatgen.io.vasp.outputs import Chgcar  # imported up front: import time is not timed

from ssbflow.analysis.volumetric import BOHR_A, VolumetricGrid
from ssbflow.analysis.volumetric_io import read_cube, write_chgcar, write_cube


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


def ssbflow_steps(paths: list[Path], out: Path) -> dict[str, Callable[[], object]]:
    """The CDD chain with ssbflow's reader and writers, step by step."""
    state: dict[str, object] = {}

    def read() -> None:
        state["grids"] = [read_cube(p, kind="density") for p in paths]

    def difference() -> None:
        ab, a, b = state["grids"]  # type: ignore[misc]
        ab.check_same_grid(a)
        ab.check_same_grid(b)
        state["delta"] = ab.replace_data(ab.data - a.data - b.data)

    return {
        "read 3 cubes": read,
        "difference": difference,
        "write cube": lambda: write_cube(state["delta"], out / "ssbflow_cdd.cube"),
        "write CHGCAR": lambda: write_chgcar(state["delta"], out / "ssbflow_cdd_CHGCAR.vasp"),
        "result": lambda: state["delta"].data * BOHR_A**3,  # type: ignore[union-attr]
    }


def pymatgen_steps(paths: list[Path], out: Path) -> dict[str, Callable[[], object]]:
    """The same chain with pymatgen (Δρ kept in the cube's e/Bohr³), step by step."""
    state: dict[str, object] = {}

    def read() -> None:
        state["grids"] = [VolumetricData.from_cube(str(p)) for p in paths]

    def difference() -> None:
        ab, a, b = state["grids"]  # type: ignore[misc]
        diff = ab.data["total"] - a.data["total"] - b.data["total"]
        state["delta"] = VolumetricData(ab.structure, {"total": diff})

    def chgcar() -> None:
        # CHGCAR holds rho * V: convert e/Bohr^3 -> e/A^3 and multiply by the volume
        delta = state["delta"]
        volume = delta.structure.volume  # type: ignore[union-attr]
        data = delta.data["total"] / BOHR_A**3 * volume  # type: ignore[union-attr]
        Chgcar(delta.structure, {"total": data}).write_file(  # type: ignore[union-attr]
            str(out / "pymatgen_cdd_CHGCAR"))

    return {
        "read 3 cubes": read,
        "difference": difference,
        "write cube": lambda: state["delta"].to_cube(str(out / "pymatgen_cdd.cube")),
        "write CHGCAR": chgcar,
        "result": lambda: state["delta"].data["total"],  # type: ignore[union-attr]
    }


def run_interleaved(paths: list[Path], out: Path) -> tuple[dict, dict, np.ndarray, np.ndarray]:
    """Time each step for ssbflow then pymatgen, alternating, so that a changing machine load
    affects both alike."""
    ours, theirs = ssbflow_steps(paths, out), pymatgen_steps(paths, out)
    t_ours, t_theirs = {}, {}
    for step in ("read 3 cubes", "difference", "write cube", "write CHGCAR"):
        for steps, times in ((ours, t_ours), (theirs, t_theirs)):
            start = time.perf_counter()
            steps[step]()
            times[step] = time.perf_counter() - start
    return t_ours, t_theirs, ours["result"](), theirs["result"]()  # type: ignore[return-value]


def main() -> None:
    """Build inputs, run both chains, print the timings, ratio and the agreement."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shape", type=int, nargs=3, default=(160, 160, 400))
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the files in")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the input cubes already in --keep")
    args = parser.parse_args()
    shape = tuple(args.shape)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"grid {shape[0]}x{shape[1]}x{shape[2]} = {np.prod(shape):.3g} points")
        names = [folder / f"{n}-ELECTRON_DENSITY-1_0.cube" for n in ("ab", "a", "b")]
        if args.reuse and all(p.exists() for p in names):
            paths = names
        else:
            paths = make_inputs(folder, shape)
        ours, theirs, d_ours, d_theirs = run_interleaved(paths, folder)
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
