"""``ssbflow.io.write_structure``: every format reads back with ASE, composition kept."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from ase.constraints import FixAtoms
from ase.io import read
from pymatgen.core import Lattice, Molecule, Species, Structure
from pymatgen.io.ase import AseAtomsAdaptor

from ssbflow.errors import InputError
from ssbflow.io import MOLECULE_BOX_PADDING_A, structure_format, write_structure

EXTENSIONS = ("extxyz", "xyz", "cif", "vasp")


def mixed_slab() -> Structure:
    """Rock-salt LiF slab (oxidation states, bottom layer fixed) + an undecorated CO on top.

    The kind of structure an adsorption builder produces: a decorated slab plus a molecule
    whose sites have neither oxidation states nor selective dynamics.
    """
    a_A = 4.03
    lattice = Lattice.from_parameters(a_A, a_A, 20.0, 90, 90, 90)
    species, coords, fixed = [], [], []
    for layer, z_A in enumerate((2.0, 2.0 + a_A / 2)):
        shift = 0.5 * layer
        for x, y, el in ((0, 0, "Li"), (0.5, 0.5, "Li"), (0.5, 0, "F"), (0, 0.5, "F")):
            species.append(Species(el, 1 if el == "Li" else -1))
            coords.append([(x + shift) % 1, y, z_A / 20.0])
            fixed.append(layer == 0)
    slab = Structure(lattice, species, coords,
                     site_properties={"selective_dynamics": [[not f] * 3 for f in fixed]})
    top_A = 2.0 + a_A / 2
    slab.append("C", [0, 0, (top_A + 2.5) / 20.0])
    slab.append("O", [0, 0, (top_A + 2.5 + 1.13) / 20.0])
    return slab


def acetonitrile() -> Molecule:
    return Molecule(["C", "C", "N", "H", "H", "H"],
                    [[0, 0, 0], [0, 0, 1.46], [0, 0, 2.62], [1.03, 0, -0.36],
                     [-0.51, 0.89, -0.36], [-0.51, -0.89, -0.36]])


def test_mixed_structure_is_really_mixed():
    s = mixed_slab()
    oxi = [getattr(site.specie, "oxi_state", None) for site in s]
    assert None in oxi and 1 in oxi
    assert s.site_properties["selective_dynamics"][-1] is None


@pytest.mark.parametrize("ext", EXTENSIONS)
def test_mixed_structure_round_trip(tmp_path, ext):
    s = mixed_slab()
    path = write_structure(s, tmp_path / f"mixed.{ext}")
    atoms = read(path)
    back = AseAtomsAdaptor.get_structure(atoms)
    assert back.composition.element_composition == s.composition.element_composition
    assert np.allclose(back.lattice.abc, s.lattice.abc, atol=1e-4)
    # same geometry: the C-O bond of the molecule survives
    c = next(i for i, x in enumerate(back) if x.specie.symbol == "C")
    o = next(i for i, x in enumerate(back) if x.specie.symbol == "O")
    assert back.get_distance(c, o) == pytest.approx(1.13, abs=1e-3)
    if ext in ("extxyz", "vasp"):
        # the 4 bottom-layer atoms stay fixed, the molecule moves freely
        fixed = sorted(i for c in atoms.constraints if isinstance(c, FixAtoms)
                       for i in c.get_indices())
        assert fixed == [0, 1, 2, 3]


def test_fully_decorated_extxyz_keeps_oxidation_states(tmp_path):
    s = mixed_slab()
    s.remove_sites([8, 9])  # LiF only: every site has an oxidation state
    back = AseAtomsAdaptor.get_structure(read(write_structure(s, tmp_path / "lif.extxyz")))
    assert sorted({x.specie.oxi_state for x in back}) == [-1, 1]
    assert sum(x.specie.oxi_state for x in back) == 0


@pytest.mark.parametrize("ext", EXTENSIONS)
def test_molecule_round_trip(tmp_path, ext):
    mol = acetonitrile()
    atoms = read(write_structure(mol, tmp_path / f"mecn.{ext}"))
    assert atoms.get_chemical_formula(mode="hill") == "C2H3N"
    d = atoms.get_all_distances(mic=bool(atoms.pbc.any()))
    symbols = np.array(atoms.get_chemical_symbols())  # CIF sorts the atoms by element
    assert d[np.ix_(symbols == "C", symbols == "N")].min() == pytest.approx(1.16, abs=1e-3)
    if ext in ("cif", "vasp"):
        # boxed: periodic images at least the padding apart
        assert atoms.pbc.all()
        extent_A = np.ptp(mol.cart_coords, axis=0).max()
        assert atoms.cell.lengths().min() >= extent_A + MOLECULE_BOX_PADDING_A - 1e-6
        d_images = atoms.get_all_distances(mic=True) + np.eye(len(atoms)) * 99
        assert d_images.min() > 0.9
    else:
        assert not atoms.pbc.any()


@pytest.mark.parametrize("name", ["x.pdb", "x", "x.json", "structure.txt"])
def test_unknown_extension(tmp_path, name):
    with pytest.raises(InputError, match="unknown format"):
        write_structure(acetonitrile(), tmp_path / name)
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize(("name", "fmt"), [("a.CIF", "cif"), ("POSCAR", "poscar"),
                                           ("CONTCAR_1", "poscar"), ("b.vasp", "poscar"),
                                           ("c.extxyz", "extxyz"), ("d.xyz", "xyz")])
def test_format_from_name(name, fmt):
    assert structure_format(name) == fmt


def test_cif_of_a_supercell_writes_without_warnings(tmp_path):
    s = mixed_slab()
    s.remove_sites([8, 9])
    s.make_supercell([2, 1, 1])  # repeated site labels
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = write_structure(s, tmp_path / "lif.cif")
    rows = [line.split() for line in path.read_text().splitlines()]
    labels = [row[1] for row in rows if len(row) == 7 and row[0] in ("Li+", "F-")]
    assert len(labels) == len(s) == len(set(labels))
