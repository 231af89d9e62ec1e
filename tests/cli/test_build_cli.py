"""``ssbflow build``: files written by the CLI carry the right physics; bad input is one line."""

from __future__ import annotations

import os

import numpy as np
import pytest
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from ssbflow.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_build_list_names_my_structures(capsys):
    code, out, _ = run(capsys, "build", "--list")
    assert code == 0
    for name in ("llzo", "llzo-cubic", "llzto", "llzo-slab", "sn", "sn-on-llzo"):
        assert name in out


def test_build_llzo_cif(capsys, tmp_path):
    path = tmp_path / "x.cif"
    code, out, err = run(capsys, "build", "llzo", "-o", str(path))
    assert code == 0, err
    s = Structure.from_file(path)
    assert s.composition.formula.replace(" ", "") == "Li56La24Zr16O96"
    assert SpacegroupAnalyzer(s, symprec=0.1).get_space_group_symbol() == "I4_1/acd"
    assert "Li56La24Zr16O96" in out


def test_build_llzo_slab_poscar_has_vacuum(capsys, tmp_path):
    path = tmp_path / "s.vasp"
    code, _, err = run(capsys, "build", "llzo-slab", "--miller", "0", "0", "1",
                       "--vacuum", "15", "-o", str(path))
    assert code == 0, err
    s = Structure.from_file(path)
    m = s.lattice.matrix
    assert np.allclose(m[:2, 2], 0, atol=1e-6) and np.allclose(m[2, :2], 0, atol=1e-6)
    z = s.cart_coords[:, 2]
    assert m[2, 2] - np.ptp(z) >= 15.0 - 1e-4
    assert s.composition.reduced_formula == "Li7La3Zr2O12"
    assert "selective_dynamics" in s.site_properties


def test_build_sn_on_llzo_extxyz(capsys, tmp_path):
    from ase.io import read

    path = tmp_path / "a.extxyz"
    code, _, err = run(capsys, "build", "sn-on-llzo", "-o", str(path))
    assert code == 0, err
    s = AseAtomsAdaptor.get_structure(read(path))
    comp = s.composition
    assert (comp["C"], comp["H"], comp["N"]) == (4, 4, 2)
    assert comp["La"] == 12 and comp["Zr"] == 8 and comp["Li"] == 28 and comp["O"] == 48
    z = s.cart_coords[:, 2]
    slab_top = max(z[i] for i, x in enumerate(s) if x.specie.symbol in ("La", "Zr", "Li", "O"))
    surface_la = [i for i, x in enumerate(s) if x.specie.symbol == "La" and z[i] >= slab_top - 2]
    n_atoms = [i for i, x in enumerate(s) if x.specie.symbol == "N"]
    d = min(s.get_distance(n, la) for n in n_atoms for la in surface_la)
    assert 2.2 <= d <= 3.0


def test_build_bulk_supercell(capsys, tmp_path):
    path = tmp_path / "big.vasp"
    code, _, err = run(capsys, "build", "llzo", "--supercell", "1", "1", "2", "-o", str(path))
    assert code == 0, err
    s = Structure.from_file(path)
    assert len(s) == 384
    assert s.lattice.c == pytest.approx(2 * 12.7017, abs=1e-3)


def test_build_sn_molecule_xyz(capsys, tmp_path):
    path = tmp_path / "sn.xyz"
    code, _, err = run(capsys, "build", "sn", "-o", str(path))
    assert code == 0, err
    lines = path.read_text().splitlines()
    assert int(lines[0]) == 10


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["build", "llzo-slab", "--miller", "0", "0", "0", "-o", "{tmp}/s.vasp"], "miller"),
        (["build", "llzo-slab", "--vacuum", "-3", "-o", "{tmp}/s.vasp"], "vacuum"),
        (["build", "no-such-structure", "-o", "{tmp}/x.cif"], "no-such-structure"),
        (["build", "llzo", "-o", "{tmp}/missing-dir/x.cif"], "missing-dir"),
        (["build", "llzo", "-o", "{tmp}/a-file/x.cif"], "a-file"),  # parent is a file
        (["build", "llzo", "-o", "{tmp}"], "output"),
        (["build", "sn", "--miller", "1", "0", "0", "-o", "{tmp}/x.xyz"], "miller"),
        (["build", "llzo-slab", "--supercell", "2", "1", "2", "-o", "{tmp}/s.vasp"],
         "supercell"),
        (["build", "llzto", "--supercell", "0", "1", "1", "-o", "{tmp}/t.cif"], "supercell"),
    ],
)
def test_bad_input_one_line_exit_2(capsys, tmp_path, args, word):
    (tmp_path / "a-file").write_text("not a directory")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, _, err = run(capsys, *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ssbflow: error:")
    assert word in lines[0]
    assert "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only directories")
def test_unwritable_output_one_line_exit_2(capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = run(capsys, "build", "llzo", "-o", str(locked / "x.cif"))
    finally:
        locked.chmod(0o700)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "not writable" in err


MY_NAMES = ("llzo", "llzo-cubic", "llzto", "llzo-slab", "sn", "sn-trans", "acetonitrile",
            "malononitrile", "glutaronitrile", "adiponitrile", "ec", "dmc", "sn-on-llzo")
FORMAL = {"Li": 1, "La": 3, "Zr": 4, "Ta": 5, "O": -2}


@pytest.mark.parametrize("name", MY_NAMES)
def test_catalog_defaults_neutral_and_without_overlaps(name):
    from pymatgen.core import Molecule

    from ssbflow.structures.catalog import build

    obj = build(name)
    d = obj.distance_matrix + np.eye(len(obj)) * 99
    assert d.min() > 0.9
    if isinstance(obj, Molecule):
        assert obj.charge == 0 and sum(s.specie.Z for s in obj) % 2 == 0
        return
    flags = obj.site_properties.get("adsorbate")
    ads = np.array(flags, dtype=bool) if flags is not None else np.zeros(len(obj), dtype=bool)
    # inorganic part neutral with formal oxidation states; the organic part is a whole
    # closed-shell molecule (even electron count)
    assert sum(FORMAL[obj[i].specie.symbol] for i in np.flatnonzero(~ads)) == 0
    assert sum(obj[i].specie.Z for i in np.flatnonzero(ads)) % 2 == 0
    if ads.any():
        d_ms = obj.lattice.get_all_distances(obj.frac_coords[ads], obj.frac_coords[~ads])
        assert d_ms.min() >= 1.6
