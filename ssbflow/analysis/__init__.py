"""Analysis of engine outputs: pure numerical functions that read files and return typed results.

Modules: ``volumetric`` (cube / VASP grid I/O), ``cdd`` (charge density difference), ``elf``
(electron localisation function slices and profiles), ``workfunction`` (vacuum level, work
function), ``charges`` (Bader, Mulliken, Hirshfeld) and ``plots`` (shared matplotlib helpers).
Units are in the names of result fields (``_eV``, ``_A``, ``_e``, ``_e_per_A3``).
"""
