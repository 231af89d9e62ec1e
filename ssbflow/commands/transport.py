"""Li transport commands: ``analyze neb|diffusion|arrhenius`` and the transport studies."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer

from ssbflow.commands._groups import CliGroups
from ssbflow.errors import InputError


def _echo_json(data: dict) -> None:
    def clean(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    typer.echo(json.dumps(clean(data)))


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


def register(groups: CliGroups) -> None:
    """Attach the transport analyses to ``analyze`` and the transport studies to ``run``."""
    groups.analyze.command("arrhenius")(arrhenius_command)
