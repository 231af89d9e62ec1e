"""Command-line options generated from a study's pydantic options model.

One option per field (see :class:`ssbflow.studies.base.StudyOptions`): flags from the field
name (or its ``cli`` names), help from its description, default from the model. Types the
command line cannot spell directly are given as text: a union of several types (pydantic
converts the text), a mapping or a model (JSON text, or text its validators read, such as a
file name).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import re
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from ssbflow.errors import InputError
from ssbflow.studies.base import Study, cli_flags

try:  # typer >= 0.26 vendors click as typer._click; older typer uses click itself
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - depends on the installed typer
    from click import exceptions as click_exceptions

#: Options every ``ssbflow run STUDY`` has besides the study's own.
COMMON = ("out", "db", "as_json", "quiet")

_SCALARS = (str, int, float, bool, Path)

#: A field named with its unit (``thickness_A``, ``fmax_eV_per_A``) also answers to the
#: flag without it (``--thickness``, ``--fmax``), unless another field has that flag or
#: strips to it too.
_UNIT_SUFFIX = re.compile(r"_(eV_per_A|A2_per_ps|cm2_s|eV|fs|ps|GPa|A|K)$")


def _flag_declarations(study: Study, name: str) -> list[str]:
    """All flags of option ``name``: its ``cli`` names, ``--name``, and ``--name`` without
    a unit suffix."""
    own = "--" + name.replace("_", "-")
    flags = [*cli_flags(study.options, name)]
    flags += [own] if own not in flags else []
    short = _UNIT_SUFFIX.sub("", name)
    taken = {"--" + other.replace("_", "-") for other in study.options.model_fields}
    for other in study.options.model_fields:
        taken.update(cli_flags(study.options, other))
    # two fields stripping to one flag (anneal_K, anneal_ps) get no alias: it would be ambiguous
    shared = [o for o in study.options.model_fields
              if o != name and _UNIT_SUFFIX.sub("", o) == short]
    alias = "--" + short.replace("_", "-")
    if short != name and not shared and alias not in taken and alias not in flags:
        flags.append(alias)
    return flags


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); anything else -> (annotation, False)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) == 1:
            return args[0], optional
        return annotation, optional
    return annotation, False


def cli_type(annotation: Any) -> tuple[Any, bool]:
    """The type typer parses for a field's annotation, and whether the value is JSON text.

    Returns
    -------
    type, json_text
        ``list[X]`` for a list or variadic tuple, the tuple itself when of fixed length,
        ``str`` for unions of several types and ``Literal`` choices, ``str`` with
        ``json_text`` for mappings and models.
    """
    inner, _ = _strip_optional(annotation)
    origin = typing.get_origin(inner)
    args = typing.get_args(inner)
    if inner in _SCALARS:
        return inner, False
    if origin is typing.Literal:
        return str, False
    if origin in (list, set, frozenset) or (origin is tuple and len(args) == 2
                                            and args[1] is Ellipsis):
        item = args[0] if args else str
        item = item if item in _SCALARS and item is not bool else str
        return list[item], False
    if origin is tuple and args and all(a in _SCALARS for a in args):
        return tuple[args], False
    if origin in (typing.Union, types.UnionType):
        return str, False
    if (inspect.isclass(inner) and issubclass(inner, BaseModel)) or origin is dict or inner is dict:
        return str, True
    if inspect.isclass(inner) and issubclass(inner, _SCALARS):  # e.g. an Enum of str
        return inner, False
    raise TypeError(f"option type {annotation!r} has no command-line form")


def _from_text(annotation: Any, text: str) -> Any:
    """A union field's value from its text: the first non-text member type that parses it
    (``"3"`` -> 3 for ``int | str``), else the text."""
    from pydantic import TypeAdapter, ValidationError

    inner, _ = _strip_optional(annotation)
    for member in typing.get_args(inner):
        if member in (str, type(None)):
            continue
        try:
            return TypeAdapter(member).validate_strings(text)
        except (ValidationError, TypeError, ValueError):
            continue
    return text


def _default(info: Any) -> Any:
    if info.default_factory is not None:
        return info.default_factory()
    return None if info.default is PydanticUndefined else info.default


def option_parameters(study: Study) -> tuple[list[inspect.Parameter], set[str]]:
    """Typer parameters of a study's options, and the names given as JSON text."""
    params, json_names = [], set()
    for name, info in study.options.model_fields.items():
        if name in COMMON:
            raise TypeError(f"study {study.name!r}: option {name!r} clashes with --{name}")
        kind, is_json = cli_type(info.annotation)
        if is_json:
            json_names.add(name)
        default = _default(info)
        if isinstance(default, tuple | set | frozenset) and typing.get_origin(kind) is list:
            default = list(default)
        if is_json and default is not None:
            default = json.dumps(default if not isinstance(default, BaseModel)
                                 else default.model_dump(mode="json"))
        flags = _flag_declarations(study, name)
        if kind is bool:
            decls = [f"{f}/--no-{f[2:]}" if f.startswith("--") else f for f in flags]
        else:
            decls = flags
        option = typer.Option(*decls, help=info.description or "")
        annotation = Annotated[kind if default is not None or kind is bool else kind | None,
                               option]
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                        default=default, annotation=annotation))
    return params, json_names


