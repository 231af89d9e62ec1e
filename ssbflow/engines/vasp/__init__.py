"""ssbflow.engines.vasp."""
