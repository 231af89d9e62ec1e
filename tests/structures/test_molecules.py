"""Molecules: formulas, bond lengths against standard values, valence, conformers, names."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from pymatgen.core import Composition, Molecule

from ssbflow.structures import molecules

# Reference bond lengths (Å), typical organic values (CRC Handbook / Allen et al. 1987):
# C≡N 1.16, C(sp)-C(sp3) 1.47, C(sp3)-C(sp3) 1.54 (1.53 in the EC ring), C-H 1.09,
# carbonate C=O 1.20, C(sp2)-O 1.34, O-C(sp3) 1.43.
STANDARD_A = {
    ("C", "N", 3): 1.16,
    ("C", "C", "sp-sp3"): 1.47,
    ("C", "C", "sp3-sp3"): 1.54,
    ("C", "H", 1): 1.09,
    ("C", "O", "carbonyl"): 1.20,
    ("C", "O", "sp2-ester"): 1.34,
    ("C", "O", "sp3-ester"): 1.43,
}

EXPECTED = {
    "succinonitrile": "C4H4N2",
    "acetonitrile": "C2H3N",
    "malononitrile": "C3H2N2",
    "glutaronitrile": "C5H6N2",
    "adiponitrile": "C6H8N2",
    "ethylene_carbonate": "C3H4O3",
    "dimethyl_carbonate": "C3H6O3",
}
# number of bonded neighbours: C sp 2, C sp2 3, C sp3 4, N (nitrile) 1, H 1, O 1 or 2
VALENCE = {"C": {2, 3, 4}, "N": {1}, "H": {1}, "O": {1, 2}}


def bonds(mol: Molecule, cutoff_A: float = 1.75) -> list[tuple[int, int, float]]:
    d = mol.distance_matrix
    n = len(mol)
    return [(i, j, d[i, j]) for i in range(n) for j in range(i + 1, n)
            if d[i, j] < cutoff_A and not {mol[i].specie.symbol, mol[j].specie.symbol} == {"H"}]


def neighbours(mol: Molecule) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {i: set() for i in range(len(mol))}
    for i, j, _ in bonds(mol):
        out[i].add(j)
        out[j].add(i)
    return out


def classify(mol: Molecule, i: int, j: int, nb: dict[int, set[int]]):
    """The STANDARD_A key for the bond i-j, from the atoms' elements and neighbour counts."""
    a, b = mol[i].specie.symbol, mol[j].specie.symbol
    if {a, b} == {"C", "N"}:
        return ("C", "N", 3)
    if {a, b} == {"C", "H"}:
        return ("C", "H", 1)
    if a == b == "C":
        kinds = sorted(len(nb[k]) for k in (i, j))
        return ("C", "C", "sp-sp3") if kinds[0] == 2 else ("C", "C", "sp3-sp3")
    if {a, b} == {"C", "O"}:
        c, o = (i, j) if a == "C" else (j, i)
        if len(nb[o]) == 1:
            return ("C", "O", "carbonyl")
        return ("C", "O", "sp2-ester") if len(nb[c]) == 3 else ("C", "O", "sp3-ester")
    raise AssertionError(f"unexpected bond {a}-{b}")


ALL = [("succinonitrile", {"conformer": "gauche"}), ("succinonitrile", {"conformer": "trans"})] + [
    (name, {}) for name in EXPECTED if name != "succinonitrile"
]


@pytest.mark.parametrize(("name", "kwargs"), ALL)
def test_formula_valence_and_closed_shell(name, kwargs):
    mol = molecules.molecule(name, **kwargs)
    assert mol.composition == Composition(EXPECTED[name])
    assert mol.charge == 0
    assert sum(site.specie.Z for site in mol) % 2 == 0  # even electron count: closed shell
    nb = neighbours(mol)
    for i, site in enumerate(mol):
        assert len(nb[i]) in VALENCE[site.specie.symbol], (name, i, site.specie, nb[i])
    # one connected molecule
    seen, stack = {0}, [0]
    while stack:
        for k in nb[stack.pop()] - seen:
            seen.add(k)
            stack.append(k)
    assert len(seen) == len(mol)


