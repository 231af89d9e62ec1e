"""jobflow Makers and job functions: engines, studies, local running with resume.

Engines (:mod:`ssbflow.workflows.engines`) hand out atomate2 makers for three back ends:
machine-learned interatomic potentials (default CHGNet), CP2K and VASP, with the input
choices this package needs collected in :mod:`ssbflow.workflows.cp2k_inputs` and
:mod:`ssbflow.workflows.vasp_inputs`.
"""
