"""Analysis of nudged-elastic-band (NEB) results: barrier, reaction energy, profile plot.

A band is a list of ASE ``Atoms`` images (endpoints included) with energies and forces. The
energy profile is ASE's force-curve fit (``ase.utils.forcecurve.fit_images``): a cubic
spline through the image energies whose slopes at the images are the forces projected on
the path, so the maximum between two images is resolved. Barrier = E(saddle) − E(initial).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ssbflow.errors import InputError

#: File name of the final band written by :mod:`ssbflow.methods.neb`.
IMAGES_FILE = "neb_images.extxyz"
_BAND_FILES = (IMAGES_FILE, "neb.traj", "images.extxyz", "neb.extxyz")


#: Smallest rise (eV) above each endpoint for a band maximum to count as a saddle.
SADDLE_MIN_EV = 0.01


def saddle_above_both_ends(barrier_eV: float, reverse_barrier_eV: float,
                           min_rise_eV: float = SADDLE_MIN_EV) -> bool:
    """True when the band maximum lies more than ``min_rise_eV`` above both endpoints: a hop
    over a saddle between two minima. False for a monotonic band (zero reverse or forward
    barrier), whose "barrier" is the energy difference of the two ends, not a saddle."""
    return bool(barrier_eV > min_rise_eV and reverse_barrier_eV > min_rise_eV)


@dataclass
class NebResult:
    """Energies along a band (eV, relative to the initial image) and what follows from them.

    Attributes
    ----------
    barrier_eV
        Maximum of the fitted profile minus the initial energy (forward barrier).
    reverse_barrier_eV
        Maximum minus the final energy.
    reaction_energy_eV
        E(final) − E(initial).
    saddle_index
        Index of the highest image (the climbing image after a CI-NEB).
    image_energies_eV, path_A
        Image energies and cumulative path length (Å, minimum image).
    fit_path_A, fit_energies_eV
        The force-curve spline through the images.
    """

    barrier_eV: float
    reverse_barrier_eV: float
    reaction_energy_eV: float
    saddle_index: int
    n_images: int
    image_energies_eV: list[float]
    path_A: list[float]
    fit_path_A: list[float] = field(repr=False)
    fit_energies_eV: list[float] = field(repr=False)
    max_perp_force_eV_per_A: float = math.nan
    files: dict[str, str] = field(default_factory=dict)
    converged: bool | None = None
    optimizer_steps: int | None = None
    intermediate_minimum_eV: float = 0.0

    @property
    def has_intermediate_minimum(self) -> bool:
        """True when an inner image lies > 0.05 eV below both endpoints: the endpoints are
        not the minima of this path and the barrier is not a single-hop barrier."""
        return self.intermediate_minimum_eV < -0.05

    @property
    def has_saddle(self) -> bool:
        """True when the band maximum lies above both endpoints
        (:func:`saddle_above_both_ends`); False flags a band without a saddle."""
        return saddle_above_both_ends(self.barrier_eV, self.reverse_barrier_eV)

    def to_dict(self, include_fit: bool = False) -> dict:
        """JSON-ready dictionary."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["has_intermediate_minimum"] = self.has_intermediate_minimum
        out["has_saddle"] = self.has_saddle
        if not include_fit:
            out.pop("fit_path_A")
            out.pop("fit_energies_eV")
        if not math.isfinite(out["max_perp_force_eV_per_A"]):
            out["max_perp_force_eV_per_A"] = None
        return out


def _check_band(images: list) -> None:
    if len(images) < 3:
        raise InputError(f"a NEB band needs at least 3 images (2 endpoints + 1), got {len(images)}")
    n = len(images[0])
    if any(len(a) != n for a in images):
        raise InputError("NEB images have different numbers of atoms")
    if any(a.get_chemical_symbols() != images[0].get_chemical_symbols() for a in images):
        raise InputError("NEB images hold different species or atom orders")
    for i, atoms in enumerate(images):
        try:
            atoms.get_potential_energy()
            atoms.get_forces()
        except Exception as exc:  # ASE raises RuntimeError/PropertyNotImplementedError
            raise InputError(f"NEB image {i} has no energy and forces") from exc


def analyze_band(images: list) -> NebResult:
    """Barrier, reaction energy and spline profile of one band (list of ASE Atoms)."""
    from ase.utils.forcecurve import fit_images

    _check_band(images)
    fit = fit_images(images)
    energies = np.asarray(fit.energies, dtype=float)  # relative to the first image
    fit_e = np.asarray(fit.fit_energies, dtype=float)
    e_max = max(float(fit_e.max()), float(energies.max()))
    reaction = float(energies[-1] - energies[0])
    perp = _max_perpendicular_force(images)
    return NebResult(
        barrier_eV=e_max - float(energies[0]),
        reverse_barrier_eV=e_max - float(energies[-1]),
        reaction_energy_eV=reaction,
        saddle_index=int(np.argmax(energies)),
        n_images=len(images),
        image_energies_eV=[float(e) for e in energies],
        path_A=[float(x) for x in fit.path],
        fit_path_A=[float(x) for x in fit.fit_path],
        fit_energies_eV=[float(e) for e in fit_e],
        max_perp_force_eV_per_A=perp,
        intermediate_minimum_eV=min(
            0.0, float(energies[1:-1].min() - min(energies[0], energies[-1]))
        ),
    )


