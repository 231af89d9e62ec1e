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
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pymatgen.core import Structure

from ssbflow.errors import InputError
from ssbflow.methods.md import energy_forces_calculator, engine_settings

if TYPE_CHECKING:
    from ssbflow.analysis.neb import NebResult

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

    The default cell is 14.35 x 5.78 Å in-plane (80 slab atoms): the chain and its periodic
    images then form a monolayer 5.8 Å apart, and the hop's vacancy has images 5.8 Å away
    along b. ``freeze_polymer_in_hop``: the chain is relaxed with the initial state and then
    held there in the final state and the band (its soft torsions otherwise keep drifting
    and add conformational energy to the hop). Scale up with a thicker slab
    (``thickness_A`` 10-12), ``min_width_A`` (14, 8) or wider, and ``n_images`` 5-7.
    """

    thickness_A: float = 6.0
    vacuum_A: float = 15.0
    min_width_A: tuple[float, float] = (14.0, 5.0)
    # 3 moving images: the 1- and 3-image barriers agreed within 2 meV on this cell (bare
    # 0.362 / 0.361 eV, PVDF 0.343 / 0.341 eV, CHGNet); 5 cost ~5/3 more for no change here
    n_images: int = 3
    fmax_eV_per_A: float = 0.05
    max_steps: int = 300
    mlip_model: str = "CHGNet"
    polymer_height_A: float = 2.5
    hop: tuple[int, int] | None = None
    freeze_polymer_in_hop: bool = True


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
            # midpoint under the minimum image (a pair across the cell edge is not central)
            _, shift = slab.lattice.get_distance_and_image(slab[i].frac_coords,
                                                           slab[j].frac_coords)
            mid = 0.5 * (cart[i] + slab.lattice.get_cartesian_coords(slab[j].frac_coords
                                                                      + shift))
            mid_frac = slab.lattice.get_fractional_coords(mid)
            mid_frac[:2] %= 1.0
            mid = slab.lattice.get_cartesian_coords(mid_frac)
            off = float(np.linalg.norm(mid[:2] - centre[:2]))
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

    from ssbflow.methods.neb import _atoms, relax_atoms

    if path.is_file():
        atoms = read(path)
        return float(atoms.get_potential_energy()), atoms
    atoms = relax_atoms(_atoms(structure), calc, fmax, steps)
    write(path, atoms)
    return float(atoms.get_potential_energy()), atoms


def minimise(atoms: Any, calc: Any, fmax_eV_per_A: float, max_steps: int,
             logfile: str | Path | None = None) -> tuple[Any, bool]:
    """Fixed-cell minimisation with ASE's BFGS; returns a single-point copy and convergence.

    BFGS rather than FIRE: quasi-Newton steps use the curvature it learns, which suits the
    soft torsional modes of adsorbed chains (FIRE has no curvature information).
    """
    from ase.optimize import BFGS

    from ssbflow.methods.neb import _single_point

    work = atoms.copy()
    work.calc = calc
    opt = BFGS(work, logfile=str(logfile) if logfile else None, maxstep=0.2)
    converged = bool(opt.run(fmax=fmax_eV_per_A, steps=max_steps))
    return _single_point(work, calc), converged


def relaxed_hop_endpoints(initial: Structure | Any, moving_index: int,
                          target_A: np.ndarray | list[float] | Callable[[Any], np.ndarray],
                          calc: Any, folder: str | Path,
                          fmax_eV_per_A: float = 0.05, max_steps: int = 300,
                          fixed_in_final: list[int] | None = None) -> tuple[Any, Any, dict]:
    """Relaxed endpoints of a hop of ion ``moving_index`` to the Cartesian point ``target_A``
    (or to ``target_A(relaxed_initial)`` when it is a function) that share one host
    configuration.

    The initial state is relaxed first; the final state starts from that relaxed
    configuration with only the moving ion put on ``target_A``, and is relaxed in turn.
    Relaxing both endpoints from one start keeps soft parts of the system (an adsorbed
    polymer) in the same basin, so the band does not have to carry a conformational change
    on top of the hop. ``fixed_in_final`` atoms (e.g. a polymer whose soft modes still
    drift) are held at their relaxed initial positions in the final relaxation, so the two
    endpoints differ only by the hop and its surroundings. Relaxed frames are kept in
    ``folder`` (``initial_relaxed.extxyz``, ``final_relaxed.extxyz``, BFGS logs) and read
    back when present (resume).

    Returns
    -------
    initial, final, info
        ASE Atoms with energies and forces, and a record (convergence, BFGS steps, the
        length of the hop in Å).
    """
    from ase.io import read, write

    from ssbflow.methods.neb import _atoms

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    calc = energy_forces_calculator(calc)
    start = _atoms(initial)
    if not 0 <= moving_index < len(start):
        raise InputError(f"moving_index={moving_index} is not an atom of a "
                         f"{len(start)}-atom structure")
    info: dict[str, Any] = {"moving_index": int(moving_index)}
    frames: dict[str, Any] = {}
    relaxed_now: set[str] = set()
    for name in ("initial", "final"):
        path = folder / f"{name}_relaxed.extxyz"
        cached = read(path) if path.is_file() else None
        if name == "final" and "initial" in relaxed_now:
            cached = None  # built on an initial state that has just moved on
        if cached is not None and cached.info.get("converged", True):
            frames[name] = cached
        else:
            if cached is not None:  # an unconverged relaxation goes on where it stopped
                start = cached
            elif name == "final":
                start = frames["initial"].copy()
                point = target_A(start) if callable(target_A) else target_A
                start.positions[moving_index] = np.asarray(point, dtype=float)
                if fixed_in_final:
                    start.set_constraint(_fix_more(start, fixed_in_final))
            t0 = time.perf_counter()
            relaxed, ok = minimise(start, calc, fmax_eV_per_A, max_steps,
                                   logfile=folder / f"{name}_relax.log")
            before = float(cached.info.get("wall_time_s", 0.0)) if cached is not None else 0.0
            relaxed.info.update(converged=ok, wall_time_s=before + time.perf_counter() - t0)
            write(path, relaxed)
            frames[name] = relaxed
            relaxed_now.add(name)
        info[f"{name}_converged"] = bool(frames[name].info.get("converged", True))
        info[f"{name}_relax_wall_time_s"] = float(frames[name].info.get("wall_time_s", 0.0))
    info["hop_length_A"] = float(np.linalg.norm(
        _mic_vector(frames["initial"], frames["final"], moving_index)))
    return frames["initial"], frames["final"], info


def _fix_more(atoms: Any, indices: list[int]) -> list:
    """The constraints of ``atoms`` plus ``FixAtoms(indices)``."""
    from ase.constraints import FixAtoms

    return [*atoms.constraints, FixAtoms(indices=list(indices))]


def _mic_vector(a: Any, b: Any, index: int) -> np.ndarray:
    from ase.geometry import find_mic

    d = b.positions[index] - a.positions[index]
    return find_mic(d, a.cell, a.pbc)[0]


def run_band(initial: Any, final: Any, calc: Any, out_dir: str | Path, n_images: int = 3,
             fmax_eV_per_A: float = 0.05, max_steps: int = 300, label: str = "NEB",
             climb_start_eV_per_A: float = 0.15) -> NebResult:
    """CI-NEB (improved tangent, IDPP) between relaxed endpoints, checkpointed for resume.

    Writes the same files as :func:`ssbflow.methods.neb.run_neb` (which ``analyze_neb``
    reads) and adds what bands of hours need and ``run_neb`` lacks: the band is written to
    ``band_checkpoint.extxyz`` every 5 steps and an interrupted run continues from it, and
    each stage logs its steps (``neb_stage*.log``). Stage 1: plain NEB with FIRE (robust far
    from the path) down to ``climb_start_eV_per_A``; stage 2: climbing image with BFGS
    (quasi-Newton steps once the band is near the path) down to ``fmax_eV_per_A``.

    Returns
    -------
    NebResult
        With ``converged``, ``optimizer_steps`` and ``files`` set.
    """
    from ase.io import read, write
    from ase.mep import NEB
    from ase.optimize import BFGS, FIRE

    from ssbflow.methods.neb import _single_point, write_band_outputs

    if n_images < 1:
        raise InputError(f"n_images must be >= 1, got {n_images}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    calc = energy_forces_calculator(calc)
    t0 = time.perf_counter()
    write(out / "initial.extxyz", initial)
    write(out / "final.extxyz", final)
    images = [initial] + [initial.copy() for _ in range(n_images)] + [final]
    for img in images[1:-1]:
        img.calc = calc
    checkpoint = out / "band_checkpoint.extxyz"
    stage, steps_done, resumed = 1, 0, False
    if checkpoint.is_file():
        saved = read(checkpoint, index=":")
        if len(saved) == len(images):  # a band with another image count is started afresh
            for img, frame in zip(images[1:-1], saved[1:-1], strict=True):
                img.positions = frame.positions
            stage = int(saved[0].info.get("stage", 1))
            steps_done = int(saved[0].info.get("steps", 0))
            resumed = True
    band = NEB(images, climb=stage == 2, method="improvedtangent",
               allow_shared_calculator=True)
    if not resumed:
        band.interpolate(method="idpp", mic=True)

    def save(stage_now: int, opt: Any) -> None:
        frames = [img.copy() for img in images]
        frames[0].info.update(stage=stage_now, steps=steps_done + opt.nsteps)
        write(checkpoint.with_suffix(".tmp.extxyz"), frames)
        checkpoint.with_suffix(".tmp.extxyz").replace(checkpoint)

    converged = False
    if stage == 1:
        opt = FIRE(band, logfile=str(out / "neb_stage1.log"))
        opt.attach(save, interval=5, stage_now=1, opt=opt)
        opt.run(fmax=max(climb_start_eV_per_A, fmax_eV_per_A), steps=max_steps)
        steps_done += opt.nsteps
        stage = 2
    band.climb = True
    opt = BFGS(band, logfile=str(out / "neb_stage2.log"), maxstep=0.1)
    opt.attach(save, interval=5, stage_now=2, opt=opt)
    converged = bool(opt.run(fmax=fmax_eV_per_A, steps=max_steps))
    steps_done += opt.nsteps
    save(2, opt)

    final_band = [images[0]] + [_single_point(img, calc) for img in images[1:-1]] + [images[-1]]
    result = write_band_outputs(final_band, out, label, converged, steps_done)
    record = json.loads((out / "neb_result.json").read_text())
    record.update(label=label, wall_time_s=time.perf_counter() - t0, settings={
        "n_images": n_images, "fmax_eV_per_A": fmax_eV_per_A, "max_steps": max_steps,
        "climb": True, "interpolation": "idpp", "method": "improvedtangent",
        "optimizer": "FIRE (plain band) then BFGS (climbing image)",
        "climb_start_eV_per_A": climb_start_eV_per_A})
    _write_json(out / "neb_result.json", record)
    return result


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


def _structure_like(atoms: Any, template: Structure) -> Structure:
    """``atoms`` (same atoms, same order as ``template``) as a Structure that keeps the
    template's site properties (selective dynamics, magmoms)."""
    from pymatgen.io.ase import AseAtomsAdaptor

    relaxed = AseAtomsAdaptor.get_structure(atoms)
    props = {k: v for k, v in template.site_properties.items()}
    return Structure(relaxed.lattice, template.species, relaxed.frac_coords,
                     site_properties=props)


