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

from pydantic import Field, field_validator, model_validator

from ssbflow.structures import limits
from ssbflow.studies.committee import ModelOptions

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
        return self
    box_seed: int = Field(0, description="Seed of the packing of the boxes.")


class LlzoDiffusionOptions(DiffusionOptions):
    """``llzo-li-diffusion``: bulk tetragonal LLZO (192 atoms)."""

    temperatures_K: tuple[float, ...] = Field(
        (900.0, 1100.0, 1300.0), description="Temperature (K); repeat.",
        json_schema_extra=TEMPERATURE_FLAGS,
    )
