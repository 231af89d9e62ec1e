"""Charge density difference Δρ = ρ_AB − ρ_A − ρ_B (slab A, molecule B, frozen at AB positions).

See ``shared/reference/science.md``. Inputs are grids or files (CP2K density cubes, VASP
CHGCAR/AECCAR) on the identical cell and grid; mismatches are refused.

Profiles along the chosen lattice axis (default c, the surface normal of a slab):

- ``line_density_e_per_A``: λ(z) = ∬ Δρ dA over the plane at height z (e/Å), so that
- ``cumulative_e``: ΔQ(z) = ∫₀^z λ(z′) dz′ (e) — the electrons gained by the region below z
  (integration starts at the cell's origin plane, which should lie in vacuum);
- ``plane_average_e_per_A3``: the plane mean of Δρ (e/Å³).

The transferred charge is ΔQ at the middle of the gap between the two fragments (default:
between the top atom of A and the lowest atom of B along the axis): positive when electrons
moved from the region above (the molecule) to the region below (the slab).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pymatgen.core import Structure

from ssbflow.analysis.volumetric import VolumetricGrid
from ssbflow.analysis.volumetric_io import read_volumetric, write_chgcar, write_cube
from ssbflow.errors import InputError

AXES = {"x": 0, "y": 1, "z": 2, "a": 0, "b": 1, "c": 2}


def parse_axis(axis: int | str) -> int:
    """Lattice axis index from 0/1/2 or x/y/z (a/b/c)."""
    if isinstance(axis, str):
        key = axis.strip().lower()
        if key in AXES:
            return AXES[key]
        if key.isdigit():
            axis = int(key)
    if axis in (0, 1, 2):
        return int(axis)
    raise InputError(f"axis: expected x, y, z (or 0, 1, 2), got {axis!r}")


@dataclass
class CddResult:
    """Charge density difference and its profiles (units in the names).

    Attributes
    ----------
    delta
        Δρ on the grid (e/Å³), a density :class:`VolumetricGrid` on the AB structure.
    axis
        Lattice axis of the profiles (0, 1, 2).
    z_A
        Height of each grid plane along the axis normal (Å, from the grid origin).
    line_density_e_per_A
        λ(z) = ∬ Δρ dA (e/Å).
    plane_average_e_per_A3
        Plane mean of Δρ (e/Å³).
    cumulative_e
        ΔQ(z) (e), the running integral of λ up to and including plane z.
    integral_e
        ∫ Δρ dV over the cell (e); ~0 for neutral fragments.
    gap_A
        (z_low, z_high) of the gap (Å).
    transferred_charge_e
        ΔQ at the middle of the gap (e); > 0: electrons moved towards lower z.
    gap_charge_e
        ∫ λ dz over the gap (e); > 0: net accumulation between the fragments.
    max_accumulation_e_per_A3
        Largest Δρ (e/Å³).
    max_depletion_e_per_A3
        Smallest (most negative) Δρ (e/Å³).
    sources
        The three input files (total, part A, part B).
    """

    delta: VolumetricGrid
    axis: int
    z_A: np.ndarray
    line_density_e_per_A: np.ndarray
    plane_average_e_per_A3: np.ndarray
    cumulative_e: np.ndarray
    integral_e: float
    gap_A: tuple[float, float]
    transferred_charge_e: float
    gap_charge_e: float
    max_accumulation_e_per_A3: float
    max_depletion_e_per_A3: float
    sources: tuple[str, str, str] = ("", "", "")
    files: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        """JSON-ready numbers (units in the keys) and the written files."""
        return {
            "integral_e": self.integral_e,
            "transferred_charge_e": self.transferred_charge_e,
            "gap_charge_e": self.gap_charge_e,
            "gap_A": list(self.gap_A),
            "axis": "xyz"[self.axis],
            "max_accumulation_e_per_A3": self.max_accumulation_e_per_A3,
            "max_depletion_e_per_A3": self.max_depletion_e_per_A3,
            "grid": list(self.delta.shape),
            "sources": list(self.sources),
            "files": dict(self.files),
        }


def _as_grid(item: VolumetricGrid | str | Path, name: str) -> VolumetricGrid:
    if isinstance(item, VolumetricGrid):
        grid = item
    else:
        grid = read_volumetric(item, kind="density")
    if grid.kind != "density":
        raise InputError(f"{name}: expected an electron density, got a {grid.kind} grid "
                         f"({grid.source})")
    return grid


def _heights_A(grid: VolumetricGrid, axis: int) -> tuple[np.ndarray, float, float]:
    """Plane heights (Å) along the normal to the two other lattice vectors, the period along
    that normal (Å) and the area of the plane (Å²)."""
    matrix = grid.structure.lattice.matrix
    i, j = (k for k in range(3) if k != axis)
    area = float(np.linalg.norm(np.cross(matrix[i], matrix[j])))
    period = grid.volume_A3 / area
    n = grid.shape[axis]
    return np.arange(n) * period / n, period, area


def _atom_heights_A(grid: VolumetricGrid, indices: list[int] | None, axis: int,
                    structure: Structure | None = None) -> np.ndarray:
    """Heights (Å) of atoms along the normal to the plane of the two other lattice vectors,
    from the grid origin, wrapped into one period."""
    structure = structure if structure is not None else grid.structure
    if len(structure) == 0:
        return np.empty(0)
    matrix = structure.lattice.matrix
    i, j = (k for k in range(3) if k != axis)
    normal = np.cross(matrix[i], matrix[j])
    normal /= np.linalg.norm(normal)
    period = abs(float(matrix[axis] @ normal))
    coords = structure.cart_coords - grid.origin_A
    if indices is not None:
        bad = [k for k in indices if not 0 <= k < len(structure)]
        if bad:
            raise InputError(f"atom indices {bad} out of range (0..{len(structure) - 1})")
        coords = coords[list(indices)]
    return np.mod(coords @ normal, period)


def charge_density_difference(
    total: VolumetricGrid | str | Path,
    part_a: VolumetricGrid | str | Path,
    part_b: VolumetricGrid | str | Path,
    axis: int | str = 2,
    gap: tuple[float, float] | None = None,
    slab_indices: list[int] | None = None,
    molecule_indices: list[int] | None = None,
) -> CddResult:
    """Δρ = ρ_AB − ρ_A − ρ_B with plane profiles, integral and transferred charge.

    Parameters
    ----------
    total, part_a, part_b
        Densities (grids or files) of AB, of A (slab) and of B (molecule), on the identical
        cell and grid.
    axis
        Lattice axis of the profiles (``"z"``/2 = c, the surface normal of a slab).
    gap
        Explicit (z_low, z_high) in Å along the axis normal (from the grid origin).
    slab_indices, molecule_indices
        Indices of A's and B's atoms in the AB structure; default: the atoms stored in the
        part files (A's atoms are the slab, B's the molecule).

    Returns
    -------
    CddResult

    Raises
    ------
    InputError
        Mismatched cells or grids, grids that are not densities, a gap that cannot be found.
    """
    ax = parse_axis(axis)
    g_ab = _as_grid(total, "total")
    g_a = _as_grid(part_a, "part_a")
    g_b = _as_grid(part_b, "part_b")
    g_ab.check_same_grid(g_a)
    g_ab.check_same_grid(g_b)
    delta = g_ab.replace_data(g_ab.data - g_a.data - g_b.data, source="cdd")
    z, period, area = _heights_A(delta, ax)
    dz = period / delta.shape[ax]
    other = tuple(k for k in range(3) if k != ax)
    plane_mean = delta.data.mean(axis=other)
    line = plane_mean * area
    cumulative = np.cumsum(line) * dz
    integral = float(cumulative[-1])
    if gap is None:
        if slab_indices is not None or molecule_indices is not None:
            if slab_indices is None or molecule_indices is None:
                raise InputError("slab_indices/molecule_indices: give both or neither")
            za = _atom_heights_A(delta, slab_indices, ax)
            zb = _atom_heights_A(delta, molecule_indices, ax)
        else:
            za = _atom_heights_A(delta, None, ax, g_a.structure)
            zb = _atom_heights_A(delta, None, ax, g_b.structure)
        if za.size == 0 or zb.size == 0:
            raise InputError("gap: the part files hold no atoms; give the gap (z_low, z_high)")
        if za.mean() <= zb.mean():
            low, high = float(za.max()), float(zb.min())
        else:
            low, high = float(zb.max()), float(za.min())
        if high < low:  # interpenetrating fragments: a zero-width gap at the middle
            low = high = 0.5 * (low + high)
    else:
        low, high = (float(gap[0]), float(gap[1]))
        if not (0.0 <= low <= high <= period):
            raise InputError(f"gap: expected 0 <= z_low <= z_high <= {period:.3f} Å, got {gap}")
    mid = 0.5 * (low + high)
    z_end = z + dz  # cumulative[k] integrates up to the top of plane k
    transferred = float(np.interp(mid, z_end, cumulative))
    gap_charge = float(np.interp(high, z_end, cumulative) - np.interp(low, z_end, cumulative))
    return CddResult(
        delta=delta,
        axis=ax,
        z_A=z,
        line_density_e_per_A=line,
        plane_average_e_per_A3=plane_mean,
        cumulative_e=cumulative,
        integral_e=integral,
        gap_A=(low, high),
        transferred_charge_e=transferred,
        gap_charge_e=gap_charge,
        max_accumulation_e_per_A3=float(delta.data.max()),
        max_depletion_e_per_A3=float(delta.data.min()),
        sources=(g_ab.source, g_a.source, g_b.source),
    )


def write_cdd(result: CddResult, out_dir: str | Path, stem: str = "cdd") -> dict[str, str]:
    """Write Δρ as ``<stem>.cube`` and ``<stem>_CHGCAR.vasp``, and the profile as CSV.

    Returns the written files by role (``cube``, ``chgcar``, ``profile_csv``) and records them
    in ``result.files``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "cube": str(write_cube(result.delta, out / f"{stem}.cube", "charge density difference")),
        "chgcar": str(write_chgcar(result.delta, out / f"{stem}_CHGCAR.vasp",
                                   "charge density difference")),
    }
    from ssbflow.io import write_table

    columns = {"z_A": result.z_A, "plane_average_e_per_A3": result.plane_average_e_per_A3,
               "line_density_e_per_A": result.line_density_e_per_A,
               "cumulative_e": result.cumulative_e}
    csv = out / f"{stem}_profile.csv"
    write_table([dict(zip(columns, row, strict=True)) for row in zip(*columns.values(),
                                                                     strict=True)], csv)
    files["profile_csv"] = str(csv)
    result.files.update(files)
    return files


