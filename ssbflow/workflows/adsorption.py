"""Re-export for one release: use :mod:`ssbflow.methods.adsorption`."""

from ssbflow.methods.adsorption import AdsorptionStudyMaker

__all__ = ["AdsorptionStudyMaker"]
