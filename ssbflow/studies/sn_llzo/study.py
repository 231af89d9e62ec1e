"""The main study: succinonitrile (SN) adsorbed through its nitrile N on surface La of LLZO.

``run_sn_llzo`` builds the LLZO slab and SN, runs :class:`AdsorptionStudyMaker` with resume,
and writes the report folder. Published context (shared/reference/science.md): the nitrile N
coordinates surface La; the CDD shows accumulation on N and depletion on La; SN has a lower
"work function" (a molecular V_vac − ε_HOMO here) than LLZO.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ssbflow.methods.adsorption import ELECTRONIC_CHOICES, ORIENTATIONS, AdsorptionStudyMaker
from ssbflow.runtime.execute import execute_study
from ssbflow.studies.sn_llzo.report import write_report

STUDY = "sn-llzo"

#: Garnet electrolytes the slab can be cut from.
GARNETS = ("llzo", "llzto")

#: What each preset changes; every reduction is written into the results' settings.
PRESETS: dict[str, dict[str, Any]] = {
    "fast": {"n_sites": 2, "orientations": ("upright", "flat"), "conformer": "gauche"},
    "production": {"n_sites": 4, "orientations": ("upright", "flat"), "conformer": "gauche"},
}


def sn_llzo_options(
    engine: str = "mlip",
    electronic: str = "cp2k",
    preset: str = "fast",
    miller: tuple[int, int, int] = (0, 0, 1),
    termination: int | str | None = None,
    thickness: float | None = None,
    vacuum: float = 15.0,
    mlip_model: str = "CHGNet",
    n_sites: int | None = None,
    orientations: tuple[str, ...] | list[str] | None = None,
    garnet: str = "llzo",
) -> dict[str, Any]:
    """Validated options of the study (they define the run and are stored with it).

    ``garnet`` is ``llzo`` (tetragonal Li7La3Zr2O12) or ``llzto`` (Ta-doped, x = 0.5:
    Li6.5La3Zr1.5Ta0.5O12 on the same ordered cell; see ``ssbflow.structures.garnet.llzto``).
    """
    from ssbflow.engines.core import get_engine

    if preset not in PRESETS:
        raise ValueError(f"--preset {preset!r} is not known; expected one of {', '.join(PRESETS)}")
    if electronic not in ELECTRONIC_CHOICES:
        raise ValueError(
            f"--electronic {electronic!r} is not known; expected one of "
            f"{', '.join(ELECTRONIC_CHOICES)}"
        )
    get_engine(engine, preset=preset, mlip_model=mlip_model)  # validates engine and model
    if electronic != "none":
        get_engine(electronic, preset=preset)  # raises when CP2K is missing
    if vacuum <= 0:
        raise ValueError(f"--vacuum must be > 0 Å, got {vacuum}")
    if thickness is not None and thickness <= 0:
        raise ValueError(f"--thickness must be > 0 Å, got {thickness}")
    for orientation in orientations or ():
        if orientation not in ORIENTATIONS:
            raise ValueError(
                f"--orientation {orientation!r} is not known; expected one of "
                f"{', '.join(ORIENTATIONS)}"
            )
    if n_sites is not None and n_sites < 1:
        raise ValueError(f"--n-sites must be >= 1, got {n_sites}")
    if tuple(miller) == (0, 0, 0):
        raise ValueError("--miller 0 0 0 is not a plane; expected e.g. 0 0 1")
    if garnet not in GARNETS:
        raise ValueError(f"--garnet {garnet!r} is not known; expected one of {', '.join(GARNETS)}")
    # the key appears only for LLZTO, so runs made before the option resume unchanged
    extra = {} if garnet == "llzo" else {"garnet": garnet}
    return {
        "study": STUDY,
        "engine": engine,
        "electronic": electronic,
        "preset": preset,
        "miller": list(miller),
        "termination": termination,
        "thickness_A": thickness,
        "vacuum_A": vacuum,
        "mlip_model": mlip_model,
        "n_sites": n_sites or PRESETS[preset]["n_sites"],
        "orientations": list(orientations or PRESETS[preset]["orientations"]),
        **extra,
    }


def make_sn_llzo_flow(options: dict[str, Any], report_dir: str):
    """The jobflow ``Flow`` of the study for validated ``options``."""
    from ssbflow.structures.molecules import molecule
    from ssbflow.structures.slabs import llzo_slab

    preset = PRESETS[options["preset"]]
    slab_kwargs: dict[str, Any] = {
        "miller": tuple(options["miller"]),
        "vacuum": options["vacuum_A"],
    }
    if options["thickness_A"] is not None:
        slab_kwargs["thickness"] = options["thickness_A"]
    if options["termination"] is not None:
        slab_kwargs["termination"] = options["termination"]
    if options.get("garnet", "llzo") == "llzto":
        from ssbflow.structures.garnet import llzto

        # the Ta/Li-vacancy ordering leaves no stoichiometric half-cell slab: the default
        # LLZTO(001) slab is a whole cell thick (188 atoms), four times the DFT cost of LLZO's
        slab_kwargs["bulk"] = llzto()
    slab = llzo_slab(**slab_kwargs)
    sn = molecule("succinonitrile", conformer=preset["conformer"])
    maker = AdsorptionStudyMaker(
        name=STUDY,
        engine=options["engine"],
        electronic=options["electronic"],
        preset=options["preset"],
        mlip_model=options["mlip_model"],
        site_species="La",
        anchor="N",
        n_sites=options["n_sites"],
        orientations=tuple(options["orientations"]),
        report_dir=report_dir,
        extra_settings={
            "miller": options["miller"],
            "termination": options["termination"],
            "slab_thickness_A": options["thickness_A"],
            "vacuum_A": options["vacuum_A"],
            "garnet": options.get("garnet", "llzo"),
            "slab_atoms": len(slab),
            "slab_formula": slab.composition.formula.replace(" ", ""),
            # the polar (001) cut made non-polar by moving surface Li (see llzo_slab)
            "slab_dipole_compensation": slab.properties.get("dipole_compensation"),
            "molecule": f"succinonitrile ({preset['conformer']})",
        },
    )
    return maker.make(slab, sn)


def run_sn_llzo(
    out: str | Path = "ssbflow-runs/sn-llzo",
    db: str | Path | None = None,
    quiet: bool = False,
    **options: Any,
) -> dict:
    """Run (or resume) the SN-on-LLZO study and write its report folder.

    Parameters
    ----------
    out : run and report folder.
    db : montydb folder (``$SSBFLOW_MONGO_URI`` selects MongoDB instead).
    quiet : no progress bar.
    **options : see :func:`sn_llzo_options`.

    Returns
    -------
    dict
        The content of ``results.json``.
    """
    settings = sn_llzo_options(**options)
    out = Path(out).absolute()
    results, timings, _ = execute_study(
        lambda: make_sn_llzo_flow(settings, str(out)), settings, out, db=db, quiet=quiet
    )
    return write_report(results, out, timings)
