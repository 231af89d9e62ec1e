"""SLURM execution: cluster profiles, job-script rendering, single-job and jobflow-remote
submission, status and resume. See ``ssbflow/hpc/templates/README.md``."""
