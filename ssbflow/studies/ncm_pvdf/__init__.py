"""NCM811 under PVDF / dehydrofluorinated PVDF: Li vacancy hop (CI-NEB) and binding."""

from ssbflow.studies.ncm_pvdf.study import NCM_PVDF, NcmPvdfOptions, make_flow

__all__ = ["NCM_PVDF", "NcmPvdfOptions", "make_flow"]
