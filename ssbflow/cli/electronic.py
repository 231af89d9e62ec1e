"""``ssbflow analyze cdd|elf|workfunction|charges``: electronic-structure analyses of engine files.

Every command prints a short human summary, or one JSON object with ``--json`` (values with
units in the key names), and writes its files (cube, CHGCAR, PNG, CSV) next to ``-o``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ssbflow.cli._groups import CliGroups
from ssbflow.errors import InputError


def _emit(data: dict[str, object], as_json: bool, lines: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(data, default=float))
    else:
        for line in lines:
            typer.echo(line)


def _parse_ints(text: str | None, name: str) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(x) for x in text.replace(",", " ").split()]
    except ValueError:
        raise InputError(f"{name}: expected comma-separated atom indices, got {text!r}") from None


def cdd_command(
    total: Annotated[Path, typer.Argument(help="Density of AB (cube or CHGCAR).")],
    part1: Annotated[Path, typer.Argument(help="Density of A, the slab (same cell and grid).")],
    part2: Annotated[Path, typer.Argument(help="Density of B, the molecule (same grid).")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Δρ cube to write (a CHGCAR, PNGs and a CSV "
                           "profile are written next to it).")
    ] = Path("cdd.cube"),
    axis: Annotated[str, typer.Option(help="Profile axis: x, y or z (surface normal).")] = "z",
    gap: Annotated[
        tuple[float, float] | None,
        typer.Option(help="Gap Z_LOW Z_HIGH (Å) for the transferred charge; default: top "
                     "atom of PART1 to lowest atom of PART2."),
    ] = None,
    plane: Annotated[
        tuple[int, int, int] | None,
        typer.Option(help="Three atom indices (0-based, in TOTAL) for a Δρ slice PNG."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Charge density difference Δρ = ρ(TOTAL) − ρ(PART1) − ρ(PART2)."""
    from ssbflow.analysis.cdd import (
        charge_density_difference,
        plot_cdd_profile,
        plot_cdd_slice,
        write_cdd,
    )

    if output.suffix.lower() not in {".cube", ".cub"}:
        raise InputError(f"--output: expected a .cube file name, got {output}")
    result = charge_density_difference(total, part1, part2, axis=axis, gap=gap)
    out_dir = output.parent
    stem = output.stem
    write_cdd(result, out_dir, stem)
    plot_cdd_profile(result, out_dir, stem)
    if plane is not None:
        plot_cdd_slice(result, plane, out_dir, stem)
    summary = result.summary()
    _emit(summary, as_json, [
        f"integral: {result.integral_e:.3e} e",
        f"transferred charge (gap {result.gap_A[0]:.2f}-{result.gap_A[1]:.2f} Å): "
        f"{result.transferred_charge_e:.4f} e",
        f"max accumulation / depletion: {result.max_accumulation_e_per_A3:.4g} / "
        f"{result.max_depletion_e_per_A3:.4g} e/Å³",
        *[f"{role}: {path}" for role, path in result.files.items()],
    ])


