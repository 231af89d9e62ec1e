"""The ``ssbflow`` command.

Every failure the user can fix is reported as one line on stderr (``ssbflow: error: ...``)
with a non-zero exit code: 2 for invalid arguments or input files, 1 for other errors.
Set ``SSBFLOW_DEBUG=1`` to see full tracebacks.

Command groups live in the modules of this package, each with a ``register(groups)``:
``build`` (structures), ``electronic`` (``analyze cdd|elf|workfunction|charges``),
``transport`` (``analyze neb|diffusion|arrhenius``), ``studies`` (``run STUDY`` for every
registered study, generated from its options model, and ``resume``), ``reactions``
(``reaction``, ``screen``), ``hpc`` (``submit``, ``hpc``, ``status``, ``results``).
A hand-written ``run`` command of a study that is registered gives way to the generated one.
"""

from __future__ import annotations

import importlib
import os
import sys

import typer

from ssbflow.cli._groups import CliGroups
from ssbflow.errors import InputError, SsbflowError

try:  # typer >= 0.26 vendors click as typer._click; older typer uses click itself
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - depends on the installed typer
    from click import exceptions as click_exceptions

COMMAND_MODULES = (
    "build",
    "electronic",
    "transport",
    "studies",
    "reactions",
    "hpc",
)


def make_app(argv: list[str] | None = None) -> typer.Typer:
    """Build the Typer application with every command group registered; with ``argv`` (the
    command line to parse) ``run`` holds only the study it names (see
    :func:`ssbflow.cli.studies.register`)."""
    settings = {"help_option_names": ["-h", "--help"]}
    root = typer.Typer(
        name="ssbflow",
        help="Model the interfaces of garnet solid-state batteries (structures, workflows, "
        "analysis, HPC).",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings=settings,
    )
    analyze = typer.Typer(
        help="Analyse engine outputs (CDD, ELF, work function, charges, NEB, diffusion).",
        no_args_is_help=True,
        rich_markup_mode=None,
        context_settings=settings,
    )
    run = typer.Typer(
        help="Run a study end to end (results in the store and a report folder).",
        no_args_is_help=True,
        rich_markup_mode=None,
        context_settings=settings,
    )
    groups = CliGroups(root=root, analyze=analyze, run=run,
                       argv=None if argv is None else tuple(argv))
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"ssbflow.cli.{name}")
        module.register(groups)
    from ssbflow.cli.studies import drop_replaced

    drop_replaced(run)
    root.add_typer(analyze, name="analyze")
    root.add_typer(run, name="run")
    return root


def _fail(message: str, code: int) -> int:
    first_line = " ".join(str(message).split())  # one line, whatever the message held
    print(f"ssbflow: error: {first_line}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and map errors to one-line messages and exit codes."""
    args = sys.argv[1:] if argv is None else argv
    command = typer.main.get_command(make_app(args))
    debug = bool(os.environ.get("SSBFLOW_DEBUG"))
    try:
        result = command.main(args=args, prog_name="ssbflow", standalone_mode=False)
    except click_exceptions.NoArgsIsHelpError as exc:  # click >= 8.2
        print(exc.ctx.get_help() if exc.ctx else "", file=sys.stderr)
        return 2
    except click_exceptions.UsageError as exc:
        return _fail(exc.format_message(), 2)
    except (typer.Exit, getattr(click_exceptions, "Exit", typer.Exit)) as exc:
        return int(getattr(exc, "exit_code", getattr(exc, "code", 0)) or 0)
    except (typer.Abort, getattr(click_exceptions, "Abort", typer.Abort)):
        return _fail("aborted", 130)
    except (InputError, ValueError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        if debug:
            raise
        return _fail(str(exc) or type(exc).__name__, 2)
    except SsbflowError as exc:
        if debug:
            raise
        return _fail(str(exc), 1)
    except OSError as exc:  # disk full, folder under a file ...: one line, not a traceback
        if debug:
            raise
        return _fail(str(exc), 1)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
