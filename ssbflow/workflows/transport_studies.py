"""Li transport studies: NCM811 under (dehydrofluorinated) PVDF, Li+ diffusion in polymers
and in LLZO.

Each study writes a report folder (``results.json``, CSV and Markdown tables, PNG plots,
structures) and resumes when called again with the same folder: finished NEBs
(``neb_result.json`` with ``converged``) and relaxations are read back, MD trajectories are
continued from their last frame. Defaults are laptop-sized (small cells, short MD); the
settings dataclasses say how to scale up.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Structure

from ssbflow.errors import InputError
from ssbflow.workflows.md import engine_settings

# --------------------------------------------------------------------------------------------
# Report helpers
# --------------------------------------------------------------------------------------------


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1, default=_json_default))
    os.replace(tmp, path)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _write_table(rows: list[dict], csv_path: Path, title: str) -> str:
    """Write rows as CSV and return them as a Markdown table."""
    if not rows:
        return f"### {title}\n\n(no rows)\n"
    keys = list(rows[0])
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)

    def fmt(v: Any) -> str:
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return "–"
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    lines = [f"### {title}", "", "| " + " | ".join(keys) + " |",
             "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# NCM811 / PVDF / dehydrofluorinated PVDF
# --------------------------------------------------------------------------------------------
@dataclass
class NcmPvdfSettings:
    """Settings of ``ssbflow run ncm-pvdf`` (defaults: laptop-sized).

    Scale up with a thicker slab (``thickness_A`` 10-12), a wider cell and ``n_images`` 7.
    """

    thickness_A: float = 6.0
    vacuum_A: float = 15.0
    min_width_A: tuple[float, float] = (14.0, 8.0)
    n_images: int = 5
    fmax_eV_per_A: float = 0.05
    max_steps: int = 300
    mlip_model: str = "CHGNet"
    polymer_height_A: float = 2.5
    hop: tuple[int, int] | None = None


def choose_subsurface_hop(slab: Structure, depth_min_A: float = 1.5) -> tuple[int, int]:
    """A nearest-neighbour Li–Li pair just below the top surface, free to move.

    Candidates are Li sites free in ``selective_dynamics`` and at least ``depth_min_A``
    below the highest atom; among pairs closer than 3.3 Å, the one nearest to the surface
    (highest mean z) and then nearest to the cell centre in-plane (under the polymer) wins.

    Returns
    -------
    (from_index, to_index)
        The vacancy is made at ``to_index`` and the ion at ``from_index`` jumps into it.
    """
    cart = slab.cart_coords
    z_top = cart[:, 2].max()
    free = slab.site_properties.get("selective_dynamics")
    li = [
        i for i, site in enumerate(slab)
        if site.specie.symbol == "Li" and cart[i, 2] < z_top - depth_min_A
        and (free is None or all(free[i]))
    ]
    centre = 0.5 * (slab.lattice.matrix[0] + slab.lattice.matrix[1])
    best: tuple[float, float, int, int] | None = None
    for a_pos, i in enumerate(li):
        for j in li[a_pos + 1:]:
            d = slab.get_distance(i, j)
            if d > 3.3:
                continue
            mean_z = 0.5 * (cart[i, 2] + cart[j, 2])
            off = float(np.linalg.norm(0.5 * (cart[i, :2] + cart[j, :2]) - centre[:2]))
            key = (-round(mean_z, 1), off, i, j)
            if best is None or key < best:
                best = key
    if best is None:
        raise InputError("slab: no free subsurface Li–Li pair closer than 3.3 Å for the hop")
    upper, lower = sorted((best[2], best[3]), key=lambda k: -cart[k, 2])
    return lower, upper


def _relaxed_energy(structure: Structure, path: Path, calc: Any, fmax: float,
                    steps: int) -> tuple[float, Any]:
    """Relax (fixed cell) once; the relaxed frame with its energy is kept in ``path``."""
    from ase.io import read, write

    from ssbflow.workflows.neb import _atoms, relax_atoms

    if path.is_file():
        atoms = read(path)
        return float(atoms.get_potential_energy()), atoms
    atoms = relax_atoms(_atoms(structure), calc, fmax, steps)
    write(path, atoms)
    return float(atoms.get_potential_energy()), atoms


def _closest_distance_A(atoms: Any, species_a: str, mask_a: np.ndarray, species_b: str,
                        mask_b: np.ndarray) -> float:
    from ase.geometry import get_distances

    sym = np.array(atoms.get_chemical_symbols())
    ia = np.where((sym == species_a) & mask_a)[0]
    ib = np.where((sym == species_b) & mask_b)[0]
    if not len(ia) or not len(ib):
        return math.nan
    _, d = get_distances(atoms.positions[ia], atoms.positions[ib], cell=atoms.cell, pbc=atoms.pbc)
    return float(d.min())


def _neb_done(neb_dir: Path, n_images: int, fmax: float, max_steps: int) -> bool:
    """True when ``neb_dir`` holds a converged NEB, or one run with these same settings
    (resume); an unconverged band with other settings is redone."""
    saved = neb_dir / "neb_result.json"
    if not saved.is_file():
        return False
    record = json.loads(saved.read_text())
    if record.get("converged"):
        return True
    done = record.get("settings", {})
    return (done.get("n_images"), done.get("fmax_eV_per_A"), done.get("max_steps")) == (
        n_images, fmax, max_steps)


def _convergence_note(rows: list[dict]) -> str:
    def name(r: dict) -> str:
        return str(r["system"] if "system" in r else r.get("hop", "NEB"))

    bad = [name(r) for r in rows if not r.get("converged")]
    dips = [name(r) for r in rows if r.get("intermediate_minimum")]
    notes = ["All bands converged." if not bad else
             f"**Not converged: {', '.join(bad)}** — barriers are estimates; rerun with a "
             "larger --max-steps (the same --out resumes the others)."]
    if dips:
        notes.append(f"**Lower minimum inside the band: {', '.join(dips)}** — the endpoints "
                     "are not the minima of this path; relax the ion into that minimum and "
                     "recompute before quoting a barrier.")
    return "\n\n".join(notes)


def run_ncm_pvdf(out: str | Path, settings: NcmPvdfSettings | None = None) -> dict:
    """NCM811 (104) slab bare, with a PVDF chain and with a dehydrofluorinated chain: the
    same subsurface Li vacancy hop (CI-NEB) in all three, polymer binding energies and the
    closest C–O distances.

    Returns
    -------
    dict
        The content of ``results.json``.
    """
    from ssbflow.analysis.neb import NebResult, analyze_neb, plot_profiles
    from ssbflow.io import write_structure
    from ssbflow.structures.cathodes import ncm811_slab
    from ssbflow.structures.polymers import polymer_on_slab
    from ssbflow.workflows.md import mlip_calculator
    from ssbflow.workflows.neb import run_neb, vacancy_hop_endpoints

    cfg = settings or NcmPvdfSettings()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    slab = ncm811_slab(thickness=cfg.thickness_A, vacuum=cfg.vacuum_A,
                       min_width_A=cfg.min_width_A)
    systems = {
        "bare": slab,
        "PVDF": polymer_on_slab(slab, "pvdf", height=cfg.polymer_height_A),
        "dehydrofluorinated PVDF": polymer_on_slab(slab, "dpvdf", height=cfg.polymer_height_A),
    }
    hop = cfg.hop or choose_subsurface_hop(slab)
    calc = mlip_calculator(cfg.mlip_model)
    (out / "structures").mkdir(exist_ok=True)
    results: dict[str, NebResult] = {}
    rows = []
    binding = []
    for label, structure in systems.items():
        tag = label.split()[0].lower().replace("dehydrofluorinated", "dpvdf")
        tag = {"bare": "bare", "pvdf": "pvdf", "dpvdf": "dpvdf"}[tag]
        write_structure(structure, out / "structures" / f"{tag}.cif")
        neb_dir = out / f"neb_{tag}"
        if _neb_done(neb_dir, cfg.n_images, cfg.fmax_eV_per_A, cfg.max_steps):
            res = analyze_neb(neb_dir)
        else:
            initial, final = vacancy_hop_endpoints(structure, *hop)
            res = run_neb(initial, final, neb_dir, n_images=cfg.n_images,
                          fmax_eV_per_A=cfg.fmax_eV_per_A, max_steps=cfg.max_steps,
                          calculator=calc, label=label, require_convergence=False)
        results[label] = res
        rows.append({"system": label, "barrier_eV": res.barrier_eV,
                     "reaction_energy_eV": res.reaction_energy_eV,
                     "n_images": res.n_images, "converged": res.converged,
                     "intermediate_minimum": res.has_intermediate_minimum,
                     "max_perp_force_eV_per_A": res.max_perp_force_eV_per_A})
        if label != "bare":
            mask = np.array(structure.site_properties["adsorbate"], dtype=bool)
            rel = out / "relax"
            rel.mkdir(exist_ok=True)
            e_ab, ab = _relaxed_energy(structure, rel / f"{tag}_on_slab.extxyz", calc,
                                       cfg.fmax_eV_per_A, cfg.max_steps)
            e_slab, _ = _relaxed_energy(slab, rel / "slab.extxyz", calc, cfg.fmax_eV_per_A,
                                        cfg.max_steps)
            polymer = Structure.from_sites([s for s, m in zip(structure, mask, strict=True)
                                            if m])
            e_mol, _ = _relaxed_energy(polymer, rel / f"{tag}_alone.extxyz", calc,
                                       cfg.fmax_eV_per_A, cfg.max_steps)
            binding.append({
                "system": label,
                "binding_energy_eV": e_ab - e_slab - e_mol,
                "closest_C_O_A": _closest_distance_A(ab, "C", mask, "O", ~mask),
                "closest_F_TM_A": min(
                    _closest_distance_A(ab, "F", mask, tm, ~mask) for tm in ("Ni", "Co", "Mn")
                ),
            })
    plot_profiles(results, out / "neb_profiles.png")
    md = ["# NCM811 Li vacancy hop under PVDF / dehydrofluorinated PVDF", "",
          f"Engine: mlip ({cfg.mlip_model}); hop: Li {hop[0]} → vacancy at Li {hop[1]} "
          "(subsurface, same indices in all three cells).", "",
          _write_table(rows, out / "barriers.csv", "CI-NEB barriers"), "",
          _convergence_note(rows), "",
          _write_table(binding, out / "binding.csv",
                       "Polymer–surface binding (E_AB − E_slab − E_polymer; negative binds)"),
          "", "Published (NCM811 study): 1.51 eV bare, 1.10 eV under dehydrofluorinated PVDF.",
          "", "![profiles](neb_profiles.png)", ""]
    (out / "report.md").write_text("\n".join(md))
    doc = _clean({
        "study": "ncm-pvdf",
        "settings": asdict(cfg),
        "engine": engine_settings(cfg.mlip_model),
        "hop": {"from_index": hop[0], "to_index": hop[1]},
        "barriers": rows,
        "binding": binding,
        "neb": {k: v.to_dict() for k, v in results.items()},
        "files": {"report": str(out / "report.md"), "profiles_png": str(out / "neb_profiles.png"),
                  "barriers_csv": str(out / "barriers.csv")},
        "wall_time_s": time.perf_counter() - t_start,
    })
    _write_json(out / "results.json", doc)
    return doc


# --------------------------------------------------------------------------------------------
# Diffusion from MD at several temperatures
# --------------------------------------------------------------------------------------------
@dataclass
class DiffusionStudySettings:
    """MD settings of the diffusion studies.

    The defaults (200 steps of 1 fs per temperature) run the whole chain on a laptop in
    minutes but only sample the ballistic/caged regime; converged D needs tens of ps
    (``n_steps`` of 10^4–10^5, ideally on a GPU), more temperatures and larger cells.
    """

    temperatures_K: tuple[float, ...] = (600.0, 800.0, 1000.0)
    n_steps: int = 200
    timestep_fs: float = 1.0
    save_every: int = 10
    mlip_model: str = "CHGNet"
    species: str = "Li"
    seed: int = 0
    pre_relax_steps: int = 0
    extra: dict = field(default_factory=dict)


def run_diffusion_study(
    systems: dict[str, Structure],
    out: str | Path,
    settings: DiffusionStudySettings | None = None,
    study: str = "diffusion",
    title: str = "Li diffusion",
    notes: list[str] | None = None,
) -> dict:
    """NVT MD of every system at every temperature, MSD slopes, D and Arrhenius Ea.

    Trajectories ``md/<system>_<T>K.extxyz`` are continued when they exist (resume; a
    larger ``n_steps`` extends them). With ``pre_relax_steps`` > 0 each system is first
    relaxed (FIRE, fixed cell, fmax 0.1 eV/Å) so that packed boxes do not start with
    overlapping contacts (kept in ``structures/``).

    Every row says whether its MSD reached a diffusive regime (log–log slope 1, see
    :func:`ssbflow.analysis.diffusion.find_diffusive_range`); when it did not, D is the slope
    of a ballistic/caged MSD over the run, i.e. an estimate only, and an Arrhenius Ea built
    from such D is flagged (``from_diffusive_msd`` false) and stated as such in the report.
    ``notes`` (e.g. published values to compare with) are added to the report.
    """
    from ssbflow.analysis.arrhenius import fit_arrhenius, plot_arrhenius
    from ssbflow.analysis.diffusion import analyze_trajectory, plot_msd
    from ssbflow.io import write_structure
    from ssbflow.workflows.md import run_nvt_md

    cfg = settings or DiffusionStudySettings()
    if not cfg.temperatures_K:
        raise InputError("temperatures: give at least one temperature (K)")
    if any(t <= 0 for t in cfg.temperatures_K):
        raise InputError("temperatures must be > 0 K")
    out = Path(out)
    (out / "md").mkdir(parents=True, exist_ok=True)
    (out / "structures").mkdir(exist_ok=True)
    t_start = time.perf_counter()
    rows: list[dict] = []
    system_rows: list[dict] = []
    fits: dict[str, Any] = {}
    fit_diffusive: dict[str, bool] = {}
    for label, structure in systems.items():
        write_structure(structure, out / "structures" / f"{label}.cif")
        elements = structure.composition.element_composition
        system_rows.append({
            "system": label, "formula": elements.formula.replace(" ", ""),
            "n_atoms": len(structure), f"n_{cfg.species}": int(elements[cfg.species]),
            "cell_a_A": structure.lattice.a, "cell_b_A": structure.lattice.b,
            "cell_c_A": structure.lattice.c, "volume_A3": structure.volume,
            "density_g_cm3": float(structure.density),
        })
        if cfg.pre_relax_steps > 0:
            from ssbflow.workflows.md import energy_forces_calculator, mlip_calculator

            _, relaxed = _relaxed_energy(structure, out / "structures" / f"{label}_relaxed.extxyz",
                                         energy_forces_calculator(mlip_calculator(cfg.mlip_model)),
                                         0.1, cfg.pre_relax_steps)
            structure = relaxed
        per_t = {}
        for temp in cfg.temperatures_K:
            traj = out / "md" / f"{label}_{temp:.0f}K.extxyz"
            summary = run_nvt_md(structure, traj, temp, cfg.n_steps, timestep_fs=cfg.timestep_fs,
                                 save_every=cfg.save_every, mlip_model=cfg.mlip_model,
                                 seed=cfg.seed)
            res = analyze_trajectory(traj, species=cfg.species)
            per_t[temp] = res
            rows.append({
                "system": label, "T_K": temp,
                "msd_slope_A2_per_ps": res.msd_slope_A2_per_ps,
                "msd_slope_stderr_A2_per_ps": res.msd_slope_stderr_A2_per_ps,
                "D_cm2_s": res.D_cm2_s, "D_stderr_cm2_s": res.D_stderr_cm2_s,
                "fit_start_ps": res.fit_range_ps[0], "fit_end_ps": res.fit_range_ps[1],
                "loglog_slope": res.loglog_slope, "diffusive": res.diffusive,
                "msd_fit_end_A2": float(np.interp(res.fit_range_ps[1], res.time_ps,
                                                  res.msd_A2)),
                "sigma_NE_mS_cm": res.sigma_mS_cm,
                "mean_T_K": summary.mean_temperature_K,
                "md_ps": summary.steps_done * cfg.timestep_fs / 1000.0,
                "wall_s_per_step": summary.wall_s_per_step,
            })
        plot_msd({f"{t:.0f} K": r for t, r in per_t.items()}, out / f"msd_{label}.png")
        temps = [t for t, r in per_t.items() if r.D_cm2_s > 0]
        if len(temps) >= 2:
            fits[label] = fit_arrhenius(temps, [per_t[t].D_cm2_s for t in temps], form="D")
            fit_diffusive[label] = all(per_t[t].diffusive for t in temps)
    arrhenius_rows = [{"system": k, "Ea_eV": f.Ea_eV, "Ea_stderr_eV": f.Ea_stderr_eV,
                       "D0_cm2_s": f.prefactor, "D_300K_cm2_s": f.predict(300.0),
                       "from_diffusive_msd": fit_diffusive[k]}
                      for k, f in fits.items()]
    if fits:
        plot_arrhenius(fits, out / "arrhenius.png")
    not_diffusive = [f"{r['system']} {r['T_K']:.0f} K" for r in rows if not r["diffusive"]]
    if not_diffusive:
        verdict = (
            "**Not diffusive**: the MSD of " + ", ".join(not_diffusive) + " has no linear "
            "(log–log slope 1) regime within the run (ballistic/caged; see `loglog_slope`). "
            "Those D are slopes of a non-diffusive MSD (estimates only, usually upper bounds "
            "of the caged motion) and an Ea fitted to them is not a diffusion activation "
            "energy. Longer MD (ns for Li+ in polymers) is needed for converged D and Ea."
        )
    else:
        verdict = "All MSDs reached a diffusive (linear) regime inside the fit windows."
    md = [f"# {title}", "",
          f"Engine: mlip ({cfg.mlip_model}), Langevin NVT, {cfg.n_steps} × {cfg.timestep_fs} fs "
          f"per temperature (frames every {cfg.save_every} steps); MSD slope in Å²/ps, "
          "D = slope/6.", "",
          _write_table(system_rows, out / "systems.csv", "Simulation cells"), "",
          _write_table(rows, out / "diffusion.csv", "MSD slopes and D"), "",
          verdict, "",
          _write_table(arrhenius_rows, out / "arrhenius.csv", "Arrhenius fits of D(T)"), ""]
    if notes:
        md += [*notes, ""]
    md += [f"![MSD {k}](msd_{k}.png)" for k in systems] + (
        ["![Arrhenius](arrhenius.png)"] if fits else [])
    (out / "report.md").write_text("\n".join(md) + "\n")
    doc = _clean({
        "study": study,
        "settings": asdict(cfg),
        "engine": engine_settings(cfg.mlip_model),
        "systems": system_rows,
        "diffusion": rows,
        "diffusive": not not_diffusive,
        "not_diffusive": not_diffusive,
        "arrhenius": arrhenius_rows,
        "files": {"report": str(out / "report.md"), "diffusion_csv": str(out / "diffusion.csv")},
        "wall_time_s": time.perf_counter() - t_start,
    })
    _write_json(out / "results.json", doc)
    return doc


def run_polymer_li_diffusion(out: str | Path, settings: DiffusionStudySettings | None = None,
                             n_chains: int = 4, n_units: int = 4, n_li: int = 4,
                             seed: int = 0) -> dict:
    """Li+ (LiFSI) in amorphous PVDF vs dehydrofluorinated PVDF boxes (same composition
    of salt, same packing settings). The NCM811 study reports Li+ MSD slopes of
    0.20e-3 (PVDF) and 1.23e-3 Å²/ps (dehydrofluorinated PVDF)."""
    from ssbflow.structures.polymers import polymer_li_box

    systems = {kind: polymer_li_box(kind, n_chains=n_chains, n_units=n_units, n_li=n_li,
                                    seed=seed)
               for kind in ("pvdf", "dpvdf")}
    return run_diffusion_study(
        systems, out, settings, "polymer-li-diffusion",
        "Li+ diffusion in PVDF vs dehydrofluorinated PVDF",
        notes=["Published (NCM811 study, MD): Li+ MSD slope 0.20e-3 Å²/ps in PVDF and "
               "1.23e-3 Å²/ps in dehydrofluorinated PVDF (about 6x faster)."])


def run_llzo_li_diffusion(out: str | Path, settings: DiffusionStudySettings | None = None) -> dict:
    """Li diffusion in bulk tetragonal LLZO (192 atoms)."""
    from ssbflow.structures.garnet import llzo_tetragonal

    return run_diffusion_study({"llzo": llzo_tetragonal()}, out, settings,
                               "llzo-li-diffusion", "Li diffusion in tetragonal LLZO")


# --------------------------------------------------------------------------------------------
# LLTO: Li hop between A sites
# --------------------------------------------------------------------------------------------
@dataclass
class LltoSettings:
    """Settings of ``ssbflow run llto-li-migration`` (defaults: the 88-atom 3x3x1 cell)."""

    supercell: tuple[int, int, int] = (3, 3, 1)
    n_images: int = 5
    fmax_eV_per_A: float = 0.05
    max_steps: int = 300
    mlip_model: str = "CHGNet"


def choose_llto_hop(structure: Structure, supercell: tuple[int, int, int]) -> dict:
    """An in-plane Li hop between neighbouring A sites (a ≈ 3.87 Å apart, through the O4
    window), preferring the La-poor layer (z = 1/2 of the doubled cell).

    A Li next to an empty A site hops into it (``kind="to_empty"``); when no Li has an empty
    neighbour, a Li vacancy is made and a neighbouring Li hops into it (``kind="vacancy"``).
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

    candidates = []
    for i in li:
        d_empty = lattice.get_all_distances(frac[i], a_sites[~occupied])[0]
        for k, d in zip(np.flatnonzero(~occupied), d_empty, strict=True):
            if abs(d - a_len) < 0.3 and abs(a_sites[k][2] - frac[i][2] % 1) < 0.05:
                candidates.append((layer_rank(frac[i][2]), 0, i, k))
        for j in li:
            if j > i and abs(structure.get_distance(i, j) - a_len) < 0.3 and \
                    abs((frac[i][2] - frac[j][2]) % 1) < 0.05:
                candidates.append((layer_rank(frac[i][2]), 1, i, j))
    if not candidates:
        raise InputError("LLTO cell: no in-plane Li hop between neighbouring A sites")
    _rank, kind, i, k = min(candidates)
    if kind == 0:
        return {"kind": "to_empty", "index": int(i), "target_frac": a_sites[k].tolist()}
    return {"kind": "vacancy", "from_index": int(i), "to_index": int(k)}


