"""The studies ``ssbflow run|resume|submit`` know, by name.

Each entry points at a module attribute holding a :class:`~ssbflow.studies.base.Study`; the
module is imported only when the study is used, so ``ssbflow --help`` stays fast.
"""

from __future__ import annotations

import importlib

from ssbflow.errors import InputError
from ssbflow.studies.base import Study

#: study name -> "module:attribute" of its :class:`Study`.
STUDIES: dict[str, str] = {
    "sn-llzo": "ssbflow.studies.sn_llzo.study:SN_LLZO",
    "inn-li": "ssbflow.studies.inn_li.study:STUDY",
    "llto-li": "ssbflow.studies.llto.reduction:STUDY",
    "screening": "ssbflow.studies.screening.study:STUDY",
    "ncm-pvdf": "ssbflow.studies.ncm_pvdf:NCM_PVDF",
    "llto-li-migration": "ssbflow.studies.llto.migration:LLTO_LI_MIGRATION",
    "polymer-li-diffusion": "ssbflow.studies.li_diffusion.study:POLYMER_LI_DIFFUSION",
    "llzo-li-diffusion": "ssbflow.studies.li_diffusion.study:LLZO_LI_DIFFUSION",
    "electrolyte-md": "ssbflow.studies.electrolyte_md.study:STUDY",
}


def study_names() -> list[str]:
    """Names of the registered studies, in registration order."""
    return list(STUDIES)


def get_study(name: str) -> Study:
    """The study called ``name``.

    Raises
    ------
    InputError
        No study has that name (the message lists the known ones).
    """
    if name not in STUDIES:
        raise InputError(f"study {name!r} is not known; expected one of {', '.join(STUDIES)}")
    module_name, attribute = STUDIES[name].split(":")
    study = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(study, Study):  # a wrong registry entry is a bug, not user input
        raise TypeError(f"{STUDIES[name]} is not a Study")
    return study