def run_ncm_pvdf(out: str | Path, settings: NcmPvdfSettings | None = None) -> dict:
    """NCM811 (104) slab bare, with a PVDF chain and with a dehydrofluorinated chain: the
    same subsurface Li vacancy hop (CI-NEB) in all three, polymer binding energies and the
    closest C–O distances.

    Order of work (each step is kept in ``out`` and read back on a second call):

    1. bare slab: the vacancy state is relaxed, then the final state from it
       (:func:`relaxed_hop_endpoints`);
    2. each chain is laid on the *relaxed* vacancy slab (so only the interface still has to
       relax) and both endpoints are relaxed the same way; the moving Li starts the final
       relaxation where it ended in the bare final state;
    3. one CI-NEB per system (:func:`run_band`);
    4. binding energy E(slab+chain) − E(slab) − E(chain), all three relaxed in the vacancy
       state of the hop (the chain alone in the same cell, relaxed from its adsorbed shape).

    Returns
    -------
    dict
        The content of ``results.json``.
    """
    from ssbflow.analysis.neb import analyze_neb, plot_profiles
    from ssbflow.io import write_structure
    from ssbflow.methods.md import mlip_calculator
    from ssbflow.methods.neb import _atoms, vacancy_hop_endpoints
    from ssbflow.structures.cathode_slabs import ncm811_slab
    from ssbflow.structures.polymer_packing import polymer_on_slab

    cfg = settings or NcmPvdfSettings()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "structures").mkdir(exist_ok=True)
    t_start = time.perf_counter()
    saved = out / "structures" / "bare_slab.json"
    if saved.is_file():  # the TM ordering has ties that another thread count may break
        slab = Structure.from_file(saved)  # differently; resumed files refer to indices
    else:
        slab = ncm811_slab(thickness=cfg.thickness_A, vacuum=cfg.vacuum_A,
                           min_width_A=cfg.min_width_A)
        slab.to(filename=str(saved))
    hop = tuple(cfg.hop) if cfg.hop else choose_subsurface_hop(slab)
    initial_s, final_s = vacancy_hop_endpoints(slab, *hop)
    moving = hop[0] if hop[0] < hop[1] else hop[0] - 1
    calc = energy_forces_calculator(mlip_calculator(cfg.mlip_model))
    write_structure(slab, out / "structures" / "bare.cif")

    endpoints: dict[str, tuple[Any, Any, dict]] = {}
    endpoints["bare"] = relaxed_hop_endpoints(
        initial_s, moving, _atoms(final_s).positions[moving], calc, out / "endpoints_bare",
        cfg.fmax_eV_per_A, cfg.max_steps)
    vac_slab = _structure_like(endpoints["bare"][0], initial_s)
    target_A = endpoints["bare"][1].positions[moving]
    systems = {"bare": "bare", "PVDF": "pvdf", "dehydrofluorinated PVDF": "dpvdf"}
    coated: dict[str, Structure] = {}
    for tag in ("pvdf", "dpvdf"):
        coated[tag] = polymer_on_slab(vac_slab, tag, height=cfg.polymer_height_A)
        write_structure(coated[tag], out / "structures" / f"{tag}.cif")
        chain = [i for i, m in enumerate(coated[tag].site_properties["adsorbate"]) if m]
        frozen = chain if cfg.freeze_polymer_in_hop else None
        endpoints[tag] = relaxed_hop_endpoints(coated[tag], moving, target_A, calc,
                                               out / f"endpoints_{tag}", cfg.fmax_eV_per_A,
                                               cfg.max_steps, fixed_in_final=frozen)
        if frozen:  # the band moves the hop and the slab; the chain stays where it relaxed
            for frame in endpoints[tag][:2]:
                frame.set_constraint(_fix_more(frame, frozen))

    results: dict[str, NebResult] = {}
    rows, binding = [], []
    for label, tag in systems.items():
        ini, fin, info = endpoints[tag]
        neb_dir = out / f"neb_{tag}"
        if _neb_done(neb_dir, cfg.n_images, cfg.fmax_eV_per_A, cfg.max_steps):
            res = analyze_neb(neb_dir)
            record = json.loads((neb_dir / "neb_result.json").read_text())
        else:
            res = run_band(ini, fin, calc, neb_dir, n_images=cfg.n_images,
                           fmax_eV_per_A=cfg.fmax_eV_per_A, max_steps=cfg.max_steps,
                           label=label)
            record = json.loads((neb_dir / "neb_result.json").read_text())
        results[label] = res
        rows.append({"system": label, "barrier_eV": res.barrier_eV,
                     "reaction_energy_eV": res.reaction_energy_eV,
                     "n_images": res.n_images, "converged": res.converged,
                     "intermediate_minimum": res.has_intermediate_minimum,
                     "max_perp_force_eV_per_A": res.max_perp_force_eV_per_A,
                     "neb_steps": res.optimizer_steps,
                     "endpoints_converged": info["initial_converged"]
                     and info["final_converged"],
                     "neb_wall_time_s": record.get("wall_time_s")})
        if tag == "bare":
            continue
        mask = np.array(coated[tag].site_properties["adsorbate"], dtype=bool)
        chain = _atoms(ini)[np.flatnonzero(mask)]
        e_chain, _ = _relaxed_chain_energy(chain, out / f"endpoints_{tag}" / "chain_alone.extxyz",
                                           calc, cfg.fmax_eV_per_A, cfg.max_steps)
        binding.append({
            "system": label,
            "binding_energy_eV": float(ini.get_potential_energy())
            - float(endpoints["bare"][0].get_potential_energy()) - e_chain,
            "closest_C_O_A": _closest_distance_A(ini, "C", mask, "O", ~mask),
            "closest_F_TM_A": min(
                _closest_distance_A(ini, "F", mask, tm, ~mask) for tm in ("Ni", "Co", "Mn")
            ),
            "closest_H_O_A": _closest_distance_A(ini, "H", mask, "O", ~mask),
        })
    plot_profiles(results, out / "neb_profiles.png")
    wall = time.perf_counter() - t_start
    md = ["# NCM811 Li vacancy hop under PVDF / dehydrofluorinated PVDF", "",
          f"Engine: mlip ({cfg.mlip_model}); hop: Li {hop[0]} → vacancy at Li {hop[1]} "
          "(subsurface, same indices in all three cells); endpoints relaxed (BFGS, "
          f"fmax {cfg.fmax_eV_per_A} eV/Å), CI-NEB with {cfg.n_images} moving images.", "",
          _write_table(rows, out / "barriers.csv", "CI-NEB barriers"), "",
          _convergence_note(rows), "",
          _write_table(binding, out / "binding.csv",
                       "Polymer–surface binding (E_AB − E_slab − E_polymer; negative binds; "
                       "slab with the hop's Li vacancy)"),
          "", "Published (NCM811 study, DFT): 1.51 eV bare, 1.10 eV under dehydrofluorinated "
          "PVDF.", "", f"Wall time of this call: {wall:.0f} s.", "",
          "![profiles](neb_profiles.png)", ""]
    (out / "report.md").write_text("\n".join(md))
    doc = _clean({
        "study": "ncm-pvdf",
        "settings": asdict(cfg),
        "engine": engine_settings(cfg.mlip_model),
        "hop": {"from_index": hop[0], "to_index": hop[1], "moving_index": moving,
                "hop_length_A": endpoints["bare"][2]["hop_length_A"]},
        "barriers": rows,
        "binding": binding,
        "endpoints": {tag: info for tag, (_, _, info) in endpoints.items()},
        "neb": {k: v.to_dict() for k, v in results.items()},
        "files": {"report": str(out / "report.md"), "profiles_png": str(out / "neb_profiles.png"),
                  "barriers_csv": str(out / "barriers.csv")},
        "wall_time_s": wall,
    })
    _write_json(out / "results.json", doc)
    return doc


