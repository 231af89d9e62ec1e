"""Li migration between A sites of ordered LLTO (Li0.33La0.56TiO3): CI-NEB of one Li hop
through the O4 window of the La-poor layer (``ssbflow run llto-li-migration``).

The flow (each step one job, outputs passed on):

1. ``llto host``: the ideal cell is built (its A-site ordering has ties that other thread
   counts may break differently; the store keeps the one built), the host relaxed with the
   force field (cell too) after a small random displacement of the Li ions
   (:func:`relax_host`: Li does not stay on the A-site centre), and the hop chosen
   (:func:`choose_llto_hop` with the relaxed host: a Li whose off-centre position faces an
   empty neighbouring cage through their shared window; otherwise the Li is first put on
   that side of its cage);
2. ``llto endpoints``: the initial state is relaxed, the final state starts from it with
   the Li reflected through the window plane (:func:`mirrored_target_A`) and is relaxed;
3. ``neb llto``: CI-NEB between the two minima (FIRE, then BFGS with the climbing image);
4. ``llto-li-migration results``: :class:`LltoResult`; the report states whether every
   image lies above both endpoints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from jobflow import Flow, job
from pydantic import BaseModel, Field, field_validator
from pymatgen.core import Structure

from ssbflow.analysis.neb import saddle_above_both_ends
from ssbflow.errors import InputError
from ssbflow.io import json_ready
from ssbflow.methods.neb import neb_job
from ssbflow.structures import limits
from ssbflow.studies.base import Study
from ssbflow.studies.committee import ModelOptions, barrier_headline, barrier_rankings
from ssbflow.studies.comparison import add_source_comparison
from ssbflow.studies.dft_check import band_lines
from ssbflow.studies.llto.comparison import migration_source_comparison
from ssbflow.studies.ncm_pvdf.report import as_document, convergence_note, summary_lines

#: Label of the band (report, profile plot, DFT check).
HOP_LABEL = "LLTO A-site hop"


class LltoOptions(ModelOptions):
    """Options of ``ssbflow run llto-li-migration`` (defaults: the 88-atom 3x3x1 cell).

    ``rattle_A``: standard deviation (Å) of the random displacement given to every Li before
    the host is relaxed. Li on an A-site centre feels no force by symmetry even where that
    centre is not a minimum, so without it the "relaxed" endpoints can be saddle points and
    the band drops below them.
    """

    supercell: tuple[int, int, int] = Field((3, 3, 1), description="Supercell of the cell.")
    n_images: int = Field(5, ge=1, le=limits.MAX_NEB_IMAGES,
                          description="Intermediate NEB images.")
    fmax_eV_per_A: float = Field(0.05, gt=0, description="Force criterion (eV/Å).")
    max_steps: int = Field(300, ge=1, le=limits.MAX_OPT_STEPS,
                           description="Optimiser steps per stage.")
    relax_cell: bool = Field(True, description="Relax the host cell too.")
    rattle_A: float = Field(0.1, ge=0, description="Li rattle before the host relaxation (Å).")
    seed: int = Field(0, description="Seed of the rattle.")
    check_dft: bool = Field(False, description=(
        "CP2K single points (fast preset) of the endpoints and the highest image on a "
        "cluster cut around the moving Li: the DFT barrier along the MLIP path."))

    @field_validator("supercell")
    @classmethod
    def _bounded_supercell(cls, value: tuple[int, int, int]) -> tuple[int, int, int]:
        return limits.check_repeated_atoms(10, value, "llto")  # 10 sites per doubled cell


class LltoResult(BaseModel):
    """What the llto-li-migration flow returns (the final job's ``output_schema``)."""

    study: str = "llto-li-migration"
    settings: dict[str, Any] = Field(description="The study's options.")
    engine: dict[str, Any] = Field(description="Force field, versions, device.")
    hop: dict[str, Any] = Field(description="The hop (kind, indices, A-site centres).")
    host: dict[str, Any] = Field(description="Relaxed host: energy (eV), cell, Li offset (Å).")
    endpoints: dict[str, Any] = Field(description="Endpoint relaxation record.")
    barriers: list[dict[str, Any]] = Field(description="The band's row (eV).")
    neb: dict[str, Any] = Field(description="NebResult of the band, with fit.")
    structures: dict[str, Any] = Field(description="Ideal cell, relaxed host and endpoints.")
    dft_check: dict[str, dict[str, Any]] | None = Field(None, description=(
        "With check_dft: ssbflow.methods.dft_check.band_dft_check of the band."))


def choose_llto_hop(structure: Structure, supercell: tuple[int, int, int],
                    relaxed: Any = None) -> dict:
    """An in-plane Li hop between neighbouring A sites (a ≈ 3.87 Å apart, through the O4
    window), preferring the La-poor layer (z = 1/2 of the doubled cell).

    ``structure`` is the ideal cell (ions on the A-site centres, as built by
    :func:`ssbflow.structures.perovskites.llto`). A Li next to an empty A site hops into it
    (``kind="to_empty"``); when no Li has an empty neighbour, a Li vacancy is made and a
    neighbouring Li hops into it (``kind="vacancy"``). ``from_frac``/``to_frac`` are the two
    A-site centres.

    With ``relaxed`` (the relaxed host, same atoms in the same order), Li ions are off their
    A-site centres, next to one of the four in-plane windows of their cage; a Li whose
    window opens on an empty cage is preferred (``aligned=True``): it starts the hop from
    its own minimum, and the hop crosses only that window.
    """
    na, nb, nc = supercell
    a_sites = np.array([[i / na, j / nb, (k + h) / nc]
                        for i in range(na) for j in range(nb) for k in range(nc)
                        for h in (0.0, 0.5)])
    frac = structure.frac_coords
    lattice = structure.lattice
    occupied = lattice.get_all_distances(a_sites, frac).min(axis=1) < 0.8
    li = [i for i, s in enumerate(structure) if s.specie.symbol == "Li"]
    a_len = lattice.a / na

    def layer_rank(z: float) -> int:  # La-poor (z = 1/2 of the doubled cell) first
        return 0 if abs((z * nc) % 1 - 0.5) < 0.1 else 1

    def along_A(i: int, to_frac: np.ndarray) -> float:
        """Off-centre displacement of Li ``i`` in the relaxed host towards ``to_frac``."""
        if relaxed is None:
            return 0.0
        cell = relaxed.cell.array
        off = relaxed.get_scaled_positions()[i] - frac[i]
        step = to_frac - frac[i]
        off, step = off - np.round(off), step - np.round(step)
        step_A = step @ cell
        return float(np.dot(off @ cell, step_A / np.linalg.norm(step_A)))

    candidates = []
    for i in li:
        d_empty = lattice.get_all_distances(frac[i], a_sites[~occupied])[0]
        for k, d in zip(np.flatnonzero(~occupied), d_empty, strict=True):
            if abs(d - a_len) < 0.3 and abs(a_sites[k][2] - frac[i][2] % 1) < 0.05:
                toward = along_A(i, a_sites[k])
                aligned = toward > 0.3
                candidates.append((layer_rank(frac[i][2]), 0, not aligned, -toward, i, k))
        for j in li:
            if j > i and abs(structure.get_distance(i, j) - a_len) < 0.3 and \
                    abs((frac[i][2] - frac[j][2]) % 1) < 0.05:
                candidates.append((layer_rank(frac[i][2]), 1, True, 0.0, i, j))
    if not candidates:
        raise InputError("LLTO cell: no in-plane Li hop between neighbouring A sites")
    _rank, kind, not_aligned, _toward, i, k = min(candidates)
    if kind == 0:
        return {"kind": "to_empty", "index": int(i), "target_frac": a_sites[k].tolist(),
                "from_frac": frac[i].tolist(), "to_frac": a_sites[k].tolist(),
                "aligned": not not_aligned}
    return {"kind": "vacancy", "from_index": int(i), "to_index": int(k),
            "from_frac": frac[i].tolist(), "to_frac": frac[k].tolist(), "aligned": False}


def relax_host(structure: Structure, calc: Any, fmax_eV_per_A: float = 0.05,
               max_steps: int = 300, relax_cell: bool = True, rattle_A: float = 0.1,
               seed: int = 0, species: str = "Li", logfile: str | Path | None = None) -> Any:
    """Relax a host (positions, and the cell with ``relax_cell``; BFGS) after displacing
    every ``species`` ion randomly by ``rattle_A`` (so ions on symmetric saddle points fall
    into the real minima).

    Returns
    -------
    ase.Atoms
        With energy and forces; ``info`` records convergence, steps and wall time.
    """
    from ssbflow.engines.mlip import energy_forces_calculator
    from ssbflow.methods.relax import as_atoms, relax

    atoms = as_atoms(structure)
    mobile = [i for i, s in enumerate(atoms.get_chemical_symbols()) if s == species]
    rng = np.random.default_rng(seed)
    atoms.positions[mobile] += rng.normal(0.0, rattle_A, (len(mobile), 3))
    done = relax(atoms, energy_forces_calculator(calc), fmax_eV_per_A=fmax_eV_per_A,
                 max_steps=max_steps, optimizer="BFGS", relax_cell=relax_cell, maxstep_A=0.2,
                 logfile=logfile)
    done.atoms.info.update(converged=done.converged, steps=done.steps,
                           wall_time_s=done.wall_time_s)
    return done.atoms


def mirrored_target_A(atoms: Any, index: int, from_frac: Any, to_frac: Any,
                      min_hop_A: float = 1.0) -> np.ndarray:
    """Where ion ``index`` lands after hopping from the A site ``from_frac`` into the
    neighbouring one at ``to_frac``: its (relaxed, off-centre) position reflected through
    the plane of the shared window, i.e. the equivalent position in the other cage. If
    the ion sits in that window (the reflection moves it less than ``min_hop_A``), it is
    carried over by the whole site-to-site vector instead (window to the next window)."""
    from ase.geometry import find_mic

    cell, pbc = atoms.cell, atoms.pbc
    c0 = np.asarray(from_frac, dtype=float) @ cell.array
    step = find_mic(np.asarray(to_frac, dtype=float) @ cell.array - c0, cell, pbc)[0]
    normal = step / np.linalg.norm(step)
    p = atoms.positions[index]
    rel = find_mic(p - c0, cell, pbc)[0]  # ion relative to its own site centre
    mirrored = c0 + rel - 2.0 * (np.dot(rel, normal) - 0.5 * np.linalg.norm(step)) * normal
    if np.linalg.norm(mirrored - (c0 + rel)) < min_hop_A:
        return c0 + rel + step
    return mirrored


def _window_step(atoms: Any, hop: dict) -> tuple[np.ndarray, np.ndarray]:
    """Centre of the hop's own A site and the (minimum-image) step to the next one (Å)."""
    from ase.geometry import find_mic

    cell, pbc = atoms.cell, atoms.pbc
    c0 = np.asarray(hop["from_frac"]) @ cell.array
    step = find_mic(np.asarray(hop["to_frac"]) @ cell.array - c0, cell, pbc)[0]
    return c0, step


@job
def llto_host(options: dict) -> dict:
    """Build the ideal cell, relax the host and choose the hop; the start of the initial
    state (the hopping Li on the window side of its cage) is returned with it."""
    from ssbflow.engines.mlip import mlip_calculator
    from ssbflow.methods.relax import as_structure
    from ssbflow.structures.perovskites import llto

    o = LltoOptions(**options)
    structure = llto(o.supercell)
    hop = choose_llto_hop(structure, o.supercell)
    ideal = structure.copy()
    if hop["kind"] == "vacancy":
        ideal.remove_sites([hop["to_index"]])
        index = hop["from_index"] - (hop["from_index"] > hop["to_index"])
    host = relax_host(ideal, mlip_calculator(o.mlip_model), o.fmax_eV_per_A, o.max_steps,
                      o.relax_cell, o.rattle_A, o.seed, logfile="host_relax.log")
    if hop["kind"] == "to_empty":
        hop = choose_llto_hop(structure, o.supercell, relaxed=host)
        index = hop["index"]
    start = host.copy()
    c0, step = _window_step(host, hop)
    if not hop["aligned"]:  # start the Li on the window side of its own cage
        start.positions[index] = c0 + 0.25 * step
    return {"ideal": structure, "hop": hop, "index": int(index),
            "host": as_structure(host, ideal), "start": as_structure(start, ideal),
            "host_record": {"energy_eV": float(host.get_potential_energy()),
                            "cell_A_deg": host.cell.cellpar().tolist(),
                            "converged": bool(host.info["converged"]),
                            "steps": int(host.info["steps"])}}


@job
def llto_endpoints(host: dict, options: dict) -> dict:
    """Relax the initial state and the final one (the Li mirrored through the window)."""
    from ssbflow.engines.mlip import energy_forces_calculator, mlip_calculator
    from ssbflow.methods.relax import as_atoms, as_structure, mic_vector, relaxed_hop_endpoints

    o = LltoOptions(**options)
    hop, index = host["hop"], host["index"]

    def target(relaxed_initial: Any) -> np.ndarray:
        return mirrored_target_A(relaxed_initial, index, hop["from_frac"], hop["to_frac"])

    calc = energy_forces_calculator(mlip_calculator(o.mlip_model))
    initial, final, info = relaxed_hop_endpoints(as_atoms(host["start"]), index, target, calc,
                                                 o.fmax_eV_per_A, o.max_steps,
                                                 logdir=Path.cwd())
    site = initial.copy()
    site.positions[index] = _window_step(initial, hop)[0]
    info["li_offset_from_A_site_A"] = float(np.linalg.norm(mic_vector(site, initial, index)))
    return {"initial": as_structure(initial, host["start"]),
            "final": as_structure(final, host["start"]), "info": info}


@job(output_schema=LltoResult)
def llto_results(options: dict, host: dict, endpoints: dict, neb: dict,
                 dft_check: dict | None = None) -> LltoResult:
    """The study's result: the band's row and whether it lies above both endpoints."""
    from ssbflow.methods.md import engine_settings

    o = LltoOptions(**options)
    info = endpoints["info"]
    energies = np.asarray(neb["image_energies_eV"])
    # the old failure: images below the endpoints (endpoints on symmetric saddle points)
    above = bool(np.all(energies[1:-1] > min(energies[0], energies[-1]) - 1e-3))
    saddle_inside = saddle_above_both_ends(neb["barrier_eV"], neb["reverse_barrier_eV"])
    rows = [{"hop": host["hop"]["kind"], "barrier_eV": neb["barrier_eV"],
             "reverse_barrier_eV": neb["reverse_barrier_eV"],
             "reaction_energy_eV": neb["reaction_energy_eV"], "converged": neb["converged"],
             "images_above_lower_endpoint": above, "saddle_above_both_ends": saddle_inside,
             "intermediate_minimum": neb["has_intermediate_minimum"],
             "hop_length_A": info["hop_length_A"], "neb_steps": neb["optimizer_steps"]}]
    return LltoResult(
        settings=o.model_dump(mode="json"), engine=engine_settings(o.mlip_model),
        hop={**host["hop"], "index": host["index"]},
        host={**host["host_record"], "li_offset_from_A_site_A": info["li_offset_from_A_site_A"]},
        endpoints=json_ready(info), barriers=json_ready(rows), neb=json_ready(neb),
        structures={"ideal": host["ideal"], "host": host["host"],
                    "initial": endpoints["initial"], "final": endpoints["final"]},
        dft_check={HOP_LABEL: json_ready(dft_check)} if dft_check else None)


def make_flow(options: LltoOptions) -> Flow:
    """The llto-li-migration flow: host, endpoints, NEB, result."""
    opts = options.model_dump(mode="json")
    host = llto_host(opts)
    host.name = "llto host"
    ends = llto_endpoints(host.output, opts)
    ends.name = "llto endpoints"
    neb = neb_job(ends.output["initial"], ends.output["final"], n_images=options.n_images,
                  fmax_eV_per_A=options.fmax_eV_per_A, max_steps=options.max_steps,
                  mlip_model=options.mlip_model, label=HOP_LABEL,
                  relax_endpoints=False, climb_start_eV_per_A=0.15, climb_optimizer="BFGS",
                  require_convergence=False)
    neb.name = "neb llto"
    jobs, dft = [host, ends, neb], None
    if options.check_dft:
        from ssbflow.methods.dft_check import band_dft_check_job

        check = band_dft_check_job(neb.output, moving_index=host.output["index"])
        check.name = "dft check llto"
        jobs.append(check)
        dft = check.output
    results = llto_results(opts, host.output, ends.output, neb.output["result"], dft)
    results.name = "llto-li-migration results"
    return Flow([*jobs, results], output=results.output, name="llto-li-migration")


def write_report(output: LltoResult | dict, out_dir: Path, timings_s: dict[str, float]) -> dict:
    """Write ``results.json``, ``report.md``, ``barriers.csv``, ``neb_profile.png`` and
    ``structures/`` (``ideal``, ``host``, ``initial``, ``final`` as JSON and CIF).

    Returns
    -------
    dict
        The content of ``results.json``.
    """
    from ssbflow.analysis.neb import plot_profiles
    from ssbflow.io import write_json, write_structures, write_table
    from ssbflow.methods.neb import neb_result_from_dict

    out = Path(out_dir)
    doc = as_document(output)
    cfg, row, res = doc["settings"], doc["barriers"][0], doc["neb"]
    structures = doc.pop("structures")
    write_structures(structures, out / "structures")
    plot_profiles({HOP_LABEL: neb_result_from_dict(res)}, out / "neb_profile.png")
    ideal = structures["ideal"]
    wall = float(sum(timings_s.values()))
    above, inside = row["images_above_lower_endpoint"], row["saddle_above_both_ends"]
    md = ["# Li migration between A sites in LLTO", "",
          f"Cell: {ideal.composition.reduced_formula} ({len(ideal)} atoms), engine "
          f"mlip ({cfg['mlip_model']}); host relaxed "
          f"({'cell and positions' if cfg['relax_cell'] else 'positions'}, Li rattled by "
          f"{cfg['rattle_A']} Å first). The hopping Li (index {doc['hop']['index']}) sits "
          f"{doc['host']['li_offset_from_A_site_A']:.2f} Å off its A-site centre in the "
          "initial state and crosses the O4 window into the empty neighbouring cage.", "",
          write_table(doc["barriers"], out / "barriers.csv", "CI-NEB"), "",
          convergence_note(doc["barriers"]), "",
          ("No image lies below the lower endpoint." if above else
           "**Some image lies below an endpoint**: the endpoints are not the minima of this "
           "path.") + " " + (
              "The band maximum lies above both endpoints (a saddle between two minima)."
              if inside else
              f"The band rises to the final state (reverse barrier "
              f"{res['reverse_barrier_eV']:.3f} eV): the target cage is at best a shallow "
              "minimum for Li, and the forward barrier is its site energy."), "",
          "Reference: bulk Li conduction in LLTO has Ea ≈ 0.3–0.4 eV (0.40 eV for x ≈ 0.1, "
          "Stramare, Thangadurai & Weppner, Chem. Mater. 15, 3974 (2003); Inaguma et al., "
          "Solid State Commun. 86, 689 (1993)); universal force fields are known to soften "
          "potential-energy surfaces and underestimate barriers.",
          "", *band_lines(doc.get("dft_check")),
          add_source_comparison(doc, migration_source_comparison(doc)), "",
          f"Job time (sum over jobs, all calls): {wall:.0f} s.", "",
          "![profile](neb_profile.png)", ""]
    (out / "report.md").write_text("\n".join(md))
    doc["neb"] = {k: v for k, v in res.items() if not k.startswith("fit_")}
    doc.update(files={"report": str(out / "report.md"),
                      "profile_png": str(out / "neb_profile.png"),
                      "barriers_csv": str(out / "barriers.csv")},
               wall_time_s=wall, timings_s=timings_s)
    doc = json_ready(doc)
    write_json(out / "results.json", doc)
    return doc


LLTO_LI_MIGRATION = Study(
    name="llto-li-migration",
    help="CI-NEB of a Li hop between A sites of ordered LLTO (88-atom cell).",
    options=LltoOptions,
    make_flow=make_flow,
    write_report=write_report,
    summary_lines=summary_lines,
    headline=barrier_headline,
    rankings=barrier_rankings,
)
