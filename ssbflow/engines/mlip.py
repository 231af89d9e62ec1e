"""Machine-learned interatomic potentials: the one calculator loader and the MLIP engine.

:func:`mlip_calculator` is the only place a force field is loaded: the atomate2 makers of
:class:`MlipEngine` (``_get_calculator``; in :mod:`ssbflow.engines.mlip_makers`, imported
when a maker is made, because atomate2's force-field jobs take seconds to import), the
ASE-driven MD and NEB of :mod:`ssbflow.methods` and the phonon free energies all call it
with the selected model name and device, so "the CHGNet energy" is the same object
everywhere.

>>> engine = MlipEngine(name="mlip", preset="fast")     # CHGNet
>>> job = engine.relax_maker(relax_cell=False, fmax_eV_per_A=0.05).make(structure)
>>> calc = mlip_calculator("CHGNet", device="cpu")     # ASE calculator, loaded once
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from atomate2.forcefields.utils import (
    _DEFAULT_CALCULATOR_KWARGS,
    MLFF,
    _get_pkg_name,
    _get_standardized_mlff,
)

from ssbflow.engines.base import Engine, check_md_arguments, package_version
from ssbflow.errors import EngineUnavailableError, InputError

if TYPE_CHECKING:
    from ase.calculators.calculator import Calculator

    from ssbflow.engines.mlip_makers import (
        SsbflowForceFieldMDMaker,
        SsbflowForceFieldRelaxMaker,
        SsbflowForceFieldStaticMaker,
    )

#: Force fields whose weights ship with (or are cached by) their package and load offline.
OFFLINE_MODELS = frozenset({"CHGNet", "SevenNet"})

#: Calculator keyword that selects the torch device, per force field (None: not settable).
_DEVICE_KWARG: dict[str, str | None] = {
    "CHGNet": "use_device",
    "M3GNet": None,
    "MatPES-PBE": None,
    "MatPES-r2SCAN": None,
    "GAP": None,
    "NEP": None,
}

#: Python module of a force-field package where it differs from the distribution name.
_MODULE_OF_PACKAGE = {"mace-torch": "mace", "quippy-ase": "quippy", "deepmd-kit": "deepmd",
                      "fairchem.core": "fairchem"}


def default_device() -> str:
    """``"cuda"`` when torch sees a GPU, else ``"cpu"``."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency of chgnet
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def mlff_names() -> tuple[str, ...]:
    """Every force-field name atomate2 knows."""
    return tuple(m.value for m in MLFF if m is not MLFF.Forcefield)


def resolve_model(mlip_model: str) -> tuple[MLFF, str]:
    """atomate2's force field for ``mlip_model`` (case-insensitive) and its package.

    Raises
    ------
    InputError
        atomate2 knows no such model.
    EngineUnavailableError
        The model's Python package is not installed.
    """
    by_lower = {m.value.lower(): m.value for m in MLFF} | {m.name.lower(): m.value
                                                           for m in MLFF}
    name = by_lower.get(str(mlip_model).lower(), mlip_model)
    try:
        mlff = _get_standardized_mlff(name)
    except ValueError:
        mlff = None
    if mlff is None or mlff is MLFF.Forcefield:
        raise InputError(f"mlip_model {mlip_model!r} is not known; expected one of "
                         f"{', '.join(mlff_names())}")
    pkg = _get_pkg_name(mlff)
    module = _MODULE_OF_PACKAGE.get(pkg or "", pkg)
    if not module or find_spec(module.split(".")[0]) is None:
        raise EngineUnavailableError(
            f"MLIP model {mlff.value!r} needs the Python package {pkg!r} (pip install {pkg})"
            + ("" if mlff.value in OFFLINE_MODELS else
               " and downloaded weights (fetched from the internet on first use)")
        )
    return mlff, str(pkg)


