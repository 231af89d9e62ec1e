"""``ssbflow run STUDY`` for every registered study, and ``ssbflow resume DIR``.

The commands are generated from the study registry (:mod:`ssbflow.studies.registry`): each
study's options model gives its options (:mod:`ssbflow.cli.options`), plus ``--out``,
``--db``, ``--json`` and ``--quiet``. A second run with the same ``--out`` resumes.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ssbflow.cli._groups import CliGroups
from ssbflow.cli.options import WORKERS_HELP, common_parameters, study_function
from ssbflow.studies.base import Study
from ssbflow.studies.registry import get_study, study_names

#: Marks the generated ``run`` commands (they replace hand-written ones of the same name).
GENERATED = "_ssbflow_generated"


def print_results(study: Study, doc: dict[str, Any], as_json: bool) -> None:
    """``results.json`` as JSON, or the study's summary lines."""
    if as_json:
        typer.echo(json.dumps(doc, default=str))
        return
    for line in study.summary_lines(doc):
        typer.echo(line)
    from ssbflow.studies.committee import committee_lines

    for line in committee_lines(doc):
        typer.echo(line)


def run_command(study: Study):
    """The ``ssbflow run STUDY`` function of ``study``."""

    def body(options: dict[str, Any], out: Path, db: Path | None, as_json: bool,
             quiet: bool, workers: int | None) -> None:
        from ssbflow.runtime.studies import run_study

        with contextlib.redirect_stdout(sys.stderr):  # engines print; stdout is for results
            doc = run_study(study.name, out, db=db, quiet=quiet or as_json, workers=workers,
                            **options)
        print_results(study, doc, as_json)

    command = study_function(study, body, common_parameters(study.name))
    setattr(command, GENERATED, True)
    return command


def resume_command(
    run_dir: Annotated[Path, typer.Argument(help="Run folder of an earlier `ssbflow run`.")],
    db: Annotated[
        Path | None, typer.Option(help="montydb store folder, if not the default.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results.json.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    workers: Annotated[int | None, typer.Option(min=1, help=WORKERS_HELP)] = None,
) -> None:
    """Continue an interrupted or failed run of any study: finished jobs come from the store."""
    from ssbflow.runtime.studies import resume_study, run_settings

    with contextlib.redirect_stdout(sys.stderr):  # engines print; stdout is for results
        doc = resume_study(run_dir, db=db, quiet=quiet or as_json, workers=workers)
    print_results(get_study(run_settings(run_dir)["study"]), doc, as_json)


def studies_to_build(argv: tuple[str, ...] | None) -> list[str]:
    """The studies whose ``run`` command the command line ``argv`` needs: all of them for
    ``run`` alone or its help (and when ``argv`` is ``None``), the one named by ``run STUDY``,
    none for another command (importing every study made each command start 2.5–3 s slower)."""
    names = study_names()
    if argv is None:
        return names
    if not argv or argv[0] != "run":
        return []
    return [argv[1]] if len(argv) > 1 and argv[1] in names else names


def register(groups: CliGroups) -> None:
    """Attach ``run STUDY`` for the registered studies the command line needs, and ``resume``."""
    for name in studies_to_build(groups.argv):
        study = get_study(name)
        groups.run.command(name)(run_command(study))
    groups.root.command("resume")(resume_command)


def drop_replaced(run: typer.Typer) -> None:
    """Remove hand-written ``run`` commands whose study is registered (generated ones win)."""
    registered = set(study_names())
    run.registered_commands = [
        c for c in run.registered_commands
        if c.name not in registered or getattr(c.callback, GENERATED, False)
    ]
