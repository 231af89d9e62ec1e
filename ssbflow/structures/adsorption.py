"""Molecules on slabs: surface sites, placement of an anchor atom above a site, scans.

Slabs are those of :mod:`ssbflow.structures.slabs` (surface normal along +z, ``c``
perpendicular to the surface, the slab's top surface the one facing +z).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pymatgen.analysis.adsorption import AdsorbateSiteFinder
from pymatgen.core import Element, Lattice, Molecule, Species, Structure

from ssbflow.structures.catalog import BuildOptions, CatalogEntry

#: Closest allowed distance (Å) between a molecule atom and any slab atom.
CLASH_A = 1.6
#: Clearance (Å) at which a frame is taken without trying the next ones (an H···O contact).
COMFORT_A = 2.2
#: Closest allowed distance (Å) between a molecule atom and a periodic image of the molecule.
MIN_IMAGE_DISTANCE_A = 2.0
#: Least clear vacuum (Å) between the top of the molecule and the next periodic slab.
MIN_GAP_ABOVE_A = 4.0
#: Rotations about the surface normal tried when placing a molecule (degrees).
_ROTATIONS_DEG = tuple(range(0, 360, 15))

ORIENTATIONS = ("upright", "flat")


class ClashError(ValueError):
    """The molecule cannot be placed without an atom closer than :data:`CLASH_A` to the slab."""


def _symbol(site) -> str:
    return site.specie.symbol


def _check_element(name: str, value: str) -> str:
    try:
        return Element(str(value).capitalize()).symbol
    except ValueError:
        raise ValueError(f"{name} must be an element symbol, got {value!r}") from None


def _slab_mask(structure: Structure) -> np.ndarray:
    """True for slab atoms (sites not marked ``adsorbate``)."""
    flags = structure.site_properties.get("adsorbate")
    if flags is None:
        return np.ones(len(structure), dtype=bool)
    return ~np.array([bool(f) for f in flags])


def surface_sites(slab: Structure, species: str = "La", depth: float = 2.0) -> list[int]:
    """Indices of ``species`` atoms within ``depth`` Å of the top of the slab.

    Ordered most exposed first: highest first; at equal height (0.05 Å), the one with
    fewer slab atoms above it within 3 Å laterally.

    Raises
    ------
    ValueError
        Unknown element, ``depth <= 0``, or no such atom near the top surface.
    """
    symbol = _check_element("species", species)
    if not depth > 0:
        raise ValueError(f"depth must be a positive height in Å, got {depth}")
    mask = _slab_mask(slab)
    z = slab.cart_coords[:, 2]
    z_top = z[mask].max()
    candidates = [i for i in np.flatnonzero(mask)
                  if _symbol(slab[i]) == symbol and z[i] >= z_top - depth]
    if not candidates:
        raise ValueError(
            f"species: no {symbol} atom within depth {depth} Å of the slab's top surface"
        )
    slab_idx = np.flatnonzero(mask)

    def covered(i: int) -> int:
        above = slab_idx[z[slab_idx] > z[i] + 0.05]
        if len(above) == 0:
            return 0
        d = slab.lattice.get_all_distances(
            slab.frac_coords[[i]] * [1, 1, 0], slab.frac_coords[above] * [1, 1, 0]
        )[0]
        return int(np.sum(d < 3.0))

    return [int(i) for i in sorted(candidates, key=lambda i: (-round(z[i] / 0.05), covered(i), i))]


def finder_sites(
    slab: Structure, distance_A: float = 2.0,
    positions: tuple[str, ...] = ("ontop", "bridge", "hollow"),
) -> dict[str, list[np.ndarray]]:
    """Adsorption sites from pymatgen's ``AdsorbateSiteFinder`` (Cartesian, Å).

    Parameters
    ----------
    slab
        Slab with the surface normal along z.
    distance_A
        Height of the returned points above the surface atoms.
    positions
        Site kinds to return ("ontop", "bridge", "hollow", "subsurface").
    """
    if not distance_A > 0:
        raise ValueError(f"distance_A must be a positive height in Å, got {distance_A}")
    structure = slab.copy()
    for key in list(structure.site_properties):
        if key not in ("selective_dynamics",):
            structure.remove_site_property(key)
    finder = AdsorbateSiteFinder(structure)
    sites = finder.find_adsorption_sites(distance=distance_A, positions=list(positions))
    return {k: [np.asarray(p) for p in v] for k, v in sites.items() if k in positions}


def _anchor_index(molecule: Molecule, anchor: int | str) -> int:
    if isinstance(anchor, int | np.integer) and not isinstance(anchor, bool):
        if not 0 <= anchor < len(molecule):
            raise ValueError(f"anchor index {anchor} out of range 0..{len(molecule) - 1}")
        return int(anchor)
    symbol = _check_element("anchor", anchor)
    hits = [i for i, s in enumerate(molecule) if _symbol(s) == symbol]
    if not hits:
        raise ValueError(f"anchor: molecule {molecule.formula} has no {symbol} atom")
    return hits[0]


def _rotation(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotation matrix turning unit vector u onto unit vector v."""
    u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
    axis = np.cross(u, v)
    s, c = np.linalg.norm(axis), float(np.dot(u, v))
    if s < 1e-10:
        if c > 0:
            return np.eye(3)
        perp = np.cross(u, [1.0, 0.0, 0.0])
        if np.linalg.norm(perp) < 1e-6:
            perp = np.cross(u, [0.0, 1.0, 0.0])
        perp /= np.linalg.norm(perp)
        return 2.0 * np.outer(perp, perp) - np.eye(3)
    k = axis / s
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + s * kx + (1 - c) * kx @ kx


