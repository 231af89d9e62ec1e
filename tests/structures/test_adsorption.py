"""Adsorption: anchor-site geometry, clashes, cell size, orientation, scans, site finder."""

from __future__ import annotations

from collections import Counter
from importlib import resources

import numpy as np
import pytest
from pymatgen.core import Composition, Structure

from ssbflow.structures import adsorption, molecules, slabs

OXI = {"Li": 1, "La": 3, "Zr": 4, "O": -2}


@pytest.fixture(scope="module")
def slab() -> Structure:
    return slabs.llzo_slab()


@pytest.fixture(scope="module")
def sn_on_llzo() -> Structure:
    return adsorption.sn_on_llzo()


def split(structure: Structure) -> tuple[np.ndarray, np.ndarray]:
    ads = np.array(structure.site_properties["adsorbate"], dtype=bool)
    return ads, ~ads


def test_sn_on_llzo_composition_neutral_and_anchor_distance(sn_on_llzo):
    s = sn_on_llzo
    ads, slab_mask = split(s)
    assert len(s) == 106
    mol_symbols = [s[i].specie.symbol for i in np.flatnonzero(ads)]
    assert Composition(Counter(mol_symbols)) == Composition("C4H4N2")
    slab_sites = [s[i] for i in np.flatnonzero(slab_mask)]
    assert Composition(Counter(x.specie.symbol for x in slab_sites)) == Composition(
        "Li28La12Zr8O48")
    assert sum(OXI[site.specie.symbol] for site in slab_sites) == 0  # slab neutral
    # molecule neutral: formal states N-3, nitrile C+3 (bonded to N), CH2 C-2, H+1
    formal = 0
    for i in np.flatnonzero(ads):
        el = s[i].specie.symbol
        if el == "C":
            to_n = min(s.get_distance(i, j) for j in np.flatnonzero(ads)
                       if s[j].specie.symbol == "N")
            formal += 3 if to_n < 1.3 else -2
        else:
            formal += {"N": -3, "H": 1}[el]
    assert formal == 0
    la = [i for i in np.flatnonzero(slab_mask) if s[i].specie.symbol == "La"]
    n_atoms = [i for i in np.flatnonzero(ads) if s[i].specie.symbol == "N"]
    d_nla = min(s.get_distance(n, i) for n in n_atoms for i in la)
    assert 2.2 <= d_nla <= 3.0
    # the La under the anchor N is a surface La (within 2 Å of the slab top)
    z = s.cart_coords[:, 2]
    n_best, la_best = min(((n, i) for n in n_atoms for i in la), key=lambda p: s.get_distance(*p))
    assert z[la_best] >= z[slab_mask].max() - 2.0
    assert z[n_best] > z[la_best]


def test_sn_on_llzo_no_clash_molecule_above_and_intact(sn_on_llzo):
    s = sn_on_llzo
    ads, slab_mask = split(s)
    d = s.lattice.get_all_distances(s.frac_coords[ads], s.frac_coords[slab_mask])
    assert d.min() >= adsorption.CLASH_A
    z = s.cart_coords[:, 2]
    assert z[ads].min() > z[slab_mask].max()  # upright: the whole molecule above the surface
    # rigid placement: intramolecular distances unchanged from the isolated molecule
    mol = molecules.succinonitrile("gauche")
    placed = s.cart_coords[ads]
    d_placed = np.linalg.norm(placed[:, None] - placed[None], axis=-1)
    assert np.allclose(np.sort(d_placed.ravel()), np.sort(mol.distance_matrix.ravel()), atol=1e-6)
    all_d = s.distance_matrix + np.eye(len(s)) * 99
    assert all_d.min() > 0.9


def test_sn_on_llzo_vacuum_and_dynamics(sn_on_llzo):
    s = sn_on_llzo
    ads, slab_mask = split(s)
    z = s.cart_coords[:, 2]
    assert s.lattice.matrix[2, 2] - (z.max() - z.min()) == pytest.approx(15.0, abs=1e-6)
    flags = np.array(s.site_properties["selective_dynamics"])
    assert flags[ads].all()  # molecule free
    fixed = ~flags.any(axis=1)
    assert fixed[slab_mask].sum() > 0  # slab bottom fixed
    assert np.all(z[fixed] < z[slab_mask].min() + 0.5 * np.ptp(z[slab_mask]))


def test_surface_sites_ordered_by_exposure(slab):
    sites = adsorption.surface_sites(slab, "La", depth=2.0)
    z = slab.cart_coords[:, 2]
    assert sites
    assert all(slab[i].specie.symbol == "La" for i in sites)
    assert all(z[i] >= z.max() - 2.0 for i in sites)
    heights = np.array([z[i] for i in sites])
    assert np.all(np.diff(heights) <= 0.05)  # non-increasing (ties within 0.05 Å)
    la_all = [i for i, s in enumerate(slab) if s.specie.symbol == "La"]
    assert z[sites[0]] == pytest.approx(max(z[i] for i in la_all))
    with pytest.raises(ValueError, match="species"):
        adsorption.surface_sites(slab, "Xx")
    with pytest.raises(ValueError, match="species"):
        adsorption.surface_sites(slab, "Ta")
    with pytest.raises(ValueError, match="depth"):
        adsorption.surface_sites(slab, "La", depth=0)


