"""Classical MD protocol (OpenMM): minimise -> compress -> anneal -> cool -> NPT -> NVT.

:class:`ClassicalMdMaker` makes two jobs: :func:`build_box_job` (parameters from the cache
or AmberTools, a loose packmol box) and :func:`md_protocol_job`, which runs every stage in
its own folder and is resumable (``metadata={"resumable": True}``): after every
``checkpoint_ps`` it replaces one file, ``checkpoint.json``, holding the OpenMM state
(positions, velocities, box) and the progress (stage, steps done in it, frames saved,
samples), in one atomic rename, after the production frame files are flushed to disk
(``fsync``). A killed job run again continues from that checkpoint: finished stages are
not repeated, and the production frames file is cut back to the frames the checkpoint
counts, so no frame is lost or duplicated (a frame file holding fewer frames than the
checkpoint counts, after a crash of the node, stops the run in one line).

Stages (a length of 0 skips one): ``minimise`` (L-BFGS); ``compress``, NPT at
``compress_bar`` with a barostat move every 2 steps (the loose packmol box shrinks to the
liquid in a few ps; at 1 bar with a move every 25 steps it took more than 50 ps);
``anneal``, NPT at ``anneal_K``; ``cool``, NPT ramped down to T in 10 steps; ``npt``, NPT at T
and 1 bar, whose second half gives the density; ``production``, NVT at T in the box of that
mean volume (molecule centres scaled), saving unwrapped molecular centres of mass every
``frame_ps`` (Li+ is its own molecule) and, when the box holds Li+, the positions of Li and
of the atoms that can coordinate it (N, O, F of every molecule) every ``sites_ps`` (float32,
``sites.f32``; for the Li+ RDFs and coordination numbers). Temperature: Langevin
(``LangevinMiddleIntegrator``, ``friction_per_ps``); pressure: Monte Carlo barostat.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from jobflow import Flow, Maker, job

from ssbflow.analysis.msd import MIN_FRAMES
from ssbflow.errors import InputError
from ssbflow.methods.classical_md_frames import (
    CHECKPOINT,
    FRAMES,
    SITES,
    check_frame_files,
    sites_doc,
    sync_frames,
)

#: Elements whose atoms are saved as Li+ coordination sites (Li itself and N, O, F).
SITE_ELEMENTS = (3, 7, 8, 9)
#: Barostat move interval (steps) while compressing and afterwards.
COMPRESS_BAROSTAT_EVERY = 2
BAROSTAT_EVERY = 25
COOL_STEPS = 10
#: Density (g/cm³) a box is assumed to reach when checking it against twice the cutoff: a
#: dense organic liquid or electrolyte (acetonitrile 0.78, carbonates 1.2-1.3); polymer
#: boxes pass their own (PVDF 1.78).
LIQUID_DENSITY_G_CM3 = 1.0


@dataclass
class MdProtocol:
    """Lengths (ps), temperatures (K), pressures (bar) and numerics of the protocol."""

    temperature_K: float = 298.0
    production_ps: float = 1000.0
    npt_ps: float = 100.0
    compress_ps: float = 10.0
    compress_bar: float = 1000.0
    anneal_K: float = 500.0
    anneal_ps: float = 0.0
    cool_ps: float = 0.0
    timestep_fs: float = 4.0
    friction_per_ps: float = 1.0
    frame_ps: float = 1.0
    sites_ps: float = 5.0
    checkpoint_ps: float = 5.0
    cutoff_nm: float = 1.0
    hydrogen_mass_amu: float = 3.024
    ion_charge_scale: float = 0.8
    seed: int = 1
    platform: str | None = None

    def steps(self, ps: float) -> int:
        """Whole number of ``timestep_fs`` steps in ``ps`` (a multiple of a frame)."""
        per_frame = self.frame_steps()
        return round(ps * 1000.0 / self.timestep_fs / per_frame) * per_frame

    def frame_steps(self) -> int:
        """Steps between saved frames (and between density samples)."""
        return max(round(self.frame_ps * 1000.0 / self.timestep_fs), 1)

    def sites_every(self) -> int:
        """Production frames between saved Li+ coordination sites."""
        return max(round(self.sites_ps / self.frame_ps), 1)

    def check(self) -> None:
        """Raise :class:`InputError` for a protocol that cannot run."""
        if self.temperature_K <= 0 or self.anneal_K <= 0:
            raise InputError("temperature_K and anneal_K must be > 0")
        if min(self.timestep_fs, self.frame_ps, self.checkpoint_ps, self.sites_ps) <= 0:
            raise InputError("timestep_fs, frame_ps, sites_ps and checkpoint_ps must be > 0")
        if min(self.production_ps, self.npt_ps, self.compress_ps, self.anneal_ps,
               self.cool_ps) < 0:
            raise InputError("stage lengths (ps) must be >= 0")
        if self.steps(self.production_ps) < MIN_FRAMES * self.frame_steps():
            raise InputError(f"production_ps {self.production_ps} holds fewer than "
                             f"{MIN_FRAMES} frames of frame_ps {self.frame_ps} (the MSD fit "
                             "needs them)")

    def stages(self) -> list[dict[str, Any]]:
        """The stages to run, in order (name, ensemble, temperatures, pressure, steps)."""
        t, hot = self.temperature_K, self.anneal_K
        first_t = hot if self.anneal_ps > 0 else t
        plan = [
            {"name": "minimise", "ensemble": "min", "steps": 0, "T_K": first_t},
            {"name": "compress", "ensemble": "npt", "steps": self.steps(self.compress_ps),
             "T_K": first_t, "p_bar": self.compress_bar, "every": COMPRESS_BAROSTAT_EVERY},
            {"name": "anneal", "ensemble": "npt", "steps": self.steps(self.anneal_ps),
             "T_K": hot, "p_bar": 1.0, "every": BAROSTAT_EVERY},
            {"name": "cool", "ensemble": "npt", "steps": self.steps(self.cool_ps),
             "T_K": hot, "T_end_K": t, "p_bar": 1.0, "every": BAROSTAT_EVERY},
            {"name": "npt", "ensemble": "npt", "steps": self.steps(self.npt_ps), "T_K": t,
             "p_bar": 1.0, "every": BAROSTAT_EVERY},
            {"name": "production", "ensemble": "nvt", "steps": self.steps(self.production_ps),
             "T_K": t},
        ]
        return [s for s in plan if s["ensemble"] == "min" or s["steps"] > 0]


@dataclass
class _Run:
    """What a running protocol holds in memory (rebuilt on resume)."""

    structure: Any
    system: Any
    barostat: Any
    platform: Any
    properties: dict[str, str]
    molecules: list[tuple[int, int, int]]
    atom_masses: np.ndarray
    sites: np.ndarray
    progress: dict[str, Any] = field(default_factory=dict)


def _write_checkpoint(context, progress: dict[str, Any]) -> None:
    import openmm

    state = context.getState(getPositions=True, getVelocities=True, getParameters=True,
                             enforcePeriodicBox=False)
    doc = {"progress": progress, "state_xml": openmm.XmlSerializer.serialize(state)}
    tmp = Path(CHECKPOINT + ".tmp")
    with tmp.open("w") as handle:
        json.dump(doc, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, CHECKPOINT)


def _com(positions_A: np.ndarray, run: _Run) -> np.ndarray:
    """Centre of mass of every molecule (Å), from unwrapped positions."""
    out = np.empty((len(run.molecules), 3))
    for i, (_, start, n) in enumerate(run.molecules):
        w = run.atom_masses[start:start + n]
        out[i] = w @ positions_A[start:start + n] / w.sum()
    return out


def _positions_A(context) -> np.ndarray:
    from openmm import unit

    state = context.getState(getPositions=True, enforcePeriodicBox=False)
    return np.asarray(state.getPositions(asNumpy=True).value_in_unit(unit.angstrom))


def _volume_A3(context) -> float:
    from openmm import unit

    return float(context.getState().getPeriodicBoxVolume().value_in_unit(unit.angstrom**3))


def _context(run: _Run, stage: dict[str, Any], protocol: MdProtocol, state_xml: str | None,
             positions_A: np.ndarray | None, box_A: float | None, step0: int):
    import openmm
    from openmm import unit

    npt = stage["ensemble"] == "npt"
    run.barostat.setFrequency(stage.get("every", BAROSTAT_EVERY) if npt else 0)
    run.barostat.setDefaultPressure(stage.get("p_bar", 1.0) * unit.bar)
    run.barostat.setDefaultTemperature(stage["T_K"] * unit.kelvin)
    run.barostat.setRandomNumberSeed(protocol.seed + step0)
    integrator = openmm.LangevinMiddleIntegrator(
        stage["T_K"] * unit.kelvin, protocol.friction_per_ps / unit.picosecond,
        protocol.timestep_fs * unit.femtosecond)
    integrator.setRandomNumberSeed(protocol.seed + step0 + 1)
    context = openmm.Context(run.system, integrator, run.platform, run.properties)
    if state_xml is not None:
        context.setState(openmm.XmlSerializer.deserialize(state_xml))
    else:
        context.setPeriodicBoxVectors(*(np.eye(3) * box_A * unit.angstrom))
        context.setPositions(positions_A * unit.angstrom)
    # setState also restores the saved state's barostat pressure and temperature (context
    # parameters), which override the defaults set above (measured, OpenMM 8.6.1)
    context.setParameter(openmm.MonteCarloBarostat.Pressure(), stage.get("p_bar", 1.0))
    context.setParameter(openmm.MonteCarloBarostat.Temperature(), stage["T_K"])
    return context, integrator


def _rescale_to_volume(context, run: _Run, volume_A3: float) -> None:
    """Set the box to ``volume_A3`` (cube), moving molecule centres with it."""
    from openmm import unit

    pos = _positions_A(context)
    factor = (volume_A3 / _volume_A3(context)) ** (1.0 / 3.0)
    com = _com(pos, run)
    for i, (_, start, n) in enumerate(run.molecules):
        pos[start:start + n] += (factor - 1.0) * com[i]
    box = np.asarray(context.getState().getPeriodicBoxVectors(asNumpy=True)
                     .value_in_unit(unit.angstrom)) * factor
    context.setPeriodicBoxVectors(*(box * unit.angstrom))
    context.setPositions(pos * unit.angstrom)


def _run_stage(run: _Run, index: int, stage: dict[str, Any], protocol: MdProtocol,
               state_xml: str | None, start: dict[str, Any]) -> str:
    """Run (the rest of) one stage; returns the final state XML."""
    import openmm
    from openmm import unit

    prog = run.progress
    done = prog["stage_steps"] if prog["stage"] == index else 0
    context, integrator = _context(run, stage, protocol, state_xml, start.get("positions_A"),
                                   start.get("box_A"), prog["total_steps"])
    t0 = time.perf_counter()
    if stage["ensemble"] == "min":
        openmm.LocalEnergyMinimizer.minimize(context, 10.0, 2000)
        context.setVelocitiesToTemperature(stage["T_K"] * unit.kelvin, protocol.seed)
    if stage["name"] == "production" and done == 0:
        samples = prog["samples"].get("npt_volume_A3", [])
        if samples:
            _rescale_to_volume(context, run, float(np.mean(samples[len(samples) // 2:])))
        Path(FRAMES).write_bytes(b"")
        Path(SITES).write_bytes(b"")
        prog["n_frames"] = 0
        prog["production_box_A"] = np.diag(np.asarray(
            context.getState().getPeriodicBoxVectors(asNumpy=True).value_in_unit(
                unit.angstrom))).tolist()
    every = protocol.sites_every()
    if stage["name"] == "production":  # drop frames saved after the last checkpoint
        with open(FRAMES, "r+b") as handle:
            handle.truncate(prog["n_frames"] * len(run.molecules) * 3 * 8)
        with open(SITES, "ab") as handle:  # (absent in a run checkpointed before sites)
            handle.truncate(prog["n_frames"] // every * run.sites.size * 3 * 4)
    per_frame = protocol.frame_steps()
    per_ckpt = max(round(protocol.checkpoint_ps * 1000 / protocol.timestep_fs
                             / per_frame), 1) * per_frame
    total = stage["steps"]
    while done < total:
        n = min(per_frame, total - done)
        if "T_end_K" in stage:  # cooling ramp in COOL_STEPS plateaus
            level = min(int(done * COOL_STEPS / total) + 1, COOL_STEPS)
            temp = stage["T_K"] + (stage["T_end_K"] - stage["T_K"]) * level / COOL_STEPS
            integrator.setTemperature(temp * unit.kelvin)
            context.setParameter(openmm.MonteCarloBarostat.Temperature(), temp)
        try:
            integrator.step(n)
        except openmm.OpenMMException as exc:  # the barostat shrank the box too far
            if "twice the nonbonded cutoff" not in str(exc):
                raise
            raise InputError(f"{stage['name']} stage: the box shrank below twice cutoff_nm "
                             f"{protocol.cutoff_nm} ({20.0 * protocol.cutoff_nm:.1f} Å): "
                             "use more molecules or a smaller cutoff_nm") from None
        done += n
        prog["total_steps"] += n
        if stage["name"] == "production":
            pos = _positions_A(context)
            with open(FRAMES, "ab") as handle:
                handle.write(_com(pos, run).astype("<f8").tobytes())
            prog["n_frames"] += 1
            if run.sites.size and prog["n_frames"] % every == 0:
                with open(SITES, "ab") as handle:
                    handle.write(pos[run.sites].astype("<f4").tobytes())
        elif stage["name"] == "npt":
            prog["samples"].setdefault("npt_volume_A3", []).append(_volume_A3(context))
        if done % per_ckpt == 0 or done == total:
            prog.update(stage=index, stage_steps=done)
            prog["wall_s"][stage["name"]] = (prog["wall_s"].get(stage["name"], 0.0)
                                             + time.perf_counter() - t0)
            t0 = time.perf_counter()
            if stage["name"] == "production":
                sync_frames()
            _write_checkpoint(context, prog)
    prog["wall_s"][stage["name"]] = prog["wall_s"].get(stage["name"], 0.0) \
        + time.perf_counter() - t0
    prog.update(stage=index + 1, stage_steps=0)
    if stage["name"] == "production":
        sync_frames()
    _write_checkpoint(context, prog)
    state = context.getState(getPositions=True, getVelocities=True, getParameters=True,
                             enforcePeriodicBox=False)
    return openmm.XmlSerializer.serialize(state)


def run_protocol(components: list[tuple[str, int]], prmtops: dict[str, str],
                 net_charges: dict[str, int], positions_A: np.ndarray, box_A: float,
                 protocol: MdProtocol) -> dict[str, Any]:
    """Run (or continue, from ``checkpoint.json`` in the current folder) every stage.

    Returns
    -------
    dict
        ``progress`` (samples, wall times, frames), ``frames_com_A`` (n_frames, n_molecules,
        3) unwrapped molecular centres of the production, ``molecules`` (component index per
        molecule), ``molecule_masses_amu``, ``n_atoms``, ``platform`` record, ``resumed``,
        ``sites`` (``positions_A`` (n, n_sites, 3) unwrapped float32 Li/N/O/F positions of
        every ``every_frames``-th frame, ``atomic_numbers``, ``component`` index per site,
        ``box_A`` edges of the production box) and ``volume_A3`` (of the production box).
    """
    import openmm
    from openmm import unit

    from ssbflow.engines.openmm.box import combined_structure, create_system
    from ssbflow.engines.openmm.platform import platform_record, select_platform

    protocol.check()
    Path("prmtop").mkdir(exist_ok=True)
    params = []
    for i, (smiles, _) in enumerate(components):
        path = Path("prmtop") / f"c{i}.prmtop"
        path.write_text(prmtops[smiles])
        params.append({"prmtop": str(path), "net_charge_e": net_charges[smiles]})
    structure, molecules = combined_structure(components, params, protocol.ion_charge_scale)
    system = create_system(structure, box_A, protocol.cutoff_nm, protocol.hydrogen_mass_amu)
    barostat = openmm.MonteCarloBarostat(1.0 * unit.bar, protocol.temperature_K * unit.kelvin,
                                         0)
    system.addForce(barostat)
    platform, properties = select_platform(protocol.platform)
    numbers = np.array([a.atomic_number for a in structure.atoms])
    sites = (np.flatnonzero(np.isin(numbers, SITE_ELEMENTS)) if (numbers == 3).any()
             else np.zeros(0, dtype=int))
    run = _Run(structure, system, barostat, platform, properties, molecules,
               np.array([a.mass for a in structure.atoms], dtype=float), sites)
    stages = protocol.stages()
    state_xml = None
    resumed = Path(CHECKPOINT).exists()
    if resumed:
        doc = json.loads(Path(CHECKPOINT).read_text())
        run.progress, state_xml = doc["progress"], doc["state_xml"]
        if run.progress.get("stages") != [s["name"] for s in stages]:
            raise InputError(f"{Path(CHECKPOINT).absolute()}: written by another protocol")
        if run.progress["stage"] >= len(stages) - 1:  # production started
            check_frame_files(run.progress, len(molecules), sites.size * 3 * 4,
                               protocol.sites_every())
    else:
        run.progress = {"stage": 0, "stage_steps": 0, "total_steps": 0, "n_frames": 0,
                        "samples": {}, "wall_s": {}, "stages": [s["name"] for s in stages],
                        "resumes": 0}
    run.progress["resumes"] += int(resumed)
    start = {"positions_A": np.asarray(positions_A, dtype=float), "box_A": float(box_A)}
    for index, stage in enumerate(stages):
        if index < run.progress["stage"]:
            continue
        state_xml = _run_stage(run, index, stage, protocol, state_xml, start)
    n_mol = len(molecules)
    volume = float(openmm.XmlSerializer.deserialize(state_xml).getPeriodicBoxVolume()
                   .value_in_unit(unit.angstrom**3))  # of the production (NVT)
    frames = np.fromfile(FRAMES, dtype="<f8").reshape(-1, n_mol, 3)[: run.progress["n_frames"]]
    mol_mass = [float(run.atom_masses[s:s + n].sum()) for _, s, n in molecules]
    n_sites = run.progress["n_frames"] // protocol.sites_every()
    mol_of = np.repeat(np.arange(len(molecules)), [n for _, _, n in molecules])
    site_doc = {"positions_A": np.fromfile(SITES, dtype="<f4").reshape(
                    -1, sites.size, 3)[:n_sites] if sites.size else np.zeros((0, 0, 3)),
                "atomic_numbers": numbers[sites].tolist(),
                "component": [molecules[m][0] for m in mol_of[sites]],
                "every_frames": protocol.sites_every(),
                "box_A": run.progress.get("production_box_A")}
    return {"progress": run.progress, "frames_com_A": frames, "sites": site_doc,
            "molecules": [k for k, _, _ in molecules], "molecule_masses_amu": mol_mass,
            "n_atoms": len(structure.atoms), "platform": platform_record(platform, properties),
            "resumed": resumed, "protocol": asdict(protocol), "volume_A3": volume}


@job(data=["positions_A", "prmtops"])
def build_box_job(components: list[tuple[str, int]], pack_density_g_cm3: float = 0.5,
                  charge_method: str = "abcg2", seed: int = 1,
                  cache_dir: str | None = None, cutoff_nm: float | None = None,
                  liquid_density_g_cm3: float = LIQUID_DENSITY_G_CM3) -> dict[str, Any]:
    """Parameters of every component and a loose packmol box (in the job folder).

    With ``cutoff_nm``, a box narrower than twice the cutoff at ``liquid_density_g_cm3``
    (the density it is compressed to) is refused before packing
    (:func:`~ssbflow.engines.openmm.box.check_box_fits_cutoff`).

    Returns ``positions_A`` and ``prmtops`` (text of each component's Amber topology, so
    the MD job uses exactly these parameters wherever it runs; data store), ``box_A``,
    ``net_charges`` and ``parameters`` (per component: source, types, charges, terms
    parmchk2 borrowed, time to make them, whether they came from the cache).
    """
    from ssbflow.engines.openmm.box import check_box_fits_cutoff, component_parameters, pack_box

    params = component_parameters(components, cache_dir, charge_method)
    if cutoff_nm is not None:
        check_box_fits_cutoff(components, params, cutoff_nm, liquid_density_g_cm3)
    positions, box = pack_box(components, params, Path("pack"), pack_density_g_cm3, seed)
    return {
        "positions_A": positions.tolist(), "box_A": box,
        "prmtops": {s: Path(p["prmtop"]).read_text() for (s, _), p in zip(components, params,
                                                                           strict=True)},
        "net_charges": {s: p["net_charge_e"] for (s, _), p in zip(components, params,
                                                                   strict=True)},
        "parameters": [{k: v for k, v in p.items() if k not in ("prmtop", "pdb")}
                       for p in params],
        "pack_density_g_cm3": pack_density_g_cm3,
    }


@job(data="frames", metadata={"resumable": True})
def md_protocol_job(box: dict[str, Any], components: list[tuple[str, int]],
                    protocol: dict[str, Any], continue_from: str | None = None,
                    job_name: str = "") -> dict[str, Any]:
    """:func:`run_protocol` as a resumable job; its output feeds the analysis. With
    ``continue_from`` (a run folder), the production of its job ``job_name`` is extended
    (:mod:`ssbflow.methods.md_continuation`).

    Returns
    -------
    dict
        ``frames`` (data store): ``com_A`` (n_frames, n_molecules, 3) unwrapped centres of
        mass, ``time_ps``, ``sites`` (Li/N/O/F positions every ``sites_ps``, wrapped, with
        ``box_A``, ``atomic_numbers``, ``labels``, ``time_ps``; ``None`` without Li+);
        and ``labels`` (component SMILES per molecule),
        ``molecule_masses_amu``, ``npt_volume_A3`` samples, ``volume_A3`` of the production,
        ``total_mass_amu``, ``n_atoms``, ``platform``, ``wall_s`` per stage,
        ``ns_per_day`` per stage, ``resumes`` and ``protocol``.
    """
    proto = MdProtocol(**protocol)
    comps = [(str(s), int(n)) for s, n in components]
    if continue_from and not Path(CHECKPOINT).exists():
        from ssbflow.methods.md_continuation import previous_job_folder, seed_from_previous

        seed_from_previous(previous_job_folder(continue_from, job_name), proto.stages(),
                           proto.frame_steps())
    out = run_protocol(comps, box["prmtops"], box["net_charges"],
                       np.asarray(box["positions_A"], dtype=float), box["box_A"], proto)
    prog = out["progress"]
    stage_ps = {s["name"]: s["steps"] * proto.timestep_fs / 1000.0 for s in proto.stages()}
    ns_day = {k: (stage_ps[k] / 1000.0) / (w / 86400.0)
              for k, w in prog["wall_s"].items() if stage_ps.get(k) and w > 0}
    samples = prog["samples"].get("npt_volume_A3", [])
    # the production box: the mean NPT volume, or the compressed box when there is no NPT
    volume = float(np.mean(samples[len(samples) // 2:])) if samples else out["volume_A3"]
    n_frames = out["frames_com_A"].shape[0]
    time_ps = np.arange(1, n_frames + 1) * proto.frame_steps() * proto.timestep_fs / 1000.0
    return {
        "frames": {"com_A": out["frames_com_A"].tolist(), "time_ps": time_ps.tolist(),
                   "sites": sites_doc(out["sites"], comps, time_ps)},
        "labels": [comps[k][0] for k in out["molecules"]],
        "molecule_masses_amu": out["molecule_masses_amu"],
        "total_mass_amu": float(np.sum(out["molecule_masses_amu"])),
        "npt_volume_A3": samples, "volume_A3": volume, "n_atoms": out["n_atoms"],
        "platform": out["platform"], "wall_s": prog["wall_s"], "ns_per_day": ns_day,
        "resumes": prog["resumes"], "protocol": out["protocol"],
        "continued_from": prog.get("continued_from"),
        "temperature_K": proto.temperature_K, "n_frames": n_frames,
    }


@dataclass
class ClassicalMdMaker(Maker):
    """Box of ``components`` ``[(SMILES, count), ...]`` -> the protocol's trajectory.

    ``make`` returns a Flow of :func:`build_box_job` and :func:`md_protocol_job`; the flow's
    output is the MD job's output. ``liquid_density_g_cm3``: the density the box is assumed
    to reach in the check against twice ``protocol.cutoff_nm``; ``continue_from``: a run
    folder whose job of the same name is extended (:mod:`ssbflow.methods.md_continuation`).
    """

    name: str = "classical md"
    protocol: MdProtocol = field(default_factory=MdProtocol)
    pack_density_g_cm3: float = 0.5
    charge_method: str = "abcg2"
    cache_dir: str | None = None
    liquid_density_g_cm3: float = LIQUID_DENSITY_G_CM3
    continue_from: str | None = None

    def make(self, components: list[tuple[str, int]]) -> Flow:
        """The two jobs for one box at ``protocol.temperature_K``."""
        self.protocol.check()
        comps = [(str(s), int(n)) for s, n in components]
        build = build_box_job(comps, self.pack_density_g_cm3, self.charge_method,
                              self.protocol.seed, self.cache_dir, self.protocol.cutoff_nm,
                              self.liquid_density_g_cm3)
        build.name = f"{self.name} box"
        name = f"{self.name} {self.protocol.temperature_K:.0f} K"
        md = md_protocol_job(build.output, comps, asdict(self.protocol), self.continue_from,
                             name if self.continue_from else "")
        md.name = name
        return Flow([build, md], output=md.output, name=self.name)
