"""Screening of interlayer candidates from a YAML file (``ssbflow screen FILE.yaml``).

The screen is a flow run by the package's runner, so a killed screen restarted with the same
``--out``/``--db`` computes only what is unfinished:

- each phase the reaction energies need (Li, the Li–M phases, each candidate's own phase) is
  relaxed once, in its own job, whichever candidates share it;
- the adsorption slab is relaxed once, in its own job;
- each candidate is its own job; a candidate whose metric fails (a bad formula, an unknown
  molecule, a failed relaxation) is recorded with its error and the others go on;
- a ranking job collects the candidates (:class:`ScreeningResult`, the final output).

The YAML file is described in :mod:`ssbflow.studies.screening.spec`; the report folder (one
ranked CSV, Markdown table and bar chart per metric) is written by
:mod:`ssbflow.studies.screening.report`.
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Any

from jobflow import Flow, job
from pydantic import Field, field_validator
from pymatgen.core import Composition, Structure

from ssbflow.errors import InputError, SsbflowError
from ssbflow.io import as_structure
from ssbflow.studies.base import Study
from ssbflow.studies.committee import ModelOptions
from ssbflow.studies.screening.headline import headline, rankings
from ssbflow.studies.screening.report import ranking_rows, summary_lines, write_report
from ssbflow.studies.screening.spec import (
    METRICS,
    MOLECULE_KINDS,
    STUDY_NAME,
    Candidate,
    ScreeningResult,
    ScreenSpec,
    applies,
    load_screen,
)


class ScreeningOptions(ModelOptions):
    """Options of the ``screening`` study: the parsed screening file (or its path) and the
    force field (``mlip_model``; an ``adsorption: {mlip_model: ...}`` of the file wins for
    the adsorption metric of a one-model screen)."""

    spec: ScreenSpec = Field(description="The screening file (YAML path or parsed spec).")

    @field_validator("spec", mode="before")
    @classmethod
    def _read_file(cls, value: Any) -> Any:
        return load_screen(value) if isinstance(value, str | Path) else value


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


# --- what a candidate needs ----------------------------------------------------------------


def candidate_structure(candidate: Candidate) -> tuple[str, Structure]:
    """The phase name and structure of a formula or structure-file candidate.

    Raises
    ------
    InputError
        Unknown formula or element, unreadable file, or a molecule candidate.
    """
    from ssbflow.analysis.reactions import parse_formula
    from ssbflow.structures.phases import PHASE_LIBRARY

    if candidate.kind == "structure":
        path = Path(candidate.value)
        if not path.is_file():
            raise InputError(f"structure file {candidate.value!r} does not exist")
        try:
            structure = Structure.from_file(path)
        except Exception as exc:
            raise InputError(f"structure file {candidate.value!r} cannot be read: {exc}") from exc
        return f"candidate:{candidate.name}", structure
    if candidate.kind == "formula":
        formula = parse_formula(candidate.value).reduced_formula
        for key, phase in PHASE_LIBRARY.items():
            if Composition(phase.formula).reduced_formula == formula:
                return key, phase.build()
        raise InputError(f"formula {candidate.value!r}: no structure in the phase library; "
                         "give 'structure: FILE' for this candidate")
    raise InputError(f"candidate {candidate.name!r}: a molecule has no reaction energy with Li")


def phases_needed(candidate: Candidate) -> tuple[str, dict[str, Structure]]:
    """The candidate's phase name and every phase of its system with Li, by name."""
    from ssbflow.structures.phases import phases_for_elements

    key, structure = candidate_structure(candidate)
    elements = {el.symbol for el in structure.composition.elements} | {"Li"}
    needed = {p.name: p.build() for p in phases_for_elements(elements)}
    needed.setdefault(key, structure)
    return key, needed


def adsorption_slab(spec: ScreenSpec) -> Structure:
    """The slab of the adsorption metric: the screen's ``slab`` file or the LLZO slab."""
    if "slab" in spec.adsorption:
        path = Path(spec.adsorption["slab"])
        if not path.is_file():
            raise InputError(f"adsorption slab file {str(path)!r} does not exist")
        return Structure.from_file(path)
    from ssbflow.structures.slabs import llzo_slab

    return llzo_slab()


