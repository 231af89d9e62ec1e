"""The screening file (YAML) and its parsed form, the options of the ``screening`` study.

The YAML file::

    name: li-reactivity            # screen name
    engine: mlip                   # optional (default mlip = CHGNet)
    metrics: [reaction_energy_with_li]     # and/or the molecular metrics of METRICS
    candidates:
      - formula: InN               # a library phase with this formula
      - name: my-coating
        structure: coating.cif     # a structure file (path relative to the YAML file)
      - molecule: succinonitrile   # a molecule (ssbflow.structures.molecules) for adsorption
      - smiles: "N#CCCC#N"         # a molecule from SMILES (RDKit ETKDG + MMFF), name optional
        name: sn-from-smiles
    fmax_eV_per_A: 0.05            # optional relaxation settings of the phases
    max_steps: 500
    adsorption: {slab: slab.cif, n_sites: 1, orientations: [upright]}   # optional
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from ssbflow.errors import InputError
from ssbflow.structures import limits

STUDY_NAME = "screening"

#: metric -> (value key of its result, axis label).
METRICS = {
    "reaction_energy_with_li": ("reaction_energy_eV_per_atom", "Reaction energy with Li (eV/atom)"),
    "adsorption_energy_on_llzo": ("adsorption_energy_eV", "Adsorption energy on LLZO (eV)"),
    "binding_mode": ("anchor_La_distance_A", "Anchor–La distance (Å)"),
    "frontier_orbitals": ("gap_eV", "HOMO–LUMO gap (eV)"),
}
#: Metrics ranked largest value first (a wider HOMO–LUMO gap is the more stable molecule);
#: the others smallest first (most negative energy, shortest anchor–La distance).
LARGEST_FIRST = frozenset({"frontier_orbitals"})
#: Metrics computed on a molecule (``molecule`` and ``smiles`` candidates); the others on
#: phases (``formula`` and ``structure`` candidates).
MOLECULE_METRICS = frozenset({"adsorption_energy_on_llzo", "binding_mode", "frontier_orbitals"})
#: Candidate kinds that are molecules.
MOLECULE_KINDS = frozenset({"molecule", "smiles"})
#: Candidate kinds, each the key of a candidate in the screening file.
CANDIDATE_KINDS = ("formula", "structure", "molecule", "smiles")

#: Top-level keys of a screening file.
SCREEN_KEYS = frozenset({"name", "engine", "metrics", "candidates", "fmax_eV_per_A",
                         "max_steps", "adsorption", "objectives"})
#: Keys the ``adsorption`` mapping of a screening file may hold.
ADSORPTION_KEYS = frozenset({"slab", "n_sites", "orientations", "site_species", "anchor",
                             "mlip_model"})


class Candidate(BaseModel):
    """One screening candidate.

    Attributes
    ----------
    name : label (unique in the screen).
    kind : ``"formula"``, ``"structure"``, ``"molecule"`` or ``"smiles"``.
    value : the formula, the structure file path (absolute), the molecule name or the SMILES.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: Literal["formula", "structure", "molecule", "smiles"]
    value: str


