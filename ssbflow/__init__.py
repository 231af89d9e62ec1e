"""ssbflow: jobflow/atomate2 workflows for garnet solid-state battery interfaces."""

__version__ = "0.1.0"
