"""ssbflow.studies."""
