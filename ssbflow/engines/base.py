"""The engine contract: every engine hands out atomate2 makers and records its settings.

Every maker's task document exposes ``.output.energy`` (total energy, eV) and
``.structure`` (final structure); CP2K and VASP documents also have ``.output.structure``,
force-field documents do not. ``selective_dynamics`` site properties are honoured by every
relaxation: pymatgen's ``AseAtomsAdaptor`` turns them into ASE ``FixAtoms``/``FixCartesian``
constraints in atomate2's force-field relaxer (and back into ``selective_dynamics`` on the
final structure); CP2K gets ``&FIXED_ATOMS``; VASP's POSCAR carries the flags.

``settings()`` returns everything that must be stored with a result (model and version,
device, basis sets, cutoffs, k-points and the list of reductions of the ``fast`` preset).
Building an engine or a maker never looks for an executable (a flow can be built on a login
node); :meth:`Engine.check_available` does, and the jobs call it when they run.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssbflow.errors import InputError

if TYPE_CHECKING:
    from jobflow import Maker


def package_version(name: str | None) -> str | None:
    """Installed version of the distribution ``name`` (``None`` when absent)."""
    if not name:
        return None
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def local_dir(dir_name: str) -> Path:
    """Local folder of a task document's ``dir_name`` (atomate2 prefixes ``host:``)."""
    text = str(dir_name)
    if ":" in text and not Path(text).exists():
        text = text.split(":", 1)[1]
    return Path(text)


def check_choice(parameter: str, value: str, allowed: tuple[str, ...]) -> None:
    """Raise a one-line :class:`InputError` when ``value`` is not one of ``allowed``."""
    if value not in allowed:
        raise InputError(
            f"{parameter} {value!r} is not known; expected one of {', '.join(allowed)}"
        )


def check_hubbard_u(u_eV_by_element: dict[str, float]) -> None:
    """Refuse a negative U_eff (eV) in ``{element: U_eff}`` (CP2K and VASP DFT+U inputs).

    Raises
    ------
    ValueError
        One line naming the elements with a negative U.
    """
    bad = {el: u for el, u in u_eV_by_element.items() if u < 0}
    if bad:
        raise ValueError(f"hubbard_u_eV: expected U_eff >= 0 eV, got {bad}")


def check_md_arguments(temperature_K: float, n_steps: int, timestep_fs: float) -> None:
    """Raise a one-line :class:`InputError` for a non-physical MD request."""
    if temperature_K <= 0 or n_steps < 1 or timestep_fs <= 0:
        raise InputError("md_maker expects temperature_K > 0, n_steps >= 1, timestep_fs > 0")


@dataclass
class Engine:
    """Base class of the engines (see :func:`ssbflow.engines.registry.get_engine`).

    Parameters
    ----------
    name
        ``mlip``, ``cp2k`` or ``vasp``.
    preset
        ``fast`` (laptop; every reduction listed in :meth:`settings`) or ``production``.
    """

    name: str
    preset: str

    def relax_maker(self, relax_cell: bool = False, fmax_eV_per_A: float = 0.05,
                    max_steps: int = 500) -> Maker:
        """Geometry relaxation maker (fixed cell unless ``relax_cell``)."""
        raise NotImplementedError

    def static_maker(self) -> Maker:
        """Single-point energy/forces maker."""
        raise NotImplementedError

    def md_maker(self, temperature_K: float, n_steps: int, timestep_fs: float) -> Maker:
        """NVT molecular dynamics maker."""
        raise NotImplementedError

    def electronic_maker(self, slab: bool, cubes: bool = True, charges: bool = True) -> Maker:
        """Single point that writes densities, ELF, potential and charges (DFT engines)."""
        raise InputError(
            f"engine {self.name!r} has no electronic structure; expected cp2k or vasp"
        )

    def check_available(self) -> None:
        """Raise :class:`~ssbflow.errors.EngineUnavailableError` (one line) when this
        engine cannot run here. Cheap; called by the jobs when they start and by
        ``ssbflow run`` as a pre-flight check, never when a flow is built."""

    def settings(self) -> dict[str, Any]:
        """Everything that must be recorded with a result of this engine."""
        raise NotImplementedError
