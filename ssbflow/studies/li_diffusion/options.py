"""Options of the Li diffusion studies (the same names serve the CLI, the stored settings and
resume).

The defaults (200 steps of 1 fs per temperature, a frame every 5 steps) run the whole chain
on a laptop but only sample the ballistic/caged regime, and the reports say so ("not
diffusive"). Measured here with CHGNet on CPU (one thread, 2 shared cores, load 7-14):
1.9-3.0 s per step for the 144-atom PVDF box and 1.1-1.5 s for the 112-atom
dehydrofluorinated one, so 0.3 ps per temperature was all that fitted. Converged D needs tens
of ps for LLZO and ns for Li+ in polymers (``n_steps`` of 10^4–10^6, on a GPU), and the first
~0.3 ps (3 / friction) are still equilibrating the thermostat.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from ssbflow.structures import limits
from ssbflow.studies.committee import ModelOptions

#: N,N-dimethylformamide, the default residual solvent.
DMF_SMILES = "CN(C)C=O"
#: Command-line flags of ``temperatures_K`` (as before: ``-T 600 -T 800``).
TEMPERATURE_FLAGS = {"cli": ["--temperature", "-T"]}


class DiffusionOptions(ModelOptions):
    """MD settings shared by the diffusion studies (Langevin NVT with a force field)."""

    temperatures_K: tuple[float, ...] = Field(
        (600.0, 800.0, 1000.0), description="Temperature (K); repeat.",
        json_schema_extra=TEMPERATURE_FLAGS,
    )
    n_steps: int = Field(200, le=limits.MAX_MD_STEPS, description="MD steps per temperature.")
    timestep_fs: float = Field(1.0, description="MD time step (fs).")
    save_every: int = Field(5, description="Steps between saved frames.")
    species: str = Field("Li", description="Diffusing element.")
    seed: int = Field(0, description="Seed of the initial velocities and the Langevin noise.")
    pre_relax_steps: int = Field(
        0, le=limits.MAX_OPT_STEPS,
        description="FIRE steps relaxing each box before MD (fixed cell; 0: none)."
    )

    @field_validator("temperatures_K")
    @classmethod
    def _positive_temperatures(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value:
            raise ValueError("--temperature: give at least one temperature (K)")
        if any(t <= 0 for t in value):
            raise ValueError("--temperature values must be > 0")
        return value

    @field_validator("timestep_fs")
    @classmethod
    def _positive_timestep(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("--timestep-fs must be > 0")
        return value

    @field_validator("pre_relax_steps")
    @classmethod
    def _non_negative_relax(cls, value: int) -> int:
        if value < 0:
            raise ValueError("--pre-relax-steps must be >= 0")
        return value

    @model_validator(mode="after")
    def _steps_multiple_of_save(self) -> DiffusionOptions:
        # after the fields: a default save_every must be checked too
        if self.save_every < 1 or self.n_steps < 1 or self.n_steps % self.save_every:
            raise ValueError("--n-steps must be a positive multiple of --save-every")
        return self


class PolymerDiffusionOptions(DiffusionOptions):
    """``polymer-li-diffusion``: two packed boxes (PVDF, dehydrofluorinated PVDF) with LiFSI.

    The boxes are relaxed for 100 FIRE steps before MD by default (packed boxes start with
    close contacts).
    """

    pre_relax_steps: int = Field(
        100, le=limits.MAX_OPT_STEPS,
        description="FIRE steps relaxing each packed box before MD (0: none)."
    )
    n_chains: int = Field(4, ge=1, le=limits.MAX_BOX_MOLECULES,
                          description="Polymer chains per box.")
    n_units: int = Field(4, ge=1, le=limits.MAX_BOX_MOLECULES,
                         description="Monomer units per chain.")
    n_li: int = Field(4, ge=1, le=limits.MAX_BOX_MOLECULES, description="LiFSI pairs per box.")

    @model_validator(mode="after")
    def _box_atoms(self) -> PolymerDiffusionOptions:
        # the builder's guard, here too: refused before the run folder is written
        limits.check_atoms(self.n_chains * (6 * self.n_units + 2) + 10 * self.n_li,
                           f"box of {self.n_chains} chains x {self.n_units} units + "
                           f"{self.n_li} Li")
        if self.continue_from is not None and self.engine != "openmm":
            raise ValueError("--continue-from extends OpenMM productions: needs --engine openmm")
        return self
    box_seed: int = Field(0, description="Seed of the packing of the boxes.")
    engine: str = Field("mlip", description="mlip (force field, Langevin NVT) or openmm "
                        "(GAFF2 classical MD: anneal, NPT, NVT; n_steps, timestep_fs, "
                        "save_every and pre_relax_steps are then not used).")
    production_ns: float = Field(1.0, gt=0, le=1000,
                                 description="openmm: NVT production per temperature (ns).")
    npt_ps: float = Field(200.0, ge=0, le=100_000, description="openmm: NPT at T (ps).")
    anneal_K: float = Field(500.0, gt=0, le=2000, description="openmm: anneal T (K).")
    anneal_ps: float = Field(200.0, ge=0, le=100_000, description="openmm: NPT anneal (ps).")
    cool_ps: float = Field(200.0, ge=0, le=100_000, description="openmm: NPT cooling (ps).")
    frame_ps: float = Field(1.0, gt=0, description="openmm: production frame interval (ps).")
    sites_ps: float = Field(5.0, gt=0, description="openmm: interval (ps) of the saved Li, N, "
                            "O, F positions for the Li+ RDFs and coordination numbers.")
    cutoff_nm: float = Field(1.0, gt=0.5, le=2.0, description="openmm: PME/LJ cutoff (nm).")
    pack_density_g_cm3: float = Field(0.9, gt=0, le=2.0,
                                      description="openmm: packmol density of the loose box.")
    cache_dir: str | None = Field(None, description="openmm: force-field cache folder.")
    # PVDF films are cast from DMF and keep some: Li+ then moves with DMF, not through the
    # polymer's F (Vallana et al., ACS Appl. Energy Mater. 7, 2024, doi 10.1021/acsaem.3c03046:
    # [DMF]/[Li+] ~ 2-3 needed for transport); in the dry GAFF2 box every Li+ sat on 3.5 FSI O
    solvent_per_li: float = Field(0.0, ge=0, le=20, description=(
        "openmm: residual solvent molecules per Li+ (0: dry polymer)."))
    solvent_smiles: str = Field(DMF_SMILES, min_length=1, description=(
        "openmm: SMILES of the residual solvent (default DMF)."))

    continue_from: str | None = Field(None, description=(
        "openmm: a finished run folder of the same boxes and protocol whose productions are "
        "extended to --production-ns (no equilibration again)."))

    @field_validator("continue_from")
    @classmethod
    def _continue_from(cls, value: str | None) -> str | None:
        if value is not None and not (Path(value) / "jobs").is_dir():
            raise ValueError(f"--continue-from {value!r}: expected a run folder (with jobs/)")
        return None if value is None else str(Path(value).absolute())

    @field_validator("solvent_smiles")
    @classmethod
    def _solvent(cls, value: str) -> str:
        from ssbflow.structures.smiles import parse_smiles

        parse_smiles(value, "--solvent-smiles")  # a bad SMILES must not start a run
        return value

    @field_validator("engine")
    @classmethod
    def _engine(cls, value: str) -> str:
        if value not in ("mlip", "openmm"):
            raise ValueError(f"--engine {value!r}: expected mlip or openmm")
        return value


#: Options only the openmm engine reads; left out of an mlip run's stored settings, so those
#: stay what they were before the engine choice existed (old runs resume).
OPENMM_ONLY = ("engine", "production_ns", "npt_ps", "anneal_K", "anneal_ps", "cool_ps",
               "frame_ps", "sites_ps", "cutoff_nm", "pack_density_g_cm3", "cache_dir",
               "solvent_per_li", "solvent_smiles", "continue_from")
#: Options left out of the stored settings of a dry box (runs made before they existed resume).
SOLVENT_OPTIONS = ("solvent_per_li", "solvent_smiles")


class LlzoDiffusionOptions(DiffusionOptions):
    """``llzo-li-diffusion``: bulk tetragonal LLZO (192 atoms)."""

    temperatures_K: tuple[float, ...] = Field(
        (900.0, 1100.0, 1300.0), description="Temperature (K); repeat.",
        json_schema_extra=TEMPERATURE_FLAGS,
    )