def test_anchor_height_above_chosen_site(slab):
    site = adsorption.surface_sites(slab, "La")[1]
    mol = molecules.acetonitrile()
    s = adsorption.adsorb(slab, mol, anchor="N", site=site, height=2.4)
    ads, _ = split(s)
    n = next(i for i in np.flatnonzero(ads) if s[i].specie.symbol == "N")
    assert s.get_distance(n, site) == pytest.approx(2.4, abs=1e-6)
    assert np.allclose(s.cart_coords[n, :2], s.cart_coords[site, :2], atol=1e-6)
    # end-on nitrile: N-C axis along +z
    c = next(i for i in np.flatnonzero(ads)
             if s[i].specie.symbol == "C" and s.get_distance(n, i) < 1.3)
    axis = s.cart_coords[c] - s.cart_coords[n]
    assert axis[2] / np.linalg.norm(axis) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("smiles", ["COCCOC", "COCCOCCOC"])  # DME, diglyme
def test_chain_ether_binds_through_inner_oxygen(slab, smiles):
    # the shipped screen's chain ethers found no clash-free upright frame before the
    # lone-pair axis and the tilted frames: an inner O binds with both C neighbours above it
    from ssbflow.structures.smiles import molecule_from_smiles

    site = adsorption.surface_sites(slab, "La")[0]
    s = adsorption.adsorb(slab, molecule_from_smiles(smiles), anchor="O", site=site)
    ads, slab_mask = split(s)
    o = next(i for i in np.flatnonzero(ads) if s[i].specie.symbol == "O")
    assert s.get_distance(o, site) == pytest.approx(2.6, abs=1e-6)
    neighbours = [i for i in np.flatnonzero(ads) if i != o and s.get_distance(o, i) < 1.6]
    assert len(neighbours) == 2
    assert all(s.cart_coords[i, 2] > s.cart_coords[o, 2] for i in neighbours)
    d = s.distance_matrix[np.ix_(np.flatnonzero(ads), np.flatnonzero(slab_mask))]
    assert d.min() >= adsorption.COMFORT_A


def test_flat_orientation_lies_parallel(slab):
    mol = molecules.succinonitrile("trans")  # planar heavy-atom skeleton
    flat = adsorption.adsorb(slab, mol, orientation="flat", height=2.8)
    up = adsorption.adsorb(slab, mol, orientation="upright", height=2.8)
    for s, check in ((flat, lambda span: span < 0.3), (up, lambda span: span > 4.0)):
        ads, _ = split(s)
        heavy = [i for i in np.flatnonzero(ads) if s[i].specie.symbol != "H"]
        assert check(np.ptp(s.cart_coords[heavy, 2]))


def test_clash_is_refused(slab):
    with pytest.raises(ValueError, match="clash"):
        adsorption.adsorb(slab, molecules.succinonitrile(), height=1.0)


def test_molecule_larger_than_cell_is_refused():
    with resources.as_file(resources.files("ssbflow.data.structures").joinpath(
            "Cu_fcc_Fm-3m_NCrystal-COD9008468.cif")) as path:
        cu = Structure.from_file(path)
    small = slabs.make_slab(cu, (1, 1, 1), thickness=4.0, vacuum=20.0)
    with pytest.raises(ValueError, match="larger than the slab's in-plane cell"):
        adsorption.adsorb(small, molecules.adiponitrile(), species="Cu")


def test_too_little_vacuum_is_refused():
    thin_vacuum = slabs.llzo_slab(vacuum=6.0)
    with pytest.raises(ValueError, match="vacuum"):
        adsorption.adsorb(thin_vacuum, molecules.adiponitrile())


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"orientation": "sideways"}, "orientation"), ({"height": -1.0}, "height"),
     ({"anchor": "F"}, "anchor"), ({"anchor": 99}, "anchor"), ({"site": 10_000}, "site")],
)
def test_bad_parameters(slab, kwargs, word):
    with pytest.raises(ValueError, match=word):
        adsorption.adsorb(slab, molecules.succinonitrile(), **kwargs)


def test_candidates_for_scan(slab):
    cands = adsorption.adsorption_candidates(slab, molecules.succinonitrile(), n_sites=2)
    assert cands
    assert {c.orientation for c in cands} <= {"upright", "flat"}
    assert len({c.site for c in cands}) <= 2
    for c in cands:
        ads, slab_mask = split(c.structure)
        d = c.structure.lattice.get_all_distances(c.structure.frac_coords[ads],
                                                  c.structure.frac_coords[slab_mask])
        assert d.min() >= adsorption.CLASH_A
        assert c.structure.properties["site"] == c.site


def test_finder_sites_from_pymatgen(slab):
    sites = adsorption.finder_sites(slab, distance_A=2.0)
    assert sites["ontop"]
    z_top = slab.cart_coords[:, 2].max()
    for point in sites["ontop"]:
        assert point[2] > z_top  # above the surface
    with pytest.raises(ValueError, match="distance_A"):
        adsorption.finder_sites(slab, distance_A=0)
