"""NCM811 (104) slab bare, under a PVDF chain and under a dehydrofluorinated chain: the same
subsurface Li vacancy hop (CI-NEB) in all three, polymer binding energies and the closest
polymer–oxide distances.

The flow (each step one job, outputs passed on, nothing read from another job's folder):

1. ``bare endpoints``: the slab is built, the hop chosen, the vacancy state relaxed and the
   final state relaxed from it (:func:`ssbflow.methods.relax.relaxed_hop_endpoints`);
2. ``pvdf endpoints``, ``dpvdf endpoints``: the chain is laid on the *relaxed* vacancy slab
   (so only the interface still has to relax), both endpoints are relaxed the same way (the
   moving Li starts the final relaxation where it ended in the bare final state; with
   ``freeze_polymer_in_hop`` the chain is held in the final state and the band), and the
   binding energy E(slab+chain) − E(slab) − E(chain) is taken in the vacancy state (the
   chain alone in the same cell, relaxed from its adsorbed shape);
3. ``neb bare|pvdf|dpvdf``: one CI-NEB per system (FIRE, then BFGS with the climbing image);
4. ``ncm-pvdf results``: the :class:`~ssbflow.studies.ncm_pvdf.report.NcmPvdfResult`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from jobflow import Flow, job
from pydantic import Field, field_validator

from ssbflow.io import json_ready
from ssbflow.methods.neb import neb_job
from ssbflow.structures import limits
from ssbflow.studies.base import Study
from ssbflow.studies.committee import ModelOptions, barrier_headline, barrier_rankings
from ssbflow.studies.ncm_pvdf.report import (
    SYSTEMS,
    NcmPvdfResult,
    summary_lines,
    write_report,
)


class NcmPvdfOptions(ModelOptions):
    """Options of ``ssbflow run ncm-pvdf`` (defaults: laptop-sized).

    The default cell is 14.35 x 5.78 Å in-plane (80 slab atoms): the chain and its periodic
    images then form a monolayer 5.8 Å apart, and the hop's vacancy has images 5.8 Å away
    along b. ``freeze_polymer_in_hop``: the chain is relaxed with the initial state and then
    held there in the final state and the band (its soft torsions otherwise keep drifting
    and add conformational energy to the hop). Scale up with a thicker slab
    (``thickness_A`` 10-12), ``min_width_A`` (14, 8) or wider, and ``n_images`` 5-7.
    """

    thickness_A: float = Field(6.0, gt=0, le=limits.MAX_THICKNESS_A,
                               description="Slab thickness (Å).")
    vacuum_A: float = Field(15.0, gt=0, le=limits.MAX_VACUUM_A,
                            description="Vacuum above the slab (Å).")
    min_width_A: tuple[float, float] = Field((14.0, 5.0), description="Least in-plane size (Å).")
    # 3 moving images: the 1- and 3-image barriers agreed within 2 meV on this cell (bare
    # 0.362 / 0.361 eV, PVDF 0.343 / 0.341 eV, CHGNet); 5 cost ~5/3 more for no change here
    n_images: int = Field(3, ge=1, le=limits.MAX_NEB_IMAGES,
                          description="Intermediate NEB images.")
    fmax_eV_per_A: float = Field(0.05, gt=0, description="Force criterion (eV/Å).")
    max_steps: int = Field(300, ge=1, le=limits.MAX_OPT_STEPS,
                           description="Optimiser steps per stage.")
    polymer_height_A: float = Field(2.5, gt=0, description="Chain height above the slab (Å).")
    hop: tuple[int, int] | None = Field(
        None, description="FROM TO Li site indices (vacancy made at TO); default: chosen.")
    freeze_polymer_in_hop: bool = Field(True, description="Hold the chain in the hop.")
    check_dft: bool = Field(False, description=(
        "CP2K single points (fast preset) of the endpoints and the highest image of each band "
        "on a cluster cut around the moving Li: the DFT barrier along the MLIP path."))
    # one band's check costs ~1 h of one core on the 31-atom cut (UKS, fast preset)
    dft_bands: tuple[str, ...] = Field(tuple(SYSTEMS.values()), min_length=1, description=(
        "Bands that get the DFT check with check_dft (bare, pvdf, dpvdf; default all)."))

    @field_validator("dft_bands")
    @classmethod
    def _known_bands(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [v for v in value if v not in SYSTEMS.values()]
        if unknown:
            raise ValueError(f"dft_bands: {', '.join(unknown)} not known; expected some of "
                             f"{', '.join(SYSTEMS.values())}")
        return value


def _calc(mlip_model: str) -> Any:
    from ssbflow.engines.mlip import energy_forces_calculator, mlip_calculator

    return energy_forces_calculator(mlip_calculator(mlip_model))


@job
def bare_endpoints(options: dict) -> dict:
    """Build the slab, choose the hop and relax its two endpoints on the bare slab."""
    from ssbflow.methods.neb import vacancy_hop_endpoints
    from ssbflow.methods.relax import as_atoms, as_structure, relaxed_hop_endpoints
    from ssbflow.structures.cathode_slabs import ncm811_slab
    from ssbflow.studies.ncm_pvdf.hop import choose_subsurface_hop

    o = NcmPvdfOptions(**options)
    slab = ncm811_slab(thickness=o.thickness_A, vacuum=o.vacuum_A, min_width_A=o.min_width_A)
    hop = tuple(o.hop) if o.hop else choose_subsurface_hop(slab)
    initial_s, final_s = vacancy_hop_endpoints(slab, *hop)
    moving = hop[0] if hop[0] < hop[1] else hop[0] - 1
    ini, fin, info = relaxed_hop_endpoints(
        initial_s, moving, as_atoms(final_s).positions[moving], _calc(o.mlip_model),
        o.fmax_eV_per_A, o.max_steps, logdir=Path.cwd())
    return {"slab": slab, "hop": [int(hop[0]), int(hop[1])], "moving_index": int(moving),
            "initial": as_structure(ini, initial_s), "final": as_structure(fin, initial_s),
            "initial_energy_eV": float(ini.get_potential_energy()), "info": info}


@job
def coated_endpoints(bare: dict, tag: str, options: dict) -> dict:
    """Lay chain ``tag`` (``pvdf``/``dpvdf``) on the relaxed vacancy slab, relax both
    endpoints, and take the binding energy and closest contacts in the initial state."""
    from ssbflow.methods.relax import as_atoms, as_structure, relax, relaxed_hop_endpoints
    from ssbflow.structures.polymer_packing import polymer_on_slab
    from ssbflow.studies.ncm_pvdf.hop import closest_distance_A

    o = NcmPvdfOptions(**options)
    calc = _calc(o.mlip_model)
    moving = bare["moving_index"]
    coated = polymer_on_slab(bare["initial"], tag, height=o.polymer_height_A)
    mask = np.array(coated.site_properties["adsorbate"], dtype=bool)
    chain = [int(i) for i in np.flatnonzero(mask)]
    frozen = chain if o.freeze_polymer_in_hop else None
    target_A = as_atoms(bare["final"]).positions[moving]
    ini, fin, info = relaxed_hop_endpoints(coated, moving, target_A, calc, o.fmax_eV_per_A,
                                           o.max_steps, fixed_in_final=frozen,
                                           logdir=Path.cwd())
    alone = relax(ini[np.flatnonzero(mask)], calc, fmax_eV_per_A=o.fmax_eV_per_A,
                  max_steps=o.max_steps, optimizer="BFGS", maxstep_A=0.2)
    binding = {
        "binding_energy_eV": float(ini.get_potential_energy()) - bare["initial_energy_eV"]
        - alone.energy_eV,
        "closest_C_O_A": closest_distance_A(ini, "C", mask, "O", ~mask),
        "closest_F_TM_A": min(
            closest_distance_A(ini, "F", mask, tm, ~mask) for tm in ("Ni", "Co", "Mn")),
        "closest_H_O_A": closest_distance_A(ini, "H", mask, "O", ~mask),
    }
    # the band moves the hop and the slab; a frozen chain stays where it relaxed
    return {"coated": coated, "initial": as_structure(ini, coated, fixed=frozen),
            "final": as_structure(fin, coated, fixed=frozen), "info": info,
            "binding": binding, "chain_alone_energy_eV": alone.energy_eV}


@job(output_schema=NcmPvdfResult)
def ncm_pvdf_results(options: dict, bare: dict, coated: dict[str, dict],
                     nebs: dict[str, dict],
                     dft_check: dict[str, dict] | None = None) -> NcmPvdfResult:
    """Gather the endpoints and the bands into the study's result."""
    from ssbflow.methods.md import engine_settings

    o = NcmPvdfOptions(**options)
    rows, binding = [], []
    endpoints = {"bare": bare["info"], **{tag: doc["info"] for tag, doc in coated.items()}}
    for label, tag in SYSTEMS.items():
        res, info = nebs[tag], endpoints[tag]
        rows.append({"system": label, "barrier_eV": res["barrier_eV"],
                     "reaction_energy_eV": res["reaction_energy_eV"],
                     "n_images": res["n_images"], "converged": res["converged"],
                     "intermediate_minimum": res["has_intermediate_minimum"],
                     "max_perp_force_eV_per_A": res["max_perp_force_eV_per_A"],
                     "neb_steps": res["optimizer_steps"],
                     "endpoints_converged": info["initial_converged"]
                     and info["final_converged"],
                     "neb_wall_time_s": res.get("wall_time_s")})
        if tag != "bare":
            binding.append({"system": label, **coated[tag]["binding"]})
    hop = {"from_index": bare["hop"][0], "to_index": bare["hop"][1],
           "moving_index": bare["moving_index"], "hop_length_A": bare["info"]["hop_length_A"]}
    return NcmPvdfResult(
        settings=o.model_dump(mode="json"), engine=engine_settings(o.mlip_model), hop=hop,
        barriers=json_ready(rows), binding=json_ready(binding), endpoints=json_ready(endpoints),
        neb={label: nebs[tag] for label, tag in SYSTEMS.items()},
        structures={"bare": bare["slab"], **{t: d["coated"] for t, d in coated.items()}},
        dft_check=json_ready(dft_check) if dft_check else None)