def _relaxed_chain_energy(chain: Any, path: Path, calc: Any, fmax: float,
                          steps: int) -> tuple[float, Any]:
    """Energy of the chain alone, relaxed from its adsorbed shape in the same cell (kept in
    ``path``)."""
    from ase.io import read, write

    if path.is_file():
        atoms = read(path)
        return float(atoms.get_potential_energy()), atoms
    atoms, _ = minimise(chain, calc, fmax, steps)
    write(path, atoms)
    return float(atoms.get_potential_energy()), atoms


# --------------------------------------------------------------------------------------------
# LLTO: Li hop between A sites
# --------------------------------------------------------------------------------------------
@dataclass
class LltoSettings:
    """Settings of ``ssbflow run llto-li-migration`` (defaults: the 88-atom 3x3x1 cell).

    ``rattle_A``: standard deviation (Å) of the random displacement given to every Li before
    the host is relaxed. Li on an A-site centre feels no force by symmetry even where that
    centre is not a minimum, so without it the "relaxed" endpoints can be saddle points and
    the band drops below them.
    """

    supercell: tuple[int, int, int] = (3, 3, 1)
    n_images: int = 5
    fmax_eV_per_A: float = 0.05
    max_steps: int = 300
    mlip_model: str = "CHGNet"
    relax_cell: bool = True
    rattle_A: float = 0.1
    seed: int = 0


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


