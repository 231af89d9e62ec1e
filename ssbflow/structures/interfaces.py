"""Two-slab coherent interfaces (e.g. InN|Li, LLZO|Li) on pymatgen's CoherentInterfaceBuilder.

The Zur–McGill lattice match (``ZSLGenerator``) finds supercells of the two surfaces whose
in-plane lattices agree within ``max_strain``; the film is strained onto the substrate.
Among the matches we keep the interface with the fewest atoms (then the lowest strain), so
that the cell stays small enough for force-field molecular dynamics.
"""

from __future__ import annotations

import warnings

import numpy as np
from pymatgen.analysis.interfaces.coherent_interfaces import CoherentInterfaceBuilder
from pymatgen.analysis.interfaces.zsl import ZSLGenerator
from pymatgen.core import Structure
from pymatgen.core.interface import Interface

from ssbflow.structures.catalog import BuildOptions, CatalogEntry
from ssbflow.structures.limits import MAX_VACUUM_A
from ssbflow.structures.phases import phase


def _check_miller(miller: tuple[int, int, int], name: str) -> tuple[int, int, int]:
    if len(miller) != 3 or not any(int(h) for h in miller):
        raise ValueError(f"{name} {tuple(miller)}: expected three integers, not all zero")
    return (int(miller[0]), int(miller[1]), int(miller[2]))


def interface_strain(interface: Interface) -> dict[str, float]:
    """In-plane strain of the film in an interface, from its Green–Lagrange strain tensor.

    Returns
    -------
    dict
        ``von_mises_strain``, ``max_in_plane_strain`` (largest absolute eigenvalue of the
        2×2 in-plane block) as fractions.
    """
    props = interface.interface_properties
    strain = np.asarray(props["strain"], dtype=float)
    in_plane = np.linalg.eigvalsh(strain[:2, :2])
    return {
        "von_mises_strain": float(props["von_mises_strain"]),
        "max_in_plane_strain": float(np.max(np.abs(in_plane))),
    }


def build_interface(
    substrate: Structure,
    film: Structure,
    substrate_miller: tuple[int, int, int],
    film_miller: tuple[int, int, int],
    *,
    max_strain: float = 0.05,
    max_area_A2: float = 150.0,
    gap_A: float = 2.0,
    vacuum_A: float = 10.0,
    substrate_layers: int = 3,
    film_layers: int = 4,
    termination: int | str = 0,
    max_atoms: int | None = None,
) -> Interface:
    """Build a coherent substrate|film interface with the fewest atoms.

    Parameters
    ----------
    substrate, film : bulk structures.
    substrate_miller, film_miller : surface planes of each.
    max_strain : largest relative mismatch of the lattice vector lengths (fraction).
    max_area_A2 : largest interface area searched (Å²).
    gap_A : distance between the two slabs (Å).
    vacuum_A : vacuum above the film (Å); the cell is periodic along the normal.
    substrate_layers, film_layers : slab thicknesses in atomic layers.
    termination : index into the builder's terminations, or a string that the substrate
        termination label must start with (e.g. ``"N"`` for a nitrogen-terminated InN).
    max_atoms : refuse interfaces with more atoms (``None`` = no limit).

    Returns
    -------
    pymatgen.core.interface.Interface
        ``interface_properties`` holds the strain tensor and von Mises strain.

    Raises
    ------
    ValueError
        Invalid parameter, no lattice match, or no match with at most ``max_atoms`` atoms.
    """
    substrate_miller = _check_miller(substrate_miller, "substrate_miller")
    film_miller = _check_miller(film_miller, "film_miller")
    if not 0 < max_strain < 0.5:
        raise ValueError(f"max_strain {max_strain}: expected a fraction in (0, 0.5)")
    if max_area_A2 <= 0:
        raise ValueError(f"max_area_A2 {max_area_A2}: expected a positive area in Å²")
    if gap_A <= 0:
        raise ValueError(f"gap_A {gap_A}: expected a positive distance in Å")
    if not 0 <= vacuum_A <= MAX_VACUUM_A:  # also refuses nan
        raise ValueError(f"vacuum_A {vacuum_A}: expected a thickness in [0, {MAX_VACUUM_A:g}] Å")
    if substrate_layers < 1 or film_layers < 1:
        raise ValueError("substrate_layers/film_layers: expected at least 1 layer each")
    zsl = ZSLGenerator(max_area_ratio_tol=0.09, max_area=max_area_A2,
                       max_length_tol=max_strain, max_angle_tol=0.02)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        builder = CoherentInterfaceBuilder(substrate, film, film_miller, substrate_miller,
                                           zslgen=zsl)
    if not builder.zsl_matches:
        raise ValueError(
            f"no lattice match within max_strain={max_strain} and max_area_A2={max_area_A2}; "
            "increase either"
        )
    terms = builder.terminations
    if isinstance(termination, str):
        chosen = [t for t in terms if t[1].startswith(termination)]
        if not chosen:
            raise ValueError(f"termination {termination!r}: expected one of "
                             f"{[t[1] for t in terms]}")
        term = chosen[0]
    else:
        if not 0 <= termination < len(terms):
            raise ValueError(f"termination {termination}: expected an index in 0..{len(terms) - 1}")
        term = terms[termination]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        candidates = list(builder.get_interfaces(
            term, gap=gap_A, vacuum_over_film=vacuum_A, film_thickness=film_layers,
            substrate_thickness=substrate_layers, in_layers=True))
    best = min(candidates, key=lambda i: (len(i), i.interface_properties["von_mises_strain"]))
    if max_atoms is not None and len(best) > max_atoms:
        raise ValueError(f"smallest interface has {len(best)} atoms > max_atoms={max_atoms}; "
                         "use fewer layers or a larger max_strain")
    return best