def _max_perpendicular_force(images: list) -> float:
    """Largest force component perpendicular to the (central-difference) path tangent."""
    from ase.geometry import find_mic

    worst = 0.0
    for i in range(1, len(images) - 1):
        d_prev = images[i].positions - images[i - 1].positions
        d_next = images[i + 1].positions - images[i].positions
        if images[0].pbc.any():
            d_prev = find_mic(d_prev, images[0].cell, images[0].pbc)[0]
            d_next = find_mic(d_next, images[0].cell, images[0].pbc)[0]
        tangent = (d_prev + d_next).ravel()
        norm = np.linalg.norm(tangent)
        forces = images[i].get_forces().ravel()
        if norm > 0:
            tangent /= norm
            forces = forces - np.dot(forces, tangent) * tangent
        worst = max(worst, float(np.abs(forces.reshape(-1, 3)).max()))
    return worst


def read_band(path: str | Path) -> tuple[list, Path]:
    """Read the final band from a NEB folder or trajectory.

    A folder is searched for ``neb_images.extxyz`` (written by ssbflow), ``neb.traj``,
    ``images.extxyz`` or ``neb.extxyz``. A trajectory that holds a whole optimisation
    (several bands) is cut to its last band: the band length comes from
    ``info["neb_n_images"]`` when present, else from ASE's guess.
    """
    from ase.io import read

    path = Path(path)
    if path.is_dir():
        found = next((path / name for name in _BAND_FILES if (path / name).is_file()), None)
        if found is None:
            raise InputError(f"{path}: no NEB band file ({', '.join(_BAND_FILES)}) in the folder")
        path = found
    elif not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    try:
        frames = read(str(path), index=":")
    except Exception as exc:  # ASE raises many exception types for unreadable files
        kind = type(exc).__name__
        raise InputError(f"{path}: not a NEB trajectory ASE can read ({kind})") from exc
    n_images = frames[0].info.get("neb_n_images")
    if n_images is None:
        import contextlib
        import io

        from ase.mep import NEBTools

        try:  # ASE prints its guess; keep stdout clean for --json
            with contextlib.redirect_stdout(io.StringIO()):
                n_images = NEBTools(frames)._guess_nimages() if len(frames) > 3 else len(frames)
        except RuntimeError as exc:
            raise InputError(f"{path}: cannot tell how many images a band has") from exc
    n_images = int(n_images)
    if len(frames) % n_images:
        raise InputError(f"{path}: {len(frames)} frames are not whole bands of {n_images} images")
    return frames[-n_images:], path


def analyze_neb(path: str | Path) -> NebResult:
    """:func:`read_band` then :func:`analyze_band`; ``files`` lists what the folder holds."""
    images, band_file = read_band(path)
    result = analyze_band(images)
    folder = band_file.parent
    saved = folder / "neb_result.json"
    if saved.is_file():  # written by ssbflow.methods.neb: keep its convergence record
        record = json.loads(saved.read_text())
        result.converged = record.get("converged")
        result.optimizer_steps = record.get("optimizer_steps")
    result.files = {"band": str(band_file)}
    for key, name in (("profile_png", "neb_profile.png"), ("saddle", "saddle.extxyz"),
                      ("result_json", "neb_result.json")):
        if (folder / name).is_file():
            result.files[key] = str(folder / name)
    return result


def plot_profiles(results: dict[str, NebResult], path: str | Path) -> Path:
    """Overlay the spline profiles (and image energies) of several bands in one PNG."""
    from ssbflow.analysis.plots import new_figure, save_png

    fig, axes = new_figure(1, 1, (5.5, 4.0))
    ax = axes[0, 0]
    for label, res in results.items():
        (line,) = ax.plot(res.fit_path_A, res.fit_energies_eV, "-",
                          label=f"{label}: {res.barrier_eV:.2f} eV")
        ax.plot(res.path_A, res.image_energies_eV, "o", color=line.get_color())
    ax.axhline(0.0, color="0.7", lw=0.6)
    ax.set_xlabel("reaction coordinate (Å)")
    ax.set_ylabel("E − E(initial) (eV)")
    ax.legend(fontsize=8)
    return save_png(fig, path)


def write_result(result: NebResult, path: str | Path) -> Path:
    """Write the result (with the fitted profile) as JSON."""
    from ssbflow.io import write_json

    return write_json(path, result.to_dict(include_fit=True), indent=2)
