"""SMILES of PVDF and partly or fully dehydrofluorinated PVDF oligomers (for force fields).

The chains are written head to tail, ``-CH2-CF2-`` for a PVDF unit and ``-CH=CF-`` for a
dehydrofluorinated one (HF removed from the unit); the two chain ends are capped with
hydrogen (implicit in the SMILES), so PVDF n = 8 is C16H18F16. Double-bond geometry is left
to the conformer generator (no E/Z in the SMILES).

The default fraction of ``-CH=CF-`` units of "dehydrofluorinated PVDF" is 1.0, the fully
conjugated -(CH=CF)n- chain that
:func:`ssbflow.structures.polymers.dehydrofluorinated_pvdf_oligomer` builds for the MLIP
study, so that the two engines compare the same chemistry; a partial fraction places the
``-CH=CF-`` units evenly along the chain (no randomness).
"""

from __future__ import annotations

#: One unit of each kind, head to tail.
PVDF_UNIT = "CC(F)(F)"
DEHYDROFLUORINATED_UNIT = "C=C(F)"
#: Default fraction of -CH=CF- units of dehydrofluorinated PVDF (see the module docstring).
DEHYDROFLUORINATED_FRACTION = 1.0
#: Largest oligomer (units): AM1 charges of longer chains cost minutes.
MAX_UNITS = 64


def dehydrofluorinated_units(n_units: int, fraction: float) -> list[bool]:
    """Which units are -CH=CF- (``round(fraction * n_units)`` of them, evenly spread)."""
    if not 1 <= int(n_units) <= MAX_UNITS:
        raise ValueError(f"n_units must be between 1 and {MAX_UNITS}, got {n_units}")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"dehydrofluorinated fraction must be in [0, 1], got {fraction}")
    n = int(n_units)
    k = round(fraction * n)
    return [((i + 1) * k) // n > (i * k) // n for i in range(n)]


def pvdf_smiles(n_units: int = 8, dehydrofluorinated_fraction: float = 0.0) -> str:
    """SMILES of an H-capped PVDF oligomer with a fraction of -CH=CF- units."""
    units = dehydrofluorinated_units(n_units, dehydrofluorinated_fraction)
    return "".join(DEHYDROFLUORINATED_UNIT if dhf else PVDF_UNIT for dhf in units)


def dehydrofluorinated_pvdf_smiles(
    n_units: int = 8, fraction: float = DEHYDROFLUORINATED_FRACTION
) -> str:
    """SMILES of dehydrofluorinated PVDF (by default fully: -(CH=CF)n-)."""
    return pvdf_smiles(n_units, fraction)
