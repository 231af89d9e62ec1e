"""Molecules from SMILES (RDKit ETKDG + MMFF): formula, bond lengths, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from ssbflow.errors import InputError
from ssbflow.structures.smiles import molecule_from_smiles


def _bonds(mol, a: str, b: str, cutoff_A: float) -> list[float]:
    d = mol.distance_matrix
    return [d[i, j] for i in range(len(mol)) for j in range(i + 1, len(mol))
            if {mol[i].specie.symbol, mol[j].specie.symbol} == {a, b} and d[i, j] < cutoff_A]


def test_succinonitrile_from_smiles_has_its_formula_and_bond_lengths():
    mol = molecule_from_smiles("N#CCCC#N")  # succinonitrile
    assert mol.composition.hill_formula == "C4 H4 N2"
    assert len(mol) == 10
    triple = _bonds(mol, "C", "N", 1.3)
    assert len(triple) == 2 and all(1.14 < d < 1.18 for d in triple)  # C≡N ~1.16 Å
    ch = _bonds(mol, "C", "H", 1.2)
    assert len(ch) == 4 and all(1.08 < d < 1.11 for d in ch)
    cc = _bonds(mol, "C", "C", 1.6)
    assert len(cc) == 3 and all(1.42 < d < 1.56 for d in cc)
    assert mol.properties["conformer_method"] == "ETKDGv3+MMFF94"


def test_same_smiles_same_geometry_and_ring_carbonate():
    a, b = molecule_from_smiles("O=C1OCCO1"), molecule_from_smiles("O=C1OCCO1")
    assert np.allclose(a.cart_coords, b.cart_coords)  # fixed embedding seed
    assert a.composition.hill_formula == "C3 H4 O3"  # ethylene carbonate
    carbonyl = min(_bonds(a, "C", "O", 1.5))
    assert 1.19 < carbonyl < 1.23


@pytest.mark.parametrize("smiles", ["N#CCC(C#N", "C1CC", "Xx", ""])
def test_bad_smiles_is_one_line_error_naming_the_candidate(smiles):
    with pytest.raises(InputError, match="candidate 'broken'") as err:
        molecule_from_smiles(smiles, label="candidate 'broken'")
    assert "\n" not in str(err.value)


def test_uff_fallback_is_recorded_and_a_molecule_without_parameters_is_refused():
    """Dimethyl selenide has no MMFF94 parameters (UFF has); XeF2 has neither, and UFF then
    'converges' at energy 0 without moving an atom: it used to pass silently."""
    mol = molecule_from_smiles("C[Se]C")
    assert mol.properties["conformer_method"] == "ETKDGv3+UFF"
    assert mol.properties["force_field_converged"] is True
    se_c = _bonds(mol, "C", "Se", 2.2)
    assert len(se_c) == 2 and all(1.85 < d < 2.05 for d in se_c)  # C–Se ~1.95 Å
    with pytest.raises(InputError, match=r"candidate 'xef2'.*neither MMFF94 nor UFF") as err:
        molecule_from_smiles("F[Xe]F", label="candidate 'xef2'")
    assert "\n" not in str(err.value)


def test_a_conformer_that_did_not_converge_is_flagged(monkeypatch):
    import ssbflow.structures.smiles as smiles_module

    assert molecule_from_smiles("CCCCCC").properties["force_field_converged"] is True
    monkeypatch.setattr(smiles_module, "FF_MAX_ITERS", 1)
    assert molecule_from_smiles("CCCCCC").properties["force_field_converged"] is False
