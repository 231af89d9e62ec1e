"""Electron localisation function (ELF): read, slice through atoms, line profiles, differences.

Sources: VASP ELFCAR (LELF = .TRUE.) and CP2K ``&DFT/&PRINT/&ELF_CUBE`` cubes. A spin-polarised
ELFCAR holds the ELF of the spin-up and of the spin-down electrons (two blocks), *not* a total
and a difference as a CHGCAR does; choose the channel with ``spin``. ELF is unitless in [0, 1]:
1 = perfect localisation (bonds, lone pairs), 0.5 = uniform electron gas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ssbflow.analysis.slices import LineProfile, PlaneSlice, line_profile, plane_slice
from ssbflow.analysis.volumetric import VolumetricGrid
from ssbflow.analysis.volumetric_io import read_volumetric
from ssbflow.errors import InputError


def read_elf(path: str | Path, spin: Literal["up", "down"] | None = None) -> VolumetricGrid:
    """Read an ELF grid (CP2K ELF cube or VASP ELFCAR).

    Parameters
    ----------
    path
        The file.
    spin
        Spin-polarised ELFCAR: ``"up"`` (default, first block) or ``"down"`` (second block).

    Raises
    ------
    InputError
        The file is not volumetric, or holds values far outside [0, 1] (not an ELF).
    """
    grid = read_volumetric(path, kind="elf", spin=spin)
    lo, hi = float(grid.data.min()), float(grid.data.max())
    if lo < -0.01 or hi > 1.01:
        raise InputError(f"{path}: values span [{lo:.3g}, {hi:.3g}]; an ELF lies in [0, 1]")
    return grid


@dataclass
class ElfResult:
    """ELF statistics and the optional plane / line samples (unitless)."""

    grid: VolumetricGrid
    min: float
    max: float
    plane: PlaneSlice | None = None
    line: LineProfile | None = None
    files: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        """JSON-ready numbers and files."""
        out: dict[str, object] = {"min": self.min, "max": self.max, "source": self.grid.source}
        if self.plane is not None:
            out["plane_min"] = float(self.plane.values.min())
            out["plane_max"] = float(self.plane.values.max())
        if self.line is not None:
            out["line_length_A"] = self.line.length_A
            out["line_max"] = float(self.line.values.max())
        out["files"] = dict(self.files)
        return out


def analyze_elf(
    source: VolumetricGrid | str | Path,
    plane: tuple[int, int, int] | None = None,
    center_atom: int | None = None,
    normal: tuple[float, float, float] | None = None,
    line: tuple[int, int] | None = None,
    spin: Literal["up", "down"] | None = None,
) -> ElfResult:
    """ELF extremes plus, on request, a plane slice and a line profile between two atoms.

    Parameters
    ----------
    source
        ELF grid or file.
    plane
        Three atom indices defining the slice plane; or use ``center_atom`` and ``normal``.
    line
        Two atom indices (start, end) for a line profile (e.g. La → N).
    spin
        ELFCAR spin channel (see :func:`read_elf`).
    """
    grid = source if isinstance(source, VolumetricGrid) else read_elf(source, spin=spin)
    result = ElfResult(grid, float(grid.data.min()), float(grid.data.max()))
    if plane is not None:
        result.plane = plane_slice(grid, plane)
    elif center_atom is not None or normal is not None:
        if center_atom is None or normal is None:
            raise InputError("center_atom/normal: give both for a plane through an atom")
        result.plane = plane_slice(grid, center_atom=center_atom, normal=normal)
    if line is not None:
        result.line = line_profile(grid, line[0], line[1])
    return result


def elf_slice_difference(
    with_adsorbate: VolumetricGrid | str | Path,
    without_adsorbate: VolumetricGrid | str | Path,
    plane: tuple[int, int, int] | None = None,
    center_atom: int | None = None,
    normal: tuple[float, float, float] | None = None,
) -> PlaneSlice:
    """ELF(with) − ELF(without) on one plane (atoms as indexed in ``with_adsorbate``).

    The grids must match (same cell and grid shape); the plane is defined by atoms of the
    first grid, whose positions are used for both.
    """
    g1 = with_adsorbate if isinstance(with_adsorbate, VolumetricGrid) else read_elf(
        with_adsorbate)
    g0 = without_adsorbate if isinstance(without_adsorbate, VolumetricGrid) else read_elf(
        without_adsorbate)
    g1.check_same_grid(g0)
    diff = g1.replace_data(g1.data - g0.data, source="elf difference")
    if plane is not None:
        return plane_slice(diff, plane)
    return plane_slice(diff, center_atom=center_atom, normal=normal)


def write_elf_plots(result: ElfResult, out_dir: str | Path, stem: str = "elf") -> dict[str, str]:
    """PNG of the plane slice (0–1 colour bar) and of the line profile, when present."""
    from ssbflow.analysis.plots import plot_line, plot_plane

    out = Path(out_dir)
    files: dict[str, str] = {}
    if result.plane is not None:
        files["slice_png"] = str(plot_plane(result.plane, out / f"{stem}_slice.png", label="ELF",
                                            vmin=0.0, vmax=1.0, title=result.grid.source))
    if result.line is not None:
        files["line_png"] = str(plot_line(result.line, out / f"{stem}_line.png", ylabel="ELF"))
        from ssbflow.io import write_table

        csv = out / f"{stem}_line.csv"
        write_table([{"distance_A": float(d), "elf": float(v)}
                     for d, v in zip(result.line.distance_A, result.line.values, strict=True)],
                    csv)
        files["line_csv"] = str(csv)
    result.files.update(files)
    return files


def plot_elf_difference(diff: PlaneSlice, path: str | Path) -> Path:
    """PNG of an ELF difference slice (diverging colours centred on zero)."""
    from ssbflow.analysis.plots import plot_plane

    return plot_plane(diff, path, label="ΔELF", symmetric=True,
                      title="ELF(with adsorbate) − ELF(without)")
