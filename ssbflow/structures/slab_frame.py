"""Slab frames: the in-plane cell Gauss-reduced, the surface normal along +z, the vacuum.

Used by :mod:`ssbflow.structures.slabs` (cutting) and :mod:`ssbflow.structures.slab_dipole`
(dipole compensation); :func:`vacuum_gap_z` and :func:`put_vacuum_on_top` serve the engines'
input sets and the adsorption workflow.
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Lattice, Structure

#: Atoms within this height (Å) of the topmost atom form the "top layer".
SURFACE_LAYER_DEPTH_A = 1.0


def gauss_reduce(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lagrange-Gauss reduction of a 2D lattice basis (shortest, most orthogonal pair).

    Written here because pymatgen's LLL reduction acts on all three slab vectors and may
    move ``c`` into the surface plane.
    """
    a, b = a.copy(), b.copy()
    for _ in range(100):
        if np.dot(b, b) < np.dot(a, a):
            a, b = b, a
        m = round(float(np.dot(a, b) / np.dot(a, a)))
        if m == 0:
            break
        b = b - m * a
    return a, b


def oriented_frame(slab: Structure) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """In-plane vectors and Cartesian positions with the surface normal along +z.

    Returns (a, b, cart) in a frame where a is along x, b in the xy plane and the slab's
    c direction (away from the bottom surface) has positive z.
    """
    a0, b0, c0 = slab.lattice.matrix
    a, b = gauss_reduce(a0, b0)
    normal = np.cross(a, b)
    if np.dot(normal, c0) < 0:
        b = -b
        normal = -normal
    ez = normal / np.linalg.norm(normal)
    ex = a / np.linalg.norm(a)
    ey = np.cross(ez, ex)
    rot = np.array([ex, ey, ez])
    a_r, b_r = rot @ a, rot @ b
    a_r[2] = b_r[2] = 0.0
    # unwrap along the normal: the generator's slab is contiguous in fractional c
    frac_c = slab.frac_coords[:, 2]
    frac_c = frac_c - np.floor(frac_c.min())
    cart = (slab.frac_coords[:, :2] @ slab.lattice.matrix[:2] + np.outer(frac_c, c0)) @ rot.T
    return a_r, b_r, cart


def rebox(slab: Structure, vacuum: float) -> Structure:
    """Orthogonal cell: c along z with exactly ``vacuum`` Å between the slab and its image."""
    a, b, cart = oriented_frame(slab)
    z = cart[:, 2]
    extent = float(z.max() - z.min())
    cart[:, 2] = z - z.min() + vacuum / 2.0
    lattice = Lattice([a, b, [0.0, 0.0, extent + vacuum]])
    frac = lattice.get_fractional_coords(cart)
    frac[:, :2] -= np.floor(frac[:, :2])
    props = {k: v for k, v in slab.site_properties.items() if k == "magmom"}
    return Structure(lattice, slab.species, frac, site_properties=props or None)


def z_extent_A(structure: Structure) -> float:
    """Height (Å) between the lowest and the highest atom."""
    z = structure.cart_coords[:, 2]
    return float(z.max() - z.min())


def top_layer_mask(structure: Structure,
                   depth_A: float = SURFACE_LAYER_DEPTH_A) -> np.ndarray:
    """Sites within ``depth_A`` (Å) of the topmost atom (along z)."""
    z = structure.cart_coords[:, 2]
    return z >= z.max() - depth_A


def vacuum_gap_z(structure: Structure) -> tuple[float, float]:
    """The widest empty gap along z of a slab (c along z), periodic.

    Returns
    -------
    (z_low, z_high)
        Cartesian z (Å) of the atom below the gap and of the atom above it; ``z_high`` may
        exceed ``c`` when the gap crosses the cell boundary.
    """
    c_z = float(structure.lattice.matrix[2, 2])
    z = np.sort(np.mod(structure.cart_coords[:, 2], c_z))
    gaps = np.diff(np.append(z, z[0] + c_z))
    widest = int(np.argmax(gaps))
    return float(z[widest]), float(z[widest] + gaps[widest])


def put_vacuum_on_top(structure: Structure, margin: float = 1.0) -> Structure:
    """The slab shifted along z so that its lowest atom is ``margin`` Å above the cell's
    origin plane and the vacuum gap lies at the top of the cell (site properties kept)."""
    if margin < 0:
        raise ValueError(f"margin must be >= 0 Å, got {margin}")
    _, z_high = vacuum_gap_z(structure)
    shifted = structure.copy()
    shifted.translate_sites(list(range(len(shifted))), [0, 0, margin - z_high],
                            frac_coords=False, to_unit_cell=True)
    return shifted
