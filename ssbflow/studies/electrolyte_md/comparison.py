"""Measured liquid densities next to the computed box density (``electrolyte-md``).

The study reproduces no paper; its check is experiment: the density of a pure liquid whose
density at 298 K is tabulated here, compared within 5 % (a good general force field
gets organic liquid densities within a few per cent). Any other box gets a row saying that
no measured density is compared.
"""

from __future__ import annotations

from typing import Any

from ssbflow.engines.openmm.parameters import canonical_smiles
from ssbflow.studies.comparison import ClaimRow, finite

#: Measured densities at 298.15 K (g/cm³), CRC Handbook of Chemistry and Physics,
#: keyed by RDKit canonical SMILES.
MEASURED_G_CM3 = {"CC#N": 0.777}
#: Relative tolerance of the density check, and the temperature window (K) it applies in.
TOLERANCE = 0.05
TEMPERATURE_WINDOW_K = 5.0


def source_comparison(results: dict[str, Any]) -> list[ClaimRow]:
    """One row: the box density against the measured density of that liquid."""
    settings = results.get("settings", {})
    comps = settings.get("box_components", [])
    temp = finite(settings.get("temperature_K"))
    density = finite(results.get("density_g_cm3"))
    pure = canonical_smiles(comps[0][0]) if len(comps) == 1 else None
    if pure in MEASURED_G_CM3 and temp is not None and abs(temp - 298.15) <= (
            TEMPERATURE_WINDOW_K):
        ref = MEASURED_G_CM3[pure]
        agrees = None if density is None else abs(density - ref) <= TOLERANCE * ref
        return [ClaimRow(
            claim=f"density of liquid {pure} at 298 K (g/cm³)", source_value=ref,
            ssbflow_value=density, agrees=agrees,
            why=f"within {TOLERANCE:.0%} of the measured density (CRC Handbook); computed: "
                "mean over the second half of the NPT stage")]
    return [ClaimRow(
        claim="density of the box (g/cm³)", source_value="no measured value here",
        ssbflow_value=density, agrees=None,
        why="not compared: the box is not a pure liquid with a tabulated density at 298 K")]
