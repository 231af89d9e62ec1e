"""Adsorption of a molecule on a slab, end to end: the succinonitrile-on-LLZO study.

Flow (all jobs in the store, resumable with :mod:`ssbflow.runtime.runner`):

1. geometry engine (MLIP by default): relax the slab (bottom layers fixed), the molecule
   alone in the slab's cell, and the slab+molecule at several sites and orientations;
2. ``summarise_scan``: adsorption energies E_ads = E(AB) − E(A) − E(B) of every candidate,
   the most stable kept;
3. optional electronic stage (CP2K or VASP single points of AB, A and B frozen at their AB
   positions in the identical cell) and ``analyse_electronic``: charge density difference,
   ELF, work function of the slab, V_vac − ε_HOMO of the molecule, charges of the anchoring
   La and N (see :mod:`ssbflow.methods.electronic`: files pass through the store);
4. ``assemble_results``: one results document (:class:`AdsorptionResults`), the report
   files of the electronic stage in the ``data`` store.

Every job writes only in its own folder. The report folder (``results.json``, ``report.md``,
PNGs, cube/CHGCAR) is written afterwards from that document by
:func:`ssbflow.studies.sn_llzo.report.write_report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from jobflow import Flow, Maker, job
from pydantic import BaseModel, Field
from pymatgen.core import Molecule, Structure

from ssbflow.engines.registry import ELECTRONIC_CHOICES
from ssbflow.errors import InputError, SsbflowError

ORIENTATIONS = ("upright", "flat")
#: Height (Å) of the lowest atom above the cell's origin plane in the electronic stage.
BOTTOM_MARGIN_A = 1.0
#: Least vacuum (Å) above the highest atom in the electronic stage. CP2K's surface dipole
#: correction aborted ("needs more vacuum space above the surface") on a 6.4 Å gap in a
#: 14.1 Å cell here and ran with 12.3 Å; the MLIP geometry stage keeps the cell it was given.
MIN_ELECTRONIC_VACUUM_A = 12.0


class SiteResult(BaseModel):
    """One adsorption candidate of the scan."""

    site: int = Field(description="index of the surface atom the anchor sits on")
    site_species: str
    orientation: str
    adsorption_energy_eV: float
    anchor_site_distance_A: float = Field(description="anchor–site distance after relaxation")


class AdsorptionResults(BaseModel):
    """Results document of an adsorption study (stored, and written as results.json)."""

    study: str
    formula_slab: str
    formula_molecule: str
    n_atoms_slab: int
    adsorption_energy_eV: float = Field(description="E(AB) − E(A) − E(B); negative = binding")
    energies_eV: dict[str, float]
    site_scan: list[SiteResult]
    best: SiteResult
    structure_ab: dict
    electronic: dict[str, Any] = Field(default_factory=dict)
    transferred_charge_e: float | None = None
    cdd_integral_e: float | None = None
    work_function_slab_eV: float | None = None
    molecule_vacuum_minus_homo_eV: float | None = None
    charges: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)


def place_in_cell(molecule: Molecule, lattice_structure: Structure) -> Structure:
    """The molecule centred in the cell of ``lattice_structure`` (same lattice, Å)."""
    centre = lattice_structure.lattice.get_cartesian_coords([0.5, 0.5, 0.5])
    coords = molecule.cart_coords - molecule.center_of_mass + centre
    return Structure(lattice_structure.lattice, molecule.species, coords, coords_are_cartesian=True)


@job
def summarise_scan(
    slab_doc: Any,
    molecule_doc: Any,
    candidate_docs: list[Any],
    candidates: list[dict],
    anchor_species: str,
) -> dict:
    """Adsorption energies of every candidate; the most stable one first.

    Parameters
    ----------
    slab_doc, molecule_doc, candidate_docs : task documents (``.output.energy`` in eV,
        ``.structure``) of the relaxed slab, molecule and slab+molecule candidates.
    candidates : site index, site species and orientation of each candidate.
    anchor_species : element of the anchoring atom (e.g. ``"N"``).
    """
    e_slab = float(slab_doc.output.energy)
    e_mol = float(molecule_doc.output.energy)
    n_slab = len(slab_doc.structure)
    results = []
    for doc, cand in zip(candidate_docs, candidates, strict=True):
        relaxed: Structure = doc.structure
        site = relaxed[cand["site"]]
        anchors = [
            i for i in range(n_slab, len(relaxed)) if relaxed[i].specie.symbol == anchor_species
        ]
        distance = (
            min(relaxed.get_distance(cand["site"], i) for i in anchors) if anchors else float("nan")
        )
        results.append(
            {
                "site": cand["site"],
                "site_species": site.specie.symbol,
                "orientation": cand["orientation"],
                "adsorption_energy_eV": float(doc.output.energy) - e_slab - e_mol,
                "anchor_site_distance_A": float(distance),
                "energy_ab_eV": float(doc.output.energy),
                "structure": relaxed.as_dict(),
            }
        )
    order = np.argsort([r["adsorption_energy_eV"] for r in results])
    ranked = [results[i] for i in order]
    return {
        "ranked": ranked,
        "best_structure": Structure.from_dict(ranked[0]["structure"]),
        "energies_eV": {
            "slab": e_slab,
            "molecule": e_mol,
            "slab_molecule": ranked[0]["energy_ab_eV"],
        },
        "n_atoms_slab": n_slab,
    }


@job
def split_fragments(structure_ab: Structure, n_atoms_slab: int) -> dict:
    """AB, A (slab) and B (molecule) frozen at their AB positions in the identical cell.

    The cell is made taller when less than ``MIN_ELECTRONIC_VACUUM_A`` of vacuum is left
    above the molecule. All three are shifted along z (the same shift) so that the lowest
    atom sits
    ``BOTTOM_MARGIN_A`` above the cell's origin plane and the vacuum at the top, where
    CP2K's surface dipole correction expects it (it aborts with "needs more vacuum space
    above the surface" when the slab or molecule crosses the top of the cell).
    """
    from ssbflow.structures.adsorption import with_vacuum_above
    from ssbflow.structures.slab_frame import put_vacuum_on_top, vacuum_gap_z

    structure_ab = put_vacuum_on_top(structure_ab, BOTTOM_MARGIN_A)
    low, high = vacuum_gap_z(structure_ab)
    if high - low < MIN_ELECTRONIC_VACUUM_A:
        structure_ab = put_vacuum_on_top(
            with_vacuum_above(structure_ab, MIN_ELECTRONIC_VACUUM_A), BOTTOM_MARGIN_A
        )
    slab = Structure.from_sites(structure_ab.sites[:n_atoms_slab])
    molecule = Structure.from_sites(structure_ab.sites[n_atoms_slab:])
    for s in (slab, molecule):
        s.lattice = structure_ab.lattice
    return {"ab": structure_ab, "slab": slab, "molecule": molecule}


@job
def pick(mapping: dict, key: str) -> Any:
    """``mapping[key]`` as a job output (used to feed one fragment to a maker)."""
    return mapping[key]


@job(output_schema=AdsorptionResults, data="report_files")
def assemble_results(
    study: str,
    scan: dict,
    molecule_formula: str,
    settings: dict,
    electronic: dict | None = None,
) -> dict:
    """The study's results document, validated by :class:`AdsorptionResults`.

    The electronic stage's report files (``electronic["report_files"]``) go to the ``data``
    store.
    """
    ranked = [SiteResult(**{k: r[k] for k in SiteResult.model_fields}) for r in scan["ranked"]]
    best_structure: Structure = scan["best_structure"]
    electronic = electronic or {}
    slab_formula = Structure.from_sites(
        best_structure.sites[: scan["n_atoms_slab"]]
    ).composition.reduced_formula
    doc = AdsorptionResults(
        study=study,
        formula_slab=slab_formula,
        formula_molecule=molecule_formula,
        n_atoms_slab=scan["n_atoms_slab"],
        adsorption_energy_eV=ranked[0].adsorption_energy_eV,
        energies_eV=scan["energies_eV"],
        site_scan=ranked,
        best=ranked[0],
        structure_ab=best_structure.as_dict(),
        electronic=electronic,
        transferred_charge_e=electronic.get("transferred_charge_e"),
        cdd_integral_e=electronic.get("cdd_integral_e"),
        work_function_slab_eV=electronic.get("work_function_slab_eV"),
        molecule_vacuum_minus_homo_eV=electronic.get("molecule_vacuum_minus_homo_eV"),
        charges=electronic.get("charges", {}),
        settings=settings,
    )
    return doc.model_dump()


@dataclass
class AdsorptionStudyMaker(Maker):
    """Adsorption of a molecule on a slab with an MLIP geometry stage and an optional
    electronic (DFT) stage.

    Parameters
    ----------
    name : study name (``"sn-llzo"``).
    engine : geometry/energy engine: ``mlip`` (default), ``cp2k`` or ``vasp``.
    electronic : electronic-structure engine for CDD/ELF/work function/charges:
        ``cp2k``, ``vasp`` or ``none``.
    preset : ``fast`` (laptop) or ``production``.
    mlip_model : atomate2 force-field name for the MLIP engine.
    site_species : element of the surface sites scanned (``"La"``).
    anchor : element of the molecule's anchoring atom (``"N"``).
    n_sites : number of distinct surface sites scanned (most exposed first).
    orientations : molecule orientations scanned (``upright``, ``flat``).
    height : initial anchor height above the site (Å).
    fmax : force threshold of relaxations (eV/Å).
    relax_slab : relax the bare slab (default); ``False`` for a slab already relaxed with the
        same engine (a single point gives its energy), e.g. when a screen reuses one slab.
    extra_settings : written into the results' settings as they are.
    """

    name: str = "adsorption"
    engine: str = "mlip"
    electronic: str = "none"
    preset: str = "fast"
    mlip_model: str = "CHGNet"
    site_species: str = "La"
    anchor: str = "N"
    n_sites: int = 2
    orientations: tuple[str, ...] = ORIENTATIONS
    height: float = 2.6
    fmax: float = 0.05
    relax_slab: bool = True
    extra_settings: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.electronic not in ELECTRONIC_CHOICES:
            raise InputError(
                f"--electronic {self.electronic!r} is not known; expected one of "
                f"{', '.join(ELECTRONIC_CHOICES)}"
            )
        bad = [o for o in self.orientations if o not in ORIENTATIONS]
        if bad:
            raise InputError(f"orientation {bad[0]!r} is not known; expected upright or flat")
        if self.n_sites < 1:
            raise InputError(f"n_sites must be >= 1, got {self.n_sites}")
        if self.height <= 0:
            raise InputError(f"height must be > 0 Å, got {self.height}")

    def settings(self) -> dict:
        """Everything that defines the study's numbers (written into the results)."""
        from ssbflow.engines import get_engine

        geometry = get_engine(self.engine, preset=self.preset, mlip_model=self.mlip_model)
        out = {
            "study": self.name,
            "geometry_engine": geometry.settings(),
            "electronic_engine": (
                get_engine(self.electronic, preset=self.preset).settings()
                if self.electronic != "none"
                else "none"
            ),
            "preset": self.preset,
            "site_species": self.site_species,
            "anchor": self.anchor,
            "n_sites": self.n_sites,
            "orientations": list(self.orientations),
            "initial_height_A": self.height,
            "fmax_eV_per_A": self.fmax,
            "slab_relaxed_in_flow": self.relax_slab,
        }
        out.update(self.extra_settings)
        return out

    def make(self, slab: Structure, molecule: Molecule) -> Flow:
        """The study's flow for ``molecule`` on ``slab`` (selective dynamics honoured)."""
        from ssbflow.engines import get_engine
        from ssbflow.structures.adsorption import adsorption_candidates

        geometry = get_engine(self.engine, preset=self.preset, mlip_model=self.mlip_model)
        relax = geometry.relax_maker(relax_cell=False, fmax_eV_per_A=self.fmax)

        slab_job = (relax if self.relax_slab else geometry.static_maker()).make(slab)
        slab_job.append_name(" slab")
        molecule_job = relax.make(place_in_cell(molecule, slab))
        molecule_job.append_name(" molecule")
        candidates = adsorption_candidates(
            slab,
            molecule,
            species=self.site_species,
            n_sites=self.n_sites,
            orientations=self.orientations,
            anchor=self.anchor,
            height=self.height,
        )
        if not candidates:
            raise InputError(f"no {self.site_species} surface site found on the slab")
        cand_jobs, cand_info = [], []
        for cand in candidates:
            cj = relax.make(cand.structure)
            cj.append_name(f" {cand.orientation} on {self.site_species}{cand.site}")
            cand_jobs.append(cj)
            cand_info.append({"site": cand.site, "orientation": cand.orientation})

        scan = summarise_scan(
            slab_job.output,
            molecule_job.output,
            [c.output for c in cand_jobs],
            cand_info,
            self.anchor,
        )
        jobs = [slab_job, molecule_job, *cand_jobs, scan]
        electronic_out = None
        if self.electronic != "none":
            electronic_out, e_jobs = self._electronic_stage(scan)
            jobs.extend(e_jobs)
        results = assemble_results(
            self.name,
            scan.output,
            molecule.composition.hill_formula.replace(" ", ""),
            self.settings(),
            electronic_out,
        )
        jobs.append(results)
        return Flow(jobs, output=results.output, name=self.name)

    def _electronic_stage(self, scan: Any) -> tuple[Any, list]:
        from ssbflow.engines import get_engine
        from ssbflow.methods.electronic import (
            KINDS_BY_FRAGMENT,
            analyse_electronic,
            electronic_single_point,
        )

        dft = get_engine(self.electronic, preset=self.preset)
        fragments = split_fragments(scan.output["best_structure"], scan.output["n_atoms_slab"])
        jobs: list = [fragments]
        docs = {}
        for key in ("ab", "slab", "molecule"):
            structure = pick(fragments.output, key)
            maker = dft.electronic_maker(slab=True)
            single = electronic_single_point(maker, structure.output, self.electronic,
                                             list(KINDS_BY_FRAGMENT[key]))
            single.name = f"{maker.name} {key}"
            jobs += [structure, single]
            docs[key] = single.output
        analysis = analyse_electronic(
            engine=self.electronic,
            files_ab=docs["ab"]["files"],
            files_slab=docs["slab"]["files"],
            files_molecule=docs["molecule"]["files"],
            structure_ab=scan.output["best_structure"],
            n_atoms_slab=scan.output["n_atoms_slab"],
            site_index=scan.output["ranked"][0]["site"],
            anchor=self.anchor,
            energies_eV={k: docs[k]["task"].output.energy for k in docs},
        )
        jobs.append(analysis)
        return analysis.output, jobs