class ScreenSpec(BaseModel):
    """A parsed screening file (stored with the run: it defines the screen)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    engine: str = "mlip"
    metrics: list[str]
    candidates: list[Candidate]
    source: str = ""
    options: dict[str, Any] = {}
    adsorption: dict[str, Any] = {}
    objectives: list[dict[str, Any]] = []

    def settings(self) -> dict[str, Any]:
        """What defines a result (engine, metrics, relaxation and adsorption settings)."""
        return {"screen": self.name, "engine": self.engine, "metrics": sorted(self.metrics),
                **self.options, **({"adsorption": self.adsorption} if self.adsorption else {})}


class ScreeningResult(BaseModel):
    """Output of the screening flow (its final job's ``output_schema``)."""

    study: str = STUDY_NAME
    screen: str
    settings: dict[str, Any]
    candidates: list[dict[str, Any]] = Field(description=(
        "One document per candidate: status, metrics, errors, seconds."))
    rankings: dict[str, list[dict[str, Any]]] = Field(description=(
        "Metric -> ranked rows (best first: the widest gap, else the smallest value; failed "
        "candidates last, no rank)."))
    objectives: list[dict[str, Any]] = Field(default_factory=list, description=(
        "Objectives of the multi-objective ranking: quantity, direction, weight."))
    pareto: list[dict[str, Any]] = Field(default_factory=list, description=(
        "One row per candidate: objective values, on_front, weighted score, score rank."))


def applies(metric: str, candidate: Candidate) -> bool:
    """Molecular metrics are computed for molecules, the reaction with Li for the others."""
    return (candidate.kind in MOLECULE_KINDS) == (metric in MOLECULE_METRICS)


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
    unknown_keys = sorted(map(str, set(raw) - SCREEN_KEYS))
    if unknown_keys:  # a misspelt key would otherwise be ignored silently
        raise InputError(f"screening file {str(path)!r}: unknown key {unknown_keys[0]!r}; "
                         f"expected some of {', '.join(sorted(SCREEN_KEYS))}")
    metrics = raw.get("metrics", ["reaction_energy_with_li"])
    if isinstance(metrics, str):
        metrics = [metrics]
    if not isinstance(metrics, list) or not metrics:
        raise InputError(f"screening file {str(path)!r}: metrics {metrics!r}; expected a "
                         f"non-empty list of {', '.join(METRICS)}")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise InputError(f"screening file {str(path)!r}: unknown metric {unknown[0]!r}; "
                         f"expected some of {', '.join(METRICS)}")
    candidates: list[Candidate] = []
    for i, item in enumerate(raw["candidates"]):
        if isinstance(item, str):
            item = {"formula": item}
        kinds = [k for k in CANDIDATE_KINDS if k in item] if isinstance(item, dict) else []
        if len(kinds) != 1:
            raise InputError(f"screening file {str(path)!r}: candidate {i + 1} needs exactly "
                             f"one of {', '.join(CANDIDATE_KINDS)}")
        kind = kinds[0]
        value = str(item[kind])
        name = str(item.get("name", item[kind]))
        if kind == "structure" and not Path(value).is_absolute():
            value = str((path.parent / value).resolve())
        if kind == "smiles":  # checked now: a bad SMILES stops the screen before any job
            from ssbflow.structures.smiles import parse_smiles

            rd_mol = parse_smiles(value, label=f"screening file {str(path)!r}: candidate "
                                  f"{name!r}")
            _check_frontier_size(rd_mol.GetNumAtoms(), metrics, name, path)
        candidates.append(Candidate(name=name, kind=kind, value=value))
    names = [c.name for c in candidates]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputError(f"screening file {str(path)!r}: candidate name {duplicates[0]!r} "
                         "appears twice; give each a unique 'name'")
    options = {k: raw[k] for k in ("fmax_eV_per_A", "max_steps") if k in raw}
    adsorption = raw.get("adsorption") or {}
    if not isinstance(adsorption, dict) or set(adsorption) - ADSORPTION_KEYS:
        raise InputError(f"screening file {str(path)!r}: 'adsorption' takes only "
                         f"{', '.join(sorted(ADSORPTION_KEYS))}")
    for key, value, upper in (("max_steps", options.get("max_steps"), limits.MAX_OPT_STEPS),
                              ("adsorption n_sites", adsorption.get("n_sites"),
                               limits.MAX_SITES)):
        if value is not None and not (isinstance(value, int) and 1 <= value <= upper):
            raise InputError(f"screening file {str(path)!r}: {key} {value!r}; expected an "
                             f"integer from 1 to {upper}")
    if "slab" in adsorption:
        slab = Path(str(adsorption["slab"]))
        adsorption["slab"] = str(slab if slab.is_absolute() else (path.parent / slab).resolve())
    if "orientations" in adsorption:
        adsorption["orientations"] = _orientations(adsorption["orientations"], path)
    return ScreenSpec(name=str(raw.get("name", path.stem)), engine=str(raw.get("engine", "mlip")),
                      metrics=list(metrics), candidates=candidates, source=str(path.resolve()),
                      options=options, adsorption=adsorption,
                      objectives=parse_objectives(raw.get("objectives"), metrics, path))


def _check_frontier_size(n_atoms: int, metrics: list[str], name: str, path: Path) -> None:
    """A molecule over the frontier-orbital limit is refused now, not inside its job."""
    from ssbflow.engines.pyscf_molecule import MAX_ATOMS

    if "frontier_orbitals" in metrics and n_atoms > MAX_ATOMS:
        raise InputError(f"screening file {str(path)!r}: candidate {name!r} has {n_atoms} "
                         f"atoms; frontier_orbitals takes at most {MAX_ATOMS}")


def _orientations(value: Any, path: Path) -> list[str]:
    """``orientations``: a list of names; one name alone is a one-item list."""
    from ssbflow.methods.adsorption import ORIENTATIONS

    value = [value] if isinstance(value, str) else value
    if (not isinstance(value, list | tuple) or not value
            or any(v not in ORIENTATIONS for v in value)):
        raise InputError(f"screening file {str(path)!r}: adsorption orientations {value!r}; "
                         f"expected a list of {', '.join(ORIENTATIONS)}")
    return list(value)


#: Objective quantity -> metric that computes it (the ranking's columns).
OBJECTIVE_QUANTITIES = {
    "adsorption_energy_eV": "adsorption_energy_on_llzo",
    "anchor_La_distance_A": "binding_mode",
    "homo_eV": "frontier_orbitals",
    "lumo_eV": "frontier_orbitals",
    "gap_eV": "frontier_orbitals",
    "ip_eV": "frontier_orbitals",
    "ea_eV": "frontier_orbitals",
    "oxidation_limit_V": "frontier_orbitals",
    "reduction_limit_V": "frontier_orbitals",
    "reaction_energy_eV_per_atom": "reaction_energy_with_li",
}


#: Objectives of a screen without ``objectives``: stronger binding, a wider stability window.
#: The reaction with Li has no default direction (a conversion interlayer such as InN is meant
#: to react; a protective coating is not): give it in ``objectives``.
DEFAULT_OBJECTIVES = {
    "adsorption_energy_on_llzo": (("adsorption_energy_eV", "minimise"),),
    "frontier_orbitals": (("oxidation_limit_V", "maximise"), ("reduction_limit_V", "minimise")),
}


def parse_objectives(raw: Any, metrics: list[str], path: Path) -> list[dict[str, Any]]:
    """The ``objectives`` list: ``{quantity: minimise|maximise}`` items, optional ``weight``.

    ``- oxidation_limit_V: maximise`` or ``- {quantity: gap_eV, direction: maximise,
    weight: 2}``. Without ``objectives``: :data:`DEFAULT_OBJECTIVES` of the screen's metrics.
    """
    where = f"screening file {str(path)!r}: objectives"
    if raw is None:
        return [{"quantity": q, "direction": d, "weight": 1.0}
                for m in metrics for q, d in DEFAULT_OBJECTIVES.get(m, ())]
    if not isinstance(raw, list) or not raw:
        raise InputError(f"{where}: expected a list such as [{{gap_eV: maximise}}]")
    out = []
    for item in raw:
        if isinstance(item, dict) and "quantity" not in item and len(item) == 1:
            (quantity, direction), = item.items()
            item = {"quantity": quantity, "direction": direction}
        if not isinstance(item, dict) or set(item) - {"quantity", "direction", "weight"}:
            raise InputError(f"{where}: each item is {{QUANTITY: minimise|maximise}} or "
                             "{quantity, direction, weight}")
        quantity, direction = str(item.get("quantity")), str(item.get("direction"))
        if quantity not in OBJECTIVE_QUANTITIES:
            raise InputError(f"{where}: unknown quantity {quantity!r}; expected one of "
                             f"{', '.join(OBJECTIVE_QUANTITIES)}")
        if OBJECTIVE_QUANTITIES[quantity] not in metrics:
            raise InputError(f"{where}: {quantity!r} needs metric "
                             f"{OBJECTIVE_QUANTITIES[quantity]!r} in 'metrics'")
        if direction not in ("minimise", "maximise"):
            raise InputError(f"{where}: direction {direction!r} of {quantity!r}; expected "
                             "minimise or maximise")
        weight = item.get("weight", 1.0)
        if not isinstance(weight, int | float) or isinstance(weight, bool) or weight < 0:
            raise InputError(f"{where}: weight {weight!r} of {quantity!r}; expected a number "
                             ">= 0")
        out.append({"quantity": quantity, "direction": direction, "weight": float(weight)})
    if not any(o["weight"] > 0 for o in out):
        raise InputError(f"{where}: every weight is 0; give at least one objective a weight > 0")
    return out
