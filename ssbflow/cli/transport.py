"""Li transport analyses: ``analyze neb|diffusion|arrhenius``.

The transport studies' ``run`` commands (``ncm-pvdf``, ``llto-li-migration``,
``polymer-li-diffusion``, ``llzo-li-diffusion``) are generated from the study registry.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from ssbflow.cli._groups import CliGroups
from ssbflow.errors import InputError


def _echo_json(data: dict) -> None:
    from ssbflow.io import to_json

    typer.echo(to_json(data))


def _fmt_err(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "n/a with two points"
    return f"{value:.3f} eV"


def arrhenius_command(
    file: Annotated[Path, typer.Argument(help="CSV with columns T (K) and sigma (or D).")],
    form: Annotated[
        str, typer.Option(help="sigma: σ = A exp(−Ea/kT); sigmaT: σT = A exp(−Ea/kT).")
    ] = "sigma",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Activation energy (eV, with standard error) from conductivities at several T."""
    from ssbflow.analysis.arrhenius import fit_arrhenius, read_arrhenius_csv

    if form not in ("sigma", "sigmaT"):
        raise InputError(f"--form must be sigma or sigmaT, got {form!r}")
    t, y, column = read_arrhenius_csv(file)
    fit = fit_arrhenius(t, y, form="sigma" if form == "sigma" else "sigmaT")
    if as_json:
        data = fit.to_dict()
        data["column"] = column
        _echo_json(data)
        return
    typer.echo(
        f"{file}: Ea = {fit.Ea_eV:.3f} eV (standard error {_fmt_err(fit.Ea_stderr_eV)}), "
        f"form {form}, {len(t)} points, R² = {fit.r_squared:.4f}"
    )


def diffusion_command(
    trajectory: Annotated[Path, typer.Argument(help="MD trajectory (extxyz, .traj).")],
    species: Annotated[str, typer.Option(help="Diffusing element.")] = "Li",
    timestep_fs: Annotated[
        float | None,
        typer.Option(help="MD time step (fs); not needed when frames carry time_fs."),
    ] = None,
    frame_interval: Annotated[int, typer.Option(help="MD steps between saved frames.")] = 1,
    temperature_k: Annotated[
        float | None,
        typer.Option("--temperature-K", help="Temperature for the Nernst–Einstein σ (K)."),
    ] = None,
    fit_range_ps: Annotated[
        tuple[float, float] | None,
        typer.Option(help="Fit window START END (ps) instead of the detected diffusive regime."),
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Write the MSD plot to this PNG.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Diffusion coefficient (cm²/s) and MSD slope (Å²/ps) of one species from MD."""
    from ssbflow.analysis.diffusion import analyze_trajectory, plot_msd

    result = analyze_trajectory(
        trajectory,
        species=species,
        timestep_fs=timestep_fs,
        frame_interval=frame_interval,
        temperature_K=temperature_k,
        fit_range_ps=fit_range_ps,
    )
    data = result.to_dict()
    if plot is not None:
        data["files"] = {"msd_plot": str(plot_msd({species: result}, plot))}
    if as_json:
        _echo_json(data)
        return
    lo, hi = result.fit_range_ps
    typer.echo(
        f"{trajectory}: {species} ({result.n_ions} ions, {result.n_frames} frames) "
        f"D = {result.D_cm2_s:.3e} ± {result.D_stderr_cm2_s:.1e} cm²/s, "
        f"MSD slope {result.msd_slope_A2_per_ps:.4g} Å²/ps, fit {lo:.3g}-{hi:.3g} ps"
        + ("" if result.diffusive else " (no diffusive regime found: estimate only)")
        + (f", σ(NE) = {result.sigma_mS_cm:.3g} mS/cm" if result.sigma_mS_cm is not None else "")
    )


def neb_command(
    path: Annotated[Path, typer.Argument(help="NEB folder or band trajectory (extxyz, .traj).")],
    plot: Annotated[Path | None, typer.Option(help="Write the energy profile to this PNG.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Barrier and reaction energy (eV) of a NEB band, with its spline profile."""
    from ssbflow.analysis.neb import analyze_neb, plot_profiles

    result = analyze_neb(path)
    if plot is not None:
        result.files["profile_png"] = str(plot_profiles({path.name: result}, plot))
    if as_json:
        _echo_json(result.to_dict())
        return
    typer.echo(
        f"{path}: barrier {result.barrier_eV:.3f} eV, reverse {result.reverse_barrier_eV:.3f} eV, "
        f"reaction energy {result.reaction_energy_eV:+.3f} eV, {result.n_images} images, "
        f"saddle image {result.saddle_index}"
    )


def register(groups: CliGroups) -> None:
    """Attach the transport analyses to ``analyze`` (the transport studies' ``run`` commands
    are generated from the study registry, :mod:`ssbflow.cli.studies`)."""
    groups.analyze.command("arrhenius")(arrhenius_command)
    groups.analyze.command("diffusion")(diffusion_command)
    groups.analyze.command("neb")(neb_command)
