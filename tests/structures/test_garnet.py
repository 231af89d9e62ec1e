"""Garnet builders: composition, neutrality, symmetry, Li-Li exclusion, Ewald ordering."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Lattice, Structure
from pymatgen.core.ewald import EwaldSummation
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from ssbflow.structures import garnet
from ssbflow.structures.ordering import Group, random_walk

OXI = {"Li": 1, "La": 3, "Zr": 4, "Ta": 5, "O": -2}


def charge_sum(structure: Structure) -> float:
    """Total charge from explicit formal oxidation states (independent of the builder's)."""
    return float(sum(OXI[site.specie.symbol] for site in structure))


def min_distance(structure: Structure, species: str | None = None) -> float:
    idx = [i for i, s in enumerate(structure) if species is None or s.specie.symbol == species]
    d = structure.distance_matrix[np.ix_(idx, idx)]
    np.fill_diagonal(d, np.inf)
    return float(d.min())


@pytest.fixture(scope="module")
def tetragonal() -> Structure:
    return garnet.llzo_tetragonal()


@pytest.fixture(scope="module")
def cubic_and_record():
    return garnet.order_cubic_llzo()


@pytest.fixture(scope="module")
def cubic(cubic_and_record) -> Structure:
    return cubic_and_record[0]


def test_tetragonal_llzo_composition_symmetry_neutrality(tetragonal):
    assert tetragonal.composition.formula.replace(" ", "") == "Li56La24Zr16O96"
    assert SpacegroupAnalyzer(tetragonal, symprec=0.1).get_space_group_number() == 142
    assert charge_sum(tetragonal) == 0
    assert sum(s.specie.oxi_state for s in tetragonal) == 0
    assert tetragonal.lattice.a == pytest.approx(13.236, abs=0.01)
    assert tetragonal.lattice.c == pytest.approx(12.702, abs=0.01)
    # Zr-O in ZrO6 octahedra is ~2.1 Å; nothing overlaps
    assert min_distance(tetragonal) > 1.7


def test_cubic_llzo_composition_neutral_and_no_face_sharing_li(cubic):
    assert cubic.composition.formula.replace(" ", "") == "Li56La24Zr16O96"
    assert charge_sum(cubic) == 0
    assert cubic.lattice.abc == pytest.approx((12.97, 12.97, 12.97))
    assert min_distance(cubic) > 0.9
    assert min_distance(cubic, "Li") >= 1.7  # no face-sharing 24d/96h pair, no split-96h pair
    labels = [s.properties["wyckoff"] for s in cubic if s.specie.symbol == "Li"]
    assert set(labels) <= {"24d", "96h"}


def test_cubic_framework_is_ia3d_and_matches_dft_tetragonal_framework(cubic, tetragonal):
    framework = cubic.copy()
    framework.remove_species(["Li+"])
    assert SpacegroupAnalyzer(framework, symprec=0.01).get_space_group_number() == 230
    # the DFT tetragonal cell, scaled to a cubic metric, has the same La/Zr/O framework
    tet = tetragonal.copy()
    tet.remove_species(["Li+"])
    tet = Structure(Lattice.cubic(12.97), tet.species, tet.frac_coords)
    matcher = StructureMatcher(ltol=0.05, stol=0.1, angle_tol=2, primitive_cell=False)
    assert matcher.fit(framework, tet)


def test_cubic_li_sites_face_sharing_pairs_exist_in_the_full_site_set():
    # the exclusion rule is not vacuous: the full 24d+96h set has pairs closer than 1.7 Å
    sites = garnet.cubic_llzo_sites()
    assert sites.composition["Li"] == 120
    assert min_distance(sites, "Li") < 1.0


def test_ewald_matrix_energy_equals_direct_ewald(cubic, cubic_and_record):
    direct = EwaldSummation(cubic).total_energy
    assert cubic_and_record[1].energy_eV == pytest.approx(direct, rel=1e-8)


def test_ewald_chosen_cubic_ordering_is_lower_than_random_orderings(cubic):
    sites = garnet.cubic_llzo_sites()
    li_idx = np.array([i for i, s in enumerate(sites) if s.specie.symbol == "Li"])
    exclusive = (sites.distance_matrix < garnet.LI_LI_MIN_A) & ~np.eye(len(sites), dtype=bool)
    start = garnet._tetragonal_ordering_on_cubic_sites(sites)
    group = Group(tuple(int(i) for i in li_idx), {"Li": garnet.LI_PER_CELL,
                                                  "Vac": len(li_idx) - garnet.LI_PER_CELL})
    start_labels = {int(i): "Li" if m else "Vac" for i, m in zip(li_idx, start, strict=True)}
    rng = np.random.default_rng(12345)
    chosen = EwaldSummation(cubic).total_energy
    for _ in range(5):
        labels = random_walk([group], {"Li": 1.0, "Vac": 0.0}, start_labels, rng,
                             exclusive=exclusive, n_moves=4000)
        assert sum(lab == "Li" for lab in labels.values()) == garnet.LI_PER_CELL
        random_cell = sites.copy()
        random_cell.remove_sites([i for i, lab in labels.items() if lab == "Vac"])
        assert min_distance(random_cell, "Li") >= 1.7
        assert charge_sum(random_cell) == 0
        assert chosen < EwaldSummation(random_cell).total_energy
    # also lower than the tetragonal ordering placed on the cubic sites
    tet_cell = sites.copy()
    tet_cell.remove_sites(list(li_idx[~start]))
    assert chosen < EwaldSummation(tet_cell).total_energy


def test_llzto_half_ta_realised_exactly_and_neutral(cubic):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # x = 0.5 is exact in one cell: no warning
        doped = garnet.llzto(0.5, base=cubic)
    comp = doped.composition
    assert comp["Ta"] == 4 and comp["Zr"] == 12 and comp["Li"] == 52 and comp["La"] == 24
    assert comp["Ta"] / (comp["La"] / 3) == pytest.approx(0.5)  # x per formula unit
    assert doped.properties["x_Ta"] == pytest.approx(0.5)
    assert charge_sum(doped) == 0
    assert min_distance(doped) > 0.9


def test_llzto_warns_with_realised_x(cubic):
    with pytest.warns(UserWarning, match="realised x = 0.25"):
        doped = garnet.llzto(0.3, base=cubic)
    assert doped.composition["Ta"] == 2
    assert doped.composition["Li"] == 54
    assert charge_sum(doped) == 0


def test_llzto_ewald_arrangement_beats_random_arrangements(cubic):
    doped = garnet.llzto(0.5, base=cubic, seed=1)
    chosen = EwaldSummation(doped).total_energy
    assert chosen == pytest.approx(doped.properties["ewald_energy_eV"], rel=1e-8)
    zr = [i for i, s in enumerate(cubic) if s.specie.symbol == "Zr"]
    li = [i for i, s in enumerate(cubic) if s.specie.symbol == "Li"]
    rng = np.random.default_rng(7)
    for _ in range(4):
        cell = cubic.copy()
        for i in rng.choice(zr, 4, replace=False):
            cell.replace(int(i), "Ta5+", properties=dict(cell[int(i)].properties))
        cell.remove_sites([int(i) for i in rng.choice(li, 4, replace=False)])
        assert charge_sum(cell) == 0
        assert chosen < EwaldSummation(cell).total_energy


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"x": 2.5}, "x"), ({"x": -0.1}, "x"), ({"supercell": (0, 1, 1)}, "supercell")],
)
def test_llzto_rejects_impossible_doping(cubic, kwargs, word):
    with pytest.raises(ValueError, match=word):
        garnet.llzto(base=cubic, **kwargs)


def test_cubic_rejects_bad_lattice_parameter():
    with pytest.raises(ValueError, match="a_A"):
        garnet.cubic_llzo_sites(-1.0)
