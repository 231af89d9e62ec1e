"""The one in-process relaxer: atomate2's ``AseRelaxer`` with a force-field calculator.

Every fixed-cell or cell relaxation of the package (NEB endpoints, hop endpoints, hosts,
bulk phases, pre-relaxed MD boxes) goes through :func:`relax`, so "the force-field energy" of
a structure depends only on the calculator, the optimiser and the force criterion, which the
caller states. The optimisers are the ones measured for each use: BFGS (``maxstep`` 0.2 Å)
for slabs with adsorbed chains and for hosts (it learns the curvature of soft torsions; FIRE
has none), FIRE for bulk phases, NEB endpoints and MD boxes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Structure

from ssbflow.engines.geometry import as_atoms
from ssbflow.engines.mlip import energy_forces_calculator
from ssbflow.errors import InputError


def as_structure(atoms: Any, template: Structure, fixed: list[int] | None = None) -> Structure:
    """``atoms`` (same atoms, same order as ``template``) as a Structure that keeps the
    template's site properties (selective dynamics, adsorbate flags); ``fixed`` atoms get
    ``selective_dynamics`` all False on top."""
    from pymatgen.io.ase import AseAtomsAdaptor

    relaxed = AseAtomsAdaptor.get_structure(atoms)
    props = {k: list(v) for k, v in template.site_properties.items()}
    if fixed:
        free = props.get("selective_dynamics") or [[True] * 3 for _ in template]
        props["selective_dynamics"] = [[False] * 3 if i in set(fixed) else list(f)
                                       for i, f in enumerate(free)]
    return Structure(relaxed.lattice, template.species, relaxed.frac_coords,
                     site_properties=props)


def single_point(atoms: Any, calc: Any) -> Any:
    """Copy of ``atoms`` carrying its energy and unconstrained forces (no live calculator)."""
    from ase.calculators.singlepoint import SinglePointCalculator

    probe = atoms.copy()
    probe.calc = calc
    energy = float(probe.get_potential_energy())
    forces = probe.get_forces(apply_constraint=False)
    out = atoms.copy()
    out.calc = SinglePointCalculator(out, energy=energy, forces=forces)
    return out


@dataclass
class Relaxed:
    """What :func:`relax` returns.

    Attributes
    ----------
    atoms : relaxed ASE Atoms with its energy and forces (a single-point copy).
    energy_eV : total energy of ``atoms``.
    converged : the optimiser reached ``fmax`` within ``max_steps``.
    steps : optimiser steps taken.
    wall_time_s : wall time of the relaxation.
    """

    atoms: Any
    energy_eV: float
    converged: bool
    steps: int
    wall_time_s: float


def relax(
    structure: Structure | Any,
    calc: Any,
    *,
    fmax_eV_per_A: float = 0.05,
    max_steps: int = 300,
    optimizer: str = "FIRE",
    relax_cell: bool = False,
    maxstep_A: float | None = None,
    logfile: str | Path | None = None,
) -> Relaxed:
    """Relax positions (and the cell with ``relax_cell``, through ``FrechetCellFilter``).

    Parameters
    ----------
    structure : pymatgen Structure or ASE Atoms (constraints are honoured; not modified).
    calc : ASE calculator (for fixed-cell work wrap a CHGNet one with
        :func:`ssbflow.methods.md.energy_forces_calculator`: no stress per step).
    fmax_eV_per_A, max_steps : convergence criterion and step limit.
    optimizer : an ASE optimiser name atomate2 knows (``FIRE``, ``BFGS``, ...).
    relax_cell : relax the cell too.
    maxstep_A : the optimiser's largest step (Å); its default when None.
    logfile : the optimiser's log (none when None).

    Returns
    -------
    Relaxed
    """
    from atomate2.ase.utils import OPTIMIZERS, AseRelaxer

    if optimizer not in OPTIMIZERS:
        raise InputError(f"optimizer {optimizer!r} is not known; expected one of "
                         f"{', '.join(OPTIMIZERS)}")
    if fmax_eV_per_A <= 0 or max_steps < 1:
        raise InputError(f"fmax_eV_per_A must be > 0 and max_steps >= 1, got "
                         f"{fmax_eV_per_A} and {max_steps}")
    made: list[Any] = []

    def build(target: Any, **kwargs: Any) -> Any:  # keeps the optimiser to read its steps
        made.append(OPTIMIZERS[optimizer](target, **kwargs))
        return made[-1]

    kwargs: dict[str, Any] = {"logfile": str(logfile) if logfile else None}
    if maxstep_A is not None:
        kwargs["maxstep"] = maxstep_A
    work = as_atoms(structure)
    result = AseRelaxer(calc, optimizer=build, relax_cell=relax_cell).relax(
        work, fmax=fmax_eV_per_A, steps=max_steps, final_atoms_object_file=None,
        # the observer records (and asks the stress of) every frame it sees: first and last only
        interval=max_steps + 1, **kwargs)
    relaxed = single_point(work, calc)
    energy = float(relaxed.get_potential_energy())
    steps = int(made[0].nsteps) if made else 0  # max_steps 1: a single point (atomate2)
    return Relaxed(relaxed, energy, bool(result.converged), steps,
                   float(result.elapsed_time))


def relaxed_frame(structure: Structure | Any, calc: Any, path: str | Path,
                  fmax_eV_per_A: float = 0.1, max_steps: int = 100,
                  optimizer: str = "FIRE") -> tuple[float, Any]:
    """Fixed-cell :func:`relax` once; the relaxed frame is kept in ``path`` and read back.

    Returns
    -------
    energy_eV, atoms
    """
    from ase.io import read, write

    path = Path(path)
    if path.is_file():
        atoms = read(path)
        return float(atoms.get_potential_energy()), atoms
    done = relax(structure, calc, fmax_eV_per_A=fmax_eV_per_A, max_steps=max_steps,
                 optimizer=optimizer)
    write(path, done.atoms)
    return done.energy_eV, done.atoms


def relaxed_hop_endpoints(initial: Structure | Any, moving_index: int,
                          target_A: np.ndarray | list[float] | Callable[[Any], np.ndarray],
                          calc: Any, fmax_eV_per_A: float = 0.05, max_steps: int = 300,
                          fixed_in_final: list[int] | None = None,
                          logdir: str | Path | None = None) -> tuple[Any, Any, dict]:
    """Relaxed endpoints of a hop of ion ``moving_index`` to the Cartesian point ``target_A``
    (or to ``target_A(relaxed_initial)`` when it is a function) that share one host
    configuration.

    The initial state is relaxed first (BFGS, fixed cell); the final state starts from that
    relaxed configuration with only the moving ion put on ``target_A``, and is relaxed in
    turn. Relaxing both endpoints from one start keeps soft parts of the system (an adsorbed
    polymer) in the same basin, so the band does not have to carry a conformational change
    on top of the hop. ``fixed_in_final`` atoms (e.g. a polymer whose soft modes still
    drift) are held at their relaxed initial positions in the final relaxation, so the two
    endpoints differ only by the hop and its surroundings. ``logdir``: where the BFGS logs
    go (``initial_relax.log``, ``final_relax.log``).

    Returns
    -------
    initial, final, info
        ASE Atoms with energies and forces, and a record (convergence, steps, wall times,
        the length of the hop in Å).
    """
    calc = energy_forces_calculator(calc)
    start = as_atoms(initial)
    if not 0 <= moving_index < len(start):
        raise InputError(f"moving_index={moving_index} is not an atom of a "
                         f"{len(start)}-atom structure")
    info: dict[str, Any] = {"moving_index": int(moving_index)}
    frames: dict[str, Any] = {}
    for name in ("initial", "final"):
        if name == "final":
            start = frames["initial"].copy()
            point = target_A(start) if callable(target_A) else target_A
            start.positions[moving_index] = np.asarray(point, dtype=float)
            if fixed_in_final:
                start.set_constraint(fix_more(start, fixed_in_final))
        log = Path(logdir) / f"{name}_relax.log" if logdir is not None else None
        done = relax(start, calc, fmax_eV_per_A=fmax_eV_per_A, max_steps=max_steps,
                     optimizer="BFGS", maxstep_A=0.2, logfile=log)
        frames[name] = done.atoms
        info[f"{name}_converged"] = done.converged
        info[f"{name}_relax_steps"] = done.steps
        info[f"{name}_relax_wall_time_s"] = done.wall_time_s
    info["hop_length_A"] = float(np.linalg.norm(
        mic_vector(frames["initial"], frames["final"], moving_index)))
    return frames["initial"], frames["final"], info


def fix_more(atoms: Any, indices: list[int]) -> list:
    """The constraints of ``atoms`` plus ``FixAtoms(indices)``."""
    from ase.constraints import FixAtoms

    return [*atoms.constraints, FixAtoms(indices=list(indices))]


def mic_vector(a: Any, b: Any, index: int) -> np.ndarray:
    """Displacement (Å, minimum image) of atom ``index`` from ``a`` to ``b``."""
    from ase.geometry import find_mic

    d = b.positions[index] - a.positions[index]
    return find_mic(d, a.cell, a.pbc)[0]
