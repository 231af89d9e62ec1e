"""ssbflow.runtime."""