@pytest.mark.parametrize(("name", "kwargs"), ALL)
def test_bond_lengths_within_0p05_of_standard(name, kwargs):
    mol = molecules.molecule(name, **kwargs)
    nb = neighbours(mol)
    found = set()
    for i, j, d in bonds(mol):
        key = classify(mol, i, j, nb)
        found.add(key)
        assert abs(d - STANDARD_A[key]) <= 0.05, (name, key, d)
    assert ("C", "H", 1) in found


@pytest.mark.parametrize(("name", "kwargs"), ALL)
def test_no_nonbonded_contacts(name, kwargs):
    mol = molecules.molecule(name, **kwargs)
    nb = neighbours(mol)
    d = mol.distance_matrix
    for i in range(len(mol)):
        close = nb[i] | {k for j in nb[i] for k in nb[j]} | {i}  # 1-2 and 1-3 pairs
        for j in range(len(mol)):
            if j not in close:
                assert d[i, j] > 2.0, (name, i, j, d[i, j])


def test_nitriles_are_linear():
    for name in ("succinonitrile", "acetonitrile", "adiponitrile"):
        mol = molecules.molecule(name)
        nb = neighbours(mol)
        for n in (i for i, s in enumerate(mol) if s.specie.symbol == "N"):
            (c,) = nb[n]
            (other,) = nb[c] - {n}
            assert mol.get_angle(n, c, other) == pytest.approx(180.0, abs=0.5)


@pytest.mark.parametrize(("conformer", "low", "high"), [("gauche", 55, 75), ("trans", 175, 180)])
def test_succinonitrile_conformers(conformer, low, high):
    mol = molecules.succinonitrile(conformer)
    nb = neighbours(mol)
    sp3 = [i for i, s in enumerate(mol) if s.specie.symbol == "C" and len(nb[i]) == 4]
    c1, c2 = sp3
    a = next(k for k in nb[c1] if mol[k].specie.symbol == "C" and k != c2)
    b = next(k for k in nb[c2] if mol[k].specie.symbol == "C" and k != c1)
    dihedral = abs(mol.get_dihedral(a, c1, c2, b))
    assert low <= dihedral <= high
    # the two N are far apart in trans (~ 5.9 Å end to end), closer in gauche
    n1, n2 = (i for i, s in enumerate(mol) if s.specie.symbol == "N")
    if conformer == "trans":
        assert mol.get_distance(n1, n2) > 5.0
    else:
        assert mol.get_distance(n1, n2) < 5.0


def test_ethylene_carbonate_ring_closes():
    mol = molecules.ethylene_carbonate()
    nb = neighbours(mol)
    heavy = [i for i, s in enumerate(mol) if s.specie.symbol != "H" and len(nb[i]) > 1]
    assert len(heavy) == 5  # the five ring atoms, all with two ring neighbours
    for i in heavy:
        assert len(nb[i] & set(heavy)) == 2


def test_aliases_and_registry_errors():
    assert molecules.molecule("SN").composition == molecules.succinonitrile().composition
    assert molecules.molecule("ethylene-carbonate").composition.formula == \
        molecules.molecule("ec").composition.formula
    with pytest.raises(ValueError, match=r"succinonitrile.*dimethyl_carbonate"):
        molecules.molecule("benzene")
    with pytest.raises(ValueError, match="conformer"):
        molecules.molecule("sn", conformer="cis")
    with pytest.raises(ValueError, match="colour"):
        molecules.molecule("acetonitrile", colour="red")
    assert set(EXPECTED) <= set(molecules.MOLECULE_NAMES)


@pytest.mark.skipif(importlib.util.find_spec("ssbflow.structures.polymers") is None,
                    reason="polymers module not written")
def test_pvdf_names_delegate_to_polymers_module():
    pvdf = molecules.molecule("pvdf", n_units=3)
    dpvdf = molecules.molecule("dpvdf", n_units=3)
    assert pvdf.composition["F"] > 0 and dpvdf.composition["F"] > 0
    assert dpvdf.composition["F"] < pvdf.composition["F"]  # HF removed
    assert np.isclose(pvdf.charge, 0)
