"""ssbflow.studies.screening."""
