"""NEB from two endpoints with a DFT engine (relax endpoints, IDPP, band) and the IDPP
band both NEB paths share.

Method-level code kept here for one step (it will move to :mod:`ssbflow.methods.neb`):
it writes the band's files through the ``write_outputs`` function the caller passes
(:func:`ssbflow.methods.neb.write_band_outputs`), so that engines never import methods.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pymatgen.core import Structure

from ssbflow.engines.geometry import as_atoms, as_structure
from ssbflow.engines.registry import NEB_ENGINES
from ssbflow.errors import EngineUnavailableError, InputError, SsbflowError
from ssbflow.io import write_json

#: ``write_outputs(band, out, label, converged, steps, extra_files=...)`` -> NebResult
WriteOutputs = Callable[..., Any]

#: Options of a CP2K NEB besides the band settings.
CP2K_NEB_OPTIONS = frozenset({"basis_overrides", "threads", "mpi_ranks", "cp2k_cmd",
                              "k_spring_au", "cutoff_Ry", "dispersion"})


def idpp_images(initial: Structure | Any, final: Structure | Any, n_images: int) -> list[Structure]:
    """Band of ``n_images + 2`` structures from IDPP interpolation (ASE, minimum image).

    The same interpolation as :func:`ssbflow.methods.neb.run_neb`. Positions are made
    continuous along the band (no image jumps across a cell boundary), which CP2K's
    band needs: it takes replica distances in Cartesian space without periodic images.
    """
    from ase.mep import NEB

    if n_images < 1:
        raise InputError(f"n_images must be >= 1, got {n_images}")
    a0, a1 = as_atoms(initial), as_atoms(final)
    if a0.get_chemical_symbols() != a1.get_chemical_symbols():
        raise InputError("initial and final hold different atoms (order must match)")
    band = [a0] + [a0.copy() for _ in range(n_images)] + [a1]
    NEB(band, method="improvedtangent").interpolate(method="idpp", mic=True)
    return [as_structure(a) for a in unwrap_band(band)]


def unwrap_band(images: list) -> list:
    """Copies of ASE images whose positions follow each other by minimum-image steps."""
    from ase.geometry import find_mic

    out = [images[0].copy()]
    for img in images[1:]:
        step = img.positions - out[-1].positions
        if img.pbc.any():
            step = find_mic(step, img.cell, img.pbc)[0]
        new = img.copy()
        new.positions = out[-1].positions + step
        out.append(new)
    return out


def run_cp2k_neb(images: list[Structure] | list[Any], out_dir: str | Path,
                 write_outputs: WriteOutputs, settings: Any = None,
                 basis_overrides: dict[str, str] | None = None, threads: int = 1,
                 mpi_ranks: int | None = None, cp2k_cmd: str | None = None,
                 label: str = "NEB", require_convergence: bool = True,
                 extra_record: dict | None = None) -> Any:
    """CP2K climbing-image NEB over ``images`` (endpoints included, fixed during the run).

    CP2K runs in ``out_dir/cp2k_band`` (:func:`ssbflow.engines.cp2k.neb.run_cp2k_band`);
    the folder gets the same files as the MLIP path (``neb_images.extxyz``,
    ``saddle.extxyz``/``.cif``, ``neb_profile.png``, ``neb_result.json``) from
    ``write_outputs``, so ``ssbflow analyze neb DIR`` reads it.

    Raises
    ------
    SsbflowError
        ``require_convergence`` and CP2K used all ``max_steps`` (the files are written first).
    """
    from ase.io import write

    from ssbflow.engines.cp2k.neb import Cp2kNebSettings, run_cp2k_band

    settings = settings or Cp2kNebSettings()
    out = Path(out_dir)
    band = run_cp2k_band(images, out / "cp2k_band", settings, basis_overrides, threads,
                         mpi_ranks, cp2k_cmd)
    write(out / "initial.extxyz", band.images[0])
    write(out / "final.extxyz", band.images[-1])
    result = write_outputs(band.images, out, label, band.converged, band.steps,
                           extra_files={"cp2k_dir": str(band.run_dir)})
    data = json.loads((out / "neb_result.json").read_text())
    data.update({"label": label, **band.record, **(extra_record or {})})
    write_json(out / "neb_result.json", data)
    if not band.converged and require_convergence:
        raise SsbflowError(
            f"CP2K NEB '{label}' did not reach fmax {settings.fmax_eV_per_A} eV/Å in "
            f"{settings.max_steps} band steps (band kept in {out}); raise max_steps or "
            "loosen fmax"
        )
    return result


def run_dft_neb(
    initial: Structure | Any,
    final: Structure | Any,
    out_dir: str | Path,
    engine: str,
    write_outputs: WriteOutputs,
    n_images: int = 5,
    fmax_eV_per_A: float = 0.05,
    max_steps: int = 100,
    relax_endpoints: bool = True,
    climb: bool = True,
    label: str = "NEB",
    require_convergence: bool = True,
    preset: str = "fast",
    **options: Any,
) -> Any:
    """NEB from two endpoints with a DFT engine: relax endpoints, IDPP, band.

    ``engine="cp2k"`` relaxes the endpoints with CP2K GEO_OPT (same settings as the band)
    when ``relax_endpoints``, interpolates with IDPP and runs :func:`run_cp2k_neb`.
    ``options``: ``basis_overrides``, ``threads``, ``mpi_ranks``, ``cp2k_cmd``,
    ``k_spring_au``, ``cutoff_Ry``, ``dispersion``.

    ``engine="vasp"`` writes the inputs (:func:`ssbflow.engines.vasp.neb.write_vasp_neb_inputs`,
    endpoints as given) into ``out_dir/vasp_neb`` and raises
    :class:`EngineUnavailableError` naming the folder: VASP does not run here.
    """
    if engine not in NEB_ENGINES or engine == "mlip":
        raise InputError(f"engine {engine!r} is not a DFT NEB engine; expected cp2k or vasp")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if engine == "vasp":
        from ssbflow.engines.vasp.neb import write_vasp_neb_inputs

        folder = write_vasp_neb_inputs(idpp_images(initial, final, n_images), out / "vasp_neb",
                                       preset=preset, climb=climb, fmax_eV_per_A=fmax_eV_per_A,
                                       slab=options.get("slab"))
        raise EngineUnavailableError(
            f"VASP NEB inputs written to {folder}; run VASP there (VASP is not available here)"
        )
    from ssbflow.engines.cp2k.neb import Cp2kNebSettings, relax_endpoint_cp2k

    unknown = set(options) - CP2K_NEB_OPTIONS
    if unknown:
        raise InputError(f"unknown cp2k NEB option(s) {', '.join(sorted(unknown))}; expected "
                         f"{', '.join(sorted(CP2K_NEB_OPTIONS))}")
    settings = Cp2kNebSettings(preset=preset, fmax_eV_per_A=fmax_eV_per_A, max_steps=max_steps,
                               climb=climb, k_spring_au=options.get("k_spring_au", 0.02),
                               cutoff_Ry=options.get("cutoff_Ry"),
                               dispersion=options.get("dispersion"))
    a, b = as_structure(initial), as_structure(final)
    if relax_endpoints:
        common = {"preset": preset, "fmax_eV_per_A": fmax_eV_per_A,
                  "basis_overrides": options.get("basis_overrides"),
                  "dispersion": options.get("dispersion"), "cutoff_Ry": options.get("cutoff_Ry"),
                  "threads": options.get("threads", 1), "cp2k_cmd": options.get("cp2k_cmd")}
        a = relax_endpoint_cp2k(a, out / "cp2k_relax_initial", **common)
        b = relax_endpoint_cp2k(b, out / "cp2k_relax_final", **common)
    images = idpp_images(a, b, n_images)
    return run_cp2k_neb(images, out, write_outputs, settings,
                        basis_overrides=options.get("basis_overrides"),
                        threads=options.get("threads", 1), mpi_ranks=options.get("mpi_ranks"),
                        cp2k_cmd=options.get("cp2k_cmd"), label=label,
                        require_convergence=require_convergence,
                        extra_record={"relax_endpoints": relax_endpoints})
