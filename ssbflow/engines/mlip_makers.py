"""atomate2 force-field makers of :class:`ssbflow.engines.mlip.MlipEngine`: their calculator
comes from the one loader, :func:`ssbflow.engines.mlip.mlip_calculator`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from atomate2.forcefields.jobs import ForceFieldRelaxMaker, ForceFieldStaticMaker
from atomate2.forcefields.md import ForceFieldMDMaker

from ssbflow.engines.mlip_calculators import (
    _DEVICE_KWARG,
    MODEL_KWARG,
    mlip_calculator,
    model_variant,
)

if TYPE_CHECKING:
    from ase.calculators.calculator import Calculator


class _OneLoaderMixin:
    """atomate2 force-field maker whose calculator comes from :func:`mlip_calculator`."""

    def _get_calculator(self) -> Calculator:
        kwargs = self.calculator_kwargs  # type: ignore[attr-defined]
        model = kwargs.get(MODEL_KWARG) or str(
            self.force_field_name).split("MLFF.")[-1]  # type: ignore[attr-defined]
        variant = model_variant(model)
        key = _DEVICE_KWARG.get(variant.force_field if variant else model, "device")
        return mlip_calculator(model, kwargs.get(key) if key else None)


@dataclass
class SsbflowForceFieldRelaxMaker(_OneLoaderMixin, ForceFieldRelaxMaker):
    """atomate2 force-field relaxation with the one calculator loader."""


@dataclass
class SsbflowForceFieldStaticMaker(_OneLoaderMixin, ForceFieldStaticMaker):
    """atomate2 force-field single point with the one calculator loader."""


@dataclass
class SsbflowForceFieldMDMaker(_OneLoaderMixin, ForceFieldMDMaker):
    """atomate2 force-field MD with the one calculator loader."""
