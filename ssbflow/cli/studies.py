"""``ssbflow run sn-llzo`` (the main study) and ``ssbflow resume DIR``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ssbflow.cli._groups import CliGroups
from ssbflow.errors import InputError


def _termination(value: str | None) -> int | str | None:
    if value is None:
        return None
    return int(value) if value.lstrip("-").isdigit() else value


def _print_summary(doc: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(doc, default=str))
        return
    typer.echo(f"adsorption energy: {doc['adsorption_energy_eV']:.3f} eV")
    for key, unit in (
        ("transferred_charge_e", "e"),
        ("cdd_integral_e", "e"),
        ("work_function_slab_eV", "eV"),
        ("molecule_vacuum_minus_homo_eV", "eV"),
    ):
        if doc.get(key) is not None:
            typer.echo(f"{key}: {doc[key]:.4f} {unit}")
    typer.echo(f"report: {Path(doc['files']['site_scan.png']).parent / 'report.md'}")


def run_sn_llzo_command(
    engine: Annotated[
        str, typer.Option(help="Geometry/energy engine: mlip, cp2k or vasp.")
    ] = "mlip",
    electronic: Annotated[
        str,
        typer.Option(
            help="Electronic stage (CDD, ELF, work function, charges): cp2k, vasp or none."
        ),
    ] = "cp2k",
    preset: Annotated[str, typer.Option(help="fast (laptop) or production.")] = "fast",
    garnet: Annotated[
        str, typer.Option(help="Garnet: llzo (Li7La3Zr2O12) or llzto (Ta-doped, x = 0.5).")
    ] = "llzo",
    miller: Annotated[tuple[int, int, int], typer.Option(help="LLZO facet H K L.")] = (0, 0, 1),
    termination: Annotated[
        str | None, typer.Option(help="Slab termination: index or name (la-rich, li-rich).")
    ] = None,
    thickness: Annotated[float | None, typer.Option(help="Slab thickness (Å).")] = None,
    vacuum: Annotated[float, typer.Option(help="Vacuum (Å).")] = 15.0,
    mlip_model: Annotated[
        str, typer.Option("--mlip-model", help="atomate2 force-field name (CHGNet default).")
    ] = "CHGNet",
    n_sites: Annotated[
        int | None, typer.Option(help="La sites scanned (default from the preset).")
    ] = None,
    orientation: Annotated[
        list[str] | None,
        typer.Option(help="Orientation(s) scanned: upright, flat (repeat the option)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Run and report folder.")] = Path(
        "ssbflow-runs/sn-llzo"
    ),
    db: Annotated[
        Path | None,
        typer.Option(help="montydb store folder (default $SSBFLOW_DB or ./ssbflow-db)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results.json.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Succinonitrile on LLZO: adsorption energy, CDD, ELF, work functions, La/N charges.

    Running the same command again (same --out) resumes: finished jobs come from the store.
    """
    from ssbflow.studies.sn_llzo.study import run_sn_llzo

    doc = run_sn_llzo(
        out=out,
        db=db,
        quiet=quiet or as_json,
        engine=engine,
        electronic=electronic,
        preset=preset,
        miller=miller,
        termination=_termination(termination),
        thickness=thickness,
        vacuum=vacuum,
        mlip_model=mlip_model,
        n_sites=n_sites,
        orientations=orientation,
        garnet=garnet,
    )
    _print_summary(doc, as_json)


def resume_command(
    run_dir: Annotated[Path, typer.Argument(help="Run folder of an earlier `ssbflow run`.")],
    db: Annotated[
        Path | None, typer.Option(help="montydb store folder, if not the default.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results.json.")] = False,
) -> None:
    """Continue an interrupted or failed run: finished jobs are taken from the store."""
    from ssbflow.runtime.runner import RUN_FILE

    run_file = run_dir / RUN_FILE
    if not run_file.is_file():
        raise InputError(f"{str(run_dir)!r} holds no ssbflow run ({RUN_FILE} missing)")
    settings = json.loads(run_file.read_text())["settings"]
    if settings.get("study") != "sn-llzo":
        raise InputError(
            f"{str(run_dir)!r} holds study {settings.get('study')!r}; rerun its own "
            "`ssbflow run` command with the same --out to resume it"
        )
    from ssbflow.studies.sn_llzo.study import run_sn_llzo

    options = {k: v for k, v in settings.items() if k != "study"}
    options["thickness"] = options.pop("thickness_A")
    options["vacuum"] = options.pop("vacuum_A")
    options["miller"] = tuple(options["miller"])
    doc = run_sn_llzo(out=run_dir, db=db, quiet=as_json, **options)
    _print_summary(doc, as_json)


def register(groups: CliGroups) -> None:
    """Attach ``run sn-llzo`` and ``resume``."""
    groups.run.command("sn-llzo")(run_sn_llzo_command)
    groups.root.command("resume")(resume_command)
