"""CLI command groups; each module has a ``register(groups)`` function used by ``ssbflow.cli``.

One module per subject so that commands stay next to the code they drive:
``build`` (structures), ``electronic`` (``analyze cdd|elf|workfunction|charges``),
``transport`` (``analyze neb|diffusion|arrhenius`` and the transport studies under ``run``),
``studies`` (``run sn-llzo`` and ``resume``), ``reactions`` (``reaction``, ``screen``,
``run inn-li|llto-li``), ``hpc`` (``submit``, ``hpc``, ``status``, ``results``).
"""
