"""Options and result of the inn-li study (the names serve the CLI, the stored settings and
resume)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from ssbflow.structures import limits
from ssbflow.structures.phases import METALS
from ssbflow.studies.committee import ModelOptions

STUDY_NAME = "inn-li"

#: Candidates of the source study, compared for their reaction with Li.
INN_LI_CANDIDATES = (*(m.capitalize() for m in METALS), "InN")


class InnLiOptions(ModelOptions):
    """Options of ``ssbflow run inn-li``."""

    engine: str = Field("mlip", description="Engine of the phase relaxations.")
    md_steps: int = Field(1000, ge=0, le=limits.MAX_MD_STEPS, description=(
        "MD steps (1 fs) of the InN|Li reaction cell; 0 = no MD."))
    md_temperature_K: float = Field(300.0, gt=0, description="MD temperature (K).")
    candidates: tuple[str, ...] = Field(INN_LI_CANDIDATES, min_length=1, description=(
        "Formulas compared for their reaction with Li."))
    check_dft: bool = Field(False, description=(
        "CP2K single points (fast preset) of the phases of InN + 3 Li -> Li3N + In at the "
        "MLIP geometry: the reaction energy at the DFT level and DFT − MLIP."))

    @field_validator("candidates")
    @classmethod
    def _known_formulas(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from ssbflow.analysis.reactions import parse_formula

        for formula in value:
            parse_formula(formula)  # InputError (a ValueError) names the bad formula
        return value


class ReactionCell(BaseModel):
    """Li–N coordination and In–N bonds of the InN|Li cell along the MD."""

    time_fs: list[float]
    li_per_n: list[float]
    in_n_bonds: list[int]
    li_n_cutoff_A: float
    in_n_cutoff_A: float
    md: dict[str, Any] = Field(description="MD summary (ssbflow.methods.md.MdSummary).")


class InnLiResult(BaseModel):
    """Output of the inn-li flow (its final job's ``output_schema``)."""

    study: str = STUDY_NAME
    settings: dict[str, Any]
    ranking: list[dict[str, Any]] = Field(description=(
        "One row per candidate, most negative reaction energy with Li first."))
    reaction_cell: ReactionCell | None = None
    dft_check: list[dict[str, Any]] | None = Field(None, description=(
        "With check_dft: one row per reaction of ssbflow.methods.dft_check.reaction_dft_check."))
