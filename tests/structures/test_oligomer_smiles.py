"""PVDF / dehydrofluorinated PVDF SMILES: formulas, unit counts, bad input."""

from __future__ import annotations

import pytest
from rdkit import Chem
from rdkit.Chem.rdMolDescriptors import CalcMolFormula

from ssbflow.structures.oligomer_smiles import (
    dehydrofluorinated_pvdf_smiles,
    dehydrofluorinated_units,
    pvdf_smiles,
)


def _formula(smiles: str) -> str:
    return CalcMolFormula(Chem.MolFromSmiles(smiles))


def test_formulas_of_the_two_polymers() -> None:
    assert _formula(pvdf_smiles(8)) == "C16H18F16"  # (C2H2F2)8 + 2 H caps
    assert _formula(dehydrofluorinated_pvdf_smiles(8)) == "C16H10F8"  # (C2HF)8 + 2 H
    # each -CH=CF- unit is one HF less, and carries one C=C
    half = Chem.MolFromSmiles(dehydrofluorinated_pvdf_smiles(8, fraction=0.5))
    assert CalcMolFormula(half) == "C16H14F12"
    double = Chem.MolFromSmarts("C=C")
    assert len(half.GetSubstructMatches(double)) == 4


def test_partial_fraction_is_spread_evenly() -> None:
    assert dehydrofluorinated_units(8, 0.25) == [False, False, False, True] * 2
    assert sum(dehydrofluorinated_units(10, 0.3)) == 3


@pytest.mark.parametrize(("n", "f", "match"), [(0, 0.0, "n_units"), (8, 1.5, "fraction")])
def test_bad_input_names_the_parameter(n, f, match) -> None:
    with pytest.raises(ValueError, match=match):
        pvdf_smiles(n, f)