def mlip_adsorption_energy(
    molecule: Molecule,
    slab: Structure | None = None,
    engine: str = "mlip",
    mlip_model: str = "CHGNet",
    n_sites: int = 1,
    orientations: tuple[str, ...] = ("upright",),
    site_species: str = "La",
    anchor: str = "N",
    relax_slab: bool = True,
) -> dict:
    """Adsorption energy (eV) of ``molecule`` on ``slab`` (default: the LLZO slab), MLIP level.

    Runs the geometry part of :class:`AdsorptionStudyMaker` in memory (no store) and returns
    ``{"adsorption_energy_eV", "site", "orientation", "site_scan", "structure_ab",
    "n_atoms_slab"}`` for the most stable candidate (``structure_ab``: its relaxed slab +
    molecule, as a dict). Used by screening; ``relax_slab=False`` takes ``slab`` as already relaxed
    (see :func:`mlip_relaxed_slab`), so a screen relaxes its slab once.
    """
    if slab is None:
        from ssbflow.structures.slabs import llzo_slab

        slab = llzo_slab()
    maker = AdsorptionStudyMaker(
        name="adsorption-screen",
        engine=engine,
        electronic="none",
        mlip_model=mlip_model,
        n_sites=n_sites,
        orientations=orientations,
        site_species=site_species,
        anchor=anchor,
        relax_slab=relax_slab,
    )
    doc = _run_in_memory(maker.make(slab, molecule))
    return {
        "adsorption_energy_eV": doc["adsorption_energy_eV"],
        "site": doc["best"]["site"],
        "orientation": doc["best"]["orientation"],
        "site_scan": doc["site_scan"],
        "structure_ab": doc["structure_ab"],
        "n_atoms_slab": doc["n_atoms_slab"],
    }


