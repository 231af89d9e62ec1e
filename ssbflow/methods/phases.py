"""Phase energies: relax (cell + positions) bulk phases and return ``ComputedStructureEntry``.

Two paths give the same entries:

* :func:`compute_entries` — pure Python, relaxes with a force field through ASE in this
  process (one model load for all phases); used by ``ssbflow reaction`` and the screens.
* :class:`PhaseEnergyMaker` — a jobflow ``Flow``: one relaxation job per phase from the
  engine's ``relax_maker`` (force field, CP2K or VASP), then a job that turns the task
  documents into entries; used by ``ssbflow run inn-li`` (store, resume).

Every entry carries ``data["energy_source"]`` (which engine and settings made the energy) and
``data["settings"]``; :func:`check_same_source` refuses to mix energies of different sources,
e.g. raw engine energies with Materials-Project-corrected ones.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobflow import Flow, Maker, job
from monty.json import MontyDecoder
from pymatgen.core import Structure
from pymatgen.entries.computed_entries import ComputedEntry, ComputedStructureEntry

from ssbflow.analysis.reactions import check_same_source  # noqa: F401  (public name kept here)
from ssbflow.errors import InputError
from ssbflow.structures.phases import PHASE_LIBRARY

#: Source label of Materials Project entries with/without their energy corrections.
MP_CORRECTED = "materials-project (corrected)"
MP_RAW = "materials-project (raw, uncorrected)"


def mlip_settings(model: str = "CHGNet", fmax_eV_per_A: float = 0.05,
                  max_steps: int = 500) -> dict[str, Any]:
    """Settings recorded with an MLIP relaxation (model, weights, package, convergence)."""
    from ssbflow.engines import get_engine

    engine = get_engine("mlip", mlip_model=model).settings()
    return {"engine": "mlip", "mlip_model": engine["model"],
            "model_version": engine["model_version"],
            "package_version": engine["package_version"],
            "fmax_eV_per_A": fmax_eV_per_A, "max_steps": max_steps,
            "relax": "cell + positions (FrechetCellFilter, FIRE)"}


def energy_source(settings: Mapping[str, Any]) -> str:
    """A label that is equal for two energies exactly when they may be compared."""
    if settings.get("engine") == "mlip":
        model = settings.get("mlip_model") or settings.get("model")
        return f"mlip:{model}:{settings.get('model_version')}"
    keys = ("engine", "preset", "functional", "xc", "basis", "encut_eV", "cutoff_Ry")
    return ":".join(str(settings[k]) for k in keys if k in settings) or "unknown"


def relax_structure_mlip(structure: Structure, *, relax_cell: bool = True,
                         fmax_eV_per_A: float = 0.05, max_steps: int = 500,
                         model: str = "CHGNet") -> tuple[Structure, float]:
    """Relax with force field ``model`` (:func:`ssbflow.methods.relax.relax`: FIRE,
    FrechetCellFilter when ``relax_cell``).

    Returns
    -------
    structure, energy_eV
        Relaxed structure and its total energy (eV).
    """
    from ase.calculators.calculator import PropertyNotImplementedError
    from pymatgen.io.ase import AseAtomsAdaptor

    from ssbflow.engines.mlip import energy_forces_calculator, mlip_calculator
    from ssbflow.methods.relax import relax

    calc = mlip_calculator(model)
    done = relax(structure, calc if relax_cell else energy_forces_calculator(calc),
                 fmax_eV_per_A=fmax_eV_per_A, max_steps=max_steps, optimizer="FIRE",
                 relax_cell=relax_cell)
    final = AseAtomsAdaptor.get_structure(done.atoms)
    probe = done.atoms.copy()
    probe.calc = calc  # site moments (μB) where the model predicts them (CHGNet's "magmom")
    try:
        final.add_site_property("magmom", [float(m) for m in probe.get_magnetic_moments()])
    except PropertyNotImplementedError:  # a force field without moments
        pass
    return final, done.energy_eV


def make_entry(name: str, structure: Structure, energy_eV: float,
               settings: Mapping[str, Any], source: str | None = None) -> ComputedStructureEntry:
    """A ``ComputedStructureEntry`` with the settings and source recorded in ``data``."""
    settings = dict(settings)
    return ComputedStructureEntry(
        structure, energy_eV, entry_id=name,
        data={"name": name, "settings": settings,
              "energy_source": source or energy_source(settings)},
    )


def compute_entries(
    structures: Mapping[str, Structure],
    *,
    engine: str = "mlip",
    fmax_eV_per_A: float = 0.05,
    max_steps: int = 500,
    relax_cell: Mapping[str, bool] | None = None,
    cache: dict[str, ComputedStructureEntry] | None = None,
    model: str = "CHGNet",
) -> list[ComputedStructureEntry]:
    """Relax every structure and return one entry per structure.

    Parameters
    ----------
    structures : name → structure.
    engine : only ``"mlip"`` runs in-process; use :class:`PhaseEnergyMaker` for DFT engines.
    fmax_eV_per_A, max_steps : relaxation convergence.
    relax_cell : name → whether to relax the cell (default True; library N2 is False).
    cache : entries already computed, by name; new ones are added to it (one cache per model).
    model : force field (:data:`ssbflow.engines.mlip.MODEL_VARIANTS` or an atomate2 name).

    Raises
    ------
    ValueError
        Unknown engine.
    """
    if engine != "mlip":
        raise ValueError(f"engine {engine!r}: in-process relaxations support only 'mlip'; "
                         "use the workflow (ssbflow run) for DFT engines")
    settings = mlip_settings(model, fmax_eV_per_A=fmax_eV_per_A, max_steps=max_steps)
    cache = {} if cache is None else cache
    entries = []
    for name, structure in structures.items():
        if name not in cache:
            cell = _relax_cell_default(name) if relax_cell is None else relax_cell.get(name, True)
            final, energy_eV = relax_structure_mlip(
                structure, relax_cell=cell, fmax_eV_per_A=fmax_eV_per_A, max_steps=max_steps,
                model=model)
            cache[name] = make_entry(name, final, energy_eV, {**settings, "relax_cell": cell})
        entries.append(cache[name])
    return entries


def _relax_cell_default(name: str) -> bool:
    phase = PHASE_LIBRARY.get(name.lower())
    return phase.relax_cell if phase is not None else True


def library_structures(names: Iterable[str]) -> dict[str, Structure]:
    """Library phases by name (see :data:`ssbflow.structures.phases.PHASE_LIBRARY`)."""
    from ssbflow.structures.phases import phase

    return {n.lower(): phase(n) for n in names}


def read_cif_folder(folder: str | Path) -> dict[str, Structure]:
    """User structures: every ``*.cif`` in ``folder``, named by file stem.

    Raises
    ------
    InputError
        ``folder`` is not a directory, holds no CIF, or a CIF cannot be parsed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"CIF folder {str(folder)!r} is not a directory")
    files = sorted(folder.glob("*.cif"))
    if not files:
        raise InputError(f"CIF folder {str(folder)!r} holds no *.cif file")
    out = {}
    for path in files:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out[path.stem] = Structure.from_file(path)
        except Exception as exc:  # pymatgen raises many types for bad CIFs
            raise InputError(f"CIF file {str(path)!r} cannot be read: {exc}") from exc
    return out


