"""Surface slabs from any bulk crystal, built on pymatgen's ``SlabGenerator``.

What is added on top of the generator:

- Miller indices refer to the bulk *as given* (e.g. the conventional cell), but the slab is
  cut from the primitive cell, so a body-centred crystal gets the thinnest repeat unit
  (half a conventional cell for LLZO (001)).
- The slab is re-expressed (:mod:`ssbflow.structures.slab_frame`) with the in-plane cell
  Gauss-reduced (most orthogonal), the surface normal along +z and ``c`` perpendicular to
  the surface; the vacuum is exactly what was asked: the gap between the top atom and the
  periodic image of the bottom atom.
  (The generator's own padding is a whole number of bulk repeats and its ``c`` is oblique.)
- The thickness is the measured distance between the top and the bottom atom, at least
  ``thickness``: whole repeat units are added until it is.
- Terminations are listed with the composition of their top layer and the dipole along the
  normal, and can be chosen by index or by name (``"la-rich"``: the termination whose top
  layer holds the most La).
- Sizes are bounded (:mod:`ssbflow.structures.limits`): the atom count is checked before
  the slab is generated.
- Optional dipole compensation (``compensate_with="Li"``, see
  :mod:`ssbflow.structures.slab_dipole`): the outermost ions of one element move to their
  bulk sites beyond the opposite surface until the dipole along the normal is smallest.
- Selective dynamics (site property ``selective_dynamics``) fix the bottom ``fix_bottom``
  fraction of the thickness; site property ``surface_layer`` marks the top layer.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import warnings
from dataclasses import dataclass

import numpy as np
from pymatgen.core import Composition, Structure
from pymatgen.core.surface import Slab, SlabGenerator

from ssbflow.structures.catalog import BuildOptions, CatalogEntry
from ssbflow.structures.limits import (
    MAX_THICKNESS_A,
    MAX_VACUUM_A,
    check_atoms,
    check_length,
    check_miller,
    check_repeats,
)
from ssbflow.structures.slab_dipole import (
    compensate_dipole,
    dipole_eA,
    guessed_element_charges,
)
from ssbflow.structures.slab_frame import (
    rebox,
    top_layer_mask,
    z_extent_A,
)

#: A slab whose dipole along the normal exceeds this (e·Å) is reported as polar.
POLAR_TOL_EA = 0.1


@dataclass(frozen=True)
class Termination:
    """One termination of a slab orientation (see :func:`list_terminations`).

    Attributes
    ----------
    index : position in the list; pass it to :func:`make_slab` as ``termination``.
    surface_composition : formula of the top layer (atoms within ``SURFACE_LAYER_DEPTH_A``
        of :mod:`~ssbflow.structures.slab_frame` of the topmost atom), e.g. ``"Li4La2O4"``.
    dipole_eA : dipole moment along the surface normal (e·Å) from the oxidation states
        (``nan`` when the bulk has none and none can be guessed).
    symmetric : top and bottom surfaces related by symmetry (pymatgen ``Slab.is_symmetric``).
    polar : the slab has a dipole normal to the surface (|dipole| > :data:`POLAR_TOL_EA`).
    n_atoms : atoms in the slab (thickness as asked, supercell (1, 1)).
    formula : composition of the whole slab.
    shift : the generator's termination shift (fraction of the repeat unit).
    top_layer : (element, depth below the topmost atom in Å) of the top-layer atoms.
    """

    index: int
    surface_composition: str
    dipole_eA: float
    symmetric: bool
    polar: bool
    n_atoms: int
    formula: str
    shift: float
    top_layer: tuple[tuple[str, float], ...] = ()


def _check_bulk(bulk: object) -> None:
    if not isinstance(bulk, Structure) or len(bulk) == 0:
        raise ValueError(f"bulk must be a non-empty pymatgen Structure, got {type(bulk).__name__}")
    if not bulk.is_ordered:
        raise ValueError("bulk must be an ordered structure (no partial occupancies)")


def _primitive_miller(bulk: Structure, prim: Structure, miller: tuple[int, int, int]):
    """Miller indices of the plane ``miller`` of ``bulk`` in the lattice of ``prim``.

    With primitive vectors P = M · A (rows), the plane's indices transform as h' = M h.
    """
    transform = np.linalg.solve(bulk.lattice.matrix.T, prim.lattice.matrix.T).T
    h = transform @ np.asarray(miller, dtype=float)
    for scale in range(1, 25):  # clear fractions (M has entries in 1/n, n <= 24 for any lattice)
        scaled = h * scale
        if np.allclose(scaled, np.round(scaled), atol=1e-4):
            ints = np.round(scaled).astype(int)
            return tuple(int(v) for v in ints // math.gcd(*(abs(int(v)) for v in ints)))
    raise ValueError(f"miller {miller} could not be expressed in the primitive cell")


@contextlib.contextmanager
def _quiet_spglib():
    """Silence spglib's deprecation chatter emitted through pymatgen's symmetry finder."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*OLD_ERROR_HANDLING.*")
        warnings.filterwarnings("ignore", message="Too many sites removed.*")
        yield


