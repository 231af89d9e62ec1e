"""DFT spot checks: CP2K single points at geometries an MLIP made, and DFT − MLIP.

Nothing is relaxed with DFT: every structure keeps the MLIP geometry, so a DFT number here
answers "how far is the force field's energy from PBE at the force field's own geometry".

* :func:`cp2k_single_point` — one CP2K ``ENERGY`` run of ssbflow's static input
  (:func:`ssbflow.engines.cp2k.sets.make_generator`, same presets, basis sets, pseudopotentials,
  RKS/UKS choice and D3(BJ) as every other CP2K job), through custodian
  (:func:`ssbflow.engines.cp2k.neb.run_cp2k_in`).
* :func:`dft_entries` / :func:`reaction_dft_check` — phases recomputed by CP2K; they form their
  own set of entries (one energy source, see
  :func:`ssbflow.analysis.reactions.check_same_source`), so reaction energies follow at the
  DFT level next to the MLIP ones.
* :func:`band_dft_check` — endpoints and highest image of an MLIP band: the DFT barrier along
  the MLIP path, on a reduced cell (:func:`reduced_cell`) when the band's cell is too big.

A Γ-point preset (``fast``) computes each bulk phase in the smallest supercell whose three
lengths reach ``min_length_A`` (recorded per phase); a k-point preset (``production``) uses
the cell as it is.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from jobflow import job
from pymatgen.core import Structure
from pymatgen.entries.computed_entries import ComputedStructureEntry
from pymatgen.io.cp2k.inputs import Keyword

from ssbflow.errors import InputError, SsbflowError

#: Written next to a finished single point: its input and result (read back on a rerun).
POINT_FILE = "ssbflow_point.json"
#: The wavefunction CP2K writes (project name CP2K) and reads back with SCF_GUESS RESTART.
RESTART_WFN = "CP2K-RESTART.wfn"
#: CP2K's total energy line (Hartree) of an ENERGY / ENERGY_FORCE run.
_TOTAL_ENERGY_RE = re.compile(
    r"ENERGY\| Total FORCE_EVAL \( QS \) energy[^:]*:\s+(-?\d+\.\d+(?:[eE][-+]?\d+)?)")


#: What the ``fast`` preset's numbers are good for (measured: InN + 3 Li -> Li3N + In gave
#: about +2.5 eV with it against -1.7 eV from CHGNet and -1.4 eV from experimental enthalpies).
FAST_NOTE = ("fast preset: single-zeta basis (SZV) and the Γ point only, no smearing of "
             "metals; energy differences between metals and insulators are not converged at "
             "this level (eV errors per reaction), so read it as a sign check of the setup, "
             "not as the DFT reaction energy; use preset production (DZVP, k-points, "
             "Fermi-Dirac smearing) for that")


@dataclass
class DftCheckSettings:
    """How the CP2K single points of a spot check are run.

    Parameters
    ----------
    preset
        ssbflow CP2K preset (``fast``: Γ point, OT, no smearing; ``production``: k-points,
        diagonalisation, Fermi–Dirac smearing at 300 K).
    min_length_A
        With a Γ-point preset: bulk phases are repeated until every cell length is at least
        this (Å). Ignored with k-points and for bands.
    threads
        OpenMP threads of CP2K; ``None``: the engine's default (all cores).
    cp2k_cmd
        Full CP2K command (see :func:`ssbflow.engines.cp2k.engine.cp2k_command`).
    max_band_atoms
        Bands with more atoms are cut to :func:`reduced_cell` before the single points.
    cluster_radius_A
        Radius of that cut around the moving atom's path (Å).
    """

    preset: str = "fast"
    min_length_A: float = 5.5
    threads: int | None = None
    cp2k_cmd: str | None = None
    max_band_atoms: int = 40
    cluster_radius_A: float = 3.5

    def __post_init__(self) -> None:
        from ssbflow.engines.cp2k.presets import CP2K_PRESETS

        if self.preset not in CP2K_PRESETS:
            raise InputError(f"dft check preset {self.preset!r} is not known; expected one of "
                             f"{', '.join(CP2K_PRESETS)}")
        if not self.min_length_A > 0:
            raise InputError(f"min_length_A must be > 0, got {self.min_length_A}")
        if self.max_band_atoms < 2:
            raise InputError(f"max_band_atoms must be >= 2, got {self.max_band_atoms}")
        if not self.cluster_radius_A > 0:
            raise InputError(f"cluster_radius_A must be > 0, got {self.cluster_radius_A}")

    def gamma_only(self) -> bool:
        """True when the preset has no k-points."""
        from ssbflow.engines.cp2k.presets import CP2K_PRESETS

        return CP2K_PRESETS[self.preset].kpoint_length_A is None

    def record(self) -> dict[str, Any]:
        """Functional, basis, preset numbers and cells rule (for results)."""
        from ssbflow.engines.cp2k.presets import CP2K_PRESETS

        preset = CP2K_PRESETS[self.preset].as_dict()
        return {
            "engine": "cp2k", "preset": self.preset,
            "functional": f"{preset['xc']}+D3(BJ)" if preset["dispersion"] else preset["xc"],
            "basis": preset["basis_preference"][0], "pseudopotentials": preset["potential_family"],
            "cutoff_Ry": preset["cutoff_Ry"], "kpoints": preset["kpoints"],
            "smearing": None if self.gamma_only() else "Fermi-Dirac 300 K",
            "scf": "OT, no smearing (metals too)" if self.gamma_only()
            else "diagonalisation + Broyden mixing",
            "geometry": "MLIP geometry, no DFT relaxation",
            "min_length_A": self.min_length_A if self.gamma_only() else None,
            "reductions": preset["reductions"],
            "note": (FAST_NOTE if self.preset == "fast" else ""),
        }


def dft_energy_source(settings: DftCheckSettings) -> str:
    """Energy source label of the spot-check entries (one label per preset)."""
    from ssbflow.methods.phases import energy_source

    rec = settings.record()
    return energy_source({"engine": "cp2k", "preset": rec["preset"],
                          "functional": rec["functional"], "basis": rec["basis"],
                          "cutoff_Ry": rec["cutoff_Ry"]})


def read_total_energy_eV(cp2k_out: str | Path) -> float:
    """Last total energy of a CP2K output (eV); refuses an unconverged SCF.

    Raises
    ------
    SsbflowError
        No energy in the file, or the SCF did not converge.
    """
    from ssbflow.engines.cp2k.neb import HARTREE_EV

    text = Path(cp2k_out).read_text(errors="replace")
    if "SCF run NOT converged" in text:
        raise SsbflowError(f"{cp2k_out}: the CP2K SCF did not converge")
    found = _TOTAL_ENERGY_RE.findall(text)
    if not found:
        raise SsbflowError(f"{cp2k_out}: no total energy (the CP2K run did not finish)")
    return float(found[-1]) * HARTREE_EV


def input_fingerprint(cp2k_input_text: str) -> str:
    """The lines of a CP2K input, sorted: equal for two writings of the same input.

    The order of the ``&KIND`` sections follows a set of element symbols, which changes
    with Python's string hashing from one process to the next (seen: a finished NCM811 point
    recomputed after a resume because Co and Li had swapped places).
    """
    return "\n".join(sorted(line.strip() for line in cp2k_input_text.splitlines()))


def cp2k_single_point(structure: Structure, run_dir: str | Path,
                      settings: DftCheckSettings | None = None) -> dict[str, Any]:
    """CP2K single point (energy only) of ``structure`` in ``run_dir``.

    Site properties other than ``selective_dynamics`` are dropped first (an MLIP's
    ``magmom`` would otherwise set CP2K's initial magnetisation).

    Resumable in its folder: a point that finished there with the same input is read back
    (``POINT_FILE``), and one that was killed continues from the wavefunction CP2K left
    (``SCF_GUESS RESTART`` reads ``CP2K-RESTART.wfn``).

    Returns
    -------
    dict
        ``energy_eV``, ``n_atoms``, ``wall_s``, ``scf_steps``, ``guess`` (``atomic`` or
        ``resumed``) and ``reused`` (read back from the folder).
    """
    from ssbflow.engines.cp2k import sets as cp2k_sets
    from ssbflow.engines.cp2k.engine import cp2k_command, default_threads
    from ssbflow.engines.cp2k.neb import run_cp2k_in
    from ssbflow.engines.cp2k.outputs import scf_step_count

    settings = settings or DftCheckSettings()
    clean = Structure(structure.lattice, structure.species, structure.frac_coords)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    input_set = cp2k_sets.make_generator("static", settings.preset).get_input_set(clean)
    cp2k_input = input_set.cp2k_input
    cp2k_input["GLOBAL"]["RUN_TYPE"] = Keyword("RUN_TYPE", "ENERGY")
    cp2k_input["FORCE_EVAL"].keywords.pop("STRESS_TENSOR", None)  # energy only
    prints = cp2k_input["FORCE_EVAL"].get("PRINT")
    if prints is not None:
        prints.subsections.pop("STRESS_TENSOR", None)
        prints.subsections.pop("FORCES", None)
    text = input_fingerprint(cp2k_input.get_str())
    done = run_dir / POINT_FILE
    if done.exists():
        saved = json.loads(done.read_text())
        if saved.get("input") == text:
            return {**saved["result"], "reused": True}
        done.unlink()
    guess = "resumed" if (run_dir / RESTART_WFN).exists() else "atomic"
    input_set.write_input(run_dir)
    command = cp2k_command(settings.threads or default_threads(), cp2k_cmd=settings.cp2k_cmd)
    wall_s = run_cp2k_in(run_dir, command)
    result = {"energy_eV": read_total_energy_eV(run_dir / "cp2k.out"), "n_atoms": len(clean),
              "wall_s": round(wall_s, 1), "scf_steps": scf_step_count(run_dir, "cp2k.out"),
              "guess": guess}
    done.write_text(json.dumps({"input": text, "result": result}))
    return {**result, "reused": False}


def gamma_supercell(structure: Structure, min_length_A: float) -> list[int]:
    """Repeats along a, b, c so that every length reaches ``min_length_A``."""
    return [max(1, math.ceil(min_length_A / length - 1e-9)) for length in structure.lattice.abc]


def dft_entries(entries: list[ComputedStructureEntry], run_root: str | Path,
                settings: DftCheckSettings | None = None
                ) -> tuple[list[ComputedStructureEntry], dict[str, dict[str, Any]]]:
    """Recompute ``entries`` (MLIP phases with structures) by CP2K at their geometry.

    Returns
    -------
    entries, cells
        DFT entries on the MLIP structures (energy of the supercell divided by the number of
        repeats), all with one energy source of their own; and per entry name the cell
        computed (``supercell``, ``n_atoms``), its DFT and MLIP energies per atom, the
        difference and the wall time.
    """
    from ssbflow.methods.phases import make_entry

    settings = settings or DftCheckSettings()
    source = dft_energy_source(settings)
    out, cells = [], {}
    for entry in entries:
        name = str(entry.entry_id or entry.data.get("name") or entry.composition.reduced_formula)
        if not isinstance(entry, ComputedStructureEntry):
            raise InputError(f"entry {name!r}: the DFT check needs the MLIP structure")
        structure = entry.structure
        repeats = gamma_supercell(structure, settings.min_length_A) \
            if settings.gamma_only() else [1, 1, 1]
        point = cp2k_single_point(structure * repeats, Path(run_root) / _folder(name), settings)
        energy_eV = point["energy_eV"] / int(np.prod(repeats))
        out.append(make_entry(name, structure, energy_eV, {"engine": "cp2k", **settings.record()},
                              source=source))
        dft_pa, mlip_pa = energy_eV / len(structure), entry.energy_per_atom
        cells[name] = {"formula": structure.composition.reduced_formula, "supercell": repeats,
                       "n_atoms": point["n_atoms"], "dft_eV_per_atom": dft_pa,
                       "mlip_eV_per_atom": mlip_pa, "wall_s": point["wall_s"],
                       "scf_steps": point["scf_steps"]}
    return out, cells


def _folder(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "phase"


def reaction_dft_check(entries: list[ComputedStructureEntry], reaction: str,
                       run_root: str | Path,
                       settings: DftCheckSettings | None = None) -> dict[str, Any]:
    """A named reaction at the DFT level at the MLIP geometries, next to the MLIP value.

    Only the lowest-energy MLIP entry of each formula of ``reaction`` is recomputed.

    Returns
    -------
    dict
        ``reaction``, ``reaction_energy_eV`` (DFT), ``mlip_reaction_energy_eV``,
        ``dft_minus_mlip_eV``, the same per atom, ``energy_source``, ``mlip_energy_source``,
        ``cells`` (see :func:`dft_entries`), ``wall_s`` and the DFT settings.
    """
    from pymatgen.core import Composition

    from ssbflow.analysis.reactions import named_reaction_energy, parse_reaction

    settings = settings or DftCheckSettings()
    start = time.perf_counter()
    mlip = named_reaction_energy(entries, reaction)
    left, right = parse_reaction(reaction)
    used = []
    for formula in {**left, **right}:
        reduced = Composition(formula).reduced_formula
        used.append(min((e for e in entries if e.composition.reduced_formula == reduced),
                        key=lambda e: e.energy_per_atom))
    dft, cells = dft_entries(used, run_root, settings)
    result = named_reaction_energy(dft, reaction)
    return {
        "reaction": result.reaction,
        "reaction_energy_eV": result.reaction_energy_eV,
        "mlip_reaction_energy_eV": mlip.reaction_energy_eV,
        "dft_minus_mlip_eV": result.reaction_energy_eV - mlip.reaction_energy_eV,
        "reaction_energy_eV_per_atom": result.reaction_energy_eV_per_atom,
        "mlip_reaction_energy_eV_per_atom": mlip.reaction_energy_eV_per_atom,
        "energy_source": result.energy_source, "mlip_energy_source": mlip.energy_source,
        **settings.record(), "cells": cells, "wall_s": round(time.perf_counter() - start, 1),
    }


@job
def reaction_dft_check_job(entry_dicts: list[dict], reactions: list[str],
                           settings: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """:func:`reaction_dft_check` of each of ``reactions`` (``settings``: the fields of
    :class:`DftCheckSettings`, default its defaults); CP2K runs in this job's folder."""
    from ssbflow.methods.phases import entries_from_dicts

    entries = entries_from_dicts(entry_dicts)
    check = DftCheckSettings(**(settings or {}))
    return [reaction_dft_check(entries, r, Path.cwd() / f"reaction_{k}", check)
            for k, r in enumerate(reactions)]


def reduced_cell(images: list[Structure], moving_index: int, radius_A: float
                 ) -> tuple[list[Structure], int, list[int]]:
    """The atoms within ``radius_A`` of the moving atom in any of ``images`` (minimum image,
    same periodic cell): a cluster around the hop, kept identical in every image.

    Returns
    -------
    images, moving_index, kept
        The cut images, the moving atom's index among them, the kept original indices.
    """
    keep: set[int] = set()
    for image in images:
        centre = image[moving_index].frac_coords
        dist = image.lattice.get_all_distances(centre, image.frac_coords)[0]
        keep |= {int(i) for i in np.flatnonzero(dist <= radius_A)}
    kept = sorted(keep | {moving_index})
    cut = [Structure.from_sites([image[i] for i in kept]) for image in images]
    return cut, kept.index(moving_index), kept


def band_dft_check(band: list[Structure], mlip_energies_eV: list[float], run_root: str | Path,
                   settings: DftCheckSettings | None = None, moving_index: int | None = None,
                   mlip_barrier_eV: float | None = None) -> dict[str, Any]:
    """DFT single points of the endpoints and the highest image of an MLIP band.

    Parameters
    ----------
    band
        The MLIP images, endpoints included.
    mlip_energies_eV
        Their MLIP energies (any common reference).
    run_root
        Folder of the three CP2K runs.
    settings
        CP2K settings; bands of more than ``max_band_atoms`` atoms are cut to the atoms
        within ``cluster_radius_A`` of the moving atom (:func:`reduced_cell`).
    moving_index
        The moving atom (default: the atom that moves most from first to last image).
    mlip_barrier_eV
        The study's MLIP barrier (fitted profile), recorded next to the image-based one.

    Returns
    -------
    dict
        ``barrier_eV`` (DFT, E(highest) − E(initial) along the MLIP path),
        ``mlip_barrier_eV`` (same images), ``dft_minus_mlip_eV``, the same for the
        reaction energy (``None`` when the final state's SCF failed: ``errors`` says why;
        the barrier does not need it), ``highest_image``, ``cell`` (full or reduced, with
        atom counts), ``wall_s`` and the DFT settings.
    """
    settings = settings or DftCheckSettings()
    if len(band) < 3 or len(band) != len(mlip_energies_eV):
        raise InputError(f"band: expected >= 3 images with one MLIP energy each, got "
                         f"{len(band)} images and {len(mlip_energies_eV)} energies")
    mlip = np.asarray(mlip_energies_eV, dtype=float)
    top = int(np.argmax(mlip[1:-1])) + 1
    picks = {"initial": 0, "highest": top, "final": len(band) - 1}
    images = [band[k] for k in picks.values()]
    if moving_index is None:
        step = band[0].lattice.get_all_distances(band[0].frac_coords, band[-1].frac_coords)
        moving_index = int(np.argmax(np.diag(step)))
    cell: dict[str, Any] = {"kind": "full band cell", "n_atoms": len(band[0]),
                            "moving_index": moving_index}
    if len(band[0]) > settings.max_band_atoms:
        images, moving, kept = reduced_cell(images, moving_index, settings.cluster_radius_A)
        cell = {"kind": f"reduced: atoms within {settings.cluster_radius_A:g} Å of the moving "
                        f"{band[0][moving_index].specie.symbol} (any of the three images), "
                        "same periodic cell",
                "n_atoms": len(kept), "n_atoms_full": len(band[0]),
                "moving_index": moving, "kept_indices": kept}
    # each point from atomic guesses: seeding the highest image with the initial state's
    # wavefunction took 250+ OT steps on the 31-atom NCM811 cut against 181 from scratch
    points: dict[str, dict[str, Any]] = {}
    for label, image in zip(picks, images, strict=True):
        start = time.perf_counter()
        try:
            points[label] = cp2k_single_point(image, Path(run_root) / label, settings)
        except SsbflowError as err:
            if label != "final":  # the barrier needs the other two
                raise
            # the barrier stands without the final state; only the reaction energy is lost
            from ssbflow.engines.cp2k.outputs import scf_step_count

            points[label] = {"energy_eV": None, "error": str(err), "guess": None,
                             "wall_s": round(time.perf_counter() - start, 1),
                             "scf_steps": scf_step_count(Path(run_root) / label, "cp2k.out")}
    e = {label: p["energy_eV"] for label, p in points.items()}
    barrier = e["highest"] - e["initial"]
    mlip_img = float(mlip[top] - mlip[0])
    mlip_reaction = float(mlip[-1] - mlip[0])
    reaction = None if e["final"] is None else e["final"] - e["initial"]
    out = {
        "barrier_eV": barrier, "mlip_barrier_eV": mlip_img,
        "dft_minus_mlip_eV": barrier - mlip_img,
        "reaction_energy_eV": reaction,
        "mlip_reaction_energy_eV": mlip_reaction,
        "dft_minus_mlip_reaction_eV": None if reaction is None else reaction - mlip_reaction,
        "errors": {label: p["error"] for label, p in points.items() if "error" in p},
        "highest_image": top, "dft_energies_eV": e, "cell": cell,
        # CP2K's own time of the three points (a point read back after a kill keeps its own)
        "wall_s": round(sum(p["wall_s"] for p in points.values()), 1),
        "scf_steps": {label: p["scf_steps"] for label, p in points.items()},
        "guess": {label: p["guess"] for label, p in points.items()},
        **settings.record(),
    }
    if mlip_barrier_eV is not None:
        out["mlip_barrier_fit_eV"] = float(mlip_barrier_eV)
    out["min_length_A"] = None  # bands keep their own cell
    return out


@job(metadata={"resumable": True})  # finished single points are read back after a kill
def band_dft_check_job(neb_output: dict[str, Any], settings: dict[str, Any] | None = None,
                       moving_index: int | None = None) -> dict[str, Any]:
    """:func:`band_dft_check` of a :func:`ssbflow.methods.neb.neb_job` output (its ``band``
    and ``result.image_energies_eV``; ``settings``: the fields of :class:`DftCheckSettings`),
    CP2K runs in this job's folder."""
    result = neb_output["result"]
    return band_dft_check(list(neb_output["band"]), result["image_energies_eV"], Path.cwd(),
                          DftCheckSettings(**(settings or {})), moving_index=moving_index,
                          mlip_barrier_eV=result.get("barrier_eV"))


def reactivity_dft_check(entries: list[ComputedStructureEntry], a: str, b: str,
                         run_root: str | Path,
                         settings: DftCheckSettings | None = None) -> dict[str, Any]:
    """Reactivity of ``a`` with ``b`` with every phase of the system recomputed by CP2K at
    its MLIP geometry (pymatgen's hull needs all of them on one energy source)."""
    from ssbflow.analysis.reactions import reactivity

    settings = settings or DftCheckSettings()
    start = time.perf_counter()
    mlip = reactivity(entries, a, b)
    dft, cells = dft_entries(list(entries), run_root, settings)
    result = reactivity(dft, a, b)
    return {
        "reaction": result.reaction,
        "reaction_energy_eV_per_atom": result.reaction_energy_eV_per_atom,
        "mlip_reaction_energy_eV_per_atom": mlip.reaction_energy_eV_per_atom,
        "dft_minus_mlip_eV_per_atom": (result.reaction_energy_eV_per_atom
                                       - mlip.reaction_energy_eV_per_atom),
        "products": list(result.products), "mlip_products": list(mlip.products),
        "energy_source": result.energy_source, "mlip_energy_source": mlip.energy_source,
        **settings.record(), "cells": cells, "wall_s": round(time.perf_counter() - start, 1),
    }


def cli_dft_check(entries: list, named: str | None, a: str | None, b: str | None,
                  run_root: str | Path | None = None, preset: str = "fast") -> dict[str, Any]:
    """``ssbflow reaction --check-dft``: :func:`reaction_dft_check` of ``named``, else
    :func:`reactivity_dft_check` of ``a`` and ``b``, with the CP2K ``preset``; CP2K runs in
    ``run_root`` (default: a new folder under the system's temporary directory, recorded as
    ``run_dir``).

    Raises
    ------
    InputError
        The entries are not MLIP phases with structures (e.g. ``--mp-entries``).
    """
    import tempfile

    if any(not isinstance(e, ComputedStructureEntry)
           or not str((e.data or {}).get("energy_source", "")).startswith("mlip:")
           for e in entries):
        raise InputError("--check-dft needs phases relaxed by the MLIP (not --mp-entries)")
    run_root = Path(run_root) if run_root else Path(tempfile.mkdtemp(prefix="ssbflow-dft-"))
    settings = DftCheckSettings(preset=preset)
    if named is not None:
        out = reaction_dft_check(entries, named, run_root, settings)
    else:
        out = reactivity_dft_check(entries, str(a), str(b), run_root, settings)
    return {**out, "run_dir": str(run_root)}
