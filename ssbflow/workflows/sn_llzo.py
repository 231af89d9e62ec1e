"""Re-export for one release: use :mod:`ssbflow.studies.sn_llzo`."""

from ssbflow.studies.sn_llzo.study import run_sn_llzo, sn_llzo_options

__all__ = ["run_sn_llzo", "sn_llzo_options"]
