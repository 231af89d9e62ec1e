"""VASP NEB: atomate2's NEB set with ssbflow's VASP tags, its maker, and its inputs.

:func:`write_vasp_neb_inputs` writes what atomate2's ``NebFromImagesMaker`` writes before
it starts VASP (head folder with INCAR/KPOINTS/POTCAR.spec, image folders ``00`` ..
``NN`` with POSCAR and KPOINTS), with ssbflow's VASP tags (PBE+D3(BJ), GGA+U and
ISPIN=2 only with MP-U transition metals) on top of atomate2's NEB tags (IMAGES, SPRING,
LCLIMB, IBRION=3/IOPT=1). :func:`vasp_neb_maker` returns the maker itself for runs where
VASP exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atomate2.vasp.sets.core import NebSetGenerator
from pymatgen.core import Structure

from ssbflow.engines.geometry import as_structure, check_band_images
from ssbflow.engines.vasp import sets as vasp_sets
from ssbflow.errors import InputError


@dataclass
class SsbflowVaspNebGenerator(vasp_sets._SsbflowVaspMixin, NebSetGenerator):
    """atomate2's NEB set (IMAGES, SPRING, LCLIMB, IBRION=3/IOPT=1) with ssbflow's VASP tags.

    Electronic convergence at least 1e-6 eV (atomate2's NEB value; NEB forces need it), the
    force criterion ``EDIFFG = -fmax_eV_per_A`` and no AECCAR/LOCPOT per image.
    """

    fmax_eV_per_A: float = 0.05

    @property
    def incar_updates(self) -> dict:
        """atomate2's NEB tags, then ssbflow's tags, then EDIFF/EDIFFG."""
        updates = super().incar_updates
        updates["EDIFF"] = min(1e-6, vasp_sets.VASP_PRESETS[self.preset].ediff_eV)
        updates["EDIFFG"] = -abs(self.fmax_eV_per_A)
        # no volumetric files per image (atomate2's base set writes AECCAR*/LOCPOT)
        updates.update({"LAECHG": False, "LVTOT": False})
        return updates


def vasp_neb_maker(preset: str = "fast", climb: bool = True, fmax_eV_per_A: float = 0.05,
                   slab: bool | None = None) -> Any:
    """atomate2 ``NebFromImagesMaker`` with ssbflow's VASP tags (needs VASP to run)."""
    from atomate2.vasp.jobs.neb import NebFromImagesMaker

    if preset not in vasp_sets.VASP_PRESETS:
        raise InputError(f"preset {preset!r} is not known; expected one of "
                         f"{', '.join(vasp_sets.VASP_PRESETS)}")
    gen = SsbflowVaspNebGenerator(preset=preset, climbing_image=climb, slab=slab,
                                  fmax_eV_per_A=fmax_eV_per_A)
    return NebFromImagesMaker(name="vasp neb", input_set_generator=gen)


def sort_images(images: list[Structure]) -> list[Structure]:
    """Images with their sites in VASP (electronegativity) order, one permutation for all.

    atomate2 sorts the first image for POSCAR/POTCAR but writes the image POSCARs as given;
    sorting all images the same way keeps them consistent with the POTCAR.
    """
    order = sorted(range(len(images[0])), key=lambda i: images[0][i])  # stable, Site.__lt__
    return [Structure.from_sites([img[i] for i in order]) for img in images]


def write_vasp_neb_inputs(images: list[Structure] | list[Any], out_dir: str | Path,
                          preset: str = "fast", climb: bool = True,
                          fmax_eV_per_A: float = 0.05, slab: bool | None = None) -> Path:
    """Write the inputs of a VASP NEB without running VASP.

    Layout as atomate2's ``NebFromImagesMaker``: ``out_dir/INCAR``, ``KPOINTS``,
    ``POTCAR.spec`` (symbols only, no licensed POTCAR), ``POSCAR`` (first image), and image
    folders ``00`` .. ``NN`` (endpoints included) each with ``POSCAR`` and a copy of
    ``KPOINTS``. Sites are sorted by electronegativity (the same permutation in every image).
    """
    from atomate2.vasp.files import write_vasp_input_set
    from pymatgen.io.vasp.inputs import Kpoints

    structures = sort_images([as_structure(s) for s in images])
    check_band_images(structures)
    maker = vasp_neb_maker(preset, climb, fmax_eV_per_A, slab)
    maker.input_set_generator.num_images = len(structures) - 2
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_vasp_input_set(structures[0], maker.input_set_generator, directory=out,
                         potcar_spec=True, apply_incar_updates=False)
    kpoints = Kpoints.from_file(out / "KPOINTS") if (out / "KPOINTS").is_file() else None
    for k, image in enumerate(structures):
        folder = out / f"{k:02d}"
        folder.mkdir(exist_ok=True)
        image.to(filename=str(folder / "POSCAR"), fmt="poscar")
        if kpoints is not None:
            kpoints.write_file(folder / "KPOINTS")
    return out
