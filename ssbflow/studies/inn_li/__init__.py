"""ssbflow.studies.inn_li."""
