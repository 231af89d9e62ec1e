"""Analysis of engine outputs: pure numerical functions that read files and return typed results.

Modules: ``volumetric`` (the grid type and its units), ``volumetric_io`` (cube / VASP grid
reading and writing), ``slices`` (planes and lines through atoms), ``cdd`` (charge density
difference), ``elf`` (electron localisation function slices and profiles), ``workfunction``
(vacuum level, work function), ``charges`` (Bader; Mulliken and Hirshfeld from CP2K, the one
CP2K charge parser), ``msd`` (trajectories, FFT mean-square displacement), ``diffusion``
(diffusive regime, D, Nernst–Einstein σ), ``arrhenius`` (Ea fits), ``neb`` (barriers),
``reactions`` (reaction energies on the convex hull) and ``plots`` (shared matplotlib helpers;
``plots.save_png`` writes every PNG). Units are in the names of result fields (``_eV``, ``_A``,
``_e``, ``_e_per_A3``).

Imports: numpy, scipy, pandas, matplotlib, pymatgen (and pymatgen-analysis-diffusion), ASE,
``ssbflow.errors`` and ``ssbflow.io`` only; never engines, methods, studies, runtime or cli.
"""