def run_llto_li_migration(out: str | Path, settings: LltoSettings | None = None) -> dict:
    """CI-NEB of a Li hop between A sites of ordered LLTO (Li0.33La0.56TiO3)."""
    from ssbflow.analysis.neb import analyze_neb
    from ssbflow.io import write_structure
    from ssbflow.structures.perovskites import llto
    from ssbflow.workflows.neb import move_endpoints, run_neb, vacancy_hop_endpoints

    cfg = settings or LltoSettings()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    structure = llto(cfg.supercell)
    write_structure(structure, out / "llto.cif")
    hop = choose_llto_hop(structure, cfg.supercell)
    neb_dir = out / "neb"
    if _neb_done(neb_dir, cfg.n_images, cfg.fmax_eV_per_A, cfg.max_steps):
        res = analyze_neb(neb_dir)
    else:
        if hop["kind"] == "to_empty":
            initial, final = move_endpoints(structure, hop["index"], hop["target_frac"])
        else:
            initial, final = vacancy_hop_endpoints(structure, hop["from_index"],
                                                   hop["to_index"])
        res = run_neb(initial, final, neb_dir, n_images=cfg.n_images,
                      fmax_eV_per_A=cfg.fmax_eV_per_A, max_steps=cfg.max_steps,
                      mlip_model=cfg.mlip_model, label="LLTO A-site hop",
                      require_convergence=False)
    rows = [{"hop": hop["kind"], "barrier_eV": res.barrier_eV,
             "reaction_energy_eV": res.reaction_energy_eV, "converged": res.converged,
             "intermediate_minimum": res.has_intermediate_minimum}]
    md = ["# Li migration between A sites in LLTO", "",
          f"Cell: {structure.composition.reduced_formula} ({len(structure)} atoms), engine mlip "
          f"({cfg.mlip_model}).", "", _write_table(rows, out / "barriers.csv", "CI-NEB"), "",
          _convergence_note(rows), "", "![profile](neb/neb_profile.png)", ""]
    (out / "report.md").write_text("\n".join(md))
    doc = _clean({"study": "llto-li-migration", "settings": asdict(cfg),
                  "engine": engine_settings(cfg.mlip_model), "hop": hop,
                  "barriers": rows, "neb": res.to_dict(),
                  "files": {"report": str(out / "report.md")},
                  "wall_time_s": time.perf_counter() - t_start})
    _write_json(out / "results.json", doc)
    return doc
