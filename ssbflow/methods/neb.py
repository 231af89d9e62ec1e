"""Climbing-image NEB of a Li hop with a universal force field, and harmonic TST rates.

ASE's NEB is driven directly (improved tangent, climbing image, IDPP interpolation under the
minimum-image convention) with one shared force-field calculator; atomate2's
``ForceFieldNebFromEndpointsMaker`` fails on our endpoints, and driving ASE keeps the band,
the saddle and the profile in one folder. Endpoints are relaxed first with the same engine
(selective dynamics of slabs become ASE ``FixAtoms`` and are honoured).

Files written to ``out_dir``: ``initial.extxyz``, ``final.extxyz`` (relaxed endpoints),
``neb_images.extxyz`` (final band with energies and true forces), ``saddle.extxyz`` and
``saddle.cif``, ``neb_profile.png``, ``neb_result.json``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from jobflow import job
from pymatgen.core import Structure

from ssbflow.analysis.neb import (
    IMAGES_FILE,
    NebResult,
    analyze_band,
    plot_profiles,
    write_result,
)
from ssbflow.errors import InputError, SsbflowError
from ssbflow.methods.md import engine_settings, mlip_calculator

_KB_EV_PER_K = 8.617333262e-5


# --------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------
def vacancy_hop_endpoints(
    structure: Structure, from_index: int, to_index: int
) -> tuple[Structure, Structure]:
    """Endpoints of a vacancy hop: site ``to_index`` is emptied, then the ion at
    ``from_index`` jumps into it (so the vacancy moves from ``to_index`` to ``from_index``).

    Returns
    -------
    initial, final
        Structures with one atom fewer than ``structure``, same atom order.
    """
    n = len(structure)
    for name, i in (("from_index", from_index), ("to_index", to_index)):
        if not 0 <= i < n:
            raise InputError(f"{name}={i} is not a site index of a {n}-atom structure")
    if from_index == to_index:
        raise InputError("from_index and to_index must differ")
    if structure[from_index].species != structure[to_index].species:
        raise InputError(
            f"sites {from_index} ({structure[from_index].species_string}) and {to_index} "
            f"({structure[to_index].species_string}) hold different species"
        )
    target = structure[to_index].frac_coords.copy()
    initial = structure.copy()
    initial.remove_sites([to_index])
    moving = from_index if from_index < to_index else from_index - 1
    final = initial.copy()
    final.replace(moving, final[moving].species, coords=target, coords_are_cartesian=False,
                  properties=final[moving].properties)
    return initial, final


def move_endpoints(
    structure: Structure, index: int, target_frac: list[float] | np.ndarray
) -> tuple[Structure, Structure]:
    """Endpoints of a hop of the ion at ``index`` to the fractional position ``target_frac``."""
    if not 0 <= index < len(structure):
        raise InputError(f"index={index} is not a site index of a {len(structure)}-atom structure")
    target = np.asarray(target_frac, dtype=float)
    if target.shape != (3,):
        raise InputError("target_frac must be three fractional coordinates")
    final = structure.copy()
    final.replace(index, final[index].species, coords=target, coords_are_cartesian=False,
                  properties=final[index].properties)
    others = [i for i in range(len(final)) if i != index]
    dists = final.lattice.get_all_distances(final[index].frac_coords,
                                            final.frac_coords[others])[0]
    if dists.size and dists.min() < 0.8:
        raise InputError(f"target_frac puts the ion {dists.min():.2f} Å from another atom")
    return structure.copy(), final


def moving_index(initial: Any, final: Any) -> int:
    """Index of the atom that moves most between two endpoints (minimum image)."""
    from ase.geometry import find_mic

    d = final.positions - initial.positions
    if initial.pbc.any():
        d = find_mic(d, initial.cell, initial.pbc)[0]
    return int(np.argmax(np.linalg.norm(d, axis=1)))


# --------------------------------------------------------------------------------------------
# Relaxation and NEB
# --------------------------------------------------------------------------------------------
def _atoms(structure: Structure | Any) -> Any:
    from ase import Atoms
    from pymatgen.io.ase import AseAtomsAdaptor

    if isinstance(structure, Atoms):
        return structure.copy()
    return AseAtomsAdaptor.get_atoms(structure)


def _single_point(atoms: Any, calc: Any) -> Any:
    """Copy of ``atoms`` carrying its energy and forces (no live calculator)."""
    from ase.calculators.singlepoint import SinglePointCalculator

    probe = atoms.copy()
    probe.calc = calc
    energy = float(probe.get_potential_energy())
    forces = probe.get_forces(apply_constraint=False)
    out = atoms.copy()
    out.calc = SinglePointCalculator(out, energy=energy, forces=forces)
    return out


def relax_atoms(atoms: Any, calc: Any, fmax_eV_per_A: float = 0.05, max_steps: int = 300) -> Any:
    """Fixed-cell relaxation (ASE FIRE); returns a copy with energy and forces attached."""
    from ase.optimize import FIRE

    work = atoms.copy()
    work.calc = calc
    opt = FIRE(work, logfile=None)
    opt.run(fmax=fmax_eV_per_A, steps=max_steps)
    return _single_point(work, calc)


@dataclass
class NebSettings:
    """Settings recorded with every NEB result."""

    n_images: int = 5
    fmax_eV_per_A: float = 0.05
    max_steps: int = 400
    relax_endpoints: bool = True
    climb: bool = True
    interpolation: str = "idpp"
    method: str = "improvedtangent"
    engine: str = "mlip"
    mlip_model: str = "CHGNet"
    optimizer: str = "FIRE"


def run_neb(
    initial: Structure | Any,
    final: Structure | Any,
    out_dir: str | Path,
    n_images: int = 5,
    fmax_eV_per_A: float = 0.05,
    max_steps: int = 400,
    relax_endpoints: bool = True,
    climb: bool = True,
    engine: str = "mlip",
    mlip_model: str = "CHGNet",
    device: str | None = None,
    calculator: Any = None,
    label: str = "NEB",
    require_convergence: bool = True,
    engine_options: dict[str, Any] | None = None,
) -> NebResult:
    """Relax the endpoints, interpolate with IDPP and run a climbing-image NEB.

    Parameters
    ----------
    initial, final
        Endpoints (pymatgen Structures or ASE Atoms) with the same atoms in the same order.
    out_dir
        Folder for the band, saddle, profile and result files.
    n_images
        Intermediate images (the band has ``n_images + 2``).
    fmax_eV_per_A, max_steps
        Force criterion for endpoints and band, and the step limit of each stage.
    climb
        Climbing image (switched on after a first, non-climbing stage to 4 × fmax).
    engine, mlip_model, device, calculator
        ``mlip`` (ASE NEB with a force field; ``calculator`` overrides it), ``cp2k``
        (CP2K ``&BAND`` CI-NEB) or ``vasp`` (inputs only): see
        :func:`ssbflow.engines.dft_neb.run_dft_neb`.
    engine_options
        Extra options of the ``cp2k``/``vasp`` engines (``preset``, ``mpi_ranks``,
        ``threads``, ``cutoff_Ry``, ...), passed to ``run_dft_neb``.
    require_convergence
        Raise :class:`SsbflowError` when the band does not converge (the files are written
        first); otherwise return the result with ``converged=False``.

    Returns
    -------
    NebResult
        With ``files`` naming what was written. ``settings`` and convergence go to
        ``neb_result.json``.
    """
    from ase.io import write
    from ase.mep import NEB
    from ase.optimize import FIRE

    if engine != "mlip":  # cp2k runs a CP2K &BAND; vasp writes inputs (neb_dft)
        from ssbflow.engines.dft_neb import run_dft_neb

        return run_dft_neb(initial, final, out_dir, engine, n_images=n_images,
                           fmax_eV_per_A=fmax_eV_per_A, max_steps=max_steps,
                           relax_endpoints=relax_endpoints, climb=climb, label=label,
                           require_convergence=require_convergence, **(engine_options or {}))
    if n_images < 1:
        raise InputError(f"n_images must be >= 1, got {n_images}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    calc = calculator if calculator is not None else mlip_calculator(mlip_model, device)
    a0, a1 = _atoms(initial), _atoms(final)
    if a0.get_chemical_symbols() != a1.get_chemical_symbols():
        raise InputError("initial and final hold different atoms (order must match)")
    if relax_endpoints:
        a0 = relax_atoms(a0, calc, fmax_eV_per_A, max_steps)
        a1 = relax_atoms(a1, calc, fmax_eV_per_A, max_steps)
    else:
        a0, a1 = _single_point(a0, calc), _single_point(a1, calc)
    write(out / "initial.extxyz", a0)
    write(out / "final.extxyz", a1)

    images = [a0]
    for _ in range(n_images):
        img = a0.copy()
        img.calc = calc
        images.append(img)
    images.append(a1)
    band = NEB(images, climb=False, method="improvedtangent", allow_shared_calculator=True)
    band.interpolate(method="idpp", mic=True)
    opt = FIRE(band, logfile=None)
    converged = bool(opt.run(fmax=max(4 * fmax_eV_per_A, 0.2) if climb else fmax_eV_per_A,
                             steps=max_steps))
    steps = opt.nsteps
    if climb:
        band.climb = True
        opt = FIRE(band, logfile=None)
        converged = bool(opt.run(fmax=fmax_eV_per_A, steps=max_steps))
        steps += opt.nsteps

    final_band = [images[0]] + [_single_point(img, calc) for img in images[1:-1]] + [images[-1]]
    result = write_band_outputs(final_band, out, label, converged, steps)
    _add_to_json(out / "neb_result.json", {
        "label": label,
        "moving_index": moving_index(a0, a1),
        "settings": asdict(NebSettings(n_images, fmax_eV_per_A, max_steps, relax_endpoints,
                                       climb, "idpp", "improvedtangent", engine, mlip_model)),
        "engine_settings": (engine_settings(mlip_model, device) if calculator is None
                            else {"calculator": type(calculator).__name__}),
    })
    if not converged and require_convergence:
        raise SsbflowError(
            f"NEB '{label}' did not reach fmax {fmax_eV_per_A} eV/Å in {max_steps} steps "
            f"(band kept in {out}); raise max_steps or loosen fmax"
        )
    return result


def write_band_outputs(band: list, out: Path, label: str, converged: bool, steps: int,
                       extra_files: dict[str, str] | None = None) -> NebResult:
    """Analyse a finished band (images with energies and forces) and write its files.

    Writes ``neb_images.extxyz``, ``saddle.extxyz``/``saddle.cif``, ``neb_profile.png`` and
    ``neb_result.json`` into ``out``; every NEB driver (ASE, CP2K, the studies' checkpointed
    one) ends here, so ``ssbflow analyze neb`` reads all of them the same way.
    """
    from ase.io import write
    from pymatgen.io.ase import AseAtomsAdaptor

    for img in band:
        img.info["neb_n_images"] = len(band)
    write(out / IMAGES_FILE, band, format="extxyz")
    result = analyze_band(band)
    saddle = band[result.saddle_index]
    write(out / "saddle.extxyz", saddle)
    AseAtomsAdaptor.get_structure(saddle).to(filename=str(out / "saddle.cif"))
    result.files = {
        "band": str(out / IMAGES_FILE),
        "saddle": str(out / "saddle.extxyz"),
        "initial": str(out / "initial.extxyz"),
        "final": str(out / "final.extxyz"),
        "profile_png": str(plot_profiles({label: result}, out / "neb_profile.png")),
        "result_json": str(out / "neb_result.json"),
        **(extra_files or {}),
    }
    result.converged = converged
    result.optimizer_steps = int(steps)
    write_result(result, out / "neb_result.json")
    return result


def _add_to_json(path: Path, extra: dict) -> None:
    import json

    data = json.loads(path.read_text())
    data.update(extra)
    path.write_text(json.dumps(data, indent=2))


# --------------------------------------------------------------------------------------------
# Harmonic transition-state theory
# --------------------------------------------------------------------------------------------
@dataclass
class VineyardRate:
    """Harmonic TST (Vineyard) hop rate from the modes of the moving ion.

    ``prefactor_THz`` = Π ν(minimum) / Π ν(saddle, real modes); ``rate_per_s`` =
    ν* exp(−Ea / kT); ``D_hop_cm2_s`` = z Γ a² / 6 for ``n_paths`` = z equivalent hops of
    length ``hop_length_A`` = a (an estimate limited by this one hop type).
    """

    prefactor_THz: float
    barrier_eV: float
    temperature_K: float
    rate_per_s: float
    hop_length_A: float
    n_paths: int
    D_hop_cm2_s: float
    frequencies_min_THz: list[float]
    frequencies_saddle_THz: list[float]


def _frequencies_THz(atoms: Any, calc: Any, indices: list[int], name: Path) -> np.ndarray:
    """Finite-difference frequencies (THz) of the partial Hessian of ``indices``;
    imaginary modes are returned as negative numbers."""
    from ase.vibrations import Vibrations

    work = atoms.copy()
    work.calc = calc
    vib = Vibrations(work, indices=indices, delta=0.01, nfree=2, name=str(name))
    vib.clean()
    vib.run()
    energies = vib.get_energies()  # eV, complex for imaginary modes
    vib.clean()
    thz = np.where(np.abs(energies.imag) > np.abs(energies.real), -np.abs(energies.imag),
                   energies.real) / 4.135667696e-3  # h in eV·ps
    return np.sort(thz)


def vineyard_rate(
    initial: Any,
    saddle: Any,
    barrier_eV: float,
    temperature_K: float,
    indices: list[int],
    calculator: Any = None,
    mlip_model: str = "CHGNet",
    work_dir: str | Path = ".",
    n_paths: int = 1,
) -> VineyardRate:
    """Vineyard rate and hop-limited D from frequencies at the minimum and the saddle.

    Only the atoms in ``indices`` (usually the migrating ion) are displaced: the partial
    Hessian approximation, adequate when the host relaxes little during the hop.
    """
    calc = calculator if calculator is not None else mlip_calculator(mlip_model)
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    nu_min = _frequencies_THz(initial, calc, indices, work / "vib_min")
    nu_sad = _frequencies_THz(saddle, calc, indices, work / "vib_saddle")
    if np.any(nu_min <= 0):
        raise SsbflowError("the initial state has an imaginary mode: it is not a minimum")
    real_sad = nu_sad[nu_sad > 0]
    if real_sad.size != nu_min.size - 1:
        raise SsbflowError(
            f"the saddle has {nu_min.size - real_sad.size} imaginary modes (expected 1)"
        )
    log_prefactor = float(np.sum(np.log(nu_min)) - np.sum(np.log(real_sad)))
    prefactor = math.exp(log_prefactor)
    rate = prefactor * 1e12 * math.exp(-barrier_eV / (_KB_EV_PER_K * temperature_K))
    k = indices[0]
    from ase.geometry import find_mic

    d = saddle.positions[k] - initial.positions[k]
    hop = 2.0 * float(np.linalg.norm(find_mic(d, initial.cell, initial.pbc)[0]))
    d_hop = n_paths * rate * (hop * 1e-8) ** 2 / 6.0
    return VineyardRate(prefactor, barrier_eV, temperature_K, rate, hop, n_paths, d_hop,
                        nu_min.tolist(), nu_sad.tolist())


@job
def neb_job(
    initial: Structure,
    final: Structure,
    out_dir: str,
    n_images: int = 5,
    fmax_eV_per_A: float = 0.05,
    mlip_model: str = "CHGNet",
    label: str = "NEB",
) -> dict:
    """jobflow job around :func:`run_neb`; returns the result dictionary."""
    result = run_neb(initial, final, out_dir, n_images=n_images, fmax_eV_per_A=fmax_eV_per_A,
                     mlip_model=mlip_model, label=label)
    return result.to_dict()
