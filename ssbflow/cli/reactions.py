"""``ssbflow reaction``, ``ssbflow screen``, ``ssbflow run inn-li``, ``ssbflow run llto-li``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pymatgen.core import Composition

from ssbflow.cli._groups import CliGroups
from ssbflow.errors import InputError


def _gather_entries(formulas: list[str], engine: str, structures_dir: Path | None,
                    mp_entries: Path | None) -> list:
    """Entries of the chemical system of ``formulas``: MP file, or relaxed library/user phases."""
    from ssbflow.analysis.reactions import entries_in_system, parse_formula
    from ssbflow.methods.phases import compute_entries, read_cif_folder, read_mp_entries
    from ssbflow.structures.phases import phases_for_elements

    elements = {el.symbol for f in formulas for el in parse_formula(f).elements}
    if mp_entries is not None:
        if structures_dir is not None:
            raise InputError("--mp-entries and --structures cannot be combined: Materials "
                             "Project energies and computed energies must not be mixed")
        return entries_in_system(read_mp_entries(mp_entries), formulas)
    structures = {p.name: p.build() for p in phases_for_elements(elements)}
    if structures_dir is not None:
        for name, s in read_cif_folder(structures_dir).items():
            if {el.symbol for el in s.composition.elements} <= elements:
                structures[f"user:{name}"] = s
    have = {s.composition.reduced_formula for s in structures.values()}
    for f in formulas:
        formula = parse_formula(f).reduced_formula
        if formula not in have:
            raise InputError(f"no structure for {formula!r} in the phase library; give a CIF "
                             "of it with --structures DIR")
    return compute_entries(structures, engine=engine)


def _free_energy(named_result, entries: list, temperature_K: float,
                 mp_entries: Path | None) -> dict:
    """ΔG(T) of a named reaction: harmonic F_vib of each phase with the same force field."""
    from ssbflow.analysis.reactions import named_reaction_free_energy_eV, parse_reaction
    from ssbflow.methods.phases import harmonic_free_energy_eV_per_atom

    if mp_entries is not None:
        raise InputError("--temperature needs computed phases (not --mp-entries)")
    if temperature_K < 0:
        raise InputError(f"--temperature {temperature_K}: expected a temperature >= 0 K")
    left, right = parse_reaction(named_result.reaction)
    f_vib = {}
    for formula in {**left, **right}:
        reduced = Composition(formula).reduced_formula
        entry = min((e for e in entries if e.composition.reduced_formula == reduced),
                    key=lambda e: e.energy_per_atom)
        f_vib[formula] = harmonic_free_energy_eV_per_atom(entry.structure, [temperature_K])[0]
    return {"temperature_K": temperature_K,
            "reaction_free_energy_eV": named_reaction_free_energy_eV(named_result, f_vib),
            "vibrational_free_energy_eV_per_atom": f_vib}


def reaction_command(
    a: Annotated[str | None, typer.Argument(help="First reactant formula (e.g. InN).")] = None,
    b: Annotated[str | None, typer.Argument(help="Second reactant formula (e.g. Li).")] = None,
    named: Annotated[str | None, typer.Option(
        "--named", help="A named reaction, e.g. 'InN + 3 Li -> Li3N + In'.")] = None,
    engine: Annotated[str, typer.Option(help="Engine of the phase energies (mlip).")] = "mlip",
    structures: Annotated[Path | None, typer.Option(
        "--structures", help="Folder of extra CIFs (named by file) to include.")] = None,
    mp_entries: Annotated[Path | None, typer.Option(
        "--mp-entries", help="Materials Project entries JSON to use instead of computing.")
    ] = None,
    temperature: Annotated[float | None, typer.Option(
        "--temperature", help="With --named: also ΔG(T) (K) from harmonic phonons (phonopy).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Reaction energy of two phases (most negative over mixing ratios), or of a named
    reaction per formula unit. Every phase is relaxed with the same engine."""
    from ssbflow.analysis.reactions import named_reaction_energy, parse_reaction, reactivity

    if named is not None:
        if a is not None or b is not None:
            raise InputError("give either two reactants A B or --named, not both")
        left, right = parse_reaction(named)
        entries = _gather_entries([*left, *right], engine, structures, mp_entries)
        named_result = named_reaction_energy(entries, named)
        result = named_result.to_dict()
        if temperature is not None:
            result.update(_free_energy(named_result, entries, temperature, mp_entries))
        if as_json:
            typer.echo(json.dumps(result))
        else:
            typer.echo(f"{result['reaction']}: ΔE = {result['reaction_energy_eV']:.4f} eV "
                       f"({result['reaction_energy_eV_per_atom']:.4f} eV/atom; "
                       f"{result['energy_source']})")
            if temperature is not None:
                typer.echo(f"ΔG({temperature:g} K) = {result['reaction_free_energy_eV']:.4f} eV "
                           "(harmonic phonons)")
        return
    if a is None or b is None:
        raise InputError("missing reactants: give A B (e.g. `ssbflow reaction InN Li`) or --named")
    entries = _gather_entries([a, b], engine, structures, mp_entries)
    result = reactivity(entries, a, b).to_dict()
    if as_json:
        typer.echo(json.dumps(result))
        return
    per_li = result["reaction_energy_eV_per_Li"]
    typer.echo(f"{result['reaction']}")
    typer.echo(f"reaction energy: {result['reaction_energy_eV_per_atom']:.4f} eV/atom"
               + (f", {per_li:.4f} eV/Li" if per_li is not None else ""))
    typer.echo("mixing ratio (atomic fraction): "
               + ", ".join(f"{k} {v:.3f}" for k, v in result["mixing_ratio"].items()))
    typer.echo(f"products: {', '.join(result['products'])}   ({result['energy_source']})")