def relax_host(structure: Structure, calc: Any, path: str | Path, fmax_eV_per_A: float = 0.05,
               max_steps: int = 300, relax_cell: bool = True, rattle_A: float = 0.1,
               seed: int = 0, species: str = "Li") -> Any:
    """Relax a host (positions, and the cell with ``relax_cell``) after displacing every
    ``species`` ion randomly by ``rattle_A`` (so ions on symmetric saddle points fall into
    the real minima); kept in ``path`` and read back when it exists.

    Returns
    -------
    ase.Atoms
        With energy and forces; ``info`` records convergence, steps and wall time.
    """
    from ase.filters import FrechetCellFilter
    from ase.io import read, write
    from ase.optimize import BFGS

    from ssbflow.methods.neb import _atoms, _single_point

    path = Path(path)
    if path.is_file():
        return read(path)
    atoms = _atoms(structure)
    mobile = [i for i, s in enumerate(atoms.get_chemical_symbols()) if s == species]
    rng = np.random.default_rng(seed)
    atoms.positions[mobile] += rng.normal(0.0, rattle_A, (len(mobile), 3))
    atoms.calc = energy_forces_calculator(calc)
    t0 = time.perf_counter()
    target = FrechetCellFilter(atoms) if relax_cell else atoms
    opt = BFGS(target, logfile=str(path.with_suffix(".log")), maxstep=0.2)
    converged = bool(opt.run(fmax=fmax_eV_per_A, steps=max_steps))
    relaxed = _single_point(atoms, atoms.calc)
    relaxed.info.update(converged=converged, steps=int(opt.nsteps),
                        wall_time_s=time.perf_counter() - t0)
    write(path, relaxed)
    return relaxed


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