# --- jobs ----------------------------------------------------------------------------------


@job
def phase_entry_job(name: str, structure: Structure, engine: str,
                    options: dict[str, Any]) -> dict[str, Any]:
    """Relax one phase: ``{"name", "entry"}`` or ``{"name", "error"}`` when it fails."""
    from ssbflow.methods.phases import compute_entries

    try:
        (entry,) = compute_entries({name: structure}, engine=engine, **options)
    except Exception as exc:  # recorded; the candidates needing it report it
        return {"name": name, "error": _error_text(exc)}
    return {"name": name, "entry": entry.as_dict()}


@job
def relaxed_slab_job(slab: Structure, engine: str, mlip_model: str) -> dict[str, Any]:
    """The adsorption slab relaxed once for the whole screen (``{"structure"}`` or
    ``{"error"}``)."""
    from ssbflow.methods import adsorption

    try:
        return {"structure": adsorption.mlip_relaxed_slab(slab, engine=engine,
                                                          mlip_model=mlip_model)}
    except Exception as exc:  # recorded with every molecule candidate
        return {"error": _error_text(exc)}


def _reaction_energy_with_li(candidate: Candidate, spec: ScreenSpec, key: str,
                             phases: list[dict[str, Any]]) -> dict[str, Any]:
    """Most negative reaction energy of the candidate with Li (see analysis.reactions)."""
    from pymatgen.entries.computed_entries import ComputedStructureEntry

    from ssbflow.analysis.reactions import reactivity

    failed = [p for p in phases if "error" in p]
    if failed:
        raise SsbflowError(f"relaxation of phase {failed[0]['name']!r} failed: "
                           f"{failed[0]['error']}")
    entries = [p["entry"] if isinstance(p["entry"], ComputedStructureEntry)
               else ComputedStructureEntry.from_dict(p["entry"]) for p in phases]
    formula = next(e for e in entries if e.entry_id == key).composition.reduced_formula
    if formula == "Li":
        raise InputError(f"candidate {candidate.name!r} is Li itself")
    return {**reactivity(entries, formula, "Li").to_dict(), "formula": formula}


def candidate_molecule(candidate: Candidate):
    """The molecule of a ``molecule`` (built-in name) or ``smiles`` candidate."""
    if candidate.kind == "smiles":
        from ssbflow.structures.smiles import molecule_from_smiles

        return molecule_from_smiles(candidate.value, label=f"candidate {candidate.name!r}")
    from ssbflow.structures.molecules import molecule

    return molecule(candidate.value)


def default_anchor(mol) -> str:
    """Element placed above the surface cation: N, else O, else F, else S, else the first
    non-H element (the file's ``adsorption: {anchor: X}`` wins)."""
    symbols = [site.specie.symbol for site in mol]
    return next((el for el in ("N", "O", "F", "S") if el in symbols),
                next((el for el in symbols if el != "H"), symbols[0]))


def _adsorption_energy_on_llzo(candidate: Candidate, spec: ScreenSpec,
                               slab: dict[str, Any], mol) -> dict[str, Any]:
    """MLIP adsorption energy of a molecule on the screen's relaxed slab, with its binding
    mode (anchor atom and anchor–La distance in the relaxed adsorbate)."""
    from ssbflow.analysis.binding import binding_mode
    from ssbflow.methods import adsorption

    if "error" in slab:
        raise SsbflowError(f"relaxation of the adsorption slab failed: {slab['error']}")
    relaxed = slab["structure"]
    kwargs = {k: v for k, v in spec.adsorption.items() if k != "slab"}
    if "orientations" in kwargs:
        kwargs["orientations"] = tuple(kwargs["orientations"])
    kwargs.setdefault("anchor", default_anchor(mol))
    result = adsorption.mlip_adsorption_energy(
        mol, engine=spec.engine, relax_slab=False,
        slab=as_structure(relaxed),
        **kwargs)
    structure_ab = result["structure_ab"]
    if isinstance(structure_ab, dict):
        structure_ab = Structure.from_dict(structure_ab)
    mode = binding_mode(structure_ab, result["n_atoms_slab"],
                        kwargs.get("site_species", "La"))
    return {k: result[k] for k in ("adsorption_energy_eV", "site", "orientation")
            if k in result} | {"formula": mol.composition.hill_formula.replace(" ", ""),
                               "placed_anchor": kwargs["anchor"], "binding_mode": mode}