def screen_command(
    file: Annotated[Path, typer.Argument(help="Screening YAML (see ssbflow/examples/).")],
    out: Annotated[Path, typer.Option(help="Report folder.")] = Path("ssbflow-runs/screen"),
    db: Annotated[Path | None, typer.Option(
        help="montydb store folder (default $SSBFLOW_DB or ./ssbflow-db).")] = None,
    retry_failed: Annotated[bool, typer.Option(
        help="Compute again candidates stored with an error.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ranking as JSON.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Screen candidates (coatings, molecules) from a YAML file; rank them per metric.

    Resumable: candidates already in the store are not computed again; a failing candidate
    is recorded with its error and the screen goes on.
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ssbflow.studies.screening.study import load_screen, ranking_rows, run_screen, write_ranking

    spec = load_screen(file)
    console = Console(stderr=True, quiet=quiet or as_json)
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=console, disable=quiet or as_json) as progress:
        task = progress.add_task(f"screen {spec.name}", total=len(spec.candidates))

        def advance(name: str, done: int, total: int) -> None:
            progress.update(task, completed=done, description=f"screen {spec.name}: {name}")

        result = run_screen(spec, db, progress=advance, retry_failed=retry_failed)
    summary: dict = {"screen": spec.name, "computed": result.computed, "reused": result.reused,
                     "rankings": {}, "files": []}
    for metric in spec.metrics:
        rows = ranking_rows(result.documents, metric)
        if rows:
            summary["rankings"][metric] = rows
            summary["files"] += [str(p) for p in write_ranking(
                rows, metric, Path(out), f"{spec.name}: {metric}")]
    failed = {d["name"]: d["errors"] for d in result.documents if d["errors"]}
    summary["errors"] = failed
    if as_json:
        typer.echo(json.dumps(summary, default=str))
        return
    console = Console()
    console.print(f"computed {len(result.computed)}, reused {len(result.reused)} from the store")
    for metric, rows in summary["rankings"].items():
        console.print(f"[bold]{metric}[/]")
        for row in rows:
            value = row.get("reaction_energy_eV_per_atom", row.get("adsorption_energy_eV"))
            shown = f"{value:.4f}" if isinstance(value, float) else f"error: {row['error']}"
            console.print(f"  {row['rank'] or '-':>3} {row['candidate']:<16} {shown}")
    console.print("files: " + ", ".join(summary["files"]))


def run_inn_li_command(
    out: Annotated[Path, typer.Option(help="Run and report folder.")] = Path(
        "ssbflow-runs/inn-li"),
    db: Annotated[Path | None, typer.Option(
        help="montydb store folder (default $SSBFLOW_DB or ./ssbflow-db).")] = None,
    engine: Annotated[str, typer.Option(help="Engine of the phase relaxations.")] = "mlip",
    md_steps: Annotated[int, typer.Option(
        help="MD steps (1 fs) of the InN|Li reaction cell at 300 K; 0 = no MD.")] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ranking as JSON.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """InN|Li study: reactivity of Au, Zn, In, Fe, Ag, Sn, Mg, Al, Cu and InN with Li
    (ranked table, bar chart) and MLIP MD of the InN|Li reaction cell at 300 K."""
    from ssbflow.runtime.execute import execute_study
    from ssbflow.studies.inn_li.study import InnLiStudyMaker

    if md_steps < 0:
        raise InputError(f"--md-steps {md_steps}: expected 0 or a positive number of steps")
    out = out.absolute()
    maker = InnLiStudyMaker(report_dir=str(out), engine=engine, md_steps=md_steps)
    settings = {"study": "inn-li", "engine": engine, "md_steps": md_steps}
    output, _timings, _ = execute_study(maker.make, settings, out, db=db,
                                       quiet=quiet or as_json)
    rows = output["ranking"]["rows"]
    if as_json:
        typer.echo(json.dumps({"ranking": rows, "files": output["ranking"]["files"],
                               "reaction_cell": output.get("reaction_cell")}, default=str))
        return
    for row in rows:
        per_li = row["reaction_energy_eV_per_Li"]
        typer.echo(f"{row['rank']:>2} {row['candidate']:<5} "
                   f"{row['reaction_energy_eV_per_atom']:8.4f} eV/atom "
                   f"{per_li if per_li is None else round(per_li, 4)!s:>8} eV/Li  "
                   f"{row['reaction']}  {row['note']}")
    typer.echo("files: " + ", ".join(output["ranking"]["files"]))
    cell = output.get("reaction_cell")
    if cell:
        typer.echo(f"reaction cell: Li per N {cell['li_per_n'][0]:.2f} -> "
                   f"{cell['li_per_n'][-1]:.2f}, In-N bonds {cell['in_n_bonds'][0]} -> "
                   f"{cell['in_n_bonds'][-1]} over {cell['time_fs'][-1] / 1000:.2f} ps; "
                   f"{cell['png']}")


def run_llto_li_command(
    out: Annotated[Path, typer.Option(help="Report folder.")] = Path("ssbflow-runs/llto-li"),
    supercell: Annotated[tuple[int, int, int], typer.Option(
        help="LLTO supercell of the doubled perovskite cell.")] = (3, 3, 1),
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """LLTO reduction by Li (MLIP): Li insertion energy and voltage, O-vacancy formation
    energy at Li/Li2O, Ti magnetic moments as Ti3+ evidence."""
    from dataclasses import asdict

    from ssbflow.studies.llto.reduction import llto_reduction, write_llto_report

    result = llto_reduction(tuple(supercell))
    files = write_llto_report(result, out.absolute())
    if as_json:
        typer.echo(json.dumps({**asdict(result), "files": files}))
        return
    typer.echo(f"LLTO {result.formula_host}: Li insertion {result.insertion_energy_eV_per_Li:.3f}"
               f" eV/Li ({result.insertion_voltage_V:.3f} V vs Li/Li+); O vacancy at Li/Li2O "
               f"{result.o_vacancy_formation_energy_eV:.3f} eV; Ti3+ (m > 0.5 μB) host/+Li/−O: "
               f"{result.ti3_host}/{result.ti3_lithiated}/{result.ti3_o_vacancy}")
    typer.echo("files: " + ", ".join(files))


def register(groups: CliGroups) -> None:
    """``reaction`` and ``screen`` on the root; ``inn-li`` under ``run``."""
    groups.root.command("reaction")(reaction_command)
    groups.root.command("screen")(screen_command)
    groups.run.command("inn-li")(run_inn_li_command)
    groups.run.command("llto-li")(run_llto_li_command)
