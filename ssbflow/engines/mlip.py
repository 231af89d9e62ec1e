"""The MLIP engine: atomate2 force-field makers with the one calculator loader.

The loader itself (:func:`mlip_calculator`) lives in :mod:`ssbflow.engines.mlip_calculators`
(so that :mod:`ssbflow.engines.mlip_makers` can use it without importing this module) and is
re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ssbflow.engines.base import Engine, check_md_arguments, package_version
from ssbflow.engines.mlip_calculators import (
    COMMITTEE_MODELS,
    MODEL_KWARG,
    OFFLINE_MODELS,
    default_device,
    device_kwargs,
    energy_forces_calculator,
    mlff_names,
    mlip_calculator,
    model_name,
    model_variant,
    model_version,
    parse_models,
    resolve_model,
)

if TYPE_CHECKING:
    from ase.calculators.calculator import Calculator

    from ssbflow.engines.mlip_makers import (
        SsbflowForceFieldMDMaker,
        SsbflowForceFieldRelaxMaker,
        SsbflowForceFieldStaticMaker,
    )

__all__ = [
    "COMMITTEE_MODELS", "OFFLINE_MODELS", "MlipEngine", "default_device", "device_kwargs",
    "energy_forces_calculator", "mlff_names", "mlip_calculator", "model_name", "model_variant",
    "model_version", "parse_models", "resolve_model",
]


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
        self._force_field = mlff.value
        self.mlip_model = model_name(self.mlip_model)
        self.device = self.device or default_device()

    def calculator(self) -> Calculator:
        """This engine's ASE calculator (:func:`mlip_calculator`)."""
        return mlip_calculator(self.mlip_model, self.device)

    def _calculator_kwargs(self) -> dict[str, Any]:
        return {**device_kwargs(self.mlip_model, self.device), MODEL_KWARG: self.mlip_model}

    def relax_maker(self, relax_cell: bool = False, fmax_eV_per_A: float = 0.05,
                    max_steps: int = 500) -> SsbflowForceFieldRelaxMaker:
        """Force-field relaxation; ``selective_dynamics`` become ASE constraints."""
        from ssbflow.engines.mlip_makers import SsbflowForceFieldRelaxMaker

        return SsbflowForceFieldRelaxMaker(
            name=f"{self.mlip_model} relax",
            force_field_name=self._force_field,
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
            force_field_name=self._force_field,
            calculator_kwargs=self._calculator_kwargs(),
        )

    def md_maker(self, temperature_K: float, n_steps: int,
                 timestep_fs: float) -> SsbflowForceFieldMDMaker:
        """Langevin NVT MD (friction 10 ps⁻¹, atomate2's default)."""
        from ssbflow.engines.mlip_makers import SsbflowForceFieldMDMaker

        check_md_arguments(temperature_K, n_steps, timestep_fs)
        return SsbflowForceFieldMDMaker(
            name=f"{self.mlip_model} md",
            force_field_name=self._force_field,
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
            "weights": ("shipped with the package" if self._force_field in OFFLINE_MODELS
                        else "downloaded by the package on first use"),
            "training": (variant.training if (variant := model_variant(self.mlip_model))
                         else None),
            "reductions": [],
        }
