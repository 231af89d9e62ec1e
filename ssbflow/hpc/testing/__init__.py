"""ssbflow.hpc.testing."""
