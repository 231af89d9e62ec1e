""":class:`OpenMmEngine`: the ``openmm`` entry of :func:`ssbflow.engines.get_engine`.

GAFF2 parameters come from SMILES (:mod:`ssbflow.engines.openmm.parameters`), so this engine
runs boxes of molecules (``ssbflow run electrolyte-md``, ``polymer-li-diffusion --engine
openmm``, :class:`ssbflow.methods.classical_md.ClassicalMdMaker`), not the periodic
crystals and slabs the relax / static / MD / NEB makers of the other engines take: those
makers refuse in one line, and the studies that loop over engines for structures use
:data:`ssbflow.engines.registry.STRUCTURE_ENGINES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ssbflow.engines.base import Engine, package_version
from ssbflow.errors import InputError


def _refuse(what: str) -> InputError:
    return InputError(f"engine 'openmm' has no {what} of a periodic structure (GAFF2 needs "
                      "molecules from SMILES); use mlip, cp2k or vasp, or run electrolyte-md "
                      "/ polymer-li-diffusion --engine openmm")


@dataclass
class OpenMmEngine(Engine):
    """OpenMM with GAFF2 parameters (classical MD of molecular boxes)."""

    name: str = "openmm"
    preset: str = "fast"

    def relax_maker(self, relax_cell: bool = False, fmax_eV_per_A: float = 0.05,
                    max_steps: int = 500):
        """Refused (see the module docstring)."""
        raise _refuse("relaxation")

    def static_maker(self):
        """Refused (see the module docstring)."""
        raise _refuse("single point")

    def md_maker(self, temperature_K: float, n_steps: int, timestep_fs: float):
        """Refused: MD of a molecular box is
        :class:`~ssbflow.methods.classical_md.ClassicalMdMaker`."""
        raise _refuse("MD maker")

    def check_available(self) -> None:
        """OpenMM importable and the AmberTools / packmol executables present."""
        from ssbflow.engines.openmm.tools import check_tools
        from ssbflow.errors import EngineUnavailableError

        try:
            import openmm  # noqa: F401
        except ImportError as exc:
            raise EngineUnavailableError("openmm is not installed: pip install openmm") from exc
        check_tools()

    def settings(self) -> dict[str, Any]:
        """Versions, parameter recipe and platform order (the platform a run used is recorded
        with its result)."""
        from ssbflow.engines.openmm.parameters import ION_FRCMOD, RECIPE
        from ssbflow.engines.openmm.platform import PLATFORMS

        return {"engine": "openmm", "preset": self.preset,
                "openmm_version": package_version("openmm"),
                "parmed_version": package_version("parmed"),
                "rdkit_version": package_version("rdkit"),
                "force_field": "GAFF2", "recipe": RECIPE, "ions": ION_FRCMOD,
                "platform_order": list(PLATFORMS)}
