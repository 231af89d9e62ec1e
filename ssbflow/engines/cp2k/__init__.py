"""ssbflow.engines.cp2k."""