def make_flow(options: NcmPvdfOptions) -> Flow:
    """The ncm-pvdf flow: bare endpoints, two coated endpoints, three NEBs, the result."""
    opts = options.model_dump(mode="json")
    bare = bare_endpoints(opts)
    bare.name = "bare endpoints"
    jobs = [bare]
    coated, nebs, dft = {}, {}, {}
    for label, tag in SYSTEMS.items():
        ends = bare
        if tag != "bare":
            ends = coated_endpoints(bare.output, tag, opts)
            ends.name = f"{tag} endpoints"
            coated[tag] = ends.output
            jobs.append(ends)
        neb = neb_job(ends.output["initial"], ends.output["final"], n_images=options.n_images,
                      fmax_eV_per_A=options.fmax_eV_per_A, max_steps=options.max_steps,
                      mlip_model=options.mlip_model, label=label, relax_endpoints=False,
                      climb_start_eV_per_A=0.15, climb_optimizer="BFGS",
                      require_convergence=False)
        neb.name = f"neb {tag}"
        nebs[tag] = neb.output["result"]
        jobs.append(neb)
        if options.check_dft and tag in options.dft_bands:
            from ssbflow.methods.dft_check import band_dft_check_job

            check = band_dft_check_job(neb.output, moving_index=bare.output["moving_index"])
            check.name = f"dft check {tag}"
            dft[label] = check.output
            jobs.append(check)
    results = ncm_pvdf_results(opts, bare.output, coated, nebs, dft or None)
    results.name = "ncm-pvdf results"
    jobs.append(results)
    return Flow(jobs, output=results.output, name="ncm-pvdf")


NCM_PVDF = Study(
    name="ncm-pvdf",
    help="Li vacancy hop in NCM811 bare / under PVDF / under dehydrofluorinated PVDF (CI-NEB).",
    options=NcmPvdfOptions,
    make_flow=make_flow,
    write_report=write_report,
    summary_lines=summary_lines,
    headline=barrier_headline,
    rankings=barrier_rankings,
)
