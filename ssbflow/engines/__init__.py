"""ssbflow.engines."""
