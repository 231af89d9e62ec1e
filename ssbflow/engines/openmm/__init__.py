"""Classical MD engine: OpenMM with GAFF2 / AM1-BCC parameters from AmberTools.

- :mod:`~ssbflow.engines.openmm.tools`: the AmberTools and packmol executables;
- :mod:`~ssbflow.engines.openmm.parameters`: a molecule's parameters from its SMILES,
  cached by canonical SMILES; Li+ from the Joung-Cheatham set;
- :mod:`~ssbflow.engines.openmm.platform`: the OpenMM platform (CUDA > OpenCL > CPU);
- :mod:`~ssbflow.engines.openmm.box`: a packmol box of molecules and its OpenMM system
  (PME, hydrogen mass repartitioning, ion charge scaling).
"""
