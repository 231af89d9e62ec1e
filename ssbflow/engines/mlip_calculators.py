"""The one force-field calculator loader (model choice, device, offline check).

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

from ssbflow.errors import EngineUnavailableError, InputError

if TYPE_CHECKING:
    from ase.calculators.calculator import Calculator


#: Force fields whose weights ship with (or are cached by) their package and load offline.
OFFLINE_MODELS = frozenset({"CHGNet", "SevenNet"})


@dataclass(frozen=True)
class ModelVariant:
    """A named set of weights of an atomate2 force field.

    Attributes
    ----------
    force_field : atomate2's force-field name (``MLFF`` value).
    weights : the weights (``CHGNet.load(model_name=...)``; SevenNet's ``model``).
    head : SevenNet multi-fidelity head (``modal``), else ``None``.
    training : the data and functional the weights were fitted to (recorded in settings).
    """

    force_field: str
    weights: str
    head: str | None
    training: str


#: ssbflow's names of the offline weights (they ship in the wheels of chgnet and sevenn).
MODEL_VARIANTS: dict[str, ModelVariant] = {
    "CHGNet": ModelVariant("CHGNet", "0.3.0", None, "MPtrj (PBE/PBE+U)"),
    "CHGNet-r2SCAN": ModelVariant("CHGNet", "r2scan", None, "MP r2SCAN (fine-tuned)"),
    "SevenNet": ModelVariant("SevenNet", "7net-0", None, "MPtrj (PBE/PBE+U)"),
    "SevenNet-0": ModelVariant("SevenNet", "7net-0", None, "MPtrj (PBE/PBE+U)"),
    "SevenNet-l3i5": ModelVariant("SevenNet", "7net-l3i5", None, "MPtrj (PBE/PBE+U)"),
    "SevenNet-MF-0": ModelVariant("SevenNet", "7net-mf-0", "PBE",
                                  "MPtrj + sAlex (PBE head of the multi-fidelity model)"),
    "SevenNet-MF-0-r2SCAN": ModelVariant("SevenNet", "7net-mf-0", "R2SCAN",
                                         "MP r2SCAN head of the multi-fidelity model"),
}

#: Calculator keyword carrying ssbflow's model name (weights variant) to the one loader
#: (atomate2's makers know only the force field, e.g. ``CHGNet``, not its weights).
MODEL_KWARG = "ssbflow_model"

#: ``--committee``: the offline universal potentials, one per weights family (issue #13).
COMMITTEE_MODELS = ("CHGNet", "CHGNet-r2SCAN", "SevenNet-0", "SevenNet-MF-0")

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
    variant = model_variant(mlip_model)
    if variant is not None:
        mlip_model = variant.force_field
    by_lower = {m.value.lower(): m.value for m in MLFF} | {m.name.lower(): m.value
                                                           for m in MLFF}
    name = by_lower.get(str(mlip_model).lower(), mlip_model)
    try:
        mlff = _get_standardized_mlff(name)
    except ValueError:
        mlff = None
    if mlff is None or mlff is MLFF.Forcefield:
        raise InputError(f"mlip_model {mlip_model!r} is not known; expected one of "
                         f"{', '.join([*MODEL_VARIANTS, *mlff_names()])}")
    pkg = _get_pkg_name(mlff)
    module = _MODULE_OF_PACKAGE.get(pkg or "", pkg)
    if not module or find_spec(module.split(".")[0]) is None:
        raise EngineUnavailableError(
            f"MLIP model {mlff.value!r} needs the Python package {pkg!r} (pip install {pkg})"
            + ("" if mlff.value in OFFLINE_MODELS else
               " and downloaded weights (fetched from the internet on first use)")
        )
    return mlff, str(pkg)


def model_variant(mlip_model: str) -> ModelVariant | None:
    """The offline weights named ``mlip_model`` (case-insensitive), or ``None``."""
    by_lower = {name.lower(): v for name, v in MODEL_VARIANTS.items()}
    return by_lower.get(str(mlip_model).lower())


def model_name(mlip_model: str) -> str:
    """ssbflow's spelling of a model name (``sevennet-0`` -> ``SevenNet-0``; atomate2 names
    of other force fields, e.g. ``mace`` -> ``MACE``).

    Raises
    ------
    InputError
        Unknown model.
    """
    by_lower = {name.lower(): name for name in MODEL_VARIANTS}
    if str(mlip_model).lower() in by_lower:
        return by_lower[str(mlip_model).lower()]
    by_value = {m.value.lower(): m.value for m in MLFF} | {m.name.lower(): m.value for m in MLFF}
    name = by_value.get(str(mlip_model).lower())
    if name is None or name == MLFF.Forcefield.value:
        raise InputError(f"mlip_model {mlip_model!r} is not known; expected one of "
                         f"{', '.join([*MODEL_VARIANTS, *mlff_names()])}")
    return name


def parse_models(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Model names from ``"A,B"`` (or a list of such), each spelled by :func:`model_name`.

    ``committee`` (any case) stands for :data:`COMMITTEE_MODELS`.

    Raises
    ------
    InputError
        An unknown name, a repeated one, or none at all.
    """
    items = [text] if isinstance(text, str) else list(text)
    names: list[str] = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            names.extend(COMMITTEE_MODELS if part.lower() == "committee" else [model_name(part)])
    if not names:
        raise InputError("--models: expected model names separated by commas, e.g. "
                         "CHGNet,SevenNet-0")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"--models: {', '.join(repeated)} given twice")
    return tuple(names)


def _variant_kwargs(mlip_model: str) -> dict[str, Any]:
    """Calculator keywords that select the weights of ``mlip_model`` (empty: package default)."""
    variant = model_variant(mlip_model)
    if variant is None:
        return {}
    if variant.force_field == "CHGNet":
        if variant.weights == "0.3.0":
            return {}
        from chgnet.model import CHGNet

        with contextlib.redirect_stdout(sys.stderr):
            return {"model": CHGNet.load(model_name=variant.weights, verbose=False)}
    kwargs: dict[str, Any] = {"model": variant.weights}
    if variant.head:
        kwargs["modal"] = variant.head
    return kwargs


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
    variant = model_variant(mlip_model)
    key = _DEVICE_KWARG.get(variant.force_field if variant else mlip_model, "device")
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
              **device_kwargs(mlff.value, device or default_device()),
              **_variant_kwargs(mlip_model)}
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
    """Version of the weights ``model`` loads (CHGNet: ``CHGNet.load``'s default; a named
    variant: its weights, with the SevenNet head)."""
    variant = model_variant(model)
    if variant is not None and (variant.force_field != "CHGNet" or variant.weights != "0.3.0"):
        return variant.weights + (f" ({variant.head} head)" if variant.head else "")
    if model == "CHGNet" and find_spec("chgnet") is not None:
        import inspect

        from chgnet.model import CHGNet

        default = inspect.signature(CHGNet.load).parameters.get("model_name")
        return None if default is None else str(default.default)
    return None
