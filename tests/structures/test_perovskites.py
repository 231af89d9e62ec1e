"""LLTO perovskite: neutral composition, layering, Ewald ordering, geometry."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.analysis.ewald import EwaldSummation
from pymatgen.core import Species

from ssbflow.structures.catalog import BuildOptions, build
from ssbflow.structures.perovskites import llto, llto_framework, llto_site_counts


def _charge(structure) -> float:
    return sum(site.specie.oxi_state for site in structure)


@pytest.fixture(scope="module")
def cell():
    return llto()


def test_llto_default_is_neutral_li033_la056_tio3(cell):
    comp = {str(k): v for k, v in cell.composition.items()}
    assert comp == {"Li+": 6, "La3+": 10, "Ti4+": 18, "O2-": 54}
    assert _charge(cell) == 0
    n_ti = comp["Ti4+"]
    assert comp["Li+"] / n_ti == pytest.approx(0.33, abs=0.005)
    assert comp["La3+"] / n_ti == pytest.approx(0.56, abs=0.005)
    # x in Li3x La(2/3-x) TiO3
    x = comp["Li+"] / n_ti / 3
    assert comp["La3+"] / n_ti == pytest.approx(2 / 3 - x)
    assert cell.lattice.abc == pytest.approx((3 * 3.87, 3 * 3.87, 7.75))


def test_llto_geometry_ti_octahedra(cell):
    d = cell.distance_matrix + 100 * np.eye(len(cell))
    assert d.min() > 0.9
    for site in cell:
        if site.specie.symbol == "Ti":
            shell = cell.get_neighbors(site, 2.2)
            assert sorted(n.specie.symbol for n in shell) == ["O"] * 6
            assert all(n.nn_distance == pytest.approx(1.935, abs=0.01) for n in shell)


def test_llto_has_la_rich_and_la_poor_layers(cell):
    z = {"la-rich": 0.0, "la-poor": 0.5}
    occupancy = {}
    n_sites_per_layer = 9
    for layer, z0 in z.items():
        n_la = sum(1 for s in cell if s.specie.symbol == "La"
                   and abs(((s.frac_coords[2] - z0 + 0.5) % 1.0) - 0.5) < 0.01)
        occupancy[layer] = n_la / n_sites_per_layer
    # refined La2/3-xLi3xTiO3: La occupancy ~0.9 on one layer, ~0.2 on the other
    assert occupancy["la-rich"] > 0.8
    assert occupancy["la-poor"] < 0.35


def _random_llto_energies(n_la_rich: int | None, n: int = 25) -> list[float]:
    """Ewald energies of random A-site arrangements (6 Li, 10 La, 2 vacancies) of 3x3x1.

    ``n_la_rich``: La on the z = 0 layer (the rest on z = 1/2); ``None``: La anywhere.
    """
    frame = llto_framework()
    layer = frame.site_properties["a_layer"]
    rich = [i for i, lab in enumerate(layer) if lab == "la-rich"]
    poor = [i for i, lab in enumerate(layer) if lab == "la-poor"]
    rng = np.random.default_rng(42)
    energies = []
    for _ in range(n):
        if n_la_rich is None:
            la = list(rng.choice(rich + poor, 10, replace=False))
        else:
            la = (list(rng.choice(rich, n_la_rich, replace=False))
                  + list(rng.choice(poor, 10 - n_la_rich, replace=False)))
        rest = rng.permutation([i for i in rich + poor if i not in la])
        trial = frame.copy()
        trial.remove_site_property("a_layer")
        for i in rest[:6]:
            trial.replace(int(i), Species("Li", 1))
        trial.remove_sites([int(i) for i in rest[6:]])
        assert _charge(trial) == 0
        energies.append(EwaldSummation(trial).total_energy)
    return energies


def test_llto_ewald_ordering_beats_random_layered_orderings(cell):
    e_chosen = EwaldSummation(cell).total_energy
    energies = _random_llto_energies(n_la_rich=8)
    assert e_chosen < min(energies)
    assert e_chosen < np.mean(energies) - 1.0


def test_llto_without_layering_beats_random_orderings():
    free = llto(la_poor_share=None)
    assert _charge(free) == 0
    e_free = EwaldSummation(free).total_energy
    energies = _random_llto_energies(n_la_rich=None)
    assert e_free < min(energies)
    # imposing La-rich/La-poor layers costs electrostatic energy (point charges, ideal sites)
    assert e_free < EwaldSummation(llto()).total_energy


def test_llto_site_counts_are_neutral_and_closest():
    for n in (9, 18, 36, 8, 12):
        n_li, n_la = llto_site_counts(n)
        assert n_li + 3 * n_la == 2 * n  # Li+ + La3+ balance (Ti4+ O3 2-) per A site
        assert n_li + n_la <= n
    assert llto_site_counts(36) == (12, 20)


def test_llto_other_supercell_warns_with_realised_formula():
    with pytest.warns(UserWarning, match="realised"):
        s = llto((2, 2, 1))
    assert _charge(s) == 0
    big = llto((3, 3, 2))
    assert {str(k): v for k, v in big.composition.items()} == {
        "Li+": 12, "La3+": 20, "Ti4+": 36, "O2-": 108}


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"supercell": (0, 1, 1)}, "supercell"), ({"supercell": (1, 1)}, "supercell"),
     ({"la_poor_share": 0.9}, "la_poor_share")],
)
def test_llto_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        llto(**kwargs)


def test_catalog_llto():
    s = build("llto")
    assert _charge(s) == 0
    assert s.composition.reduced_formula == build("llto").composition.reduced_formula
    big = build("llto", BuildOptions(supercell=(3, 3, 2)))
    assert len(big) == 2 * len(s)
    assert _charge(big) == 0