def _rot_z(angle_deg: float) -> np.ndarray:
    a = np.radians(angle_deg)
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])


def _tilted(axis: np.ndarray, tilt_deg: float, azimuth_deg: float) -> np.ndarray:
    """``axis`` turned by ``tilt_deg`` away from itself, towards the perpendicular at
    ``azimuth_deg`` about it."""
    u = axis / np.linalg.norm(axis)
    p = np.cross(u, [1.0, 0.0, 0.0])
    if np.linalg.norm(p) < 1e-6:
        p = np.cross(u, [0.0, 1.0, 0.0])
    p /= np.linalg.norm(p)
    q = np.cross(u, p)
    a, t = np.radians(azimuth_deg), np.radians(tilt_deg)
    return np.cos(t) * u + np.sin(t) * (np.cos(a) * p + np.sin(a) * q)


#: Shortest axis (Å, or length of a mean of unit vectors) taken as a direction: below it the
#: bonds or the body around the anchor cancel (an anchor between two opposite bonds).
_MIN_AXIS = 0.3


def _oriented(molecule: Molecule, anchor: int, orientation: str
              ) -> list[tuple[float, np.ndarray]]:
    """Candidate molecule frames (coordinates relative to the anchor), best first, each with
    its tilt (degrees) away from the preferred upright axis (0 for the flat frames)."""
    xyz = molecule.cart_coords - molecule.cart_coords[anchor]
    others = np.delete(np.arange(len(molecule)), anchor)
    frames: list[tuple[float, np.ndarray]] = []
    if orientation == "upright":
        if len(others) == 0:
            return [(0.0, xyz)]
        axes = []
        d = np.linalg.norm(xyz[others], axis=1)
        bonded = others[d < 1.8]
        if len(bonded) == 1:  # terminal atom (nitrile N, carbonyl O): end-on along the bond
            axes.append(xyz[bonded[0]])
        elif len(bonded) > 1:  # inner atom (ether O): its lone pairs down, bonds up
            axes.append(np.mean(xyz[bonded] / np.linalg.norm(xyz[bonded], axis=1)[:, None],
                                axis=0))
        axes.append(xyz[others].mean(axis=0))  # otherwise: body straight up
        axes = [a for a in axes if np.linalg.norm(a) >= _MIN_AXIS]
        if not axes:  # nothing defines "up" (e.g. the C of CO2): keep the input frame
            return [(0.0, xyz)]
        # then the same axes tilted by 30 and 60 degrees: the straight frames of the chain
        # ethers of the shipped screen (DME, diglyme, TTE) all clashed with the slab
        tilted = [(tilt, _tilted(axis, tilt, azimuth)) for axis in axes
                  for tilt in (30.0, 60.0) for azimuth in (0.0, 90.0, 180.0, 270.0)]
        for tilt, axis in [(0.0, a) for a in axes] + tilted:
            frames.append((tilt, xyz @ _rotation(axis, np.array([0.0, 0.0, 1.0])).T))
    else:  # flat: thinnest principal direction along z, anchor the lowest atom
        centred = xyz - xyz.mean(axis=0)
        _, _, vt = np.linalg.svd(centred)
        normal = vt[2]
        for sign in (1.0, -1.0):
            frame = xyz @ _rotation(sign * normal, np.array([0.0, 0.0, 1.0])).T
            frames.append((0.0, frame))
        frames.sort(key=lambda f: -f[1][:, 2].min())  # anchor lowest (others above) first
    return frames


