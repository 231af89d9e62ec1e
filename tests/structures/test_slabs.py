"""Slabs: vacuum and thickness measured from coordinates, orientation, terminations,
symmetry, selective dynamics, neutrality, validation."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest
from pymatgen.core import Composition, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from ssbflow.structures import garnet, slabs
from ssbflow.structures.slab_frame import SURFACE_LAYER_DEPTH_A

OXI = {"Li": 1, "La": 3, "Zr": 4, "O": -2, "Co": 3}


def data_structure(name: str) -> Structure:
    with resources.as_file(resources.files("ssbflow.data.structures").joinpath(name)) as path:
        return Structure.from_file(path)


def z_extent(structure: Structure) -> float:
    z = structure.cart_coords[:, 2]
    return float(z.max() - z.min())


def vacuum_gap(structure: Structure) -> float:
    """Gap between the top atom and the periodic image of the bottom atom (c along z)."""
    return float(structure.lattice.matrix[2, 2] - z_extent(structure))


def has_z_mirror(structure: Structure) -> bool:
    """Some symmetry operation maps the surface normal z onto -z (top equivalent to bottom)."""
    ops = SpacegroupAnalyzer(structure, symprec=0.1).get_symmetry_operations(cartesian=True)
    return any(op.rotation_matrix[2, 2] < -0.99 for op in ops)


@pytest.fixture(scope="module")
def llzo() -> Structure:
    return garnet.llzo_tetragonal()


@pytest.fixture(scope="module")
def lco() -> Structure:
    return data_structure("LiCoO2_R-3m_MP-relaxed_pymatgen-tests-chgden.cif")


@pytest.fixture(scope="module")
def llzo_default_slab() -> Structure:
    return slabs.llzo_slab()


def test_default_llzo_slab_is_the_thin_stoichiometric_neutral_001_slab(llzo_default_slab):
    s = llzo_default_slab
    assert len(s) == 96
    assert s.composition.reduced_formula == "Li7La3Zr2O12"
    assert sum(OXI[site.specie.symbol] for site in s) == 0
    # full unit-cell-wide (001) surface of tetragonal LLZO: a = b = 13.236 Å, square
    assert s.lattice.a == pytest.approx(13.236, abs=1e-3)
    assert s.lattice.b == pytest.approx(13.236, abs=1e-3)
    assert s.lattice.gamma == pytest.approx(90.0, abs=1e-6)
    assert vacuum_gap(s) == pytest.approx(15.0, abs=1e-6)
    assert z_extent(s) >= slabs.LLZO_SLAB_THICKNESS_A
    # (001) slab one primitive repeat thick: less than c/2 = 6.35 Å between outer atoms
    assert z_extent(s) < 6.36
    d = s.distance_matrix + np.eye(len(s)) * 99
    assert d.min() > 0.9
    # the la-rich default has La among the topmost atoms
    z = s.cart_coords[:, 2]
    top = [site.specie.symbol for site, zi in zip(s, z, strict=True) if zi > z.max() - 0.1]
    assert "La" in top


def test_c_is_perpendicular_and_surface_in_xy(llzo_default_slab):
    m = llzo_default_slab.lattice.matrix
    assert np.allclose(m[:2, 2], 0.0, atol=1e-8)
    assert np.allclose(m[2, :2], 0.0, atol=1e-8)
    assert llzo_default_slab.lattice.alpha == pytest.approx(90.0)
    assert llzo_default_slab.lattice.beta == pytest.approx(90.0)


def test_selective_dynamics_fix_bottom_half(llzo_default_slab):
    s = llzo_default_slab
    z = s.cart_coords[:, 2]
    flags = np.array(s.site_properties["selective_dynamics"])
    fixed = ~flags.any(axis=1)
    cut = z.min() + 0.5 * z_extent(s)
    assert np.all(z[fixed] < cut)
    assert np.all(z[~fixed] >= cut - 1e-6)
    assert 0 < fixed.sum() < len(s)
    top = np.array(s.site_properties["surface_layer"])
    assert np.all(z[top] >= z.max() - SURFACE_LAYER_DEPTH_A - 1e-9)
    assert not np.any(fixed & top)


@pytest.mark.parametrize("vacuum", [8.0, 22.5])
def test_vacuum_exactly_as_asked(llzo, vacuum):
    s = slabs.make_slab(llzo, (0, 0, 1), thickness=5.0, vacuum=vacuum)
    assert vacuum_gap(s) == pytest.approx(vacuum, abs=1e-6)


@pytest.mark.parametrize(("miller", "thickness"), [((1, 0, 4), 8.0), ((1, 0, 4), 15.0),
                                                   ((0, 0, 1), 12.0)])
def test_thickness_at_least_as_asked_and_stoichiometric(lco, miller, thickness):
    s = slabs.make_slab(lco, miller, thickness=thickness, vacuum=12.0)
    assert z_extent(s) >= thickness
    assert vacuum_gap(s) == pytest.approx(12.0, abs=1e-6)
    assert s.composition.reduced_formula == "LiCoO2"
    assert sum(OXI[site.specie.symbol] for site in s) == 0
    # a whole number of bulk (hkl) repeats: atoms = n * (bulk density * area * d_hkl)
    in_plane = s.lattice.matrix[:2]
    d_hkl = lco.lattice.d_hkl(miller)
    area = np.linalg.norm(np.cross(*in_plane))
    atoms_per_layer_area = len(lco) / (lco.volume / d_hkl)  # atoms per Å^2 per d-spacing
    n_layers = len(s) / (atoms_per_layer_area * area)
    assert n_layers == pytest.approx(round(n_layers), abs=1e-6)


def test_metal_slab_fcc_111():
    cu = data_structure("Cu_fcc_Fm-3m_NCrystal-COD9008468.cif")
    s = slabs.make_slab(cu, (1, 1, 1), thickness=6.0, vacuum=10.0, supercell=(2, 2))
    assert z_extent(s) >= 6.0
    assert vacuum_gap(s) == pytest.approx(10.0, abs=1e-6)
    # fcc (111) interlayer spacing a/sqrt(3)
    z = np.unique(np.round(s.cart_coords[:, 2], 3))
    assert np.diff(z) == pytest.approx(3.6150 / np.sqrt(3), abs=1e-3)
    # (111) surface cell of fcc: hexagonal, nearest-neighbour a/sqrt(2), 2x2 supercell
    assert s.lattice.a == pytest.approx(2 * 3.6150 / np.sqrt(2), abs=1e-3)
    assert s.lattice.gamma in (pytest.approx(60.0), pytest.approx(120.0))
    assert len(s) == 4 * len(z)


def test_default_llzo_slab_is_dipole_compensated_with_bulk_li_sites(llzo, llzo_default_slab):
    # every (001) cut of LLZO is polar; the default moves surface Li to the other side
    s = llzo_default_slab
    q = np.array([OXI[site.specie.symbol] for site in s])
    z = s.cart_coords[:, 2]
    raw = slabs.make_slab(llzo, (0, 0, 1), thickness=slabs.LLZO_SLAB_THICKNESS_A,
                          termination="la-rich")
    q_raw = np.array([OXI[site.specie.symbol] for site in raw])
    dipole_raw = float(q_raw @ raw.cart_coords[:, 2])
    assert abs(dipole_raw) > 30.0  # the polar cut: 38 e·Å from formal charges
    assert abs(float(q @ z)) < 1.0
    record = s.properties["dipole_compensation"]
    assert record["element"] == "Li"
    assert record["moved"] > 0
    assert record["dipole_before_eA"] == pytest.approx(dipole_raw, abs=1e-6)
    assert record["dipole_after_eA"] == pytest.approx(float(q @ z), abs=1e-6)
    assert s.composition == raw.composition
    # moved ions sit on bulk-like sites: nearest-neighbour distances of the bulk kept
    d = s.distance_matrix + np.eye(len(s)) * 99
    assert d.min() > 0.95 * (llzo.distance_matrix + np.eye(len(llzo)) * 99).min()
    # La is the topmost element of the compensated la-rich slab
    assert s[int(np.argmax(z))].specie.symbol == "La"
    assert raw.properties["dipole_compensation"] is None


def test_dipole_compensation_needs_the_element_in_the_slab(llzo):
    with pytest.raises(ValueError, match="compensate_with='Na'"):
        slabs.make_slab(llzo, (0, 0, 1), thickness=5.0, compensate_with="Na")


def test_terminations_listed_with_composition_and_dipole(llzo):
    terms = slabs.list_terminations(llzo, (0, 0, 1), thickness=5.0)
    assert len(terms) >= 2
    for t in terms:
        assert t.n_atoms == 96
        assert t.formula == "Li28La12Zr8O48"
        s = slabs.make_slab(llzo, (0, 0, 1), thickness=5.0, termination=t.index)
        z = s.cart_coords[:, 2]
        q = np.array([OXI[site.specie.symbol] for site in s])
        assert q.sum() == 0
        assert t.dipole_eA == pytest.approx(float(q @ z), abs=1e-6)  # neutral: origin-free
        assert t.polar == (abs(t.dipole_eA) > slabs.POLAR_TOL_EA)
        top = z >= z.max() - SURFACE_LAYER_DEPTH_A
        counts = {el: sum(1 for i in np.flatnonzero(top) if s[i].specie.symbol == el)
                  for el in ("Li", "La", "Zr", "O")}
        assert Composition(t.surface_composition) == Composition(
            {k: v for k, v in counts.items() if v}
        )
    # distinct terminations differ in their dipole
    assert len({round(t.dipole_eA, 3) for t in terms}) == len(terms)


def test_termination_by_name_picks_the_richest_top_layer(llzo):
    terms = slabs.list_terminations(llzo, (0, 0, 1), thickness=5.0)
    for element in ("La", "Li", "O"):
        s = slabs.make_slab(llzo, (0, 0, 1), thickness=5.0, termination=f"{element.lower()}-rich")
        chosen = terms[s.properties["termination"]]
        best = max(Composition(t.surface_composition)[element] for t in terms)
        assert Composition(chosen.surface_composition)[element] == best


def test_symmetric_slab_when_asked(lco):
    asym = slabs.make_slab(lco, (0, 0, 1), thickness=8.0, vacuum=10.0)
    assert not has_z_mirror(asym)
    sym = slabs.make_slab(lco, (0, 0, 1), thickness=8.0, vacuum=10.0, symmetric=True)
    assert sym.properties["symmetric"] is True
    assert has_z_mirror(sym)
    assert vacuum_gap(sym) == pytest.approx(10.0, abs=1e-6)


def test_symmetric_impossible_warns_and_returns_asymmetric(llzo):
    # the 96-atom LLZO (001) slab is too thin for pymatgen to symmetrise without
    # removing too many atoms
    with pytest.warns(UserWarning, match="no symmetric slab"):
        s = slabs.make_slab(llzo, (0, 0, 1), thickness=5.0, symmetric=True)
    assert s.properties["symmetric"] is False
    assert len(s) == 96
    assert not has_z_mirror(s)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"miller": (0, 0, 0)}, "miller"),
        ({"thickness": 0.0}, "thickness"),
        ({"thickness": -2.0}, "thickness"),
        ({"vacuum": -3.0}, "vacuum"),
        ({"vacuum": 0.0}, "vacuum"),
        ({"fix_bottom": 1.0}, "fix_bottom"),
        ({"supercell": (0, 1)}, "supercell"),
        ({"termination": 99}, "termination"),
        ({"termination": "sideways"}, "termination"),
        ({"termination": "zr-rich"}, "termination"),
    ],
)
def test_bad_input_names_the_parameter(lco, kwargs, word):
    args = {"miller": (0, 0, 1), "thickness": 5.0, "vacuum": 10.0} | kwargs
    with pytest.raises(ValueError, match=word):
        slabs.make_slab(lco, **args)


def test_bulk_must_be_an_ordered_structure(lco):
    with pytest.raises(ValueError, match="bulk"):
        slabs.make_slab("LiCoO2", (0, 0, 1))
    disordered = lco.copy()
    disordered.replace(0, {"Li": 0.5})
    with pytest.raises(ValueError, match="bulk"):
        slabs.make_slab(disordered, (0, 0, 1))


def test_in_plane_supercell_of_llzo_slab(llzo_default_slab):
    big = slabs.llzo_slab(supercell=(2, 1))
    assert len(big) == 2 * len(llzo_default_slab)
    assert big.lattice.a == pytest.approx(2 * llzo_default_slab.lattice.a)
    assert big.lattice.c == pytest.approx(llzo_default_slab.lattice.c)


def test_bulk_without_oxidation_states_keeps_its_species_and_gets_dipoles(lco):
    plain = lco.copy()
    plain.remove_oxidation_states()
    terms = slabs.list_terminations(plain, (0, 0, 1), thickness=8.0)
    charged = slabs.list_terminations(lco, (0, 0, 1), thickness=8.0)
    assert [t.dipole_eA for t in terms] == pytest.approx([t.dipole_eA for t in charged])
    assert any(t.polar for t in terms)  # the (003) LiCoO2 cut is polar (Tasker type III)
    s = slabs.make_slab(plain, (0, 0, 1), thickness=8.0)
    assert all(getattr(sp, "oxi_state", None) is None for sp in s.species)


def test_list_terminations_validates(lco):
    with pytest.raises(ValueError, match="miller"):
        slabs.list_terminations(lco, (0, 0, 0))
    with pytest.raises(ValueError, match="vacuum"):
        slabs.list_terminations(lco, (0, 0, 1), vacuum=-1)