def _load_error(model: str, err: Exception) -> EngineUnavailableError:
    hint = ("its weights ship with the package" if model in OFFLINE_MODELS else
            "its weights are downloaded on first use (needs internet, or pre-downloaded "
            "weights in the package's cache)")
    return EngineUnavailableError(
        f"MLIP model {model!r} could not be loaded ({type(err).__name__}: "
        f"{str(err).splitlines()[0] if str(err) else ''}); {hint}"
    )


def device_kwargs(mlip_model: str, device: str | None) -> dict[str, str]:
    """Calculator keyword selecting ``device`` for ``mlip_model`` (empty if not settable)."""
    key = _DEVICE_KWARG.get(mlip_model, "device")
    return {key: device} if key and device else {}


@lru_cache(maxsize=4)
def mlip_calculator(mlip_model: str = "CHGNet", device: str | None = None) -> Calculator:
    """ASE calculator of a universal force field, loaded once per process and device.

    Parameters
    ----------
    mlip_model
        Any atomate2 force-field name (``CHGNet``, ``SevenNet``, ``MACE-MP-0``, ...).
    device
        torch device; ``None``: ``cuda`` when torch sees a GPU, else ``cpu``.

    Raises
    ------
    InputError
        Unknown model.
    EngineUnavailableError
        Package missing, or the weights cannot be loaded (one line).
    """
    from atomate2.forcefields.utils import ase_calculator

    mlff, _ = resolve_model(mlip_model)
    kwargs = {**_DEFAULT_CALCULATOR_KWARGS.get(mlff, {}),
              **device_kwargs(mlff.value, device or default_device())}
    try:  # models print banners on stdout; keep stdout for --json output
        with contextlib.redirect_stdout(sys.stderr):
            calc = ase_calculator(mlff, **kwargs)
    except Exception as err:  # model packages raise anything when weights are missing
        raise _load_error(mlff.value, err) from err
    if calc is None:
        raise EngineUnavailableError(f"atomate2 knows no force field named {mlff.value!r}")
    return calc


def energy_forces_calculator(calc: Any) -> Any:
    """The same force field, evaluating only energy and forces unless more is asked for.

    CHGNet's ASE calculator computes energy, forces, stress and magnetic moments on every
    call; the stress is a second autograd pass through the cell (about 40 % of a step on a
    144-atom polymer box, measured here) that fixed-cell MD and relaxations never use. A
    CHGNet calculator is therefore re-wrapped (same model object) to skip stress and moments
    unless they are requested; other calculators are returned unchanged.
    """
    # by name, so that other engines never import CHGNet (and torch)
    if not any(k.__name__ == "CHGNetCalculator" for k in type(calc).__mro__):
        return calc
    cls = _energy_forces_chgnet_class()
    if isinstance(calc, cls):
        return calc
    with contextlib.redirect_stdout(sys.stderr):  # CHGNet prints its device on stdout
        return cls(model=calc.model, use_device=str(calc.device))


@lru_cache(maxsize=1)
def _energy_forces_chgnet_class() -> type:
    """CHGNet's calculator asked for energy and forces only (``task="ef"``) unless stress
    or magnetic moments are requested (class built lazily: importing CHGNet loads torch)."""
    from chgnet.model.dynamics import CHGNetCalculator

    class EnergyForcesCHGNet(CHGNetCalculator):
        def calculate(self, atoms: Any = None, properties: list | None = None,
                      system_changes: list | None = None, task: str = "ef") -> None:
            properties = list(properties or ["energy", "forces"])
            if {"stress", "magmoms"} & set(properties):
                task = "efsm"
            super().calculate(atoms, properties, system_changes, task=task)

    return EnergyForcesCHGNet


def model_version(model: str) -> str | None:
    """Version of the default weights a package loads (CHGNet: ``CHGNet.load``'s default)."""
    if model == "CHGNet" and find_spec("chgnet") is not None:
        import inspect

        from chgnet.model import CHGNet

        default = inspect.signature(CHGNet.load).parameters.get("model_name")
        return None if default is None else str(default.default)
    if model == "SevenNet":
        return "7net-0"
    return None