def _min_image_distance(lattice: Lattice, cart: np.ndarray) -> float:
    """Shortest distance between the molecule and its in-plane periodic images."""
    a, b = lattice.matrix[0], lattice.matrix[1]
    best = np.inf
    for i in (-1, 0, 1):
        for j in (-1, 0, 1):
            if i == j == 0:
                continue
            shifted = cart + i * a + j * b
            d = np.linalg.norm(cart[:, None, :] - shifted[None, :, :], axis=-1)
            best = min(best, float(d.min()))
    return best


def adsorb(
    slab: Structure,
    molecule: Molecule,
    anchor: int | str = "N",
    site: int | None = None,
    height: float = 2.6,
    orientation: str = "upright",
    species: str = "La",
) -> Structure:
    """Put ``molecule`` on ``slab`` with its ``anchor`` atom ``height`` Å above ``site``.

    Parameters
    ----------
    slab
        Slab with the surface normal along +z (from :func:`ssbflow.structures.slabs.make_slab`).
    molecule
        The adsorbate.
    anchor
        Index of the anchor atom in ``molecule`` or an element (its first atom of that
        element), e.g. the nitrile N.
    site
        Index of the slab atom under the anchor; default the most exposed ``species`` atom
        (:func:`surface_sites`).
    height
        Vertical distance (Å) of the anchor above the site atom (> 0).
    orientation
        ``"upright"``: the molecule points away from the surface (terminal anchors bind
        end-on, the anchor->neighbour bond along +z; an inner anchor such as an ether O
        with the mean of its bond directions along +z, i.e. its lone pairs down; then
        anchor->centroid along +z; when all of these clash, the same axes tilted by 30° and
        60°, recorded as the ``tilt_deg`` property); ``"flat"``: the molecule's mean plane
        parallel to the surface. The rotation about the normal with the largest clearance
        from the slab is used, from the first frame clear by :data:`COMFORT_A` Å (or by
        ``height``, if lower).
    species
        Element of the default site.

    Returns
    -------
    Structure
        Slab sites (their properties kept) then molecule sites; site property ``adsorbate``
        (True on the molecule), ``selective_dynamics`` (molecule free).

    Raises
    ------
    ValueError
        Bad parameter; the molecule larger than the in-plane cell; too little vacuum above.
    ClashError
        (a ``ValueError``) every placement has an atom closer than 1.6 Å to the slab.
    """
    if orientation not in ORIENTATIONS:
        raise ValueError(f"orientation must be one of {ORIENTATIONS}, got {orientation!r}")
    if not height > 0:
        raise ValueError(f"height must be a positive distance in Å, got {height}")
    if len(molecule) == 0:
        raise ValueError("molecule is empty")
    i_anchor = _anchor_index(molecule, anchor)
    if site is None:
        site = surface_sites(slab, species)[0]
    if not (isinstance(site, int | np.integer) and 0 <= site < len(slab)):
        raise ValueError(f"site must be a slab atom index 0..{len(slab) - 1}, got {site!r}")
    if not _slab_mask(slab)[site]:
        raise ValueError(f"site {site} is an adsorbate atom, not a slab atom")
    lattice = slab.lattice
    if not np.allclose(lattice.matrix[:2, 2], 0.0, atol=1e-6):
        raise ValueError("slab must have its surface in the xy plane (use slabs.make_slab)")
    target = slab.cart_coords[site] + np.array([0.0, 0.0, float(height)])
    slab_frac = slab.frac_coords

    best: tuple[float, np.ndarray, float] | None = None
    too_big = np.inf
    for tilt, frame in _oriented(molecule, i_anchor, orientation):
        for angle in _ROTATIONS_DEG:
            cart = frame @ _rot_z(angle).T + target
            image_d = _min_image_distance(lattice, cart)
            if image_d < MIN_IMAGE_DISTANCE_A:
                too_big = min(too_big, image_d)
                continue
            d = lattice.get_all_distances(lattice.get_fractional_coords(cart), slab_frac)
            clearance = float(d.min())
            if best is None or clearance > best[0] + 1e-6:
                best = (clearance, cart, tilt)
        if best is not None and best[0] >= min(COMFORT_A, float(height)):
            break  # this frame (the most preferred one that fits) is clear of the slab
    if best is None:
        raise ValueError(
            f"molecule {molecule.formula} is larger than the slab's in-plane cell "
            f"({lattice.a:.1f} x {lattice.b:.1f} Å): images {too_big:.2f} Å apart; "
            "use a larger in-plane supercell"
        )
    clearance, cart, tilt = best
    if not np.isfinite(cart).all():
        raise ValueError(f"molecule {molecule.formula}: no direction defines its placement "
                         f"about anchor {i_anchor}")
    z_slab = slab.cart_coords[_slab_mask(slab), 2]
    gap = lattice.c - (cart[:, 2].max() - z_slab.min())
    if gap < MIN_GAP_ABOVE_A:
        raise ValueError(
            f"vacuum: only {gap:.1f} Å between the molecule and the next slab image "
            f"(need >= {MIN_GAP_ABOVE_A} Å); build the slab with more vacuum"
        )
    if clearance < CLASH_A:
        raise ClashError(
            f"clash: molecule atom {clearance:.2f} Å from a slab atom (< {CLASH_A} Å) at site "
            f"{site} with height {height} Å ({orientation}); raise height or choose another site"
        )

    n_slab = len(slab)
    props = {k: list(v) for k, v in slab.site_properties.items()}
    props.setdefault("selective_dynamics", [[True] * 3] * n_slab)
    props.setdefault("adsorbate", [False] * n_slab)
    result = Structure(lattice, slab.species, slab_frac, site_properties=props)
    defaults = {"selective_dynamics": [True] * 3, "adsorbate": True, "surface_layer": False,
                "magmom": 0.0}
    mol_frac = lattice.get_fractional_coords(cart)
    # a slab with oxidation states gets a formally uncharged molecule (0 on every atom), so
    # that writers see one consistent numeric oxidation-state column
    slab_has_oxi = all(getattr(sp, "oxi_state", None) is not None for sp in slab.species)
    for k, coord in enumerate(mol_frac):
        site_props = {key: defaults.get(key) for key in props}
        element = molecule[k].specie.symbol
        specie = Species(element, 0) if slab_has_oxi else element
        result.append(specie, coord, properties=site_props)
    result.properties.update(dict(slab.properties))
    result.properties.update(
        adsorbate=molecule.composition.formula.replace(" ", ""), anchor=i_anchor,
        site=int(site), height_A=float(height), orientation=orientation,
        tilt_deg=float(tilt), clearance_A=clearance,
    )
    return result