#: Help of ``--workers`` (``ssbflow run`` and ``ssbflow resume``).
WORKERS_HELP = ("Jobs run side by side, each in its own process with 1/WORKERS of the threads "
                "(default $SSBFLOW_WORKERS or 1).")


def common_parameters(study_name: str) -> list[inspect.Parameter]:
    """``--out``, ``--db``, ``--json``, ``--quiet`` and ``--workers``."""
    kw = inspect.Parameter.KEYWORD_ONLY
    return [
        inspect.Parameter("out", kw, default=Path(f"ssbflow-runs/{study_name}"), annotation=(
            Annotated[Path, typer.Option(help="Run and report folder (resumes when it exists).")]
        )),
        inspect.Parameter("db", kw, default=None, annotation=Annotated[Path | None, typer.Option(
            help="montydb store folder (default $SSBFLOW_DB or ./ssbflow-db).")]),
        inspect.Parameter("as_json", kw, default=False, annotation=Annotated[bool, typer.Option(
            "--json", help="Print results.json.")]),
        inspect.Parameter("quiet", kw, default=False, annotation=Annotated[bool, typer.Option(
            help="No progress bar.")]),
        inspect.Parameter("workers", kw, default=None, annotation=Annotated[
            int | None, typer.Option(min=1, help=WORKERS_HELP)]),
    ]


def option_values(study: Study, params: dict[str, Any], json_names: set[str]) -> dict[str, Any]:
    """The options of ``study`` from parsed command-line values (JSON text decoded)."""
    values = {}
    for name in study.options.model_fields:
        value = params.get(name)
        if name in json_names and isinstance(value, str):
            # JSON text; other text (e.g. a file a validator reads) goes to the model as is
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        info = study.options.model_fields[name]
        if value is None or (isinstance(value, list) and not value and _default(info) is None):
            continue  # not given: the model's default applies
        if isinstance(value, str) and cli_type(info.annotation)[0] is str \
                and typing.get_origin(_strip_optional(info.annotation)[0]) in (
                    typing.Union, types.UnionType):
            value = _from_text(info.annotation, value)
        values[name] = value
    return values


def study_function(study: Study, body: Callable[..., None],
                   extra: list[inspect.Parameter] | None = None) -> Callable[..., None]:
    """A function typer turns into a command: the study's options, ``extra`` parameters, and
    ``body(options: dict, **extra values)`` as its body."""
    params, json_names = option_parameters(study)
    extra = extra or []
    extra_names = [p.name for p in extra]

    def command(**kwargs: Any) -> None:
        body(option_values(study, kwargs, json_names),
             **{name: kwargs[name] for name in extra_names})

    command.__signature__ = inspect.Signature([*params, *extra])  # type: ignore[attr-defined]
    command.__annotations__ = {}
    command.__name__ = f"run_{study.name.replace('-', '_')}"
    command.__doc__ = (f"{study.help}\n\nRunning the same command again (same --out) resumes: "
                       "finished jobs come from the store.")
    return command


def parse_study_args(study: Study, args: list[str]) -> dict[str, Any]:
    """The options of ``study`` from command-line words (as ``ssbflow run STUDY`` reads them).

    Raises
    ------
    InputError
        An unknown option or a value of the wrong type.
    """
    captured: dict[str, Any] = {}
    app = typer.Typer(add_completion=False, rich_markup_mode=None)
    app.command()(study_function(study, lambda options: captured.update(options)))
    command = typer.main.get_command(app)
    try:
        command.main(args=list(args), prog_name=f"ssbflow run {study.name}",
                     standalone_mode=False)
    except click_exceptions.UsageError as exc:
        raise InputError(f"{study.name} options: {exc.format_message()}") from None
    return captured