def run_llto_li_migration(out: str | Path, settings: LltoSettings | None = None) -> dict:
    """CI-NEB of a Li hop between neighbouring A sites of ordered LLTO (Li0.33La0.56TiO3),
    through the O4 window of the La-poor layer.

    1. The ideal cell is built once and kept (``llto_ideal.json``; the A-site ordering has
       ties that other thread counts may break differently, and the resumed files refer to
       atom indices).
    2. The host is relaxed with the force field (cell too) after a small random displacement
       of the Li ions (:func:`relax_host`): Li does not stay on the A-site centre.
    3. The hop (:func:`choose_llto_hop` with the relaxed host) takes a Li whose off-centre
       position faces an empty neighbouring cage through their shared window; otherwise the
       Li is first put on that side of its cage and relaxed there.
    4. The final state starts from the relaxed initial one with the Li reflected through the
       window plane (:func:`mirrored_target_A`) and is relaxed (:func:`relaxed_hop_endpoints`).
    5. CI-NEB between the two minima (:func:`run_band`); the report states whether every
       image lies above both endpoints.
    """
    from ase.geometry import find_mic

    from ssbflow.io import write_structure
    from ssbflow.methods.md import mlip_calculator
    from ssbflow.structures.perovskites import llto

    cfg = settings or LltoSettings()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    saved = out / "llto_ideal.json"
    if saved.is_file():
        structure = Structure.from_file(saved)
    else:
        structure = llto(cfg.supercell)
        structure.to(filename=str(saved))
    write_structure(structure, out / "llto.cif")
    calc = energy_forces_calculator(mlip_calculator(cfg.mlip_model))
    hop = choose_llto_hop(structure, cfg.supercell)
    ideal = structure.copy()
    if hop["kind"] == "vacancy":
        ideal.remove_sites([hop["to_index"]])
        index = hop["from_index"] - (hop["from_index"] > hop["to_index"])
    host = relax_host(ideal, calc, out / "host_relaxed.extxyz", cfg.fmax_eV_per_A,
                      cfg.max_steps, cfg.relax_cell, cfg.rattle_A, cfg.seed)
    if hop["kind"] == "to_empty":
        hop = choose_llto_hop(structure, cfg.supercell, relaxed=host)
        index = hop["index"]
    start = host.copy()
    cell, pbc = host.cell, host.pbc
    c0 = np.asarray(hop["from_frac"]) @ cell.array
    step = find_mic(np.asarray(hop["to_frac"]) @ cell.array - c0, cell, pbc)[0]
    if not hop["aligned"]:  # start the Li on the window side of its own cage
        start.positions[index] = c0 + 0.25 * step

    def target(relaxed_initial: Any) -> np.ndarray:
        return mirrored_target_A(relaxed_initial, index, hop["from_frac"], hop["to_frac"])

    initial, final, info = relaxed_hop_endpoints(start, index, target, calc, out / "endpoints",
                                                 cfg.fmax_eV_per_A, cfg.max_steps)
    neb_dir = out / "neb"
    if _neb_done(neb_dir, cfg.n_images, cfg.fmax_eV_per_A, cfg.max_steps):
        from ssbflow.analysis.neb import analyze_neb

        res = analyze_neb(neb_dir)
    else:
        res = run_band(initial, final, calc, neb_dir, n_images=cfg.n_images,
                       fmax_eV_per_A=cfg.fmax_eV_per_A, max_steps=cfg.max_steps,
                       label="LLTO A-site hop")
    energies = np.asarray(res.image_energies_eV)
    # the old failure: images below the endpoints (endpoints on symmetric saddle points)
    above = bool(np.all(energies[1:-1] > min(energies[0], energies[-1]) - 1e-3))
    saddle_inside = bool(res.reverse_barrier_eV > 0.01 and res.barrier_eV > 0.01)
    site = initial.copy()
    site.positions[index] = c0
    li_offset = float(np.linalg.norm(_mic_vector(site, initial, index)))
    rows = [{"hop": hop["kind"], "barrier_eV": res.barrier_eV,
             "reverse_barrier_eV": res.reverse_barrier_eV,
             "reaction_energy_eV": res.reaction_energy_eV, "converged": res.converged,
             "images_above_lower_endpoint": above, "saddle_above_both_ends": saddle_inside,
             "intermediate_minimum": res.has_intermediate_minimum,
             "hop_length_A": info["hop_length_A"], "neb_steps": res.optimizer_steps}]
    wall = time.perf_counter() - t_start
    md = ["# Li migration between A sites in LLTO", "",
          f"Cell: {structure.composition.reduced_formula} ({len(structure)} atoms), engine "
          f"mlip ({cfg.mlip_model}); host relaxed "
          f"({'cell and positions' if cfg.relax_cell else 'positions'}, Li rattled by "
          f"{cfg.rattle_A} Å first). The hopping Li (index {index}) sits {li_offset:.2f} Å "
          "off its A-site centre in the initial state and crosses the O4 window into the "
          "empty neighbouring cage.", "",
          _write_table(rows, out / "barriers.csv", "CI-NEB"), "",
          _convergence_note(rows), "",
          ("No image lies below the lower endpoint." if above else
           "**Some image lies below an endpoint**: the endpoints are not the minima of this "
           "path.") + " " + (
              "The band maximum lies above both endpoints (a saddle between two minima)."
              if saddle_inside else
              f"The band rises to the final state (reverse barrier "
              f"{res.reverse_barrier_eV:.3f} eV): the target cage is at best a shallow "
              "minimum for Li, and the forward barrier is its site energy."), "",
          "Reference: bulk Li conduction in LLTO has Ea ≈ 0.3–0.4 eV (0.40 eV for x ≈ 0.1, "
          "Stramare, Thangadurai & Weppner, Chem. Mater. 15, 3974 (2003); Inaguma et al., "
          "Solid State Commun. 86, 689 (1993)); universal force fields are known to soften "
          "potential-energy surfaces and underestimate barriers.",
          "", f"Wall time of this call: {wall:.0f} s.", "",
          "![profile](neb/neb_profile.png)", ""]
    (out / "report.md").write_text("\n".join(md))
    doc = _clean({"study": "llto-li-migration", "settings": asdict(cfg),
                  "engine": engine_settings(cfg.mlip_model), "hop": hop,
                  "host": {"energy_eV": float(host.get_potential_energy()),
                           "cell_A_deg": host.cell.cellpar().tolist(),
                           "converged": bool(host.info.get("converged", True)),
                           "li_offset_from_A_site_A": li_offset},
                  "endpoints": info, "barriers": rows, "neb": res.to_dict(),
                  "files": {"report": str(out / "report.md"),
                            "profile_png": str(neb_dir / "neb_profile.png")},
                  "wall_time_s": wall})
    _write_json(out / "results.json", doc)
    return doc