def elf_command(
    file: Annotated[Path, typer.Argument(help="ELFCAR or CP2K ELF cube.")],
    plane: Annotated[
        tuple[int, int, int] | None,
        typer.Option(help="Three atom indices (0-based) for a slice PNG."),
    ] = None,
    line: Annotated[
        tuple[int, int] | None, typer.Option(help="Two atom indices for a line profile.")
    ] = None,
    spin: Annotated[
        str | None, typer.Option(help="Spin-polarised ELFCAR: up or down.")
    ] = None,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Folder for the PNG/CSV files.")
    ] = Path("."),
    reference: Annotated[
        Path | None,
        typer.Option(help="ELF without the adsorbate (same grid): also plot the difference "
                     "on --plane."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """ELF range, slice through three atoms and line profile between two atoms."""
    from ssbflow.analysis.elf import (
        analyze_elf,
        elf_slice_difference,
        plot_elf_difference,
        write_elf_plots,
    )

    if spin not in (None, "up", "down"):
        raise InputError(f"--spin: expected up or down, got {spin!r}")
    result = analyze_elf(file, plane=plane, line=line, spin=spin)  # type: ignore[arg-type]
    stem = file.name.replace(".", "_")
    write_elf_plots(result, output, stem)
    if reference is not None:
        if plane is None:
            raise InputError("--reference: give --plane I J K for the difference slice")
        diff = elf_slice_difference(result.grid, reference, plane)
        result.files["difference_png"] = str(
            plot_elf_difference(diff, Path(output) / f"{stem}_difference.png"))
    summary = result.summary()
    _emit(summary, as_json, [f"ELF min {result.min:.4f}, max {result.max:.4f}",
                             *[f"{role}: {path}" for role, path in result.files.items()]])


def workfunction_command(
    potential_file: Annotated[Path, typer.Argument(help="LOCPOT or CP2K V_HARTREE cube.")],
    fermi: Annotated[float | None, typer.Option(help="Fermi energy (eV).")] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", help="vasprun.xml, OUTCAR or CP2K output with the Fermi "
                     "energy (or the HOMO with --molecule)."),
    ] = None,
    molecule: Annotated[
        bool, typer.Option(help="Molecule in a box: report V_vac − ε_HOMO (HOMO from the "
                           "CP2K --output).")
    ] = False,
    axis: Annotated[str, typer.Option(help="Surface normal: x, y or z.")] = "z",
    plot_dir: Annotated[
        Path, typer.Option("--plot-dir", help="Folder for the PNG.")
    ] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Work function Φ = V_vac − E_F from the plane-averaged potential (vacuum plateaus)."""
    from ssbflow.analysis.cdd import parse_axis
    from ssbflow.analysis.workfunction import (
        molecular_vacuum_gap,
        plot_work_function,
        work_function,
    )

    if fermi is not None and output is not None:
        raise InputError("--fermi/--output: give one of them, not both")
    ax = parse_axis(axis)
    if molecule:
        if output is None:
            raise InputError("--molecule: needs --output CP2K_OUTPUT for the HOMO")
        result = molecular_vacuum_gap(potential_file, output, axis=ax)
    else:
        result = work_function(potential_file, fermi_eV=fermi, output=output, axis=ax)
    plot_work_function(result, plot_dir, potential_file.name.replace(".", "_"))
    summary = result.summary()
    if result.reference == "homo":
        lines = [f"V_vac − ε_HOMO (molecule, not a work function): "
                 f"{result.work_function_eV:.3f} eV"]
    elif result.work_function_top_eV is not None:
        lines = [f"work function top {result.work_function_top_eV:.3f} eV, bottom "
                 f"{result.work_function_bottom_eV:.3f} eV"]
    else:
        lines = [f"work function {result.work_function_eV:.3f} eV"]
    lines += [f"vacuum level {result.vacuum_level_eV:.3f} eV (plateau spread "
              f"{result.plateau_spread_eV:.3f} eV), reference level {result.fermi_level_eV:.3f} eV",
              *[f"{role}: {path}" for role, path in result.files.items()]]
    _emit(summary, as_json, lines)


def charges_command(
    file: Annotated[Path, typer.Argument(help="CP2K output (Mulliken/Hirshfeld) or, with "
                                        "--method bader, a CHGCAR or density cube.")],
    method: Annotated[str, typer.Option(help="hirshfeld, mulliken or bader.")] = "hirshfeld",
    reference: Annotated[
        list[Path] | None,
        typer.Option(help="Output(s) of the isolated fragments, in the order of their atoms "
                     "in FILE (repeat the option): report the change on adsorption."),
    ] = None,
    atoms: Annotated[
        str | None, typer.Option(help="Comma-separated atom indices (0-based) to report.")
    ] = None,
    valence: Annotated[
        str | None, typer.Option(help="Bader on cubes: valence electrons, e.g. 'La=11,N=5'.")
    ] = None,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Folder for charges.csv/charges.json.")
    ] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Per-atom net charges (e) and their change on adsorption; CSV + JSON."""
    from ssbflow.analysis.charges import (
        bader_charges,
        charge_changes,
        parse_cp2k_charges,
        write_charges,
    )

    method = method.lower()
    if method not in {"hirshfeld", "mulliken", "bader"}:
        raise InputError(f"--method: expected hirshfeld, mulliken or bader, got {method!r}")
    indices = _parse_ints(atoms, "--atoms")

    def load(path: Path):
        if method == "bader":
            zval = None
            if valence:
                try:
                    zval = {k.strip(): float(v) for k, v in
                            (item.split("=") for item in valence.split(","))}
                except ValueError:
                    raise InputError(f"--valence: expected 'El=N,El=N', got {valence!r}") from None
            return bader_charges(path, valence_electrons=zval)
        return parse_cp2k_charges(path, method)  # type: ignore[arg-type]

    charges = load(file)
    if reference:
        table = charge_changes(charges, [load(p) for p in reference], indices)
        rows = table.rows()
    else:
        if indices is not None:
            bad = [i for i in indices if not 0 <= i < len(charges.symbols)]
            if bad:
                raise InputError(f"--atoms: indices {bad} out of range "
                                 f"(0..{len(charges.symbols) - 1})")
        table = charges
        keep = indices if indices is not None else range(len(charges.symbols))
        rows = [{"index": i, "element": charges.symbols[i],
                 "charge_e": float(charges.charges_e[i])} for i in keep]
    files = write_charges(table, output, f"charges_{method}")
    summary = {"method": method, "source": str(file), "total_charge_e": charges.total_e,
               "atoms": rows, "files": files}
    text = [f"{r['index']:4d} {r['element']:2s} " + " ".join(
        f"{k}={v:+.4f}" for k, v in r.items() if k.endswith("_e")) for r in rows]
    _emit(summary, as_json, [*text, *[f"{k}: {v}" for k, v in files.items()]])


def register(groups: CliGroups) -> None:
    """Attach ``cdd``, ``elf``, ``workfunction`` and ``charges`` to ``ssbflow analyze``."""
    groups.analyze.command("cdd")(cdd_command)
    groups.analyze.command("elf")(elf_command)
    groups.analyze.command("workfunction")(workfunction_command)
    groups.analyze.command("charges")(charges_command)
