"""The one list of engine names and presets, and :func:`get_engine`.

Everything that picks an engine by name (makers, studies, the CLI) uses the names here:

>>> engine = get_engine("mlip")                       # CHGNet, fast preset
>>> relax = engine.relax_maker(relax_cell=False, fmax_eV_per_A=0.05)
>>> job = relax.make(structure)                         # jobflow Job; job.output.output.energy
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ssbflow.engines.base import check_choice

if TYPE_CHECKING:
    from ssbflow.engines.base import Engine

#: Every engine, in the order the CLI lists them.
ENGINES = ("mlip", "cp2k", "vasp", "openmm")
#: Engines that relax, run single points and MD of periodic structures (crystals, slabs);
#: ``openmm`` (GAFF2 from SMILES) runs boxes of molecules only.
STRUCTURE_ENGINES = ("mlip", "cp2k", "vasp")
#: Numerical presets every engine offers.
PRESETS = ("fast", "production")
#: Engines with an electronic-structure stage (densities, ELF, potential, charges).
ELECTRONIC_ENGINES = ("cp2k", "vasp")
#: Choices of a study's electronic stage.
ELECTRONIC_CHOICES = (*ELECTRONIC_ENGINES, "none")
#: Engines that run (mlip, cp2k) or prepare (vasp) a NEB.
NEB_ENGINES = STRUCTURE_ENGINES


def get_engine(name: str = "mlip", preset: str = "fast", mlip_model: str = "CHGNet",
               device: str | None = None, **options: Any) -> Engine:
    """The engine ``name`` with ``preset``.

    Building an engine never looks for an executable: CP2K and VASP are looked for when a
    job runs (or by :meth:`Engine.check_available`).

    Parameters
    ----------
    name
        ``mlip`` (default), ``cp2k``, ``vasp`` or ``openmm`` (molecular boxes only: its
        structure makers refuse, see :mod:`ssbflow.engines.openmm.engine`).
    preset
        ``fast`` or ``production``.
    mlip_model
        atomate2 force-field name for ``mlip`` (default ``CHGNet``).
    device
        torch device for ``mlip`` (default: ``cuda`` when available, else ``cpu``).
    **options
        Engine-specific extras: ``optimizer`` (mlip); ``threads``, ``cp2k_cmd``,
        ``basis_overrides``, ``dispersion`` (cp2k).

    Raises
    ------
    InputError
        Unknown engine, preset or model (a ``ValueError``).
    EngineUnavailableError
        The model's Python package is not installed.
    """
    check_choice("engine", name, ENGINES)
    check_choice("preset", preset, PRESETS)
    if name == "mlip":
        from ssbflow.engines.mlip import MlipEngine

        return MlipEngine(name="mlip", preset=preset, mlip_model=mlip_model, device=device,
                          **options)
    if name == "cp2k":
        from ssbflow.engines.cp2k.engine import Cp2kEngine

        return Cp2kEngine(name="cp2k", preset=preset, **options)
    if name == "openmm":
        from ssbflow.engines.openmm.engine import OpenMmEngine

        return OpenMmEngine(name="openmm", preset=preset)
    from ssbflow.engines.vasp.engine import VaspEngine

    return VaspEngine(name="vasp", preset=preset, **options)