def inn_li_interface(*, max_strain: float = 0.05, gap_A: float = 2.0, vacuum_A: float = 10.0,
                     substrate_layers: int = 3, film_layers: int = 6,
                     termination: int | str = "N") -> Interface:
    """InN(0001)|Li(110): nitrogen-terminated wurtzite InN under a bcc Li film.

    With the defaults: 96 atoms (In30 N30 Li36, 6.13 × 9.37 Å in plane), Li(110) strained
    by 2.2 % (largest in-plane principal strain) onto InN; small enough for CHGNet
    molecular dynamics on two cores.
    """
    return build_interface(phase("inn"), phase("li"), (0, 0, 1), (1, 1, 0),
                           max_strain=max_strain, max_area_A2=80.0, gap_A=gap_A,
                           vacuum_A=vacuum_A, substrate_layers=substrate_layers,
                           film_layers=film_layers, termination=termination, max_atoms=200)


def llzo_li_interface(*, max_strain: float = 0.06, max_area_A2: float = 200.0,
                      gap_A: float = 2.5, vacuum_A: float = 10.0, substrate_layers: int = 1,
                      film_layers: int = 6) -> Interface:
    """Tetragonal LLZO(001)|Li(100) (large: several hundred atoms; optional).

    LLZO a = 13.24 Å against 4 × 3.49 Å of Li: about 5 % strain in the smallest cell; a
    smaller ``max_strain`` gives a √2 × √2 cell (about 730 atoms, 0.4 % strain).
    """
    from ssbflow.structures.garnet import llzo_tetragonal

    llzo = llzo_tetragonal()
    llzo.remove_oxidation_states()
    return build_interface(llzo, phase("li"), (0, 0, 1), (1, 0, 0),
                           max_strain=max_strain, max_area_A2=max_area_A2, gap_A=gap_A,
                           vacuum_A=vacuum_A, substrate_layers=substrate_layers,
                           film_layers=film_layers)


def _inn_li(options: BuildOptions) -> Structure:
    kwargs: dict[str, object] = {}
    if options.vacuum is not None:
        kwargs["vacuum_A"] = options.vacuum
    if options.termination is not None:
        kwargs["termination"] = options.termination
    return inn_li_interface(**kwargs)  # type: ignore[arg-type]


def _llzo_li(options: BuildOptions) -> Structure:
    return llzo_li_interface(**({"vacuum_A": options.vacuum} if options.vacuum is not None
                                else {}))


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("inn-li-interface", "InN(0001)|Li(110) coherent interface (reaction cell)",
                 _inn_li, frozenset({"vacuum", "termination"})),
    CatalogEntry("llzo-li-interface", "LLZO(001)|Li(100) coherent interface (348 atoms, slow)",
                 _llzo_li, frozenset({"vacuum"})),
)
