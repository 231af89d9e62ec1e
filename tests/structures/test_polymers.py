"""PVDF / dehydrofluorinated PVDF: bond lengths, conformation, chains on slabs, salt boxes.

Standard bond lengths (Allen et al., J. Chem. Soc. Perkin Trans. 2, S1 (1987)):
C-C 1.54, C=C 1.34, C-F 1.35, C-H 1.09 Å; conjugated Csp2-Csp2 single bond 1.46 Å.
beta-PVDF: Cm2m (= Amm2, No. 38), a 8.58, b 4.91, c 2.56 Å, crystal density 1.97 g/cm³
(Hasegawa et al., Polym. J. 3, 600 (1972)).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pymatgen.core import Element, Structure
from pymatgen.core.surface import SlabGenerator
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from ssbflow.structures.catalog import build
from ssbflow.structures.cathodes import lco
from ssbflow.structures.polymer_packing import fsi_anion, polymer_li_box, polymer_on_slab
from ssbflow.structures.polymers import (
    beta_pvdf_crystal,
    dehydrofluorinated_pvdf_oligomer,
    pvdf_chain_periodic,
    pvdf_oligomer,
)

COVALENT_RADII_A = {"H": 0.31, "C": 0.76, "F": 0.57, "N": 0.71, "O": 0.66, "S": 1.05}


def _bonds(symbols, coords):
    """Covalent bonds: pairs closer than 1.15 x the sum of covalent radii (Cordero 2008)."""
    out = []
    for i, j in itertools.combinations(range(len(symbols)), 2):
        d = float(np.linalg.norm(coords[i] - coords[j]))
        if d < 1.15 * (COVALENT_RADII_A[symbols[i]] + COVALENT_RADII_A[symbols[j]]):
            out.append((i, j, d))
    return out


def _bond_table(mol):
    symbols = [s.symbol for s in mol.species]
    table: dict[str, list[float]] = {}
    for i, j, d in _bonds(symbols, mol.cart_coords):
        table.setdefault("-".join(sorted((symbols[i], symbols[j]))), []).append(d)
    return symbols, table


def _dihedral_deg(p0, p1, p2, p3) -> float:
    b0, b1, b2 = p0 - p1, p2 - p1, p3 - p2
    b1 = b1 / np.linalg.norm(b1)
    v = b0 - b0.dot(b1) * b1
    w = b2 - b2.dot(b1) * b1
    return float(np.degrees(np.arctan2(np.cross(b1, v).dot(w), v.dot(w))))


@pytest.mark.parametrize("n_units", [1, 4, 6])
def test_pvdf_oligomer_bonds_and_formula(n_units):
    mol = pvdf_oligomer(n_units)
    comp = mol.composition
    assert (comp["C"], comp["H"], comp["F"]) == (2 * n_units, 2 * n_units + 2, 2 * n_units)
    symbols, table = _bond_table(mol)
    assert len(table["C-C"]) == 2 * n_units - 1
    assert len(table["C-F"]) == 2 * n_units
    assert len(table["C-H"]) == 2 * n_units + 2
    for key, ref in (("C-C", 1.54), ("C-F", 1.35), ("C-H", 1.09)):
        assert np.allclose(table[key], ref, atol=0.05), key
    # sp3: every C has four bonds, every H and F one
    valence = dict.fromkeys(range(len(mol)), 0)
    for i, j, _ in _bonds(symbols, mol.cart_coords):
        valence[i] += 1
        valence[j] += 1
    for i, el in enumerate(symbols):
        assert valence[i] == {"C": 4, "H": 1, "F": 1}[el]
    # closed-shell neutral molecule
    assert sum(Element(s).Z for s in symbols) % 2 == 0
    assert mol.charge == 0


def test_pvdf_oligomer_is_beta_all_trans_with_fluorines_on_one_side():
    mol = pvdf_oligomer(5)
    symbols = [s.symbol for s in mol.species]
    carbons = mol.cart_coords[[i for i, s in enumerate(symbols) if s == "C"]]
    for k in range(len(carbons) - 3):
        assert abs(abs(_dihedral_deg(*carbons[k:k + 4])) - 180.0) < 1.0
    # one CH2-CF2 unit spans the beta-PVDF chain repeat
    assert np.linalg.norm(carbons[2] - carbons[0]) == pytest.approx(2.56, abs=0.02)
    # all F on one side of the chain axis, all backbone H on the other
    centre = carbons.mean(axis=0)
    _, _, vt = np.linalg.svd(carbons - centre)
    axis, across = vt[0], vt[1]  # chain axis, zigzag direction within the backbone plane
    h_idx = [i for i, s in enumerate(symbols) if s == "H"]
    f_side = [(mol.cart_coords[i] - centre).dot(across) for i, s in enumerate(symbols)
              if s == "F"]
    h_side = [(mol.cart_coords[i] - centre).dot(across) for i in h_idx
              if abs((mol.cart_coords[i] - centre).dot(axis)) < 3.0]  # not the end caps
    assert all(np.sign(f_side) == np.sign(f_side[0]))
    assert all(np.sign(h_side) == -np.sign(f_side[0]))


@pytest.mark.parametrize("n_units", [2, 4])
def test_dehydrofluorinated_pvdf_bonds_planar_conjugated(n_units):
    mol = dehydrofluorinated_pvdf_oligomer(n_units)
    comp = mol.composition
    assert (comp["C"], comp["H"], comp["F"]) == (2 * n_units, n_units + 2, n_units)
    symbols, table = _bond_table(mol)
    cc = sorted(table["C-C"])
    double, single = cc[:n_units], cc[n_units:]
    assert len(single) == n_units - 1
    assert np.allclose(double, 1.34, atol=0.05)
    assert np.allclose(single, 1.46, atol=0.05)
    assert np.allclose(table["C-F"], 1.35, atol=0.05)
    assert np.allclose(table["C-H"], 1.09, atol=0.05)
    # sp2 polyene: all atoms in one plane, each C with three bonds
    coords = mol.cart_coords - mol.cart_coords.mean(axis=0)
    assert np.linalg.svd(coords, compute_uv=False)[2] < 1e-6
    valence = dict.fromkeys(range(len(mol)), 0)
    for i, j, _ in _bonds(symbols, mol.cart_coords):
        valence[i] += 1
        valence[j] += 1
    assert all(valence[i] == 3 for i, s in enumerate(symbols) if s == "C")
    assert sum(Element(s).Z for s in symbols) % 2 == 0


def test_fsi_anion_geometry():
    fsi = fsi_anion()
    assert dict(fsi.composition.as_dict()) == {"N": 1, "S": 2, "O": 4, "F": 2}
    assert fsi.charge == -1
    _, table = _bond_table(fsi)
    assert len(table["N-S"]) == 2 and len(table["O-S"]) == 4 and len(table["F-S"]) == 2
    assert np.allclose(table["N-S"], 1.58, atol=0.03)
    assert np.allclose(table["O-S"], 1.43, atol=0.03)
    # an odd number of electrons as a neutral radical: the closed-shell species is the anion
    assert sum(Element(s.symbol).Z for s in fsi.species) % 2 == 1
    d = fsi.distance_matrix + 10 * np.eye(len(fsi))
    assert d.min() > 1.3


@pytest.mark.parametrize(("kind", "repeat"), [("pvdf", 2.56), ("dpvdf", 2.46)])
def test_periodic_chain_repeat_and_bonds_across_the_boundary(kind, repeat):
    chain = pvdf_chain_periodic(n_units=3, kind=kind)
    assert chain.lattice.c == pytest.approx(3 * repeat, abs=0.01)
    assert sum(s.specie.oxi_state for s in chain) == 0
    # every carbon has exactly two carbon neighbours in the infinite chain
    for site in chain:
        if site.specie.symbol == "C":
            cc = [n for n in chain.get_neighbors(site, 1.7) if n.specie.symbol == "C"]
            assert len(cc) == 2
    d = chain.distance_matrix + 10 * np.eye(len(chain))
    assert d.min() > 0.9


def test_beta_pvdf_crystal_density_and_space_group():
    crystal = beta_pvdf_crystal()
    assert crystal.composition.element_composition.as_dict() == {"C": 4, "H": 4, "F": 4}
    assert crystal.density == pytest.approx(1.97, rel=0.02)
    sga = SpacegroupAnalyzer(crystal, symprec=0.1)
    assert sga.get_space_group_number() == 38  # Cm2m = Amm2
    d = crystal.distance_matrix + 10 * np.eye(len(crystal))
    assert d.min() > 0.9
    # apart from geminal pairs (H-C-H 1.78, F-C-F 2.20 Å) no H/F contact below 2.5 Å, i.e.
    # no closer than van der Waals contact (H...F ~ 2.6 Å) within or between chains
    contacts = [n.nn_distance for site in crystal if site.specie.symbol != "C"
                for n in crystal.get_neighbors(site, 3.0) if n.specie.symbol != "C"]
    assert min(d for d in contacts if d > 2.3) > 2.5


# ---------------------------------------------------------------- chain on a slab


@pytest.fixture(scope="module")
def lco_slab() -> Structure:
    """LiCoO2 (001) slab made directly with pymatgen (independent of ssbflow's slab code)."""
    gen = SlabGenerator(lco(), (0, 0, 1), 6.0, 15.0, center_slab=False, primitive=False)
    slab = gen.get_slab().get_orthogonal_c_slab()
    slab.make_supercell([5, 3, 1])
    # put c along z and a in the xy plane
    rotated = Structure(
        type(slab.lattice).from_parameters(*slab.lattice.parameters),
        slab.species, slab.frac_coords,
    )
    rotated.add_site_property("magmom", [0.0] * len(rotated))
    return rotated


def _molecule_slab_min_distance(structure) -> float:
    flags = np.array(structure.site_properties["adsorbate"])
    d = structure.distance_matrix[np.ix_(flags, ~flags)]
    return float(d.min())


@pytest.mark.parametrize("kind", ["pvdf", "dpvdf"])
def test_polymer_on_slab_height_flat_and_no_clash(lco_slab, kind):
    s = polymer_on_slab(lco_slab, kind=kind, n_units=4, height=2.5)
    flags = np.array(s.site_properties["adsorbate"])
    mol_symbols = [site.specie.symbol for site, f in zip(s, flags, strict=True) if f]
    n_h = 10 if kind == "pvdf" else 6
    assert sorted(mol_symbols) == sorted(["C"] * 8 + ["H"] * n_h + ["F"] * (8 if kind ==
                                                                           "pvdf" else 4))
    z = s.cart_coords[:, 2]
    assert z[flags].min() - z[~flags].max() == pytest.approx(2.5, abs=1e-6)
    assert _molecule_slab_min_distance(s) > 1.6
    assert sum(site.specie.oxi_state for site in s) == 0
    # the chain lies flat: its carbons span < 1.5 Å in z but > 8 Å in the plane
    carbons = s.cart_coords[[i for i, site in enumerate(s) if flags[i]
                             and site.specie.symbol == "C"]]
    assert np.ptp(carbons[:, 2]) < 1.5
    assert np.linalg.norm(np.ptp(carbons[:, :2], axis=0)) > 8.0
    # F faces the surface (default), vacuum above the molecule kept
    fz = [site.coords[2] for site, f in zip(s, flags, strict=True) if f
          and site.specie.symbol == "F"]
    hz = [site.coords[2] for site, f in zip(s, flags, strict=True) if f
          and site.specie.symbol == "H"]
    assert np.mean(fz) < np.mean(hz)
    assert s.lattice.c - (z.max() - z.min()) >= 10.0 - 1e-6
    assert all(m == 0.0 for m, f in zip(s.site_properties["magmom"], flags, strict=True) if f)


def test_polymer_on_slab_auto_length_fits_the_cell(lco_slab):
    s = polymer_on_slab(lco_slab, kind="pvdf")
    n_c = sum(1 for site, f in zip(s, s.site_properties["adsorbate"], strict=True)
              if f and site.specie.symbol == "C")
    longest_A = max(lco_slab.lattice.a, lco_slab.lattice.b)
    # the longest chain that keeps 2.5 Å from its image: its length is below the cell
    assert 2.56 * n_c / 2 < longest_A
    with pytest.raises(ValueError, match="n_units"):
        polymer_on_slab(lco_slab, kind="pvdf", n_units=n_c // 2 + 1)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"height": 0.5}, "height"), ({"height": -1.0}, "height"), ({"kind": "pe"}, "kind"),
     ({"n_units": 40}, "n_units"), ({"facing": "up"}, "facing")],
)
def test_polymer_on_slab_bad_input(lco_slab, kwargs, word):
    with pytest.raises(ValueError, match=word):
        polymer_on_slab(lco_slab, **kwargs)


