"""The main study: succinonitrile (SN) adsorbed through its nitrile N on surface La of LLZO.

:data:`SN_LLZO` is the registered study ``sn-llzo``: options (:class:`SnLlzoOptions`), a flow
(:class:`~ssbflow.methods.adsorption.AdsorptionStudyMaker` on the LLZO slab and SN) whose
final job returns :class:`~ssbflow.methods.adsorption.AdsorptionResults`, and the report
writer. ``run_sn_llzo`` runs it with resume (``ssbflow run sn-llzo``). Published context
(shared/reference/science.md): the nitrile N coordinates surface La; the CDD shows
accumulation on N and depletion on La; SN has a lower "work function" (a molecular
V_vac − ε_HOMO here) than LLZO.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jobflow import Flow
from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from ssbflow.engines.registry import ELECTRONIC_CHOICES
from ssbflow.engines.registry import STRUCTURE_ENGINES as ENGINES
from ssbflow.methods.adsorption import ORIENTATIONS, AdsorptionStudyMaker
from ssbflow.structures import limits
from ssbflow.studies.base import Study
from ssbflow.studies.committee import ModelOptions, without_committee_defaults
from ssbflow.studies.sn_llzo.headline import headline, rankings
from ssbflow.studies.sn_llzo.report import write_report

STUDY = "sn-llzo"

#: Garnet electrolytes the slab can be cut from.
GARNETS = ("llzo", "llzto")

#: What each preset changes; every reduction is written into the results' settings.
PRESETS: dict[str, dict[str, Any]] = {
    "fast": {"n_sites": 2, "orientations": ("upright", "flat"), "conformer": "gauche"},
    "production": {"n_sites": 4, "orientations": ("upright", "flat"), "conformer": "gauche"},
}


def _one_of(option: str, value: str, choices: tuple[str, ...] | list[str]) -> str:
    if value not in choices:
        raise ValueError(f"{option} {value!r} is not known; expected one of {', '.join(choices)}")
    return value


class SnLlzoOptions(ModelOptions):
    """Options of ``sn-llzo`` (they define the run and are stored with it).

    ``n_sites`` and ``orientations`` left out take the preset's values (stored resolved).
    """

    engine: str = Field("mlip", description=f"Geometry/energy engine: {', '.join(ENGINES)}.")
    electronic: str = Field(
        "cp2k", description="Electronic stage (CDD, ELF, work function, charges): "
        f"{', '.join(ELECTRONIC_CHOICES)}.")
    preset: str = Field("fast", description="fast (laptop) or production.")
    garnet: str = Field(
        "llzo", description="Garnet: llzo (Li7La3Zr2O12) or llzto (Ta-doped, x = 0.5).")
    miller: tuple[int, int, int] = Field((0, 0, 1), description="LLZO facet H K L.")
    termination: int | str | None = Field(
        None, description="Slab termination: index or name (la-rich, li-rich).")
    thickness: float | None = Field(None, gt=0, le=limits.MAX_THICKNESS_A,
                                    description="Slab thickness (Å).")
    vacuum: float = Field(15.0, gt=0, le=limits.MAX_VACUUM_A, description="Vacuum (Å).")
    n_sites: int | None = Field(
        None, ge=1, le=limits.MAX_SITES,
        description="La sites scanned (default from the preset).")
    orientations: tuple[str, ...] | None = Field(
        None,
        description="Orientation(s) scanned: upright, flat (repeat the option).",
        json_schema_extra={"cli": ["--orientation"]},
    )

    @field_validator("engine")
    @classmethod
    def _engine(cls, value: str) -> str:
        return _one_of("--engine", value, ENGINES)

    @field_validator("electronic")
    @classmethod
    def _electronic(cls, value: str) -> str:
        return _one_of("--electronic", value, ELECTRONIC_CHOICES)

    @field_validator("preset")
    @classmethod
    def _preset(cls, value: str) -> str:
        return _one_of("--preset", value, list(PRESETS))

    @field_validator("garnet")
    @classmethod
    def _garnet(cls, value: str) -> str:
        return _one_of("--garnet", value, GARNETS)

    @field_validator("miller")
    @classmethod
    def _miller(cls, value: tuple[int, int, int]) -> tuple[int, int, int]:
        if tuple(value) == (0, 0, 0):
            raise ValueError("--miller 0 0 0 is not a plane; expected e.g. 0 0 1")
        return value

    @field_validator("termination", mode="before")
    @classmethod
    def _termination(cls, value: Any) -> Any:
        # the CLI gives text: an index stays an int, a name a string
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        return value

    @field_validator("orientations")
    @classmethod
    def _orientations(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for orientation in value or ():
            _one_of("--orientation", orientation, ORIENTATIONS)
        return value

    @model_validator(mode="before")
    @classmethod
    def _preset_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        preset = PRESETS.get(data.get("preset", "fast"))
        if preset is None:  # reported by the preset's own check
            return data
        data = dict(data)
        if data.get("n_sites") is None:
            data["n_sites"] = preset["n_sites"]
        if not data.get("orientations"):
            data["orientations"] = preset["orientations"]
        return data

    @model_serializer(mode="wrap")
    def _stored(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = without_committee_defaults(handler(self))
        if data.get("garnet") == "llzo":  # stored only for LLZTO, as before the option existed
            data.pop("garnet")
        return data


def check_sn_llzo(options: SnLlzoOptions) -> None:
    """Refuse to start a local run whose engines are missing here (CP2K, model packages)."""
    from ssbflow.engines import get_engine

    # building an engine never looks for executables; check_available does (one line)
    get_engine(options.engine, preset=options.preset,
               mlip_model=options.mlip_model).check_available()
    if options.electronic != "none":
        get_engine(options.electronic, preset=options.preset).check_available()


def make_sn_llzo_flow(options: SnLlzoOptions | dict[str, Any], report_dir: str | None = None
                      ) -> Flow:
    """The jobflow ``Flow`` of the study for ``options`` (``report_dir`` is not used:
    jobs write only in their own folders; kept for callers of the old signature)."""
    from ssbflow.structures.molecules import molecule
    from ssbflow.structures.slabs import llzo_slab

    opts = SN_LLZO.parse_options(_from_settings(options) if isinstance(options, dict)
                                 else options)
    preset = PRESETS[opts.preset]
    slab_kwargs: dict[str, Any] = {"miller": tuple(opts.miller), "vacuum": opts.vacuum}
    if opts.thickness is not None:
        slab_kwargs["thickness"] = opts.thickness
    if opts.termination is not None:
        slab_kwargs["termination"] = opts.termination
    if opts.garnet == "llzto":
        from ssbflow.structures.garnet import llzto

        # the Ta/Li-vacancy ordering leaves no stoichiometric half-cell slab: the default
        # LLZTO(001) slab is a whole cell thick (188 atoms), four times the DFT cost of LLZO's
        slab_kwargs["bulk"] = llzto()
    slab = llzo_slab(**slab_kwargs)
    sn = molecule("succinonitrile", conformer=preset["conformer"])
    maker = AdsorptionStudyMaker(
        name=STUDY,
        engine=opts.engine,
        electronic=opts.electronic,
        preset=opts.preset,
        mlip_model=opts.mlip_model,
        site_species="La",
        anchor="N",
        n_sites=opts.n_sites,
        orientations=tuple(opts.orientations),
        extra_settings={
            "miller": list(opts.miller),
            "termination": opts.termination,
            "slab_thickness_A": opts.thickness,
            "vacuum_A": opts.vacuum,
            "garnet": opts.garnet,
            "slab_atoms": len(slab),
            "slab_formula": slab.composition.formula.replace(" ", ""),
            # the polar (001) cut made non-polar by moving surface Li (see llzo_slab)
            "slab_dipole_compensation": slab.properties.get("dipole_compensation"),
            "molecule": f"succinonitrile ({preset['conformer']})",
        },
    )
    return maker.make(slab, sn)


def summary_lines(doc: dict[str, Any]) -> list[str]:
    """What ``ssbflow run sn-llzo`` prints."""
    lines = [f"adsorption energy: {doc['adsorption_energy_eV']:.3f} eV"]
    for key, unit in (
        ("transferred_charge_e", "e"),
        ("cdd_integral_e", "e"),
        ("work_function_slab_eV", "eV"),
        ("molecule_vacuum_minus_homo_eV", "eV"),
    ):
        if doc.get(key) is not None:
            lines.append(f"{key}: {doc[key]:.4f} {unit}")
    lines.append(f"report: {Path(doc['files']['site_scan.png']).parent / 'report.md'}")
    return lines


SN_LLZO = Study(
    name=STUDY,
    help="Succinonitrile on LLZO: adsorption energy, CDD, ELF, work functions, La/N charges.",
    options=SnLlzoOptions,
    make_flow=make_sn_llzo_flow,
    write_report=write_report,
    summary_lines=summary_lines,
    check=check_sn_llzo,
    headline=headline,
    rankings=rankings,
)


def _from_settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in settings.items() if k != "study"}


def sn_llzo_options(**options: Any) -> dict[str, Any]:
    """The stored settings (study name and validated options) for ``options``; see
    :class:`SnLlzoOptions`. Bad values raise :class:`~ssbflow.errors.InputError`."""
    return SN_LLZO.settings(SN_LLZO.parse_options(options))
