"""The OpenMM platform a run uses: the first of CUDA > OpenCL > CPU that works here.

A platform counts as working when a one-particle context can be created on it (a CUDA
plugin installed on a node without a GPU is listed but fails there). The choice and its
properties are recorded with every result (:func:`platform_record`).
"""

from __future__ import annotations

import os
from typing import Any

from ssbflow.errors import EngineUnavailableError, InputError

#: Preference order.
PLATFORMS = ("CUDA", "OpenCL", "CPU")
#: Environment variable naming the platform to use (OpenMM's own name for it).
ENV_PLATFORM = "OPENMM_DEFAULT_PLATFORM"


def cpu_threads() -> int:
    """Threads of the CPU platform: ``$OPENMM_CPU_THREADS``, else ``$OMP_NUM_THREADS``, else
    all cores."""
    for name in ("OPENMM_CPU_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


def _properties(name: str) -> dict[str, str]:
    if name in ("CUDA", "OpenCL"):
        return {"Precision": "mixed"}
    if name == "CPU":
        return {"Threads": str(cpu_threads())}
    return {}


def _works(platform, properties: dict[str, str]) -> bool:
    import openmm

    system = openmm.System()
    system.addParticle(1.0)
    try:
        context = openmm.Context(system, openmm.VerletIntegrator(0.001), platform, properties)
    except Exception:
        return False
    del context
    return True


def select_platform(name: str | None = None) -> tuple[Any, dict[str, str]]:
    """The OpenMM platform and its properties.

    Parameters
    ----------
    name
        ``CUDA``, ``OpenCL``, ``CPU`` or ``Reference``; ``None``: ``$OPENMM_DEFAULT_PLATFORM``
        when set (OpenMM's own variable, e.g. in a job script), else the first of
        :data:`PLATFORMS` that works.

    Raises
    ------
    InputError
        ``name`` is not a platform OpenMM knows.
    EngineUnavailableError
        The named platform (or none of CUDA, OpenCL, CPU) works here.
    """
    import openmm

    known = [openmm.Platform.getPlatform(i).getName()
             for i in range(openmm.Platform.getNumPlatforms())]
    what = "platform"
    if name is None and os.environ.get(ENV_PLATFORM):
        name, what = os.environ[ENV_PLATFORM], f"${ENV_PLATFORM}"
    if name is not None and name not in (*PLATFORMS, "Reference"):
        raise InputError(f"{what} {name!r}: expected one of {', '.join(PLATFORMS)}, "
                         "Reference")
    for candidate in (name,) if name else PLATFORMS:
        if candidate not in known:
            continue
        platform = openmm.Platform.getPlatformByName(candidate)
        properties = _properties(candidate)
        if _works(platform, properties):
            return platform, properties
    raise EngineUnavailableError(
        f"OpenMM platform {name or ' / '.join(PLATFORMS)} does not work here "
        f"(installed: {', '.join(known)})")


def platform_record(platform, properties: dict[str, str]) -> dict[str, Any]:
    """What to store with a result: OpenMM version, platform, properties."""
    import openmm

    return {"openmm_version": openmm.__version__, "platform": platform.getName(),
            "platform_properties": dict(properties),
            "platform_order": list(PLATFORMS)}
