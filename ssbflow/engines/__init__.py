"""Engines (MLIP, CP2K, VASP; OpenMM for molecular boxes): makers, input sets and settings.

``get_engine(name, preset)`` (:mod:`ssbflow.engines.registry`, the one list of names) returns
an :class:`Engine` (:mod:`ssbflow.engines.base`, the contract).
"""

from ssbflow.engines.base import Engine
from ssbflow.engines.registry import get_engine

__all__ = ["Engine", "get_engine"]
