"""Former home of the Makers and flows; kept for one release as thin re-exports.

The code now lives in :mod:`ssbflow.engines`, :mod:`ssbflow.methods`, :mod:`ssbflow.studies`
and :mod:`ssbflow.runtime`. The entry points the README showed keep working:
``ssbflow.workflows.sn_llzo.run_sn_llzo``, ``ssbflow.workflows.adsorption.AdsorptionStudyMaker``
and ``ssbflow.workflows.neb.run_neb``. Nothing inside ssbflow imports this package.
"""