# ---------------------------------------------------------------- amorphous boxes


def _fragments(structure) -> list[list[int]]:
    """Covalently bonded fragments (periodic), Li treated as an ion (never bonded)."""
    parent = list(range(len(structure)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, neighbours in enumerate(structure.get_all_neighbors(2.1)):
        a = structure[i].specie.symbol
        for n in neighbours:
            b = n.specie.symbol
            if "Li" in (a, b):
                continue
            if n.nn_distance < 1.1 * (COVALENT_RADII_A[a] + COVALENT_RADII_A[b]):
                parent[find(i)] = find(n.index)
    groups: dict[int, list[int]] = {}
    for i in range(len(structure)):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


@pytest.fixture(scope="module")
def catalog_boxes() -> dict[str, Structure]:
    """The ``pvdf-box`` and ``dpvdf-box`` catalog cells (4 chains of 4 units + 4 LiFSI)."""
    return {"pvdf": build("pvdf-box"), "dpvdf": build("dpvdf-box")}


@pytest.mark.parametrize(("kind", "chain_formula"), [("pvdf", "C8H10F8"), ("dpvdf", "C8H6F4")])
def test_polymer_box_density_neutral_clash_free(catalog_boxes, kind, chain_formula):
    box = catalog_boxes[kind]
    assert box.density == pytest.approx(1.7, rel=0.02)
    assert len(box) <= 300
    assert sum(site.specie.oxi_state for site in box) == pytest.approx(0.0)
    mol_id = np.array(box.site_properties["molecule_id"])
    d = box.distance_matrix
    inter = mol_id[:, None] != mol_id[None, :]
    assert d[inter].min() > 1.6
    assert (d + 10 * np.eye(len(box))).min() > 0.9
    # independent of the builder's labels: bonded fragments are 4 chains, 4 FSI, 4 Li
    formulas = sorted(
        "".join(f"{el}{int(n)}" for el, n in
                sorted(Structure.from_sites([box[i] for i in frag]).composition
                       .element_composition.items(), key=lambda x: x[0].symbol))
        for frag in _fragments(box)
    )
    chain = "".join(f"{el}{n}" for el, n in
                    sorted([("C", 8), ("F", 8 if kind == "pvdf" else 4),
                            ("H", 10 if kind == "pvdf" else 6)]))
    assert chain_formula.startswith("C8")
    assert formulas.count(chain) == 4
    assert formulas.count("F2N1O4S2") == 4
    assert formulas.count("Li1") == 4
    assert len(formulas) == 12
    # odd-electron fragments must be ions: as many closed-shell anions as Li+ cations
    odd = [f for f in _fragments(box)
           if sum(box[i].specie.Z for i in f) % 2 == 1 and box[f[0]].specie.symbol != "Li"]
    assert len(odd) == 4


def test_polymer_box_with_fluoride_and_reproducible():
    a = polymer_li_box("pvdf", n_chains=2, n_units=3, n_li=3, counter_ion="F", seed=7)
    b = polymer_li_box("pvdf", n_chains=2, n_units=3, n_li=3, counter_ion="F", seed=7)
    assert np.allclose(a.cart_coords, b.cart_coords)
    comp = a.composition.element_composition
    assert comp["Li"] == 3
    assert comp["F"] == 2 * 6 + 3
    assert sum(site.specie.oxi_state for site in a) == 0


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"kind": "pe"}, "kind"), ({"density": -1.0}, "density"),
     ({"counter_ion": "PF6"}, "counter_ion"), ({"n_units": 30}, "n_units"),
     ({"n_li": -1}, "n_li"), ({"n_chains": 0}, "n_chains")],
)
def test_polymer_box_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        polymer_li_box(**kwargs)


