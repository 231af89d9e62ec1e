"""ssbflow.methods."""
