"""The VASP engine: atomate2's VASP makers with ssbflow's input sets.

Input generation works without VASP; atomate2's VASP jobs need ``vasp_std``
(``$ATOMATE2_VASP_CMD``) where they run.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ssbflow.engines.base import Engine, check_md_arguments, package_version
from ssbflow.engines.vasp import sets as vasp_sets

if TYPE_CHECKING:
    from jobflow import Maker


@dataclass
class VaspEngine(Engine):
    """VASP through ``atomate2.vasp`` (input generation works without VASP installed)."""

    def relax_maker(self, relax_cell: bool = False, fmax_eV_per_A: float = 0.05,
                    max_steps: int = 200) -> Maker:
        """VASP relaxation (ISIF 2, or 3 with ``relax_cell``), force criterion EDIFFG."""
        from atomate2.vasp.jobs.core import RelaxMaker

        gen = vasp_sets.make_generator("relax", self.preset, relax_cell=relax_cell,
                                       fmax_eV_per_A=fmax_eV_per_A, max_steps=max_steps)
        return RelaxMaker(name="vasp relax", input_set_generator=gen)

    def static_maker(self) -> Maker:
        """VASP single point."""
        from atomate2.vasp.jobs.core import StaticMaker

        return StaticMaker(name="vasp static",
                           input_set_generator=vasp_sets.make_generator("static", self.preset))

    def electronic_maker(self, slab: bool, cubes: bool = True, charges: bool = True) -> Maker:
        """Single point writing CHGCAR, AECCAR*, ELFCAR, LOCPOT (Hartree); dipole for slabs.

        ``cubes``/``charges`` are accepted for symmetry with CP2K: VASP's volumetric files
        are always written (Bader charges come from CHGCAR + AECCAR0/2).
        """
        from atomate2.vasp.jobs.core import StaticMaker

        gen = vasp_sets.make_generator("electronic", self.preset, slab=slab)
        return StaticMaker(name="vasp electronic", input_set_generator=gen)

    def dft_plus_u_maker(self, hubbard_u_eV: dict[str, float], multiplicity: int | None = None,
                         pdos: bool = True, metal: bool = False,
                         kpoint_length_A: float | None = None) -> Maker:
        """Spin-polarised Dudarev GGA+U single point (``ISPIN 2``, ``LDAU``, U_eff on the d
        shell of the elements in ``hubbard_u_eV``, ``MAGMOM`` from the ``magmom`` site
        property, ``NUPDOWN`` = ``multiplicity`` − 1 when given); CHGCAR holds the spin
        density, ``LORBIT 11`` the site-projected DOS and moments (``pdos`` is always on).
        ``metal``: Methfessel–Paxton smearing (``ISMEAR 1``, ``SIGMA 0.1``);
        ``kpoint_length_A``: the k-point length (Å) instead of the preset's."""
        from atomate2.vasp.jobs.core import StaticMaker

        gen = vasp_sets.make_generator("static", self.preset, hubbard_u_eV=dict(hubbard_u_eV),
                                       multiplicity=multiplicity,
                                       kpoint_length_A=kpoint_length_A)
        gen.user_incar_settings = {"LORBIT": 11, "LCHARG": True,
                                   **({"ISMEAR": 1, "SIGMA": 0.1} if metal else {})}
        return StaticMaker(name="vasp dft+u", input_set_generator=gen)

    def md_maker(self, temperature_K: float, n_steps: int, timestep_fs: float) -> Maker:
        """VASP NVT MD (atomate2's MD set, Γ point)."""
        from atomate2.vasp.jobs.md import MDMaker

        check_md_arguments(temperature_K, n_steps, timestep_fs)
        gen = vasp_sets.make_generator("md", self.preset, start_temp=temperature_K,
                                       end_temp=temperature_K, nsteps=n_steps,
                                       time_step=timestep_fs)
        return MDMaker(name="vasp md", input_set_generator=gen)

    def settings(self) -> dict[str, Any]:
        """Preset numbers, tags and the list of reductions."""
        return {
            "engine": "vasp",
            "preset": self.preset,
            "vasp_cmd": os.environ.get("ATOMATE2_VASP_CMD", "vasp_std"),
            "vasp_found": shutil.which("vasp_std") is not None,
            "atomate2_version": package_version("atomate2"),
            **vasp_sets.VASP_PRESETS[self.preset].as_dict(),
        }