@functools.lru_cache(maxsize=16)
def _repeat_unit(
    bulk_json: str, miller: tuple[int, int, int]
) -> tuple[Structure, tuple[int, int, int], int, float]:
    """(primitive cell, its Miller indices, atoms and height in Å of one repeat unit of the
    slab): the generator's oriented unit cell, cheap to make, before any slab is cut."""
    bulk = Structure.from_str(bulk_json, fmt="json")
    prim = bulk.get_primitive_structure()
    pm = _primitive_miller(bulk, prim, miller)
    probe = SlabGenerator(prim, pm, 1.0, 1.0, primitive=False, center_slab=True)
    ouc = probe.oriented_unit_cell.lattice.matrix
    normal = np.cross(ouc[0], ouc[1])
    height = float(abs(np.dot(ouc[2], normal)) / np.linalg.norm(normal))
    return prim, pm, len(probe.oriented_unit_cell), height


def _check_slab_atoms(bulk: Structure, miller: tuple[int, int, int], thickness: float,
                      repeats: int = 1) -> None:
    """Refuse (:func:`~ssbflow.structures.limits.check_atoms`) a slab of more atoms than
    allowed: repeat-unit atoms x units for ``thickness`` x in-plane ``repeats``."""
    _, _, n_unit, height = _repeat_unit(bulk.to_json(), miller)
    check_atoms(n_unit * max(1, math.ceil(thickness / height)) * repeats,
                f"slab {miller} of {thickness:g} Å" + (f" x {repeats} cells" if repeats > 1
                                                      else ""))


@functools.lru_cache(maxsize=16)
def _generate(
    bulk_json: str, miller: tuple[int, int, int], n_units: int, symmetric: bool
) -> tuple[tuple[Slab, ...], float]:
    """All terminations for ``n_units`` repeat units (cached: the generator is slow)."""
    prim, pm, _, height = _repeat_unit(bulk_json, miller)
    gen = SlabGenerator(
        prim, pm, n_units * height - 1e-3, height, primitive=False, center_slab=True,
        reorient_lattice=True,
    )
    with _quiet_spglib():
        slabs = gen.get_slabs(symmetrize=symmetric)
    return tuple(slabs), height


def _slabs_for(
    bulk: Structure, miller: tuple[int, int, int], thickness: float, symmetric: bool
) -> tuple[list[Slab], int]:
    """Terminations with at least ``thickness`` Å between top and bottom atoms."""
    key = bulk.to_json()
    _, height = _generate(key, miller, 1, False)
    n_units = max(1, math.ceil(thickness / height))
    for _ in range(4):
        slabs, _ = _generate(key, miller, n_units, symmetric)
        if slabs and min(z_extent_A(rebox(s, 10.0)) for s in slabs) >= thickness - 1e-6:
            return list(slabs), n_units
        if not slabs:
            break
        n_units += 1
    return list(slabs), n_units


def _describe(index: int, slab: Slab, vacuum: float,
              element_charges: dict[str, float] | None = None) -> Termination:
    boxed = rebox(slab, vacuum)
    top = top_layer_mask(boxed)
    symbols = [boxed[i].specie.symbol for i in np.flatnonzero(top)]
    z = boxed.cart_coords[:, 2]
    depths = tuple(
        (boxed[i].specie.symbol, round(float(z.max() - z[i]), 3))
        for i in np.flatnonzero(top)[np.argsort(-z[top])]
    )
    comp = Composition({el: symbols.count(el) for el in sorted(set(symbols))})
    try:
        with _quiet_spglib():
            symmetric = bool(slab.is_symmetric())
    except Exception:  # symmetry-finder failure: report as not symmetric
        symmetric = False
    dipole = dipole_eA(boxed, element_charges)
    if np.isfinite(dipole):
        polar = abs(dipole) > POLAR_TOL_EA
    else:  # no charges known: pymatgen's own test
        try:
            polar = bool(slab.is_polar())
        except Exception:  # pymatgen cannot tell either
            polar = False
    return Termination(
        index=index,
        surface_composition=comp.formula.replace(" ", ""),
        dipole_eA=dipole,
        symmetric=symmetric,
        polar=polar,
        n_atoms=len(slab),
        formula=slab.composition.formula.replace(" ", ""),
        shift=float(slab.shift),
        top_layer=depths,
    )