@dataclass(frozen=True)
class AdsorptionCandidate:
    """One configuration of a scan: the slab site, the orientation and the structure."""

    site: int
    orientation: str
    structure: Structure


def adsorption_candidates(
    slab: Structure,
    molecule: Molecule,
    species: str = "La",
    n_sites: int = 3,
    orientations: tuple[str, ...] = ORIENTATIONS,
    anchor: int | str = "N",
    height: float = 2.6,
) -> list[AdsorptionCandidate]:
    """Configurations for an adsorption scan: the ``n_sites`` most exposed ``species`` sites
    times ``orientations``; placements that clash are left out.

    Raises
    ------
    ValueError
        Bad parameters, or no configuration without a clash.
    """
    if int(n_sites) < 1:
        raise ValueError(f"n_sites must be >= 1, got {n_sites}")
    for orientation in orientations:
        if orientation not in ORIENTATIONS:
            raise ValueError(f"orientations must be among {ORIENTATIONS}, got {orientation!r}")
    out = []
    for site in surface_sites(slab, species)[: int(n_sites)]:
        for orientation in orientations:
            try:
                structure = adsorb(slab, molecule, anchor=anchor, site=site, height=height,
                                   orientation=orientation)
            except ClashError:
                continue
            out.append(AdsorptionCandidate(site=site, orientation=orientation,
                                           structure=structure))
    if not out:
        raise ValueError(f"no clash-free configuration of {molecule.formula} on {species} sites")
    return out


