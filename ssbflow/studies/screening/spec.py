"""The screening file (YAML) and its parsed form, the options of the ``screening`` study.

The YAML file::

    name: li-reactivity            # screen name
    engine: mlip                   # optional (default mlip = CHGNet)
    metrics: [reaction_energy_with_li]     # and/or adsorption_energy_on_llzo
    candidates:
      - formula: InN               # a library phase with this formula
      - name: my-coating
        structure: coating.cif     # a structure file (path relative to the YAML file)
      - molecule: succinonitrile   # a molecule (ssbflow.structures.molecules) for adsorption
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
}

#: Top-level keys of a screening file.
SCREEN_KEYS = frozenset({"name", "engine", "metrics", "candidates", "fmax_eV_per_A",
                         "max_steps", "adsorption"})
#: Keys the ``adsorption`` mapping of a screening file may hold.
ADSORPTION_KEYS = frozenset({"slab", "n_sites", "orientations", "site_species", "anchor",
                             "mlip_model"})


class Candidate(BaseModel):
    """One screening candidate.

    Attributes
    ----------
    name : label (unique in the screen).
    kind : ``"formula"``, ``"structure"`` or ``"molecule"``.
    value : the formula, the structure file path (absolute), or the molecule name.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: Literal["formula", "structure", "molecule"]
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
        "Metric -> ranked rows (most negative first; failed candidates last, no rank)."))


def applies(metric: str, candidate: Candidate) -> bool:
    """Adsorption is computed for molecules, the reaction with Li for the others."""
    return (candidate.kind == "molecule") == (metric == "adsorption_energy_on_llzo")


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
        candidates.append(Candidate(name=str(item.get("name", item[kind])), kind=kind,
                                    value=value))
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
        adsorption["orientations"] = list(adsorption["orientations"])
    return ScreenSpec(name=str(raw.get("name", path.stem)), engine=str(raw.get("engine", "mlip")),
                      metrics=list(metrics), candidates=candidates, source=str(path.resolve()),
                      options=options, adsorption=adsorption)