def list_terminations(
    bulk: Structure,
    miller: tuple[int, int, int],
    thickness: float = 10.0,
    vacuum: float = 15.0,
) -> list[Termination]:
    """The distinct terminations of the ``miller`` surface of ``bulk``.

    Parameters
    ----------
    bulk
        Bulk crystal (its oxidation states give the dipoles; guessed per element when
        absent).
    miller
        Miller indices in the lattice of ``bulk`` as given.
    thickness
        Minimum slab thickness (Å) between top and bottom atoms.
    vacuum
        Vacuum (Å).

    Returns
    -------
    list[Termination]
        In the generator's order; ``index`` selects one in :func:`make_slab`.
    """
    _check_bulk(bulk)
    miller = check_miller(miller)
    thickness = check_length("thickness", thickness, MAX_THICKNESS_A)
    vacuum = check_length("vacuum", vacuum, MAX_VACUUM_A)
    _check_slab_atoms(bulk, miller, thickness)
    charges = guessed_element_charges(bulk)
    slabs, _ = _slabs_for(bulk, miller, thickness, False)
    return [_describe(i, s, vacuum, charges) for i, s in enumerate(slabs)]


_RICH = re.compile(r"^([A-Za-z]{1,2})[-_ ]?rich$")


def _choose(terminations: list[Termination], termination: int | str) -> int:
    if isinstance(termination, bool):
        raise ValueError(f"termination must be an index or a name like 'la-rich', "
                         f"got {termination!r}")
    if isinstance(termination, int | np.integer):
        if not 0 <= termination < len(terminations):
            raise ValueError(
                f"termination index {termination} out of range 0..{len(terminations) - 1}"
            )
        return int(termination)
    text = str(termination).strip()
    if text.lstrip("-").isdigit():
        return _choose(terminations, int(text))
    match = _RICH.match(text)
    if not match:
        raise ValueError(
            f"termination must be an index or '<element>-rich' (e.g. 'la-rich'), got {text!r}"
        )
    symbol = match.group(1).capitalize()
    counts = [Composition(t.surface_composition)[symbol] for t in terminations]
    if max(counts) == 0:
        raise ValueError(f"termination {text!r}: no termination has {symbol} in its top layer")
    fractions = [
        c / Composition(t.surface_composition).num_atoms for c, t in zip(counts, terminations,
                                                                        strict=True)
    ]

    def highest(t: Termination) -> float:
        return -min((d for el, d in t.top_layer if el == symbol), default=np.inf)

    # most atoms of the element, then that element highest up, then the largest share
    return max(range(len(terminations)),
               key=lambda i: (counts[i], highest(terminations[i]), fractions[i], -i))


def make_slab(
    bulk: Structure,
    miller: tuple[int, int, int],
    thickness: float = 10.0,
    vacuum: float = 15.0,
    termination: int | str = 0,
    symmetric: bool = False,
    fix_bottom: float = 0.5,
    supercell: tuple[int, int] = (1, 1),
    compensate_with: str | None = None,
) -> Structure:
    """A slab of ``bulk`` with the surface normal along z and exactly ``vacuum`` Å of vacuum.

    Parameters
    ----------
    bulk
        Bulk crystal (keeps its oxidation states).
    miller
        Miller indices in the lattice of ``bulk`` as given; not (0, 0, 0).
    thickness
        Minimum distance (Å) between the top and bottom atoms (> 0).
    vacuum
        Gap (Å) between the top atom and the periodic image of the bottom atom (> 0).
    termination
        Index into :func:`list_terminations` or ``"<element>-rich"``.
    symmetric
        Ask for equivalent top and bottom surfaces (pymatgen removes atoms symmetrically,
        so the slab may be off-stoichiometric); warns and returns the asymmetric slab when
        no symmetric version exists.
    fix_bottom
        Fraction (0 <= f < 1) of the thickness, from the bottom, whose atoms are fixed.
    supercell
        In-plane repetitions (na, nb).
    compensate_with
        Element (e.g. ``"Li"``) whose outermost ions are moved to their bulk sites beyond
        the other surface until the slab's dipole is smallest (non-polar, same
        stoichiometry); ``None`` keeps the cut as generated. Ignored for symmetric slabs.

    Returns
    -------
    Structure
        Site properties ``selective_dynamics`` and ``surface_layer``; ``properties`` holds
        ``miller``, ``termination``, ``thickness_A``, ``vacuum_A``, ``symmetric`` and
        ``dipole_compensation`` (``None`` or the element, number of ions moved and the
        dipole before/after in e·Å).
    """
    _check_bulk(bulk)
    miller = check_miller(miller)
    thickness = check_length("thickness", thickness, MAX_THICKNESS_A)
    vacuum = check_length("vacuum", vacuum, MAX_VACUUM_A)
    if not 0.0 <= float(fix_bottom) < 1.0:
        raise ValueError(f"fix_bottom must be a fraction in [0, 1), got {fix_bottom}")
    na, nb = check_repeats("supercell (na, nb)", supercell, 2)
    _check_slab_atoms(bulk, miller, thickness, na * nb)  # before any slab is cut
    charges = guessed_element_charges(bulk)
    slabs, _ = _slabs_for(bulk, miller, thickness, False)
    terms = [_describe(i, s, vacuum, charges) for i, s in enumerate(slabs)]
    index = _choose(terms, termination)
    slab: Structure = slabs[index]
    is_symmetric = terms[index].symmetric
    if symmetric and not is_symmetric:
        sym_slabs, _ = _slabs_for(bulk, miller, thickness, True)
        # the symmetrised slab of the chosen termination: same shift, symmetric
        with _quiet_spglib():
            match = [s for s in sym_slabs
                     if abs(s.shift - slab.shift) < 1e-6 and s.is_symmetric()]
        if match:
            slab, is_symmetric = match[0], True
        else:
            warnings.warn(
                f"make_slab: no symmetric slab for miller {miller} termination {index}; "
                "returning the asymmetric one",
                UserWarning,
                stacklevel=2,
            )
    compensation = None
    if compensate_with is not None and not is_symmetric:
        slab, compensation = compensate_dipole(slab, str(compensate_with), charges)
    result = rebox(slab, vacuum)
    if (na, nb) != (1, 1):
        result.make_supercell([na, nb, 1])
    z = result.cart_coords[:, 2]
    z_fix = z.min() + float(fix_bottom) * (z.max() - z.min())
    fixed = (z < z_fix - 1e-6) if fix_bottom > 0 else np.zeros(len(z), dtype=bool)
    result.add_site_property("selective_dynamics", [[not f] * 3 for f in fixed])
    result.add_site_property("surface_layer", [bool(t) for t in top_layer_mask(result)])
    result.properties.update(
        miller=list(miller), termination=index, thickness_A=z_extent_A(result),
        vacuum_A=vacuum, symmetric=is_symmetric, dipole_compensation=compensation,
    )
    return result


