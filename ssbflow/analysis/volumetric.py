"""The volumetric grid type (densities, potentials, ELF on a periodic grid) and its units.

One dataclass, :class:`VolumetricGrid`, holds the structure, the data on a periodic grid and its
units, always converted on reading to

- densities: e/Å³ (CP2K cubes store e/Bohr³; VASP CHGCAR/AECCAR/PARCHG store ρ·V_cell),
- potentials: eV (CP2K V_HARTREE cubes store Hartree; VASP LOCPOT stores eV),
- ELF: unitless,

with lengths in Å (cubes use Bohr). Files are read and written by
:mod:`ssbflow.analysis.volumetric_io`; planes and lines through atoms are sampled by
:mod:`ssbflow.analysis.slices`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pymatgen.core import Structure
from scipy import constants

from ssbflow.errors import InputError

BOHR_A: float = constants.physical_constants["Bohr radius"][0] * 1e10
"""One Bohr in Å."""
HARTREE_EV: float = constants.physical_constants["Hartree energy in eV"][0]
"""One Hartree in eV."""

Kind = Literal["density", "potential", "elf", "other"]
UNITS: dict[str, str] = {"density": "e/A^3", "potential": "eV", "elf": "1", "other": "?"}
"""The unit of :attr:`VolumetricGrid.data` for each kind of grid."""


@dataclass
class VolumetricGrid:
    """Values on a periodic grid spanning the cell of ``structure``.

    Attributes
    ----------
    structure
        The atoms and the cell (Å). Grid point (i, j, k) lies at fractional coordinates
        (i/na, j/nb, k/nc) relative to ``origin_A``.
    data
        Array of shape (na, nb, nc) in ``units``.
    kind
        ``"density"`` (e/Å³), ``"potential"`` (electron potential energy, eV), ``"elf"``
        (unitless) or ``"other"`` (units unknown).
    units
        Unit of ``data`` (see :data:`UNITS`).
    origin_A
        Cartesian position of grid point (0, 0, 0) (Å); cubes may have a non-zero origin.
    source
        The file the grid was read from (for messages).
    """

    structure: Structure
    data: np.ndarray
    kind: Kind = "other"
    units: str = ""
    origin_A: np.ndarray = field(default_factory=lambda: np.zeros(3))
    source: str = ""

    def __post_init__(self) -> None:
        self.data = np.asarray(self.data, dtype=float)
        if self.data.ndim != 3:
            raise InputError(
                f"{self.source or 'grid'}: expected 3D data, got shape {self.data.shape}"
            )
        if not self.units:
            self.units = UNITS[self.kind]
        self.origin_A = np.asarray(self.origin_A, dtype=float)

    @property
    def shape(self) -> tuple[int, int, int]:
        """Grid shape (na, nb, nc)."""
        return tuple(int(n) for n in self.data.shape)  # type: ignore[return-value]

    @property
    def volume_A3(self) -> float:
        """Cell volume (Å³)."""
        return float(self.structure.volume)

    @property
    def voxel_volume_A3(self) -> float:
        """Volume of one grid cell (Å³)."""
        return self.volume_A3 / self.data.size

    def integral(self) -> float:
        """∫ data dV over the cell (electrons for a density)."""
        return float(self.data.sum(dtype=np.float64) * self.voxel_volume_A3)

    def axis_length_A(self, axis: int) -> float:
        """Length of lattice vector ``axis`` (Å)."""
        return float(self.structure.lattice.abc[axis])

    def axis_coords_A(self, axis: int) -> np.ndarray:
        """Distance of each grid plane along lattice vector ``axis`` from the origin (Å)."""
        n = self.data.shape[axis]
        return np.arange(n) * self.axis_length_A(axis) / n

    def plane_average(self, axis: int = 2) -> np.ndarray:
        """Mean of the data over each grid plane normal to lattice vector ``axis``."""
        other = tuple(i for i in range(3) if i != axis)
        return self.data.mean(axis=other)

    def same_grid(self, other: VolumetricGrid, tol_A: float = 1e-3) -> bool:
        """True when ``other`` has the same grid shape and cell (within ``tol_A``)."""
        return self.shape == other.shape and bool(
            np.allclose(self.structure.lattice.matrix, other.structure.lattice.matrix, atol=tol_A)
        )

    def check_same_grid(self, other: VolumetricGrid, tol_A: float = 1e-3) -> None:
        """Raise ``InputError`` unless ``other`` has the same grid shape and cell."""
        if self.shape != other.shape:
            raise InputError(
                f"grid mismatch: {other.source or 'grid'} has grid {other.shape}, "
                f"{self.source or 'grid'} has {self.shape} (use the same cell and cutoff/FFT grid)"
            )
        diff = np.abs(self.structure.lattice.matrix - other.structure.lattice.matrix).max()
        if diff > tol_A:
            raise InputError(
                f"cell mismatch: {other.source or 'grid'} and {self.source or 'grid'} differ by "
                f"{diff:.4f} Å in the lattice vectors (use the identical cell)"
            )

    def replace_data(self, data: np.ndarray, source: str = "") -> VolumetricGrid:
        """A new grid on the same structure and grid holding ``data`` (same kind and units)."""
        return VolumetricGrid(self.structure, data, self.kind, self.units, self.origin_A.copy(),
                              source or self.source)


def guess_kind(path: str | Path) -> Kind:
    """Kind of grid from a file name (CP2K and VASP naming conventions)."""
    name = Path(path).name.upper()
    if "ELF" in name:
        return "elf"
    if "HARTREE" in name or "LOCPOT" in name or "POTENTIAL" in name:
        return "potential"
    if "DENSITY" in name or "CHG" in name or "RHO" in name or "PARCHG" in name:
        return "density"
    return "other"