def with_vacuum_above(structure: Structure, vacuum: float) -> Structure:
    """Same atoms, ``c`` set so that ``vacuum`` Å separate the topmost atom (of slab or
    adsorbate) from the periodic image of the bottom atom; site properties kept."""
    if not vacuum > 0:
        raise ValueError(f"vacuum must be a positive length in Å, got {vacuum}")
    cart = structure.cart_coords.copy()
    extent = cart[:, 2].max() - cart[:, 2].min()
    cart[:, 2] += vacuum / 2.0 - cart[:, 2].min()
    m = structure.lattice.matrix
    lattice = Lattice([m[0], m[1], [0.0, 0.0, extent + vacuum]])
    result = Structure(lattice, structure.species, cart, coords_are_cartesian=True,
                       site_properties=structure.site_properties)
    result.properties.update(dict(structure.properties))
    result.properties["vacuum_A"] = float(vacuum)
    return result


def sn_on_llzo(
    conformer: str = "gauche",
    height: float = 2.6,
    orientation: str = "upright",
    vacuum: float = 15.0,
    miller: tuple[int, int, int] = (0, 0, 1),
    thickness: float | None = None,
    termination: int | str = "la-rich",
    supercell: tuple[int, int] = (1, 1),
) -> Structure:
    """Succinonitrile on the default LLZO slab, a nitrile N ``height`` Å above the most
    exposed surface La.

    ``vacuum`` is the clear gap between the top of the molecule and the next slab image;
    ``supercell`` repeats the slab in-plane (lower coverage). Default: 96-atom
    Li28La12Zr8O48 (001) slab + C4H4N2 = 106 atoms.
    """
    from ssbflow.structures.molecules import succinonitrile
    from ssbflow.structures.slabs import LLZO_SLAB_THICKNESS_A, llzo_slab

    if not vacuum > 0:
        raise ValueError(f"vacuum must be a positive length in Å, got {vacuum}")
    slab = llzo_slab(miller=miller, thickness=thickness or LLZO_SLAB_THICKNESS_A,
                     vacuum=vacuum + 15.0, termination=termination, supercell=supercell)
    placed = adsorb(slab, succinonitrile(conformer), anchor="N", height=height,
                    orientation=orientation)
    return with_vacuum_above(placed, vacuum)


def _build_sn_on_llzo(options: BuildOptions) -> Structure:
    from ssbflow.structures.slabs import in_plane_supercell

    kwargs = {k: v for k, v in options.given().items()
              if k in ("miller", "thickness", "vacuum", "termination")}
    return sn_on_llzo(supercell=in_plane_supercell(options.supercell), **kwargs)


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "sn-on-llzo",
        "gauche succinonitrile, nitrile N 2.6 Å above the top La of the LLZO (001) slab",
        _build_sn_on_llzo,
        frozenset({"miller", "thickness", "vacuum", "termination", "supercell"}),
    ),
)
