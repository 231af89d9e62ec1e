"""Sampling volumetric grids on planes and lines through atoms (for ELF and Δρ plots)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssbflow.analysis.volumetric import VolumetricGrid
from ssbflow.errors import InputError


@dataclass
class PlaneSlice:
    """Values of a grid on a rectangle in a plane (e.g. through three atoms).

    Attributes
    ----------
    values
        Array (n_u, n_v) of the grid's values at ``origin_A + s u + t v``.
    s_A, t_A
        In-plane coordinates along ``u`` and ``v`` (Å).
    origin_A, u, v
        Cartesian origin (Å) and orthonormal in-plane directions.
    atoms
        Projected (s, t) positions (Å) and labels of the atoms that define the plane and of
        other atoms within ``tolerance`` of it: list of (label, s_A, t_A).
    units
        Units of ``values``.
    """

    values: np.ndarray
    s_A: np.ndarray
    t_A: np.ndarray
    origin_A: np.ndarray
    u: np.ndarray
    v: np.ndarray
    atoms: list[tuple[str, float, float]]
    units: str


def _cart_of(grid: VolumetricGrid, index: int, name: str) -> np.ndarray:
    if not 0 <= index < len(grid.structure):
        raise InputError(
            f"{name}: atom index {index} out of range (0..{len(grid.structure) - 1})"
        )
    return grid.structure[index].coords


def _min_image(grid: VolumetricGrid, vector_A: np.ndarray) -> np.ndarray:
    lattice = grid.structure.lattice
    frac = lattice.get_fractional_coords(vector_A)
    return lattice.get_cartesian_coords(frac - np.round(frac))


def sample_points(grid: VolumetricGrid, points_A: np.ndarray) -> np.ndarray:
    """Values at Cartesian points (Å), linear interpolation on the periodic grid.

    Linear (order 1) keeps values within the range of the grid (ELF stays in [0, 1]).
    ``mode="grid-wrap"`` is scipy's exact periodic wrap (plain ``"wrap"`` wraps with period
    n − 1 for historical reasons).
    """
    from scipy.ndimage import map_coordinates

    points = np.asarray(points_A, dtype=float).reshape(-1, 3) - grid.origin_A
    frac = grid.structure.lattice.get_fractional_coords(points)
    index = frac * np.array(grid.shape)
    return map_coordinates(grid.data, index.T, order=1, mode="grid-wrap")


def plane_slice(
    grid: VolumetricGrid,
    atoms: tuple[int, int, int] | None = None,
    *,
    center_atom: int | None = None,
    normal: tuple[float, float, float] | None = None,
    margin_A: float = 2.5,
    half_width_A: float = 5.0,
    step_A: float = 0.05,
    tolerance_A: float = 0.5,
) -> PlaneSlice:
    """Sample a grid on a plane through three atoms, or through one atom with a given normal.

    Parameters
    ----------
    grid
        The grid (its structure gives the atom positions).
    atoms
        Three atom indices (0-based) ``(i, j, k)``: the plane holds i, and the nearest images
        of j and k; ``u`` points from i to j. The rectangle covers the three atoms plus
        ``margin_A``.
    center_atom, normal
        Alternative to ``atoms``: plane through atom ``center_atom`` normal to the Cartesian
        vector ``normal``; the square covers ``±half_width_A`` around the atom.
    step_A
        Sampling step (Å).
    tolerance_A
        Atoms within this distance of the plane are marked on plots.

    Returns
    -------
    PlaneSlice
    """
    if atoms is not None:
        if len(atoms) != 3 or len(set(atoms)) != 3:
            raise InputError(f"atoms: expected three different atom indices, got {atoms}")
        r0 = _cart_of(grid, atoms[0], "atoms")
        d1 = _min_image(grid, _cart_of(grid, atoms[1], "atoms") - r0)
        d2 = _min_image(grid, _cart_of(grid, atoms[2], "atoms") - r0)
        n = np.cross(d1, d2)
        if np.linalg.norm(n) < 1e-6 * np.linalg.norm(d1) * np.linalg.norm(d2) or np.linalg.norm(
            d1
        ) < 1e-8:
            raise InputError(f"atoms: atoms {atoms} are collinear; they do not define a plane")
        u = d1 / np.linalg.norm(d1)
        n = n / np.linalg.norm(n)
        v = np.cross(n, u)
        st = np.array([[0.0, 0.0], [d1 @ u, d1 @ v], [d2 @ u, d2 @ v]])
        lo = st.min(axis=0) - margin_A
        hi = st.max(axis=0) + margin_A
    elif center_atom is not None and normal is not None:
        r0 = _cart_of(grid, center_atom, "center_atom")
        n = np.asarray(normal, dtype=float)
        if n.shape != (3,) or np.linalg.norm(n) < 1e-12:
            raise InputError(f"normal: expected a non-zero 3-vector, got {normal}")
        n = n / np.linalg.norm(n)
        trial = np.eye(3)[int(np.argmin(np.abs(n)))]
        u = np.cross(n, trial)
        u /= np.linalg.norm(u)
        v = np.cross(n, u)
        lo = np.array([-half_width_A, -half_width_A])
        hi = -lo
    else:
        raise InputError("plane: give three atom indices, or a centre atom and a normal vector")
    s = np.arange(lo[0], hi[0] + 0.5 * step_A, step_A)
    t = np.arange(lo[1], hi[1] + 0.5 * step_A, step_A)
    ss, tt = np.meshgrid(s, t, indexing="ij")
    points = r0 + ss[..., None] * u + tt[..., None] * v
    values = sample_points(grid, points.reshape(-1, 3)).reshape(ss.shape)
    marks = []
    for site in grid.structure:
        d = _min_image(grid, site.coords - r0)
        if abs(d @ n) <= tolerance_A:
            ps, pt = d @ u, d @ v
            if lo[0] <= ps <= hi[0] and lo[1] <= pt <= hi[1]:
                marks.append((site.species_string, float(ps), float(pt)))
    return PlaneSlice(values, s, t, r0, u, v, marks, grid.units)


@dataclass
class LineProfile:
    """Values of a grid along the segment between two atoms.

    Attributes
    ----------
    distance_A
        Distance from the first atom (Å).
    values
        Grid values at those points (units of the grid).
    labels
        Species of the two atoms.
    length_A
        Distance between the atoms (nearest image, Å).
    """

    distance_A: np.ndarray
    values: np.ndarray
    labels: tuple[str, str]
    length_A: float


def line_profile(grid: VolumetricGrid, start: int, end: int, n_points: int = 201) -> LineProfile:
    """Sample a grid on the straight line from atom ``start`` to the nearest image of ``end``."""
    if start == end:
        raise InputError(f"line: start and end atoms must differ (got {start} twice)")
    r0 = _cart_of(grid, start, "start")
    d = _min_image(grid, _cart_of(grid, end, "end") - r0)
    frac = np.linspace(0.0, 1.0, n_points)
    values = sample_points(grid, r0 + frac[:, None] * d)
    length = float(np.linalg.norm(d))
    labels = (grid.structure[start].species_string, grid.structure[end].species_string)
    return LineProfile(frac * length, values, labels, length)
