"""Run or resume any registered study in a run folder, with the store and resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ssbflow.errors import InputError
from ssbflow.runtime.execute import execute_study
from ssbflow.runtime.runner import RUN_FILE, read_run_json
from ssbflow.runtime.store import check_store
from ssbflow.studies.committee import study_flow, write_study_report
from ssbflow.studies.registry import get_study


def run_study(
    name: str,
    out: str | Path,
    db: str | Path | None = None,
    quiet: bool = False,
    workers: int | None = None,
    **options: Any,
) -> dict:
    """Run (or resume) study ``name`` in ``out`` and write its report folder.

    Parameters
    ----------
    name : a registered study (:func:`ssbflow.studies.registry.study_names`).
    out : run and report folder; a second call with the same folder resumes.
    db : montydb folder (default ``$SSBFLOW_DB`` or ``./ssbflow-db``);
        ``$SSBFLOW_MONGO_URI`` selects MongoDB instead.
    quiet : no progress bar.
    workers : jobs side by side (:func:`ssbflow.runtime.runner.run_flow`; default
        ``$SSBFLOW_WORKERS`` or 1).
    **options : the study's options (its pydantic model's fields).

    Returns
    -------
    dict
        The results document (also in ``out/results.json``).
    """
    study = get_study(name)
    opts = study.parse_options(options)
    check_store(db)  # an unreachable MongoDB fails fast, before the engines load
    study.check(opts)  # engines present here, before anything is written
    settings = study.settings(opts)
    out = Path(out).absolute()
    output, timings, _ = execute_study(
        lambda: study_flow(study, opts), settings, out, db=db, quiet=quiet, workers=workers
    )
    return write_study_report(study, opts, output, out, timings)


def run_settings(run_dir: str | Path) -> dict[str, Any]:
    """The stored settings (``study`` and options) of the run in ``run_dir``."""
    run_file = Path(run_dir) / RUN_FILE
    if not run_file.is_file():
        raise InputError(f"{str(run_dir)!r} holds no ssbflow run ({RUN_FILE} missing)")
    settings = read_run_json(run_file)
    if not isinstance(settings, dict) or not isinstance(settings.get("settings"), dict):
        raise InputError(f"{str(run_file)!r} holds no run settings")
    return settings["settings"]


def resume_study(run_dir: str | Path, db: str | Path | None = None, quiet: bool = False,
                 workers: int | None = None) -> dict:
    """Continue the run in ``run_dir``: finished jobs come from the store, the rest run."""
    settings = dict(run_settings(run_dir))
    name = settings.pop("study", None)
    if name is None:
        raise InputError(f"{str(run_dir)!r}: its {RUN_FILE} names no study")
    return run_study(name, run_dir, db=db, quiet=quiet, workers=workers, **settings)