#: Default LLZO slab: one repeat of the primitive cell along [001] (half a conventional
#: cell, 96 atoms, Li28La12Zr8O48, stoichiometric) with the full 13.2 x 13.2 Å surface.
LLZO_SLAB_THICKNESS_A = 5.0


def llzo_slab(
    miller: tuple[int, int, int] = (0, 0, 1),
    thickness: float = LLZO_SLAB_THICKNESS_A,
    vacuum: float = 15.0,
    termination: int | str = "la-rich",
    bulk: Structure | None = None,
    fix_bottom: float = 0.5,
    supercell: tuple[int, int] = (1, 1),
    compensate_with: str | None = "Li",
) -> Structure:
    """Tetragonal LLZO slab; by default the thinnest stoichiometric (001) slab (96 atoms).

    Parameters are those of :func:`make_slab`; ``bulk`` defaults to
    :func:`ssbflow.structures.garnet.llzo_tetragonal`. ``termination`` defaults to the
    termination with the most La in its top layer (the adsorption site of nitriles).
    Every (001) cut of LLZO is polar (38 e·Å for the default one, from formal charges),
    so by default the outermost Li of the polar side are moved to their bulk sites under
    the other surface (6 Li: |dipole| 38 -> 0.9 e·Å; the top becomes La2O4). The polar
    cut closed the PBE gap: CP2K's SCF of SN on it did not converge in 80 OT steps.
    """
    if bulk is None:
        from ssbflow.structures.garnet import llzo_tetragonal

        bulk = llzo_tetragonal()
    return make_slab(bulk, miller, thickness=thickness, vacuum=vacuum, termination=termination,
                     fix_bottom=fix_bottom, supercell=supercell, compensate_with=compensate_with)


def in_plane_supercell(supercell: tuple[int, int, int] | None) -> tuple[int, int]:
    """The in-plane part (A, B) of a command-line ``--supercell A B C`` for a slab (C = 1)."""
    if supercell is None:
        return (1, 1)
    if len(supercell) != 3 or int(supercell[2]) != 1:
        raise ValueError(
            f"supercell: a slab repeats only in-plane; expected A B 1, got {tuple(supercell)}"
        )
    return (int(supercell[0]), int(supercell[1]))


def _build_llzo_slab(options: BuildOptions) -> Structure:
    kwargs = {k: v for k, v in options.given().items()
              if k in ("miller", "thickness", "vacuum", "termination")}
    return llzo_slab(supercell=in_plane_supercell(options.supercell), **kwargs)


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "llzo-slab",
        "tetragonal LLZO slab (default (001), 96 atoms, la-rich top, 15 Å vacuum)",
        _build_llzo_slab,
        frozenset({"miller", "thickness", "vacuum", "termination", "supercell"}),
    ),
)
