"""Numerical presets of the CP2K engine (``fast`` for a laptop, ``production``).

Every reduction of a preset against ``production`` is listed by
:meth:`Cp2kPreset.reductions` and recorded in the engine's ``settings()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pymatgen.core import Structure
from pymatgen.io.vasp.inputs import Kpoints

#: Basis-set files searched, in order, for a basis name.
BASIS_FILES = ("BASIS_MOLOPT", "BASIS_MOLOPT_UCL")

#: The one potential file every run uses.
POTENTIAL_FILE = "GTH_POTENTIALS"


@dataclass(frozen=True)
class Cp2kPreset:
    """Numerical settings of one CP2K preset.

    Parameters
    ----------
    name
        Preset name (``fast`` or ``production``).
    basis_preference
        Basis-set names tried in order for every element (first one found wins).
    cutoff_Ry
        Plane-wave cutoff of the finest multigrid level (Ry).
    rel_cutoff_Ry
        Relative cutoff that maps Gaussians onto grid levels (Ry).
    eps_default
        ``&QS EPS_DEFAULT`` (overall integral accuracy).
    eps_pgf_orb
        ``&QS EPS_PGF_ORB`` (overlap screening); ``None`` = CP2K's default √EPS_DEFAULT.
    eps_scf
        SCF convergence (OT: largest orbital gradient).
    kpoint_length_A
        Automatic k-point length density (Å; n_i = ceil(L/|a_i|)); ``None``: Γ point only.
    dispersion
        ``"DFTD3(BJ)"`` or ``None``.
    cube_stride
        Stride of the written cube files (1 = full FFT grid).
    """

    name: str
    basis_preference: tuple[str, ...]
    cutoff_Ry: float
    rel_cutoff_Ry: float
    eps_default: float
    eps_pgf_orb: float | None
    eps_scf: float
    kpoint_length_A: float | None
    dispersion: str | None
    cube_stride: int

    def reductions(self) -> list[str]:
        """Human-readable list of what this preset gives up against ``production``."""
        ref = CP2K_PRESETS["production"]
        out = []
        if self.basis_preference != ref.basis_preference:
            fallback = (f" ({', '.join(self.basis_preference[1:])} where it does not exist, "
                        "e.g. La)" if len(self.basis_preference) > 1 else "")
            out.append(f"basis {self.basis_preference[0]}{fallback} instead of "
                       f"{ref.basis_preference[0]}")
        if self.cutoff_Ry < ref.cutoff_Ry:
            out.append(f"cutoff {self.cutoff_Ry:g} Ry instead of {ref.cutoff_Ry:g} Ry")
        if self.eps_default > ref.eps_default:
            out.append(f"EPS_DEFAULT {self.eps_default:g} instead of {ref.eps_default:g}")
        if self.eps_scf > ref.eps_scf:
            out.append(f"EPS_SCF {self.eps_scf:g} instead of {ref.eps_scf:g}")
        if self.kpoint_length_A is None and ref.kpoint_length_A is not None:
            out.append(f"Gamma point only instead of k-points with length "
                       f"{ref.kpoint_length_A:g} Å")
        if self.dispersion != ref.dispersion:
            out.append(f"dispersion {self.dispersion} instead of {ref.dispersion}")
        if self.cube_stride > ref.cube_stride:
            out.append(f"cube stride {self.cube_stride} instead of {ref.cube_stride}")
        return out

    def as_dict(self) -> dict[str, Any]:
        """Plain-JSON description (for ``settings()``)."""
        return {
            "basis_preference": list(self.basis_preference),
            "potential_family": "GTH-PBE",
            "potential_file": POTENTIAL_FILE,
            "xc": "PBE",
            "cutoff_Ry": self.cutoff_Ry,
            "rel_cutoff_Ry": self.rel_cutoff_Ry,
            "eps_default": self.eps_default,
            "eps_pgf_orb": self.eps_pgf_orb,
            "eps_scf": self.eps_scf,
            "kpoints": ("gamma" if self.kpoint_length_A is None
                        else f"automatic length {self.kpoint_length_A:g} A, 1 along slab normal"),
            "dispersion": self.dispersion,
            "cube_stride": self.cube_stride,
            "scf": ("OT (DIIS, FULL_SINGLE_INVERSE; STRICT for closed shells, IRAC with "
                    "rotation otherwise) on Gamma; diagonalisation with k-points"),
            "spin": "RKS for even electron count without open-shell d/f elements, else UKS",
            "reductions": self.reductions(),
        }


CP2K_PRESETS: dict[str, Cp2kPreset] = {
    "fast": Cp2kPreset(
        name="fast",
        basis_preference=("SZV-MOLOPT-SR-GTH", "DZVP-MOLOPT-SR-GTH"),
        cutoff_Ry=300.0,
        rel_cutoff_Ry=40.0,
        eps_default=1e-10,
        eps_pgf_orb=None,
        eps_scf=1e-5,
        kpoint_length_A=None,
        dispersion="DFTD3(BJ)",
        cube_stride=2,
    ),
    "production": Cp2kPreset(
        name="production",
        basis_preference=("DZVP-MOLOPT-SR-GTH", "DZVP-MOLOPT-GTH"),
        cutoff_Ry=500.0,
        rel_cutoff_Ry=60.0,
        eps_default=1e-12,
        eps_pgf_orb=1e-14,
        eps_scf=1e-6,
        kpoint_length_A=20.0,
        dispersion="DFTD3(BJ)",
        cube_stride=1,
    ),
}


def kpoints_for(structure: Structure, preset: Cp2kPreset, slab: bool,
                kpoint_length_A: float | None = None) -> Kpoints | None:
    """Monkhorst–Pack grid of ``kpoint_length_A`` (Å), else of the preset, n_i =
    ceil(L/|a_i|), Γ-centred where n_i is odd (one k-point along c for slabs); ``None`` = Γ.

    CP2K builds the full grid (``SCHEME MONKHORST-PACK``). pymatgen turns a Γ-centred grid
    into a symmetry-reduced ``GENERAL`` list that CP2K does not symmetrise the density of:
    Li2O (primitive cell, 7×7×7) came out 52 meV/f.u. too high against the full grid.
    """
    length = kpoint_length_A or preset.kpoint_length_A
    if length is None:
        return None
    grid = [max(1, int(np.ceil(length / a))) for a in structure.lattice.abc]
    if slab:
        grid[2] = 1
    if grid == [1, 1, 1]:
        return None
    return Kpoints.monkhorst_automatic(tuple(grid))
