"""Re-export for one release: use :mod:`ssbflow.methods.neb`."""

from ssbflow.methods.neb import run_neb

__all__ = ["run_neb"]
