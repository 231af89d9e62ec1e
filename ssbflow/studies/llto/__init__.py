"""ssbflow.studies.llto."""