def plot_cdd_profile(result: CddResult, out_dir: str | Path, stem: str = "cdd") -> Path:
    """PNG of λ(z) and ΔQ(z) with the gap marked (``<stem>_profile.png``)."""
    from ssbflow.analysis.plots import plot_profiles

    low, high = result.gap_A
    path = plot_profiles(
        result.z_A,
        [(result.line_density_e_per_A, "Δρ̄(z) = ∬Δρ dA"), (result.cumulative_e, "ΔQ(z)")],
        Path(out_dir) / f"{stem}_profile.png",
        xlabel=f"{'xyz'[result.axis]} (Å)",
        ylabels=["Δρ̄ (e/Å)", "ΔQ (e)"],
        vlines=[(low, "gap"), (high, "")],
        title=f"∫Δρ dV = {result.integral_e:.2e} e; ΔQ(gap middle) = "
        f"{result.transferred_charge_e:.3f} e",
    )
    result.files["profile_png"] = str(path)
    return path


def plot_cdd_slice(
    result: CddResult, atoms: tuple[int, int, int], out_dir: str | Path, stem: str = "cdd"
) -> Path:
    """PNG of Δρ on the plane through three atoms of the AB structure (``<stem>_slice.png``)."""
    from ssbflow.analysis.plots import plot_plane
    from ssbflow.analysis.slices import plane_slice

    plane = plane_slice(result.delta, atoms)
    path = plot_plane(plane, Path(out_dir) / f"{stem}_slice_{'-'.join(map(str, atoms))}.png",
                      label="Δρ (e/Å³)", symmetric=True,
                      title=f"Δρ through atoms {atoms} (red: accumulation)")
    result.files["slice_png"] = str(path)
    return path
