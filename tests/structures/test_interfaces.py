"""Coherent two-slab interfaces."""

from __future__ import annotations

import numpy as np
import pytest

from ssbflow.structures.catalog import BuildOptions, build
from ssbflow.structures.interfaces import build_interface, inn_li_interface, interface_strain
from ssbflow.structures.phases import phase


@pytest.fixture(scope="module")
def inn_li():
    return inn_li_interface()


def test_inn_li_interface_size_strain_and_contact(inn_li):
    assert len(inn_li) <= 200
    comp = inn_li.composition
    assert comp["In"] == comp["N"] > 0 and comp["Li"] > 0
    strain = interface_strain(inn_li)
    assert strain["max_in_plane_strain"] <= 0.05
    # no overlapping atoms; the gap between the slabs is the requested 2 Å (± rounding)
    d = inn_li.distance_matrix + np.eye(len(inn_li)) * 100
    assert d.min() > 1.8
    # the substrate face in contact with Li is nitrogen (termination "N")
    z = inn_li.cart_coords[:, 2]
    is_film = np.array(inn_li.site_properties["interface_label"]) == "film"
    top_substrate = np.argmax(np.where(is_film, -np.inf, z))
    assert inn_li[int(top_substrate)].specie.symbol == "N"
    assert z[is_film].min() - z[~is_film].max() == pytest.approx(2.0, abs=0.05)


def test_vacuum_is_honoured():
    s = build("inn-li-interface", BuildOptions(vacuum=15.0))
    z = np.sort(s.cart_coords[:, 2])
    gaps = np.diff(np.concatenate([z, [z[0] + s.lattice.c]]))
    assert gaps.max() == pytest.approx(15.0, abs=0.3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"substrate_miller": (0, 0, 0)}, "substrate_miller"),
        ({"max_strain": -0.1}, "max_strain"),
        ({"gap_A": 0.0}, "gap_A"),
        ({"vacuum_A": -3.0}, "vacuum_A"),
        ({"max_strain": 0.001, "max_area_A2": 20.0}, "no lattice match"),
    ],
)
def test_bad_parameters_are_rejected(kwargs, message):
    args = {"substrate_miller": (0, 0, 1), "film_miller": (1, 1, 0)}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        build_interface(phase("inn"), phase("li"), **args)
