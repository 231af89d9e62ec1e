"""ssbflow.studies.sn_llzo."""