@dataclass
class MlipEngine(Engine):
    """Machine-learned interatomic potential through ``atomate2.forcefields``.

    Parameters
    ----------
    mlip_model
        Any atomate2 force-field name (``CHGNet``, ``SevenNet``, ``MACE-MP-0``, ...).
    device
        torch device; ``None`` = ``cuda`` when available, else ``cpu``.
    optimizer
        ASE optimiser of relaxations (``BFGS``, ``FIRE``, ``BFGSLineSearch``, ...). BFGS
        by default: on a rattled 8-atom LiF slab with CHGNet it needed 20 steps against
        FIRE's 28 (atomate2's default) for fmax 0.05 eV/Å.
    """

    mlip_model: str = "CHGNet"
    device: str | None = None
    optimizer: str = "BFGS"

    def __post_init__(self) -> None:
        mlff, self._package = resolve_model(self.mlip_model)
        self.mlip_model = mlff.value
        self.device = self.device or default_device()

    def calculator(self) -> Calculator:
        """This engine's ASE calculator (:func:`mlip_calculator`)."""
        return mlip_calculator(self.mlip_model, self.device)

    def _calculator_kwargs(self) -> dict[str, Any]:
        return device_kwargs(self.mlip_model, self.device)

    def relax_maker(self, relax_cell: bool = False, fmax_eV_per_A: float = 0.05,
                    max_steps: int = 500) -> SsbflowForceFieldRelaxMaker:
        """Force-field relaxation; ``selective_dynamics`` become ASE constraints."""
        from ssbflow.engines.mlip_makers import SsbflowForceFieldRelaxMaker

        return SsbflowForceFieldRelaxMaker(
            name=f"{self.mlip_model} relax",
            force_field_name=self.mlip_model,
            relax_cell=relax_cell,
            steps=max_steps,
            relax_kwargs={"fmax": fmax_eV_per_A},
            optimizer_kwargs={"optimizer": self.optimizer},
            calculator_kwargs=self._calculator_kwargs(),
        )

    def static_maker(self) -> SsbflowForceFieldStaticMaker:
        """Force-field single point."""
        from ssbflow.engines.mlip_makers import SsbflowForceFieldStaticMaker

        return SsbflowForceFieldStaticMaker(
            name=f"{self.mlip_model} static",
            force_field_name=self.mlip_model,
            calculator_kwargs=self._calculator_kwargs(),
        )

    def md_maker(self, temperature_K: float, n_steps: int,
                 timestep_fs: float) -> SsbflowForceFieldMDMaker:
        """Langevin NVT MD (friction 10 ps⁻¹, atomate2's default)."""
        from ssbflow.engines.mlip_makers import SsbflowForceFieldMDMaker

        check_md_arguments(temperature_K, n_steps, timestep_fs)
        return SsbflowForceFieldMDMaker(
            name=f"{self.mlip_model} md",
            force_field_name=self.mlip_model,
            temperature=temperature_K,
            n_steps=n_steps,
            time_step=timestep_fs,
            ensemble="nvt",
            dynamics="langevin",
            calculator_kwargs=self._calculator_kwargs(),
        )

    def settings(self) -> dict[str, Any]:
        """Model name, package and weights versions, device, optimiser, weights source."""
        return {
            "engine": "mlip",
            "preset": self.preset,
            "model": self.mlip_model,
            "model_version": model_version(self.mlip_model),
            "package": self._package,
            "package_version": package_version(self._package),
            "atomate2_version": package_version("atomate2"),
            "device": self.device,
            "optimizer": self.optimizer,
            "weights": ("shipped with the package" if self.mlip_model in OFFLINE_MODELS
                        else "downloaded by the package on first use"),
            "reductions": [],
        }
