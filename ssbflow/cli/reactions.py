"""``ssbflow reaction`` and ``ssbflow screen`` (``run inn-li|llto-li|screening`` are generated
from the study registry: :mod:`ssbflow.cli.studies`)."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from pymatgen.core import Composition

from ssbflow.cli._groups import CliGroups
from ssbflow.cli.options import WORKERS_HELP
from ssbflow.errors import InputError

#: The force-field options of ``reaction`` and ``screen`` (those of ``run`` come from
#: :class:`ssbflow.studies.committee.ModelOptions`).
MlipModelOpt = Annotated[str, typer.Option(
    "--mlip-model", help="Force field (CHGNet default; CHGNet-r2SCAN, SevenNet-0, SevenNet-MF-0, "
    "...).")]
ModelsOpt = Annotated[str | None, typer.Option(
    "--models", help="Several force fields, comma-separated (e.g. CHGNet,SevenNet-0): "
    "per-model values, mean, spread, rankings compared.")]
CommitteeOpt = Annotated[bool, typer.Option(
    "--committee", help="The offline committee: CHGNet, CHGNet-r2SCAN, SevenNet-0, "
    "SevenNet-MF-0.")]


def _gather_entries(formulas: list[str], engine: str, structures_dir: Path | None,
                    mp_entries: Path | None, model: str = "CHGNet") -> list:
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
    return compute_entries(structures, engine=engine, model=model)


def _free_energy(named_result, entries: list, temperature_K: float,
                 mp_entries: Path | None, model: str = "CHGNet") -> dict:
    """ΔG(T) of a named reaction: harmonic F_vib of each phase with the same force field."""
    from ssbflow.analysis.reactions import named_reaction_free_energy_eV, parse_reaction
    from ssbflow.methods.phonons import harmonic_free_energy_eV_per_atom

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
        f_vib[formula] = harmonic_free_energy_eV_per_atom(entry.structure, [temperature_K],
                                                          mlip_model=model)[0]
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
    mlip_model: MlipModelOpt = "CHGNet",
    models: ModelsOpt = None,
    committee: CommitteeOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    check_dft: Annotated[bool, typer.Option(
        "--check-dft", help="Also CP2K single points of the phases at the MLIP geometry "
        "(--dft-preset): the reaction energy at the DFT level and DFT − MLIP.")] = False,
    dft_preset: Annotated[str, typer.Option(
        "--dft-preset", help="CP2K preset of --check-dft: fast (Γ, SZV: a sign check) or "
        "production (k-points, smearing, DZVP).")] = "fast",
) -> None:
    """Reaction energy of two phases (most negative over mixing ratios), or of a named
    reaction per formula unit. Every phase is relaxed with the same engine; with --models
    (or --committee) once per force field, reported per model with mean and spread."""
    from ssbflow.engines.mlip import COMMITTEE_MODELS, model_name, parse_models

    chosen = (parse_models(models) if models else
              COMMITTEE_MODELS if committee else (model_name(mlip_model),))
    if len(chosen) > 1 and mp_entries is not None:
        raise InputError("--models/--committee need computed phases, not --mp-entries")
    if dft_preset not in ("fast", "production"):
        raise InputError(f"--dft-preset {dft_preset!r}: expected fast or production")
    results = {model: _reaction(a, b, named, engine, structures, mp_entries, temperature, model,
                                dft_preset if check_dft and model == chosen[0] else None)
               for model in chosen}
    result = _with_committee(results)
    if as_json:
        typer.echo(json.dumps(result))
        return
    for model, one in results.items():
        if len(results) > 1:
            typer.echo(f"[{model}]")
        _print_reaction(one, named is not None, temperature)
    if len(results) > 1:
        from ssbflow.studies.committee import committee_lines

        for line in committee_lines(result):
            typer.echo(line)


def _reaction(a: str | None, b: str | None, named: str | None, engine: str,
              structures: Path | None, mp_entries: Path | None, temperature: float | None,
              model: str, check_dft: str | None = None) -> dict:
    """One model's reaction result (named reaction, or reactivity of A with B); with
    ``check_dft`` (a CP2K preset) also CP2K single points at this model's geometries
    (``dft_check``)."""
    from ssbflow.analysis.reactions import named_reaction_energy, parse_reaction, reactivity

    if named is not None:
        if a is not None or b is not None:
            raise InputError("give either two reactants A B or --named, not both")
        left, right = parse_reaction(named)
        entries = _gather_entries([*left, *right], engine, structures, mp_entries, model)
        named_result = named_reaction_energy(entries, named)
        result = named_result.to_dict()
        if temperature is not None:
            result.update(_free_energy(named_result, entries, temperature, mp_entries, model))
    else:
        if a is None or b is None:
            raise InputError("missing reactants: give A B (e.g. `ssbflow reaction InN Li`) "
                             "or --named")
        entries = _gather_entries([a, b], engine, structures, mp_entries, model)
        result = reactivity(entries, a, b).to_dict()
    if check_dft is not None:
        from ssbflow.methods.dft_check import cli_dft_check

        result["dft_check"] = cli_dft_check(entries, named, a, b, preset=check_dft)
    return result


#: Reaction numbers compared across the models of ``--models``.
_COMMITTEE_KEYS = ("reaction_energy_eV", "reaction_energy_eV_per_atom",
                   "reaction_energy_eV_per_Li", "reaction_free_energy_eV")


def _with_committee(results: dict[str, dict]) -> dict:
    """One model: its result. Several: the first model's result with ``models``,
    ``per_model`` (every model's result), ``committee`` (per key: per_model, mean, spread)
    and ``committee_flags`` (products that differ between models)."""
    from ssbflow.analysis.committee import committee_summary

    first = next(iter(results.values()))
    if len(results) == 1:
        return first
    headlines = {m: {k: r[k] for k in _COMMITTEE_KEYS if r.get(k) is not None}
                 for m, r in results.items()}
    products = {m: sorted(r.get("products", [])) for m, r in results.items()}
    summary = committee_summary(headlines, {m: {"products": p} for m, p in products.items()})
    return {**first, "models": list(results), "per_model": results,
            "committee": summary["quantities"], "committee_rankings": summary["rankings"],
            "committee_flags": summary["flags"]}


def _print_reaction(result: dict, named: bool, temperature: float | None) -> None:
    if named:
        typer.echo(f"{result['reaction']}: ΔE = {result['reaction_energy_eV']:.4f} eV "
                   f"({result['reaction_energy_eV_per_atom']:.4f} eV/atom; "
                   f"{result['energy_source']})")
        if temperature is not None:
            typer.echo(f"ΔG({temperature:g} K) = {result['reaction_free_energy_eV']:.4f} eV "
                       "(harmonic phonons)")
        if result.get("dft_check"):
            dft = result["dft_check"]
            typer.echo(f"DFT check ({dft['functional']}, MLIP geometry): ΔE = "
                       f"{dft['reaction_energy_eV']:.4f} eV, DFT − MLIP "
                       f"{dft['dft_minus_mlip_eV']:+.4f} eV")
        return
    per_li = result["reaction_energy_eV_per_Li"]
    typer.echo(f"{result['reaction']}")
    typer.echo(f"reaction energy: {result['reaction_energy_eV_per_atom']:.4f} eV/atom"
               + (f", {per_li:.4f} eV/Li" if per_li is not None else ""))
    typer.echo("mixing ratio (atomic fraction): "
               + ", ".join(f"{k} {v:.3f}" for k, v in result["mixing_ratio"].items()))
    typer.echo(f"products: {', '.join(result['products'])}   ({result['energy_source']})")


def _stored_candidates(out: Path, db: Path | None, options, retry_failed: bool) -> list[str]:
    """Candidates of the screen run in ``out`` already in the store (those stored with an
    error are first removed from it when ``retry_failed``)."""
    from jobflow.core.flow import get_flow
    from monty.json import MontyDecoder

    from ssbflow.runtime.runner import FLOW_FILE
    from ssbflow.runtime.store import get_job_store
    from ssbflow.runtime.studies import run_settings
    from ssbflow.studies.registry import get_study
    from ssbflow.studies.screening.study import finished_candidates, forget_failed

    study = get_study("screening")
    if not (out / FLOW_FILE).is_file() or run_settings(out) != study.settings(options):
        return []  # a new run (or another run's folder, which run_study refuses)
    flow = get_flow(json.loads((out / FLOW_FILE).read_text(), cls=MontyDecoder))
    store = get_job_store(db)
    store.connect()
    try:
        if retry_failed:
            forget_failed(flow, store)
        stored = finished_candidates(flow, store)
    finally:
        store.close()
    return [c.name for c in options.spec.candidates if c.name in stored]


def screen_command(
    file: Annotated[Path, typer.Argument(help="Screening YAML (see ssbflow/examples/).")],
    out: Annotated[Path, typer.Option(help="Run and report folder.")] = Path(
        "ssbflow-runs/screen"),
    db: Annotated[Path | None, typer.Option(
        help="montydb store folder (default $SSBFLOW_DB or ./ssbflow-db).")] = None,
    retry_failed: Annotated[bool, typer.Option(
        help="Compute again the candidates stored with an error (without it a rerun reuses "
             "them, error included; killed or unfinished candidates are always "
             "computed).")] = False,
    mlip_model: MlipModelOpt = "CHGNet",
    models: ModelsOpt = None,
    committee: CommitteeOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ranking as JSON.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    workers: Annotated[int | None, typer.Option(min=1, help=WORKERS_HELP)] = None,
    submit: Annotated[str | None, typer.Option(
        "--submit", help="Cluster profile: every job (each candidate) its own SLURM job "
        "through jobflow-remote; again with the same --out: rerun what failed.")] = None,
    status: Annotated[bool, typer.Option(
        "--status", help="State of the screen submitted from --out; ranking of the "
        "candidates finished so far.")] = False,
    run: Annotated[bool, typer.Option(
        "--run", help="With --submit: drive the jobflow-remote runner here until the "
        "screen ends (instead of `jf runner start`).")] = False,
    timeout: Annotated[float, typer.Option(help="With --run: seconds at most.")] = 3600.0,
) -> None:
    """Screen candidates (coatings, molecules by name or SMILES) from a YAML file; rank them
    per metric and by a Pareto front over the file's objectives.

    Resumable: a second call with the same --out and --db computes only the candidates not
    yet finished (a killed one is computed again); a failing candidate is recorded with its
    error and the screen goes on, and a rerun reuses that record unless --retry-failed.
    With --models/--committee the screen runs once per force field and says where the
    rankings change between them. With --submit PROFILE the jobs run on SLURM.
    """
    from ssbflow.runtime.studies import run_study
    from ssbflow.studies.registry import get_study
    from ssbflow.studies.screening.spec import load_screen

    study = get_study("screening")
    options = study.parse_options({"spec": load_screen(file), "mlip_model": mlip_model,
                                   "models": models or (), "committee": committee})
    out = out.absolute()
    if submit is not None or status:
        _screen_on_cluster(study, options, out, submit, status, run, timeout, as_json)
        return
    reused = _stored_candidates(out, db, options, retry_failed)
    with contextlib.redirect_stdout(sys.stderr):  # engines print; stdout is for the results
        results = run_study("screening", out, db=db, quiet=quiet or as_json, workers=workers,
                            **options.model_dump(exclude_unset=False))
    computed = [c.name for c in options.spec.candidates if c.name not in reused]
    if as_json:
        committee_keys = ("committee", "committee_rankings", "committee_flags")
        typer.echo(json.dumps({"screen": results["screen"], "computed": computed,
                               "reused": reused, "rankings": results["rankings"],
                               "errors": results["errors"], "files": results["files"],
                               **{k: results[k] for k in committee_keys if k in results}},
                              default=str))
        return
    from ssbflow.studies.committee import committee_lines

    typer.echo(f"computed {len(computed)}, reused {len(reused)} from the store")
    for line in [*study.summary_lines(results), *committee_lines(results)]:
        typer.echo(line)


def _screen_on_cluster(study, options, out: Path, submit: str | None, status: bool,
                       run: bool, timeout: float, as_json: bool) -> None:
    """``--submit PROFILE`` / ``--status`` (:mod:`ssbflow.hpc.screening`)."""
    from ssbflow.hpc import screening

    if status and submit is not None:
        raise InputError("give either --submit PROFILE or --status, not both")
    if status:
        doc = screening.collect_screen(study, options, out)
    else:
        from ssbflow.hpc.profiles import load_profile

        with contextlib.redirect_stdout(sys.stderr):
            doc = screening.submit_screen(study, options, load_profile(submit), out, run=run,
                                          timeout_s=timeout)
    if as_json:
        typer.echo(json.dumps({k: v for k, v in doc.items() if k != "results"}
                              | {"rankings": (doc.get("results") or {}).get("rankings"),
                                 "pareto": (doc.get("results") or {}).get("pareto")},
                              default=str))
        return
    typer.echo(f"flow {doc['flow_id']} in {doc['project']}: {doc['state']}")
    for name, state in doc["candidates"].items():
        typer.echo(f"  {name:<24} {state}")
    if doc["state"] not in ("COMPLETED", "FAILED") and not run:
        typer.echo(f"runner: `jf -p {doc['project']} runner start` (or --run)")
    if doc.get("results"):
        typer.echo("final ranking:" if doc["final"] else "ranking of the finished candidates:")
        for line in study.summary_lines(doc["results"]):
            typer.echo(line)


def register(groups: CliGroups) -> None:
    """``reaction`` and ``screen`` on the root."""
    groups.root.command("reaction")(reaction_command)
    groups.root.command("screen")(screen_command)
