"""Screening of interlayer candidates from a YAML file, resumable through the store.

The YAML file::

    name: li-reactivity            # screen name (documents are keyed by it)
    engine: mlip                   # optional (default mlip = CHGNet)
    metrics: [reaction_energy_with_li]     # and/or adsorption_energy_on_llzo
    candidates:
      - formula: InN               # a library phase with this formula
      - name: my-coating
        structure: coating.cif     # a structure file (path relative to the YAML file)
      - molecule: succinonitrile   # a molecule (ssbflow.structures.molecules) for adsorption

Each candidate gets one document in the store's ``screening`` collection (same montydb
directory / MongoDB database as the job store) with its metrics or its error. A candidate
whose document exists is not computed again, so a killed screen resumes where it stopped;
a failing candidate is recorded with its error and the screen goes on. Computed phase
energies (Li, the Li–M phases ...) are stored too, so a resume does not relax them again.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pymatgen.core import Composition, Molecule, Structure
from pymatgen.entries.computed_entries import ComputedStructureEntry

from ssbflow.errors import InputError

METRICS = {
    "reaction_energy_with_li": ("reaction_energy_eV_per_atom", "Reaction energy with Li (eV/atom)"),
    "adsorption_energy_on_llzo": ("adsorption_energy_eV", "Adsorption energy on LLZO (eV)"),
}
COLLECTION = "screening"


@dataclass
class Candidate:
    """One screening candidate.

    Attributes
    ----------
    name : label (unique in the screen).
    kind : ``"formula"``, ``"structure"`` or ``"molecule"``.
    value : the formula, the structure file path, or the molecule name.
    """

    name: str
    kind: str
    value: str


@dataclass
class ScreenSpec:
    """A parsed screening file."""

    name: str
    engine: str
    metrics: list[str]
    candidates: list[Candidate]
    source: Path
    options: dict[str, Any] = field(default_factory=dict)
    adsorption: dict[str, Any] = field(default_factory=dict)

    def settings(self) -> dict[str, Any]:
        """What defines a result (a changed setting means new documents)."""
        return {"screen": self.name, "engine": self.engine, "metrics": sorted(self.metrics),
                **self.options, **({"adsorption": self.adsorption} if self.adsorption else {})}


def load_screen(path: str | Path) -> ScreenSpec:
    """Read and validate a screening YAML file.

    Raises
    ------
    InputError
        Missing file, bad YAML, unknown metric, or a malformed candidate.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"screening file {str(path)!r} does not exist")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise InputError(f"screening file {str(path)!r} is not valid YAML: "
                         f"{' '.join(str(exc).split())}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("candidates"), list):
        raise InputError(f"screening file {str(path)!r}: expected a mapping with a "
                         "'candidates' list")
    metrics = raw.get("metrics", ["reaction_energy_with_li"])
    if isinstance(metrics, str):
        metrics = [metrics]
    unknown = [m for m in metrics if m not in METRICS]
    if unknown or not metrics:
        raise InputError(f"screening file {str(path)!r}: unknown metric {unknown[:1] or metrics}; "
                         f"expected some of {', '.join(METRICS)}")
    candidates: list[Candidate] = []
    for i, item in enumerate(raw["candidates"]):
        if isinstance(item, str):
            item = {"formula": item}
        kinds = [k for k in ("formula", "structure", "molecule") if k in (item or {})]
        if not isinstance(item, dict) or len(kinds) != 1:
            raise InputError(f"screening file {str(path)!r}: candidate {i + 1} needs exactly "
                             "one of formula, structure, molecule")
        kind = kinds[0]
        value = str(item[kind])
        if kind == "structure" and not Path(value).is_absolute():
            value = str((path.parent / value).resolve())
        candidates.append(Candidate(str(item.get("name", item[kind])), kind, value))
    names = [c.name for c in candidates]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputError(f"screening file {str(path)!r}: candidate name {duplicates[0]!r} "
                         "appears twice; give each a unique 'name'")
    options = {k: raw[k] for k in ("fmax_eV_per_A", "max_steps") if k in raw}
    adsorption = raw.get("adsorption") or {}
    allowed = {"slab", "n_sites", "orientations", "site_species", "anchor", "mlip_model"}
    if not isinstance(adsorption, dict) or set(adsorption) - allowed:
        raise InputError(f"screening file {str(path)!r}: 'adsorption' takes only "
                         f"{', '.join(sorted(allowed))}")
    if "slab" in adsorption:
        slab = Path(str(adsorption["slab"]))
        adsorption["slab"] = str(slab if slab.is_absolute() else (path.parent / slab).resolve())
    if "orientations" in adsorption:
        adsorption["orientations"] = tuple(adsorption["orientations"])
    return ScreenSpec(str(raw.get("name", path.stem)), str(raw.get("engine", "mlip")),
                      list(metrics), candidates, path, options, adsorption)


# --- store -------------------------------------------------------------------------------


def screening_store(db: str | Path | None = None):
    """A maggma store (collection ``screening``) next to the job store's documents."""
    from ssbflow.runtime.store import get_job_store

    docs = get_job_store(db).docs_store
    if getattr(docs, "uri", None):
        from maggma.stores import MongoURIStore

        return MongoURIStore(docs.uri, collection_name=COLLECTION, database=docs.database)
    from maggma.stores import MontyStore

    return MontyStore(COLLECTION, database_path=docs.database_path,
                      database_name=docs.database_name, storage="sqlite")


def _key(*parts: Any) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


# --- metrics -----------------------------------------------------------------------------


def _candidate_structure(candidate: Candidate) -> tuple[str, Structure]:
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


class PhaseCache(dict):
    """Computed phase entries by name, mirrored in the store (``kind: phase_entry``)."""

    def __init__(self, store, source_settings: dict[str, Any]) -> None:
        super().__init__()
        self.store = store
        self.settings_key = _key(source_settings)
        for doc in store.query({"kind": "phase_entry", "settings_key": self.settings_key}):
            super().__setitem__(doc["name"], ComputedStructureEntry.from_dict(doc["entry"]))

    def __setitem__(self, name: str, entry: ComputedStructureEntry) -> None:
        super().__setitem__(name, entry)
        self.store.update([{"key": _key("phase", name, self.settings_key), "kind": "phase_entry",
                            "name": name, "settings_key": self.settings_key,
                            "entry": entry.as_dict()}], key="key")


def reaction_energy_with_li(candidate: Candidate, spec: ScreenSpec,
                            cache: dict[str, ComputedStructureEntry]) -> dict[str, Any]:
    """Most negative reaction energy of the candidate with Li (see analysis.reactions)."""
    from ssbflow.analysis.reactions import reactivity
    from ssbflow.methods.phases import compute_entries
    from ssbflow.structures.phases import phases_for_elements

    key, structure = _candidate_structure(candidate)
    elements = {el.symbol for el in structure.composition.elements} | {"Li"}
    needed = {p.name: p.build for p in phases_for_elements(elements)}
    needed.setdefault(key, lambda: structure)
    # phases already in the cache (this run or a stored earlier one) are not relaxed again
    compute_entries({n: build() for n, build in needed.items() if n not in cache},
                    engine=spec.engine, cache=cache, **spec.options)
    entries = [cache[n] for n in needed]
    formula = structure.composition.reduced_formula
    if formula == "Li":
        raise InputError(f"candidate {candidate.name!r} is Li itself")
    result = reactivity(entries, formula, "Li").to_dict()
    return {**result, "formula": formula}


def adsorption_energy_on_llzo(candidate: Candidate, spec: ScreenSpec,
                              cache: dict[str, ComputedStructureEntry]) -> dict[str, Any]:
    """MLIP adsorption energy of a molecule on the LLZO slab (the lead's workflow)."""
    if candidate.kind != "molecule":
        raise InputError(f"candidate {candidate.name!r}: adsorption needs a molecule")
    from ssbflow.structures.molecules import molecule

    mol: Molecule = molecule(candidate.value)
    try:
        from ssbflow.methods.adsorption import mlip_adsorption_energy
    except ImportError as exc:
        raise InputError("metric adsorption_energy_on_llzo is not available in this "
                         f"installation ({exc})") from exc
    kwargs = dict(spec.adsorption)
    if "slab" in kwargs:
        slab_path = Path(kwargs.pop("slab"))
        if not slab_path.is_file():
            raise InputError(f"adsorption slab file {str(slab_path)!r} does not exist")
        slab = Structure.from_file(slab_path)
    else:
        from ssbflow.structures.slabs import llzo_slab

        slab = llzo_slab()
    # the slab is relaxed once per screen (and kept in the store for a resumed screen), not
    # once per molecule: it is the largest relaxation of each candidate
    kwargs["slab"] = _relaxed_slab(slab, spec, getattr(cache, "store", None))
    result = mlip_adsorption_energy(mol, engine=spec.engine, relax_slab=False, **kwargs)
    return {k: result[k] for k in ("adsorption_energy_eV", "site", "orientation")
            if k in result} | {"formula": mol.composition.hill_formula.replace(" ", "")}


def _relaxed_slab(slab: Structure, spec: ScreenSpec, store: Any | None) -> Structure:
    """The screen's slab relaxed with its engine, from the store when done before."""
    from ssbflow.methods.adsorption import mlip_relaxed_slab

    model = spec.adsorption.get("mlip_model", "CHGNet")
    key = _key("relaxed_slab", slab.as_dict(), spec.engine, model)
    if store is not None:
        doc = store.query_one({"key": key, "kind": "relaxed_slab"})
        if doc is not None:
            return Structure.from_dict(doc["structure"])
    relaxed = mlip_relaxed_slab(slab, engine=spec.engine, mlip_model=model)
    if store is not None:
        store.update([{"key": key, "kind": "relaxed_slab", "engine": spec.engine,
                       "mlip_model": model, "structure": relaxed.as_dict()}], key="key")
    return relaxed


METRIC_FUNCTIONS: dict[str, Callable[[Candidate, ScreenSpec, dict], dict[str, Any]]] = {
    "reaction_energy_with_li": reaction_energy_with_li,
    "adsorption_energy_on_llzo": adsorption_energy_on_llzo,
}


def _applies(metric: str, candidate: Candidate) -> bool:
    return (candidate.kind == "molecule") == (metric == "adsorption_energy_on_llzo")


# --- the screen --------------------------------------------------------------------------


@dataclass
class ScreenResult:
    """Documents of a screen and what this call did."""

    documents: list[dict[str, Any]]
    computed: list[str]
    reused: list[str]


def run_screen(spec: ScreenSpec, db: str | Path | None = None, *,
               progress: Callable[[str, int, int], None] | None = None,
               retry_failed: bool = False) -> ScreenResult:
    """Compute every metric of every candidate not yet in the store.

    Parameters
    ----------
    spec : the parsed screening file.
    db : store directory (see :func:`ssbflow.runtime.store.get_job_store`).
    progress : called as ``progress(candidate_name, done, total)`` after each candidate.
    retry_failed : compute again candidates whose stored document holds an error.
    """
    store = screening_store(db)
    store.connect()
    settings = spec.settings()
    cache = PhaseCache(store, {"engine": spec.engine, **spec.options})
    documents, computed, reused = [], [], []
    try:
        for i, candidate in enumerate(spec.candidates):
            key = _key(settings, candidate.name, candidate.kind, candidate.value)
            doc = store.query_one({"key": key, "kind": "candidate"})
            if doc is not None and (doc["status"] == "ok" or not retry_failed):
                reused.append(candidate.name)
            else:
                doc = _evaluate(candidate, spec, cache, key, settings)
                store.update([doc], key="key")  # one complete document, written at once
                computed.append(candidate.name)
            documents.append({k: v for k, v in doc.items() if k != "_id"})
            if progress:
                progress(candidate.name, i + 1, len(spec.candidates))
    finally:
        store.close()
    return ScreenResult(documents, computed, reused)


def _evaluate(candidate: Candidate, spec: ScreenSpec, cache: dict, key: str,
              settings: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter()
    metrics: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for metric in spec.metrics:
        if not _applies(metric, candidate):
            continue
        try:
            metrics[metric] = METRIC_FUNCTIONS[metric](candidate, spec, cache)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # recorded with the candidate; the screen goes on
            errors[metric] = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
            if not isinstance(exc, ValueError):
                errors[metric + "_traceback"] = traceback.format_exc(limit=5)
    if not metrics and not errors:
        errors["candidate"] = (f"no metric of {spec.metrics} applies to a {candidate.kind} "
                               "candidate")
    return {"key": key, "kind": "candidate", "screen": spec.name, "settings": settings,
            "name": candidate.name, "candidate_kind": candidate.kind, "value": candidate.value,
            "status": "ok" if not errors else ("partial" if metrics else "failed"),
            "metrics": metrics, "errors": errors,
            "seconds": round(time.perf_counter() - start, 2)}


# --- reports -----------------------------------------------------------------------------


def ranking_rows(documents: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """Rows of the ranking by ``metric`` (most negative first; failed ones last)."""
    value_key = METRICS[metric][0]
    rows = []
    for doc in documents:
        m = doc["metrics"].get(metric)
        err = doc["errors"].get(metric) or doc["errors"].get("candidate", "")
        if m is None and not err:
            continue
        rows.append({
            "candidate": doc["name"],
            "formula": (m or {}).get("formula", ""),
            METRICS[metric][0]: (m or {}).get(value_key),
            "reaction_energy_eV_per_Li": (m or {}).get("reaction_energy_eV_per_Li"),
            "reaction": (m or {}).get("reaction", ""),
            "products": " + ".join((m or {}).get("products", [])),
            "site": (m or {}).get("site", ""),
            "error": err,
        })
    rows.sort(key=lambda r: (r[value_key] is None, r[value_key] if r[value_key] is not None
                             else math.inf))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank if row[value_key] is not None else ""
    return rows


def _columns(metric: str) -> list[str]:
    if metric == "reaction_energy_with_li":
        return ["rank", "candidate", "formula", "reaction_energy_eV_per_atom",
                "reaction_energy_eV_per_Li", "reaction", "products", "error"]
    return ["rank", "candidate", "formula", "adsorption_energy_eV", "site", "error"]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)


def write_ranking(rows: list[dict[str, Any]], metric: str, out: Path, title: str) -> list[Path]:
    """Write ``<metric>.csv``, ``<metric>.md`` and ``<metric>.png`` (bar chart) in ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    cols = _columns(metric)
    csv_path, md_path, png_path = (out / f"{metric}.{ext}" for ext in ("csv", "md", "png"))
    with csv_path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: _fmt(row.get(c)) for c in cols})
    lines = [f"# {title}", "", "| " + " | ".join(cols) + " |",
             "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_fmt(row.get(c)).replace("|", "/") for c in cols) + " |"
              for row in rows]
    md_path.write_text("\n".join(lines) + "\n")
    value_key, label = METRICS[metric]
    ok = [r for r in rows if r[value_key] is not None]
    fig, ax = plt.subplots(figsize=(max(4.0, 0.7 * len(ok) + 2), 3.6))
    ax.bar([r["candidate"] for r in ok], [r[value_key] for r in ok], color="tab:blue")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_ylabel(label)
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    fig.savefig(png_path, dpi=150)
    plt.close(fig)
    return [csv_path, md_path, png_path]
