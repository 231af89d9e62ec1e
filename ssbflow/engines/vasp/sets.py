"""VASP inputs for ssbflow: presets and atomate2 input generators with this science's tags.

atomate2's VASP base set is r2SCAN-derived with PBEsol (``GGA = PS``); the generators here
turn it into what the interface studies use:

* PBE (``GGA = PE``) with Grimme D3(BJ) dispersion (``IVDW = 12``);
* spin polarisation (``ISPIN = 2``) and GGA+U with the Materials Project U values only when
  an element with an MP U value (Co, Cr, Fe, Mn, Mo, Ni, V, W) is present; otherwise
  ``ISPIN = 1`` and no +U (pymatgen drops ``LDAU`` when all U are zero);
* Γ-centred k-points with one k-point along the surface normal for slabs;
* Gaussian smearing (``ISMEAR = 0``, ``SIGMA = 0.05``) for everything that may be a slab
  with few k-points (the tetrahedron method needs a 3D mesh);
* electronic single points write ``CHGCAR`` (``LCHARG``), core + valence densities for
  Bader (``LAECHG``), ``ELFCAR`` (``LELF``) and the Hartree potential in ``LOCPOT``
  (``LVHAR``); slabs get the dipole correction along z (``IDIPOL = 3``, ``LDIPOL``), with
  the dipole centred on the slab's centre of mass (``DIPOL``).

Structures are written in the order given (atomate2 0.1.5 does not sort them): site indices
of VASP outputs follow the input's, and an element met again later is a POSCAR/POTCAR block
of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any

import numpy as np
from atomate2.vasp.sets.base import VaspInputGenerator
from atomate2.vasp.sets.core import MDSetGenerator, RelaxSetGenerator, StaticSetGenerator
from pymatgen.core import Structure
from pymatgen.io.vasp.inputs import Kpoints
from pymatgen.io.vasp.sets import MPRelaxSet

from ssbflow.engines.base import check_hubbard_u
from ssbflow.engines.geometry import looks_like_slab

#: Elements that carry a Materials Project U value (in oxides/fluorides).
MP_U_ELEMENTS = frozenset(
    el for table in MPRelaxSet()._config_dict["INCAR"]["LDAUU"].values()
    for el, u in table.items() if u
)


@dataclass(frozen=True)
class VaspPreset:
    """Numerical settings of one VASP preset.

    Parameters
    ----------
    name
        Preset name.
    encut_eV
        Plane-wave cutoff (eV).
    ediff_eV
        Electronic convergence (eV).
    kpoint_length_A
        Γ-centred grid with n_i = ceil(L/|a_i|) (n = 1 along a slab normal).
    """

    name: str
    encut_eV: float
    ediff_eV: float
    kpoint_length_A: float

    def reductions(self) -> list[str]:
        """What this preset gives up against ``production``."""
        ref = VASP_PRESETS["production"]
        out = []
        if self.encut_eV < ref.encut_eV:
            out.append(f"ENCUT {self.encut_eV:g} eV instead of {ref.encut_eV:g} eV")
        if self.ediff_eV > ref.ediff_eV:
            out.append(f"EDIFF {self.ediff_eV:g} instead of {ref.ediff_eV:g}")
        if self.kpoint_length_A < ref.kpoint_length_A:
            out.append(f"k-point length {self.kpoint_length_A:g} Å instead of "
                       f"{ref.kpoint_length_A:g} Å")
        return out

    def as_dict(self) -> dict[str, Any]:
        """Plain-JSON description (for ``settings()``)."""
        return {
            "xc": "PBE", "dispersion": "D3(BJ) (IVDW=12)", "encut_eV": self.encut_eV,
            "ediff_eV": self.ediff_eV,
            "kpoints": f"Gamma-centred, length {self.kpoint_length_A:g} A, 1 along slab normal",
            "spin_and_U": "ISPIN=2 and MP GGA+U only with " + ",".join(sorted(MP_U_ELEMENTS)),
            "smearing": "ISMEAR=0, SIGMA=0.05 eV",
            "reductions": self.reductions(),
        }


VASP_PRESETS: dict[str, VaspPreset] = {
    "fast": VaspPreset(name="fast", encut_eV=400.0, ediff_eV=1e-5, kpoint_length_A=15.0),
    "production": VaspPreset(name="production", encut_eV=520.0, ediff_eV=1e-6,
                             kpoint_length_A=25.0),
}


def needs_spin_and_u(structure: Structure) -> bool:
    """True when the structure holds an element with an MP U value (open-shell TM)."""
    return bool(MP_U_ELEMENTS & set(structure.symbol_set))


def dft_plus_u_incar(structure: Structure, hubbard_u_eV: dict[str, float]) -> dict[str, Any]:
    """Spin-polarised Dudarev GGA+U tags: U_eff on the d shell of the given elements.

    ``LDAUL``/``LDAUU``/``LDAUJ`` have one entry per POSCAR species block: the structure is
    written as given, so an element that comes back later (Li appended after O) is a block
    of its own; ``MAGMOM`` comes from the
    ``magmom`` site property (initial moments, e.g. 1 μB on the Ti chosen to be reduced),
    else 0.6 μB everywhere (VASP's usual start).

    Raises
    ------
    ValueError
        A negative U.
    """
    check_hubbard_u(hubbard_u_eV)
    elements = [el for el, _ in groupby(site.specie.symbol for site in structure)]
    magmom = structure.site_properties.get("magmom")
    return {
        # LMAXMIX 6 with f electrons in the cell (La), as pymatgen's sets do; 4 for d only
        "ISPIN": 2, "LDAU": True, "LDAUTYPE": 2, "LDAUPRINT": 1,
        "LMAXMIX": 6 if any(el.block == "f" or el.symbol in ("La", "Ac")
                            for el in structure.composition.elements) else 4,
        "LDAUL": [2 if hubbard_u_eV.get(el) else -1 for el in elements],
        "LDAUU": [float(hubbard_u_eV.get(el, 0.0)) for el in elements],
        "LDAUJ": [0.0 for _ in elements],
        "MAGMOM": ([float(m) for m in magmom] if magmom is not None
                   else [0.6] * len(structure)),
    }


def slab_kpoints(structure: Structure, kpoint_length_A: float, slab: bool) -> Kpoints:
    """Γ-centred grid n_i = ceil(L/|a_i|), with n_c = 1 for a slab (c = surface normal)."""
    grid = [max(1, int(np.ceil(kpoint_length_A / a))) for a in structure.lattice.abc]
    if slab:
        grid[2] = 1
    return Kpoints.gamma_automatic(tuple(grid))


@dataclass
class _SsbflowVaspMixin:
    """Fields and hooks shared by the ssbflow VASP generators (see module docstring)."""

    preset: str = "fast"
    slab: bool | None = None
    electronic: bool = False
    hubbard_u_eV: dict[str, float] | None = None
    multiplicity: int | None = None
    kpoint_length_A: float | None = None

    def _is_slab(self) -> bool:
        return looks_like_slab(self.structure) if self.slab is None else self.slab

    @property
    def incar_updates(self) -> dict:
        """The parent's updates plus ssbflow's tags."""
        preset = VASP_PRESETS[self.preset]
        updates = dict(super().incar_updates)  # type: ignore[misc]
        spin = needs_spin_and_u(self.structure)
        updates.update({
            "GGA": "PE", "IVDW": 12, "ENCUT": preset.encut_eV, "EDIFF": preset.ediff_eV,
            "ISPIN": 2 if spin else 1, "LDAU": spin, "ISMEAR": 0, "SIGMA": 0.05,
            "LASPH": True, "LMIXTAU": None,
        })
        if self.hubbard_u_eV:
            updates.update(dft_plus_u_incar(self.structure, self.hubbard_u_eV))
        if self.multiplicity:
            updates["NUPDOWN"] = int(self.multiplicity) - 1
            if self.multiplicity > 1:  # NUPDOWN is ignored without spin (triplet O2)
                updates["ISPIN"] = 2
        if self.electronic:
            updates.update({"NSW": 0, "IBRION": -1, "LCHARG": True, "LAECHG": True,
                            "LELF": True, "LVHAR": True, "LVTOT": False, "LORBIT": 11})
            if self._is_slab():
                centre = np.mod(self.structure.frac_coords.mean(axis=0), 1.0)
                updates.update({"IDIPOL": 3, "LDIPOL": True,
                                "DIPOL": [round(float(x), 4) for x in centre]})
        return updates

    @property
    def kpoints_updates(self) -> Kpoints:
        """Γ-centred grid of ``kpoint_length_A`` (Å), else of the preset (one k-point along
        a slab's normal)."""
        return slab_kpoints(self.structure,
                            self.kpoint_length_A or VASP_PRESETS[self.preset].kpoint_length_A,
                            self._is_slab())


@dataclass
class SsbflowVaspStaticGenerator(_SsbflowVaspMixin, StaticSetGenerator):
    """VASP single point with ssbflow's tags (``electronic=True`` adds the volumetric files)."""


@dataclass
class SsbflowVaspRelaxGenerator(_SsbflowVaspMixin, RelaxSetGenerator):
    """VASP relaxation (ISIF 2 at fixed cell, 3 with ``relax_cell``) with ssbflow's tags."""
    relax_cell: bool = False
    fmax_eV_per_A: float = 0.05
    max_steps: int = 200

    @property
    def incar_updates(self) -> dict:
        """Relaxation tags: force criterion (negative EDIFFG), ISIF, NSW."""
        updates = super().incar_updates
        updates.update({"ISIF": 3 if self.relax_cell else 2, "EDIFFG": -abs(self.fmax_eV_per_A),
                        "NSW": self.max_steps, "IBRION": 2})
        return updates


@dataclass
class SsbflowVaspMDGenerator(_SsbflowVaspMixin, MDSetGenerator):
    """VASP NVT molecular dynamics with ssbflow's tags."""

    @property
    def incar_updates(self) -> dict:
        """MD tags from atomate2 with PBE+D3 and the preset's cutoff."""
        updates = super().incar_updates
        updates["LCHARG"] = False
        return updates

    @property
    def kpoints_updates(self) -> Kpoints:
        """Γ point only, the usual choice for large MD cells."""
        return Kpoints.gamma_automatic((1, 1, 1))


def make_generator(kind: str, preset: str, **kwargs: Any) -> VaspInputGenerator:
    """A ssbflow VASP generator: ``kind`` is ``static``, ``relax``, ``md`` or ``electronic``."""
    if preset not in VASP_PRESETS:
        raise ValueError(
            f"preset {preset!r} is not known; expected one of {', '.join(VASP_PRESETS)}"
        )
    if kind == "static":
        return SsbflowVaspStaticGenerator(preset=preset, **kwargs)
    if kind == "electronic":
        return SsbflowVaspStaticGenerator(preset=preset, electronic=True, **kwargs)
    if kind == "relax":
        return SsbflowVaspRelaxGenerator(preset=preset, **kwargs)
    if kind == "md":
        return SsbflowVaspMDGenerator(preset=preset, **kwargs)
    raise ValueError(f"kind {kind!r} is not known; expected static, relax, md or electronic")
