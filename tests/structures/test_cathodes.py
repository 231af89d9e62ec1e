"""Layered cathodes: LCO and NCM811 bulk and slabs (composition, charge, symmetry, ordering)."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.analysis.ewald import EwaldSummation
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from ssbflow.structures.catalog import BuildOptions, all_entries, build
from ssbflow.structures.cathodes import layered_cell, lco, ncm811

TM = ("Ni", "Co", "Mn")


def _charge(structure) -> float:
    return sum(site.specie.oxi_state for site in structure)


def _min_distance_A(structure) -> float:
    return float((structure.distance_matrix + 100 * np.eye(len(structure))).min())


def _tm_counts(structure) -> dict[str, int]:
    comp = structure.composition.element_composition
    return {el: int(comp[el]) for el in TM}


@pytest.fixture(scope="module")
def ncm():
    return ncm811()


def test_lco_is_r3m_licoo2_with_octahedral_co():
    s = lco()
    assert s.composition.reduced_formula == "LiCoO2"
    assert len(s) == 12
    assert SpacegroupAnalyzer(s, symprec=0.1).get_space_group_symbol() == "R-3m"
    assert _charge(s) == 0
    # Co3+ in CoO6 octahedra, Co-O 1.92 Å (MP-relaxed; experiment 1.92)
    for i, site in enumerate(s):
        if site.specie.symbol == "Co":
            neighbours = s.get_neighbors(site, 2.3)
            assert sorted(n.specie.symbol for n in neighbours) == ["O"] * 6, i
            assert all(1.85 < n.nn_distance < 2.0 for n in neighbours)
    assert _min_distance_A(s) > 0.9


def test_lco_supercell_and_bad_input():
    assert len(lco((2, 2, 1))) == 48
    with pytest.raises(ValueError, match="supercell"):
        lco((0, 1, 1))


def test_unordered_ncm811_cell_is_r3m_with_literature_lattice():
    cell = layered_cell()
    assert SpacegroupAnalyzer(cell, symprec=0.1).get_space_group_symbol() == "R-3m"
    conventional = SpacegroupAnalyzer(cell, symprec=0.1).get_conventional_standard_structure()
    a, _, c = conventional.lattice.abc
    assert a == pytest.approx(2.87, abs=0.01)
    assert c == pytest.approx(14.20, abs=0.01)


def test_ncm811_composition_ratio_and_neutrality(ncm):
    counts = _tm_counts(ncm)
    assert counts == {"Ni": 8, "Co": 1, "Mn": 1}
    comp = ncm.composition.element_composition
    assert comp["Li"] == 10
    assert comp["O"] == 20
    assert _charge(ncm) == 0
    # one Ni2+ compensates the Mn4+; Co3+ and the other Ni are 3+
    species = {str(k): v for k, v in ncm.composition.items()}
    assert species == {"Li+": 10, "Ni2+": 1, "Ni3+": 7, "Co3+": 1, "Mn4+": 1, "O2-": 20}
    assert _min_distance_A(ncm) > 0.9
    for site in ncm:
        if site.specie.symbol in TM:
            shell = ncm.get_neighbors(site, 2.3)
            assert sorted(n.specie.symbol for n in shell) == ["O"] * 6


def test_ncm811_initial_magmoms_follow_d_electron_counts(ncm):
    # spin-only moments: Mn4+ d3 -> 3 unpaired, Ni2+ d8 (octahedral) -> 2, LS Ni3+ d7 -> 1
    expected = {"Mn4+": 3.0, "Ni2+": 2.0, "Ni3+": 1.0, "Li+": 0.0, "O2-": 0.0}
    for site in ncm:
        key = str(site.specie)
        if key in expected:
            assert site.properties["magmom"] == expected[key]
    assert ncm.site_properties["magmom"].count(0.6) == 1  # Co3+ low-spin seed


def test_ncm811_ewald_ordering_beats_random_orderings(ncm):
    e_chosen = EwaldSummation(ncm).total_energy
    tm = [i for i, s in enumerate(ncm) if s.specie.symbol in TM]
    tm_species = [ncm[i].specie for i in tm]
    rng = np.random.default_rng(123)
    random_energies = []
    for _ in range(30):
        trial = ncm.copy()
        for i, sp in zip(tm, rng.permutation(tm_species), strict=True):
            trial.replace(i, sp)
        random_energies.append(EwaldSummation(trial).total_energy)
    assert e_chosen <= min(random_energies) + 1e-6
    assert e_chosen < np.mean(random_energies) - 0.1
    # electrostatics pairs the low-charge Ni2+ with the high-charge Mn4+ (nearest TM neighbours)
    ni2 = next(s for s in ncm if str(s.specie) == "Ni2+")
    mn = next(s for s in ncm if str(s.specie) == "Mn4+")
    assert ni2.distance(mn) == pytest.approx(2.87, abs=0.05)
    # Co3+ is Ewald-degenerate with Ni3+; among the degenerate minima Co sits farthest from Mn
    co = next(s for s in ncm if s.specie.symbol == "Co")
    assert co.distance(mn) > 5.0


def test_ncm811_larger_supercell_and_explicit_ordering():
    big = ncm811(supercell=(5, 2, 2))
    assert _tm_counts(big) == {"Ni": 16, "Co": 2, "Mn": 2}
    assert _charge(big) == 0
    order = ["Mn", "Co"] + ["Ni"] * 8
    s = ncm811(ordering=order)
    cell = layered_cell()
    tm_cart = [site.coords for site in cell if site.specie.symbol in TM]
    mn = next(site for site in s if site.specie.symbol == "Mn")
    assert np.linalg.norm(mn.coords - tm_cart[0]) < 1e-6
    assert _charge(s) == 0


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"supercell": (3, 1, 1)}, "supercell"),
     ({"ordering": ["Ni"] * 10}, "ordering"),
     ({"ordering": ["Fe"] * 10}, "ordering")],
)
def test_ncm811_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        ncm811(**kwargs)


# ---------------------------------------------------------------- slabs (need slabs.make_slab)


@pytest.fixture(scope="module")
def slab104():
    pytest.importorskip("ssbflow.structures.slabs")
    from ssbflow.structures.cathode_slabs import ncm811_slab

    return ncm811_slab((1, 0, 4), thickness=10.0, vacuum=15.0)


def _vacuum_A(slab) -> float:
    z = slab.cart_coords[:, 2]
    z_sorted = np.sort(np.mod(z, slab.lattice.c))
    gaps = np.diff(np.concatenate([z_sorted, [z_sorted[0] + slab.lattice.c]]))
    return float(gaps.max())


def test_ncm811_104_slab_ratio_neutral_vacuum(slab104):
    counts = _tm_counts(slab104)
    assert counts["Ni"] == 8 * counts["Co"] == 8 * counts["Mn"] > 0
    assert _charge(slab104) == 0
    # c is perpendicular to the surface and the vacuum is as asked
    assert np.allclose(slab104.lattice.matrix[2][:2], 0.0, atol=1e-6)
    assert _vacuum_A(slab104) == pytest.approx(15.0, abs=0.3)
    z = slab104.cart_coords[:, 2]
    assert z.max() - z.min() >= 10.0 - 1.0
    assert _min_distance_A(slab104) > 0.9
    assert "selective_dynamics" in slab104.site_properties
    fixed = [sd for sd in slab104.site_properties["selective_dynamics"] if not any(sd)]
    assert 0 < len(fixed) < len(slab104)


def test_ncm811_003_slab_is_neutral():
    pytest.importorskip("ssbflow.structures.slabs")
    from ssbflow.structures.cathode_slabs import ncm811_slab

    slab = ncm811_slab((0, 0, 3), thickness=10.0, vacuum=12.0)
    assert _charge(slab) == 0
    counts = _tm_counts(slab)
    assert counts["Ni"] == 8 * counts["Co"] == 8 * counts["Mn"] > 0
    assert _vacuum_A(slab) == pytest.approx(12.0, abs=0.3)
    assert np.allclose(slab.lattice.matrix[2][:2], 0.0, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"miller": (0, 0, 0)}, "miller"), ({"vacuum": -3.0}, "vacuum"),
     ({"thickness": 0.0}, "thickness")],
)
def test_ncm811_slab_bad_input(kwargs, word):
    from ssbflow.structures.cathode_slabs import ncm811_slab

    with pytest.raises(ValueError, match=word):
        ncm811_slab(**kwargs)


@pytest.mark.parametrize("name", ["lco", "ncm811", "ncm811-slab"])
def test_catalog_cathodes_neutral_no_overlap(name):
    if name == "ncm811-slab":
        pytest.importorskip("ssbflow.structures.slabs")
    assert name in all_entries()
    s = build(name)
    assert _charge(s) == 0
    assert _min_distance_A(s) > 0.9
    assert "magmom" in s.site_properties


def test_catalog_ncm811_slab_options():
    pytest.importorskip("ssbflow.structures.slabs")
    s = build("ncm811-slab", BuildOptions(miller=(0, 0, 3), vacuum=12.0, supercell=(5, 2, 1)))
    assert _charge(s) == 0
    assert s.properties["miller"] == [0, 0, 3]
    with pytest.raises(ValueError, match="supercell"):
        build("ncm811-slab", BuildOptions(supercell=(1, 1, 2)))


def test_ncm811_candidates_are_distinct_and_ranked(ncm):
    from pymatgen.analysis.structure_matcher import StructureMatcher

    from ssbflow.structures.cathodes import ncm811_candidates

    candidates = ncm811_candidates(3)
    energies = [e for e, _ in candidates]
    assert energies == sorted(energies)
    assert candidates[0][1] == ncm
    structures = [s for _, s in candidates]
    for s, (e, _) in zip(structures, candidates, strict=True):
        assert _charge(s) == 0
        assert EwaldSummation(s).total_energy == pytest.approx(e, abs=1e-6)
    matcher = StructureMatcher(primitive_cell=False, scale=False, attempt_supercell=False)
    for a, b in [(0, 1), (0, 2), (1, 2)]:
        assert not matcher.fit(structures[a], structures[b])


@pytest.mark.parametrize(("termination", "top"), [("tm-rich", TM), ("o-rich", ("O",))])
def test_ncm811_003_named_terminations(termination, top):
    pytest.importorskip("ssbflow.structures.slabs")
    from ssbflow.structures.cathode_slabs import ncm811_slab

    slab = ncm811_slab((0, 0, 3), termination=termination)
    z = slab.cart_coords[:, 2]
    top_layer = {slab[i].specie.symbol for i in np.flatnonzero(z > z.max() - 0.3)}
    assert top_layer <= set(top)
    assert _charge(slab) == 0
