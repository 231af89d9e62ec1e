"""CLI command groups; each module has a ``register(groups)`` function used by ``ssbflow.cli``.

One module per subject so that commands stay next to the code they drive:
``build`` (structures), ``analyze_electronic`` (CDD, ELF, work function, charges),
``analyze_transport`` (NEB, diffusion, Arrhenius), ``studies`` (``ssbflow run ...`` and
``resume``), ``reactions`` (``reaction``, ``screen``), ``hpc`` (``submit``, ``hpc``,
``status``, ``results``).
"""