@job
def frontier_job(candidate: dict[str, Any]) -> dict[str, Any]:
    """HOMO, LUMO, gap, ΔSCF IP/EA (PySCF) and the oxidation/reduction limits vs Li/Li+ of
    one molecule candidate: its own job (the molecular DFT of a candidate), ``{"error"}``
    when it fails."""
    from ssbflow.analysis import redox
    from ssbflow.engines.pyscf_molecule import frontier_orbitals

    try:
        mol = candidate_molecule(Candidate.model_validate(candidate))
        result = frontier_orbitals(mol)
    except Exception as exc:  # recorded with the candidate; the screen goes on
        return {"error": _error_text(exc)}
    return {**result, "formula": mol.composition.hill_formula.replace(" ", ""),
            "oxidation_limit_V": redox.oxidation_limit_V(result["ip_eV"]),
            "reduction_limit_V": redox.reduction_limit_V(result["ea_eV"]),
            "limits_conversion": redox.CONVERSION,
            "method_label": (f"{result['method']['code']} {result['method']['xc']}/"
                             f"{result['method']['basis']} (density fitting), vertical ΔSCF"),
            "geometry": (mol.properties or {}).get("conformer_method", "ssbflow.structures"
                                                   ".molecules (standard bond lengths)"),
            "geometry_converged": (mol.properties or {}).get("force_field_converged")}


def _molecule_metrics(candidate: Candidate, spec: ScreenSpec, slab: dict[str, Any] | None,
                      frontier: dict[str, Any] | None, metrics: dict[str, Any],
                      errors: dict[str, str]) -> None:
    """The molecular metrics of one candidate into ``metrics`` (failures into ``errors``)."""
    wanted = [m for m in spec.metrics if applies(m, candidate)]
    try:
        mol = candidate_molecule(candidate)
    except Exception as exc:
        errors.update({m: _error_text(exc) for m in wanted})
        return
    if "adsorption_energy_on_llzo" in wanted or "binding_mode" in wanted:
        try:
            ads = _adsorption_energy_on_llzo(candidate, spec, slab or {}, mol)
        except Exception as exc:  # recorded with the candidate; the screen goes on
            for m in {"adsorption_energy_on_llzo", "binding_mode"} & set(wanted):
                errors[m] = _error_text(exc)
            if not isinstance(exc, ValueError):
                errors["adsorption_traceback"] = traceback.format_exc(limit=5)
        else:
            mode = ads.pop("binding_mode")
            if "adsorption_energy_on_llzo" in wanted:
                metrics["adsorption_energy_on_llzo"] = ads
            if "binding_mode" in wanted:
                metrics["binding_mode"] = {**mode, "formula": ads["formula"],
                                           "placed_anchor": ads["placed_anchor"]}
    if "frontier_orbitals" in wanted:
        if frontier is None or "error" in frontier:
            errors["frontier_orbitals"] = (frontier or {}).get("error", "not computed")
        else:
            metrics["frontier_orbitals"] = frontier


