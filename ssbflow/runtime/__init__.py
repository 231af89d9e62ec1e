"""Running studies: the local runner with resume, the store, run/resume of any study.

``run_study(name, out, db=None, quiet=False, **options)`` and ``resume_study(run_dir)`` are
the Python entry points behind ``ssbflow run`` and ``ssbflow resume``.
"""

from ssbflow.runtime.studies import resume_study, run_study

__all__ = ["resume_study", "run_study"]
