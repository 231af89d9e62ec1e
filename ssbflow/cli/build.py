"""``ssbflow build``: build a named structure and write it to a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ssbflow.cli._groups import CliGroups
from ssbflow.errors import InputError


def _termination(value: str | None) -> int | str | None:
    if value is None:
        return None
    return int(value) if value.lstrip("-").isdigit() else value


def build_command(
    name: Annotated[str | None, typer.Argument(help="Structure name (see --list).")] = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Output file: .cif, .vasp/POSCAR, .extxyz or .xyz."),
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the structure names.")] = False,
    miller: Annotated[
        tuple[int, int, int] | None, typer.Option(help="Surface Miller indices H K L.")
    ] = None,
    thickness: Annotated[float | None, typer.Option(help="Minimum slab thickness (Å).")] = None,
    vacuum: Annotated[float | None, typer.Option(help="Vacuum thickness (Å).")] = None,
    termination: Annotated[
        str | None, typer.Option(help="Termination index or name (e.g. la-rich, li-rich).")
    ] = None,
    supercell: Annotated[
        tuple[int, int, int] | None, typer.Option(help="Supercell repetitions A B C.")
    ] = None,
    max_atoms: Annotated[int | None, typer.Option(
        help="Largest structure to build (atoms; default 5000): larger ones are refused "
        "before anything is made.")] = None,
) -> None:
    """Build a named structure (LLZO, slabs, molecules, cathodes, phases ...) and write it."""
    from ssbflow.io import check_writable, structure_format, write_structure
    from ssbflow.structures.catalog import BuildOptions, all_entries, build

    if list_:
        table = Table("name", "options", "what it is", title="ssbflow build NAME")
        for entry in all_entries().values():
            table.add_row(entry.name, " ".join(f"--{o}" for o in sorted(entry.options)),
                          entry.summary)
        Console(width=160).print(table)
        return
    if name is None:
        raise InputError("missing argument NAME (see `ssbflow build --list`)")
    if output is None:
        raise InputError("missing option -o/--output FILE (.cif, .vasp, .extxyz or .xyz)")
    structure_format(output)
    check_writable(output)
    options = BuildOptions(
        miller=miller,
        thickness=thickness,
        vacuum=vacuum,
        termination=_termination(termination),
        supercell=supercell,
    )
    obj = build(name, options, max_atoms=max_atoms)
    path = write_structure(obj, output)
    formula = obj.composition.formula.replace(" ", "")
    typer.echo(f"{name}: {formula} ({len(obj)} atoms) -> {path}")


def register(groups: CliGroups) -> None:
    """Attach ``build`` to the root command."""
    groups.root.command("build")(build_command)