@job
def candidate_job(candidate: dict[str, Any], spec: dict[str, Any], key: str | None,
                  phases: list[dict[str, Any]] | None, slab: dict[str, Any] | None,
                  setup_error: str | None,
                  frontier: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every metric of one candidate (the frontier orbitals from its own job, ``frontier``);
    a failing metric is recorded with its error."""
    candidate, spec = Candidate.model_validate(candidate), ScreenSpec.model_validate(spec)
    start = time.perf_counter()
    metrics: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if candidate.kind in MOLECULE_KINDS:
        _molecule_metrics(candidate, spec, slab, frontier, metrics, errors)
    elif "reaction_energy_with_li" in spec.metrics:
        metric = "reaction_energy_with_li"
        try:
            if setup_error is not None:
                raise InputError(setup_error)
            metrics[metric] = _reaction_energy_with_li(candidate, spec, key, phases or [])
        except Exception as exc:  # recorded with the candidate; the screen goes on
            errors[metric] = _error_text(exc) if setup_error is None else setup_error
            if not isinstance(exc, ValueError):
                errors[metric + "_traceback"] = traceback.format_exc(limit=5)
    if not metrics and not errors:
        errors["candidate"] = (f"no metric of {spec.metrics} applies to a {candidate.kind} "
                               "candidate")
    return {"name": candidate.name, "candidate_kind": candidate.kind, "value": candidate.value,
            "status": "ok" if not errors else ("partial" if metrics else "failed"),
            "metrics": metrics, "errors": errors,
            "seconds": round(time.perf_counter() - start, 2)}


@job(output_schema=ScreeningResult)
def ranking_job(documents: list[dict[str, Any]], spec: dict[str, Any]) -> ScreeningResult:
    """Rank the candidates per metric (the screen's result)."""
    spec = ScreenSpec.model_validate(spec)
    from ssbflow.studies.screening.pareto import pareto_rows

    rankings = {m: rows for m in spec.metrics if (rows := ranking_rows(documents, m))}
    return ScreeningResult(screen=spec.name, settings=spec.settings(), candidates=documents,
                           rankings=rankings, objectives=spec.objectives,
                           pareto=pareto_rows(documents, spec.objectives))


# --- the flow ------------------------------------------------------------------------------


def spec_for_model(spec: ScreenSpec, mlip_model: str) -> ScreenSpec:
    """``spec`` with its phases and, unless the file names one, its adsorption metric
    computed with force field ``mlip_model`` (the model is then part of the settings)."""
    if mlip_model == "CHGNet" and "model" not in spec.options:
        return spec  # the default: settings as stored before the option existed
    adsorption = ({**spec.adsorption, "mlip_model": spec.adsorption.get("mlip_model",
                                                                        mlip_model)}
                  if spec.adsorption or {"adsorption_energy_on_llzo", "binding_mode"}
                  & set(spec.metrics)
                  else spec.adsorption)
    return spec.model_copy(update={"options": {**spec.options, "model": mlip_model},
                                   "adsorption": adsorption})


def make_screening_flow(options: ScreeningOptions, shared: dict[str, Any] | None = None) -> Flow:
    """One job per phase, one for the slab, one per candidate, one ranking.

    ``shared`` (a model committee, :func:`ssbflow.studies.committee.study_flow`): the
    frontier-orbital jobs (DFT, no force field) go there, one per candidate for every model.
    """
    spec = spec_for_model(options.spec, options.mlip_model)
    phase_jobs: dict[str, Any] = {}
    slab_job = None
    jobs: list = []
    candidate_jobs = []

    def phase_output(name: str, structure: Structure):
        if name not in phase_jobs:
            relax = phase_entry_job(name, structure, spec.engine, dict(spec.options))
            relax.name = f"relax {name}"
            phase_jobs[name] = relax
            jobs.append(relax)
        return phase_jobs[name].output

    for candidate in spec.candidates:
        key, phases, slab, setup_error = None, None, None, None
        if "reaction_energy_with_li" in spec.metrics and candidate.kind not in MOLECULE_KINDS:
            try:
                key, needed = phases_needed(candidate)
            except Exception as exc:  # a bad formula or file: the candidate job records it
                setup_error = _error_text(exc)
            else:
                phases = [phase_output(n, s) for n, s in needed.items()]
        if ({"adsorption_energy_on_llzo", "binding_mode"} & set(spec.metrics)
                and candidate.kind in MOLECULE_KINDS):
            if slab_job is None:
                slab_job = relaxed_slab_job(adsorption_slab(spec), spec.engine,
                                            spec.adsorption.get("mlip_model", "CHGNet"))
                slab_job.name = "relax slab"
                jobs.append(slab_job)
            slab = slab_job.output
        frontier = None
        if "frontier_orbitals" in spec.metrics and candidate.kind in MOLECULE_KINDS:
            name = f"frontier {candidate.name}"
            dft = None if shared is None else shared.get(name)
            if dft is None:
                dft = frontier_job(candidate.model_dump(mode="json"))
                dft.name = name
                if shared is None:
                    jobs.append(dft)
                else:
                    shared[name] = dft
            frontier = dft.output
        evaluate = candidate_job(candidate.model_dump(mode="json"), spec.model_dump(mode="json"),
                                 key, phases, slab, setup_error, frontier)
        evaluate.name = f"candidate {candidate.name}"
        candidate_jobs.append(evaluate)
    ranking = ranking_job([j.output for j in candidate_jobs], spec.model_dump(mode="json"))
    ranking.name = "ranking"
    return Flow([*jobs, *candidate_jobs, ranking], output=ranking.output,
                name=f"{STUDY_NAME} {spec.name}")


def screen_jobs(flow: Flow) -> list[tuple[Any, str, str | None]]:
    """Every job of a screening flow with its name less the committee's model suffix and
    that model: ``(job, "candidate X", "SevenNet-0")`` for ``candidate X [SevenNet-0]``
    (model ``None`` outside a committee). A committee's jobs sit in one sub-flow per model
    (named ``screening [model]``, its jobs tagged `` [model]``) and one model-independent
    sub-flow (the ``frontier X`` jobs, untagged)."""
    out: list[tuple[Any, str, str | None]] = []

    def walk(item: Flow, suffix: str) -> None:
        for sub in item.jobs:
            if isinstance(sub, Flow):
                tag = sub.name.removeprefix(f"{STUDY_NAME} ")
                walk(sub, f" {tag}" if tag.startswith("[") and tag.endswith("]") else suffix)
            else:
                out.append((sub, sub.name.removesuffix(suffix) if suffix else sub.name,
                            suffix[2:-1] if suffix else None))

    walk(flow, "")
    return out


def candidate_jobs(flow: Flow) -> dict[str, tuple[str | None, str]]:
    """Job uuid -> (model, candidate name) of the candidate jobs of a screening flow (each
    model's candidate jobs of a committee; model ``None`` outside one)."""
    prefix = "candidate "
    return {j.uuid: (model, name[len(prefix):]) for j, name, model in screen_jobs(flow)
            if name.startswith(prefix)}


def candidate_job_names(flow: Flow) -> dict[str, str]:
    """Job uuid -> candidate name of the candidate jobs of a screening flow."""
    return {uuid: name for uuid, (_, name) in candidate_jobs(flow).items()}


def finished_candidates(flow: Flow, store: Any) -> set[str]:
    """Names of the candidates whose every candidate job (one per model) is in ``store``."""
    names = candidate_job_names(flow)
    stored = {d["uuid"] for d in store.query({"uuid": {"$in": list(names)}},
                                             properties=["uuid"])}
    missing = {name for uuid, name in names.items() if uuid not in stored}
    return set(names.values()) - missing


def forget_failed(flow: Flow, store: Any) -> list[str]:
    """Remove from ``store`` the failed candidates of ``flow`` (and the phases and frontier
    orbitals they failed on, and every ranking), so that the next run computes them again;
    their names.

    Only the documents collection is touched: these jobs put nothing in the ``data`` store
    (and montydb raises on deleting from a collection never written).
    """
    jobs = screen_jobs(flow)
    names = candidate_job_names(flow)
    forgotten: list[str] = []
    for doc in store.query({"uuid": {"$in": [j.uuid for j, _, _ in jobs]}},
                           properties=["uuid", "name", "output"]):
        output = doc.get("output") or {}
        failed = (doc["uuid"] in names and output.get("status") != "ok") or (
            doc["name"].startswith(("relax ", "frontier ")) and "error" in output)
        if failed:
            store.docs_store.remove_docs({"uuid": doc["uuid"]})
            if doc["uuid"] in names and names[doc["uuid"]] not in forgotten:
                forgotten.append(names[doc["uuid"]])
    if forgotten:  # one ranking per model of a committee
        for j, name, _ in jobs:
            if name == "ranking":
                store.docs_store.remove_docs({"uuid": j.uuid})
    return forgotten


STUDY = Study(
    name=STUDY_NAME,
    help="Screen candidates (coatings, molecules) of a screening YAML file; rank them per "
         "metric (" + ", ".join(METRICS) + ").",
    options=ScreeningOptions,
    make_flow=make_screening_flow,
    shares_jobs=True,
    write_report=write_report,
    summary_lines=summary_lines,
    headline=headline,
    rankings=rankings,
)