# ---------------------------------------------------------------- catalog (ssbflow build NAME)


@pytest.mark.parametrize("name", ["pvdf-on-ncm811", "dpvdf-on-ncm811"])
def test_catalog_polymer_on_ncm811(name):
    pytest.importorskip("ssbflow.structures.slabs")
    s = build(name)
    assert sum(site.specie.oxi_state for site in s) == 0
    assert (s.distance_matrix + 10 * np.eye(len(s))).min() > 0.9
    assert _molecule_slab_min_distance(s) > 1.6
    comp = s.composition.element_composition
    assert comp["Ni"] == 8 * comp["Co"] == 8 * comp["Mn"]
    assert s.properties["miller"] == [1, 0, 4]


@pytest.mark.parametrize("name", ["pvdf-chain", "beta-pvdf"])
def test_catalog_polymer_cells_neutral_no_overlap(name):
    s = build(name)
    assert sum(site.specie.oxi_state for site in s) == 0
    assert (s.distance_matrix + 10 * np.eye(len(s))).min() > 0.9


@pytest.mark.parametrize(("name", "formula"), [("pvdf", "C8H10F8"), ("dpvdf", "C8H6F4")])
def test_catalog_oligomers_are_neutral_molecules(name, formula):
    mol = build(name)
    assert mol.charge == 0
    assert mol.composition.hill_formula.replace(" ", "") == formula
    assert (mol.distance_matrix + 10 * np.eye(len(mol))).min() > 0.9


def test_polymer_on_slab_handles_a_slab_wrapped_across_the_cell(lco_slab):
    wrapped = lco_slab.copy()
    wrapped.translate_sites(list(range(len(wrapped))), [0, 0, -0.1], to_unit_cell=True)
    s = polymer_on_slab(wrapped, kind="pvdf", n_units=3, height=3.0)
    flags = np.array(s.site_properties["adsorbate"])
    assert _molecule_slab_min_distance(s) > 2.5  # no atom lands inside the slab
    # the molecule sits 3.0 Å above the top atom of the (now contiguous) slab
    z = s.cart_coords[:, 2]
    assert z[flags].min() - z[~flags].max() == pytest.approx(3.0, abs=1e-6)
    assert np.ptp(z[~flags]) == pytest.approx(np.ptp(lco_slab.cart_coords[:, 2]), abs=1e-6)