def read_mp_entries(path: str | Path) -> list[ComputedEntry]:
    """Entries exported from the Materials Project (a JSON list of entry dicts).

    Each entry gets ``data["energy_source"]``: :data:`MP_CORRECTED` when it carries energy
    corrections, else :data:`MP_RAW`. No web API is called.

    Raises
    ------
    InputError
        The file is missing, not JSON, or not a list of computed entries.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"entries file {str(path)!r} does not exist")
    try:
        raw = json.loads(path.read_text(), cls=MontyDecoder)
    except json.JSONDecodeError as exc:
        raise InputError(f"entries file {str(path)!r} is not JSON: {exc}") from exc
    if isinstance(raw, dict) and "entries" in raw:
        raw = raw["entries"]
    if not isinstance(raw, list) or not raw:
        raise InputError(f"entries file {str(path)!r}: expected a non-empty list of entries")
    entries = []
    for i, item in enumerate(raw):
        if isinstance(item, dict):
            try:
                item = ComputedEntry.from_dict(item) if "structure" not in item else \
                    ComputedStructureEntry.from_dict(item)
            except Exception as exc:
                raise InputError(f"entries file {str(path)!r}: item {i} is not a computed "
                                 f"entry ({exc})") from exc
        if not isinstance(item, ComputedEntry):
            raise InputError(f"entries file {str(path)!r}: item {i} is not a computed entry")
        corrected = abs(item.correction) > 1e-12
        item.data = {**(item.data or {}),
                     "energy_source": MP_CORRECTED if corrected else MP_RAW}
        entries.append(item)
    return entries


# --- jobflow path ------------------------------------------------------------------------


def relax_maker(engine: str = "mlip", *, relax_cell: bool = True, fmax_eV_per_A: float = 0.05,
                max_steps: int = 500, preset: str = "fast",
                mlip_model: str = "CHGNet") -> tuple[Maker, dict[str, Any]]:
    """The engine's relaxation maker and the settings to record.

    Uses :func:`ssbflow.engines.get_engine` (the registry's engine names).
    """
    from ssbflow.engines import get_engine

    eng = get_engine(engine, preset=preset, mlip_model=mlip_model)
    maker = eng.relax_maker(relax_cell=relax_cell, fmax_eV_per_A=fmax_eV_per_A,
                            max_steps=max_steps)
    settings = {**eng.settings(), "fmax_eV_per_A": fmax_eV_per_A, "max_steps": max_steps}
    if engine == "mlip":
        settings = {**mlip_settings(mlip_model, fmax_eV_per_A, max_steps), **settings}
    return maker, settings


@job
def collect_entries(names: list[str], energies_eV: list[float], structures: list[Structure],
                    settings: dict[str, Any]) -> list[dict]:
    """Turn relaxation outputs into ``ComputedStructureEntry`` dicts (job output)."""
    return [make_entry(n, s, float(e), settings).as_dict()
            for n, e, s in zip(names, energies_eV, structures, strict=True)]


@dataclass
class PhaseEnergyMaker(Maker):
    """Relax a set of phases with one engine and collect ``ComputedStructureEntry`` dicts.

    Attributes
    ----------
    engine, preset : engine choice (see ``ssbflow.engines.registry``).
    mlip_model : force field of the ``mlip`` engine.
    fmax_eV_per_A, max_steps : relaxation convergence.
    """

    name: str = "phase energies"
    engine: str = "mlip"
    preset: str = "fast"
    mlip_model: str = "CHGNet"
    fmax_eV_per_A: float = 0.05
    max_steps: int = 500
    extra_settings: dict[str, Any] = field(default_factory=dict)

    def make(self, structures: Mapping[str, Structure]) -> Flow:
        """One relaxation job per phase, then :func:`collect_entries`."""
        jobs, energies, finals = [], [], []
        settings: dict[str, Any] = {}
        for name, structure in structures.items():
            maker, settings = relax_maker(self.engine, relax_cell=_relax_cell_default(name),
                                          fmax_eV_per_A=self.fmax_eV_per_A,
                                          max_steps=self.max_steps, preset=self.preset,
                                          mlip_model=self.mlip_model)
            relax = maker.make(structure)
            relax.name = f"relax {name}"
            jobs.append(relax)
            energies.append(relax.output.output.energy)
            finals.append(relax.output.structure)
        collect = collect_entries(list(structures), energies, finals,
                                  {**settings, **self.extra_settings})
        collect.name = "collect entries"
        return Flow([*jobs, collect], output=collect.output, name=self.name)


def entries_from_dicts(dicts: Iterable[dict | ComputedStructureEntry]
                       ) -> list[ComputedStructureEntry]:
    """Entries back from a :class:`PhaseEnergyMaker` flow output (dicts, or entries when
    jobflow has already deserialised them)."""
    return [d if isinstance(d, ComputedStructureEntry) else ComputedStructureEntry.from_dict(d)
            for d in dicts]