def _run_in_memory(flow: Any) -> Any:
    """Run a flow (or job) with an in-memory store, inside the calling job's own folder
    (``./subflow-<uuid8>/``, so a job running it writes nothing elsewhere); its output."""
    from jobflow import JobStore, run_locally
    from maggma.stores import MemoryStore

    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    root = Path.cwd() / f"subflow-{flow.uuid[:8]}"
    root.mkdir(parents=True, exist_ok=True)
    run_locally(
        flow, store=store, ensure_success=True, log=False, root_dir=root, create_folders=True
    )
    store.connect()
    return store.get_output(flow.output.uuid)


def mlip_relaxed_slab(
    slab: Structure, engine: str = "mlip", mlip_model: str = "CHGNet", fmax: float = 0.05
) -> Structure:
    """``slab`` relaxed at fixed cell with the engine (selective dynamics honoured and kept).

    The same relaxation :class:`AdsorptionStudyMaker` runs on its slab; returned with the
    input's site properties so the fixed bottom layers stay fixed in later runs.
    """
    from ssbflow.engines import get_engine

    relax = get_engine(engine, mlip_model=mlip_model).relax_maker(
        relax_cell=False, fmax_eV_per_A=fmax)
    doc = _run_in_memory(relax.make(slab))
    relaxed = doc["structure"] if isinstance(doc, dict) else doc.structure
    if isinstance(relaxed, dict):
        relaxed = Structure.from_dict(relaxed)
    if [s.specie for s in relaxed] != [s.specie for s in slab]:
        raise SsbflowError("the relaxed slab lost its atom order; cannot reuse it")
    for name, values in slab.site_properties.items():
        relaxed.add_site_property(name, values)
    return relaxed
