"""Patches that let atomate2 0.1.5's CP2K jobs work with the installed pymatgen.

Applied on import of :mod:`ssbflow.engines.cp2k.engine` (the validator removal) and inside
every ssbflow CP2K job (:func:`cp2k_job_environment`).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any


def _calculation_input_from_output(cls: type, output: Any) -> Any:
    """``CalculationInput.from_cp2k_output`` that tolerates non-string DFT parameters.

    atomate2 0.1.5's validator calls ``.upper()`` on every value of the parsed ``&DFT``
    summary, but current pymatgen parses e.g. ``Multiplicity`` as an int, so every CP2K
    task document fails to build. Same fields and clean-up, without that validator.
    """
    dft = dict(output.data.get("dft") or {})
    if any(isinstance(v, str) and v.upper() == "UKS" for v in dft.values()):
        dft["UKS"] = True
    kinds = {k: {kk: vv for kk, vv in v.items() if kk != "total_pseudopotential_energy"}
             for k, v in (output.data.get("atomic_kind_info") or {}).items()}
    return cls.model_construct(
        structure=output.initial_structure,
        atomic_kind_info=kinds,
        cp2k_input=output.input,
        dft=dft,
        cp2k_global=output.data.get("global"),
    )


def drop_cp2k_dft_validator() -> None:
    """Remove atomate2 0.1.5's ``CalculationInput.cleanup_dft`` validator for good.

    It runs again whenever a stored CP2K task document is read back (jobflow decodes it to
    resolve a reference such as ``doc.output.energy``) and fails on pymatgen's parsed
    ``&DFT`` summary, which holds ints, lists and dicts. Its only job (flag UKS runs) is done
    by :func:`_calculation_input_from_output` when the document is built.
    """
    from atomate2.cp2k.schemas.calculation import Calculation, CalculationInput
    from atomate2.cp2k.schemas.task import TaskDocument

    validators = CalculationInput.__pydantic_decorators__.field_validators
    if validators.pop("cleanup_dft", None) is not None:
        for model in (CalculationInput, Calculation, TaskDocument):
            model.model_rebuild(force=True)


@contextmanager
def cp2k_job_environment():
    """Inside a CP2K job: keep outputs uncompressed (the analyses read cube files) and
    parse task documents despite the atomate2/pymatgen mismatch described above."""
    from atomate2 import SETTINGS
    from atomate2.cp2k.schemas.calculation import CalculationInput

    previous_zip = SETTINGS.CP2K_ZIP_FILES
    previous_parse = CalculationInput.__dict__["from_cp2k_output"]
    SETTINGS.CP2K_ZIP_FILES = False
    CalculationInput.from_cp2k_output = classmethod(_calculation_input_from_output)
    try:
        yield
    finally:
        SETTINGS.CP2K_ZIP_FILES = previous_zip
        CalculationInput.from_cp2k_output = previous_parse
