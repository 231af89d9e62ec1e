"""The CP2K engine: atomate2's CP2K makers with ssbflow's input sets, run through custodian.

Building the engine or a maker never looks for CP2K (a flow can be built on a login node);
every job resolves the one command setting (:func:`cp2k_command`) when it starts and fails
with a one-line :class:`~ssbflow.errors.EngineUnavailableError` naming the executable when
CP2K is not there.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import warnings
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    # atomate2's CP2K TaskDocument shadows a pydantic field name; harmless, noisy on import
    warnings.filterwarnings("ignore", message='Field name "schema"', category=UserWarning)
    from atomate2.cp2k.jobs.base import BaseCp2kMaker, cp2k_job
    from atomate2.cp2k.jobs.core import MDMaker as Cp2kMDMaker
    from atomate2.cp2k.jobs.core import RelaxMaker as Cp2kRelaxMaker
    from atomate2.cp2k.jobs.core import StaticMaker as Cp2kStaticMaker
from pymatgen.core import Structure

from ssbflow.engines.base import Engine, check_md_arguments, package_version
from ssbflow.engines.cp2k import sets as cp2k_sets
from ssbflow.engines.cp2k.compat import cp2k_job_environment, drop_cp2k_dft_validator
from ssbflow.engines.cp2k.presets import CP2K_PRESETS
from ssbflow.errors import EngineUnavailableError, InputError

drop_cp2k_dft_validator()

#: Executable names tried, in order, when ``$SSBFLOW_CP2K_EXE`` is not set.
CP2K_EXECUTABLES = ("cp2k.psmp", "cp2k.ssmp", "cp2k")


def find_cp2k_executable() -> str | None:
    """Path of the CP2K binary (``$SSBFLOW_CP2K_EXE``, ``cp2k.psmp``, ``cp2k.ssmp``, ``cp2k``)."""
    explicit = os.environ.get("SSBFLOW_CP2K_EXE")
    if explicit:
        return shutil.which(explicit)
    for name in CP2K_EXECUTABLES:
        exe = shutil.which(name)
        if exe:
            return exe
    return None


def require_cp2k_executable() -> str:
    """Path of the CP2K binary; a one-line :class:`EngineUnavailableError` naming the
    executable looked for when it is not there."""
    exe = find_cp2k_executable()
    if exe is not None:
        return exe
    explicit = os.environ.get("SSBFLOW_CP2K_EXE")
    if explicit:
        raise EngineUnavailableError(
            f"engine cp2k: CP2K executable {explicit!r} (SSBFLOW_CP2K_EXE) not found"
        )
    raise EngineUnavailableError(
        f"engine cp2k: no CP2K executable ({', '.join(CP2K_EXECUTABLES)}) on PATH; install "
        "Debian's cp2k package, or set SSBFLOW_CP2K_EXE"
    )


def default_threads() -> int:
    """OpenMP threads per CP2K process: ``$SSBFLOW_CP2K_THREADS``, else all cores."""
    return int(os.environ.get("SSBFLOW_CP2K_THREADS", os.cpu_count() or 1))


def die_with_parent_prefix() -> str:
    """``setpriv --pdeathsig KILL `` where util-linux's ``setpriv`` is there (Linux), else "".

    The process it starts is killed when the Python that started it dies, even by SIGKILL:
    a killed one-job-at-a-time run (``--workers 1``) left its CP2K running, writing into the
    folder the resumed run then used (seen); workers have their own guard
    (:func:`ssbflow.runtime.workers.init_worker`).
    """
    setpriv = shutil.which("setpriv")
    return f"{shlex.quote(setpriv)} --pdeathsig KILL " if setpriv else ""


def cp2k_command(threads: int | None = None, mpi_ranks: int = 1,
                 cp2k_cmd: str | None = None) -> str:
    """The one CP2K command setting of every CP2K job (without ``-i``; custodian adds it).

    ``cp2k_cmd``, else ``$SSBFLOW_CP2K_CMD``, is used as given (e.g. ``srun cp2k.psmp``: the
    launcher then decides ranks and threads). Otherwise ``env OMP_NUM_THREADS=threads
    <cp2k>``, under ``mpirun -np mpi_ranks`` when ``mpi_ranks`` > 1, behind
    :func:`die_with_parent_prefix`.

    Raises
    ------
    EngineUnavailableError
        No explicit command and no CP2K executable, or ``mpi_ranks`` > 1 without ``mpirun``.
    """
    explicit = cp2k_cmd or os.environ.get("SSBFLOW_CP2K_CMD")
    if explicit:
        return explicit
    exe = require_cp2k_executable()
    command = f"env OMP_NUM_THREADS={threads or default_threads()} {shlex.quote(exe)}"
    if mpi_ranks <= 1:
        return die_with_parent_prefix() + command
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        raise EngineUnavailableError("engine cp2k: mpi_ranks > 1 needs mpirun "
                                     "(Debian: openmpi-bin)")
    return f"{die_with_parent_prefix()}{shlex.quote(mpirun)} -np {int(mpi_ranks)} {command}"


def mpi_defaults() -> dict[str, str]:
    """Open MPI settings for local runs: more ranks than cores (replicas wait for each
    other), and running as root in containers. Set only where the user has not."""
    env = {"OMPI_MCA_rmaps_base_oversubscribe": "1"}
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env |= {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    return {k: v for k, v in env.items() if k not in os.environ}


def _run_in_job(maker: Any, structure: Structure, prev_dir: str | Path | None) -> Any:
    """Body of every ssbflow CP2K job: resolve the command here (not when the flow was
    built), then atomate2's CP2K job (inputs, custodian, task document)."""
    if getattr(maker.input_set_generator, "pdos", False):
        Path(cp2k_sets.PDOS_FOLDER).mkdir(exist_ok=True)  # CP2K does not create it
    with cp2k_job_environment():
        kwargs = dict(maker.run_cp2k_kwargs)
        kwargs["cp2k_cmd"] = cp2k_command(maker.cp2k_threads, cp2k_cmd=kwargs.get("cp2k_cmd"))
        return BaseCp2kMaker.make.original(replace(maker, run_cp2k_kwargs=kwargs), structure,
                                           prev_dir)


@dataclass
class SsbflowCp2kStaticMaker(Cp2kStaticMaker):
    """atomate2 CP2K single point that leaves its output files uncompressed."""

    cp2k_threads: int | None = None

    @cp2k_job
    def make(self, structure: Structure, prev_dir: str | Path | None = None):
        """Run CP2K (see :meth:`atomate2.cp2k.jobs.base.BaseCp2kMaker.make`)."""
        return _run_in_job(self, structure, prev_dir)


@dataclass
class SsbflowCp2kRelaxMaker(Cp2kRelaxMaker):
    """atomate2 CP2K geometry optimisation that leaves its output files uncompressed."""

    cp2k_threads: int | None = None

    @cp2k_job
    def make(self, structure: Structure, prev_dir: str | Path | None = None):
        """Run CP2K (see :meth:`atomate2.cp2k.jobs.base.BaseCp2kMaker.make`)."""
        return _run_in_job(self, structure, prev_dir)


@dataclass
class SsbflowCp2kMDMaker(Cp2kMDMaker):
    """atomate2 CP2K MD that leaves its output files uncompressed.

    The trajectory is not parsed into the task document (atomate2 0.1.5 fails to build it
    with current pymatgen: one more energy frame than structures); it stays in the run
    folder as ``*-pos-1.xyz`` with energies in ``*-1.ener``.
    """

    task_document_kwargs: dict = field(default_factory=lambda: {"store_trajectory": False})
    cp2k_threads: int | None = None

    @cp2k_job
    def make(self, structure: Structure, prev_dir: str | Path | None = None):
        """Run CP2K (see :meth:`atomate2.cp2k.jobs.base.BaseCp2kMaker.make`)."""
        return _run_in_job(self, structure, prev_dir)


@cache
def _cp2k_version(exe: str) -> str | None:
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60,
                             check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        if "CP2K version" in line:
            return line.split("CP2K version", 1)[1].strip()
    return None


#: OT settings of the UKS DFT+U runs. Measured on the rutile polaron cell of
#: tests/engines/test_dft_plus_u.py (12 atoms, U = 4.2 eV, 1 thread): FULL_SINGLE_INVERSE
#: took 45 OT steps / 47 s CPU (IRAC with rotation; STRICT without: 46 / 45 s), FULL_ALL
#: 28 / 30 s, same energy (4e-7 Ha) and moments (Ti0 1.035 μB). FULL_ALL excludes OT's
#: orbital rotation, which integer occupations (UKS, no smearing) do not need.
DFT_PLUS_U_OT = {"preconditioner": "FULL_ALL", "rotation": False, "algorithm": "STRICT"}


@dataclass
class Cp2kEngine(Engine):
    """CP2K (GPW, PBE, GTH pseudopotentials, MOLOPT basis sets) through ``atomate2.cp2k``.

    Parameters
    ----------
    threads
        OpenMP threads of ``cp2k.psmp``; ``None``: decided where each job runs
        (``$SSBFLOW_CP2K_THREADS``, else all cores; a ``--workers`` process sets it to its
        share), not when the flow is built.
    cp2k_cmd
        Full command; ``None``: ``$SSBFLOW_CP2K_CMD`` where the job runs, else
        ``<cp2k.psmp>`` with ``OMP_NUM_THREADS`` (see :func:`cp2k_command`).
    basis_overrides
        ``{element: basis name}`` replacing the preset's choice.
    dispersion
        D3(BJ) on/off; ``None`` = the preset's choice.
    """

    threads: int | None = None
    cp2k_cmd: str | None = None
    basis_overrides: dict[str, str] = field(default_factory=dict)
    dispersion: bool | None = None

    def check_available(self) -> None:
        """Raise a one-line error when CP2K or its data files are missing here."""
        cp2k_command(self.threads, cp2k_cmd=self.cp2k_cmd)
        cp2k_sets.cp2k_data_dir()

    def _kwargs(self) -> dict[str, Any]:
        return {"basis_overrides": dict(self.basis_overrides), "dispersion": self.dispersion}

    def _maker_kwargs(self) -> dict[str, Any]:
        run = {"cp2k_cmd": self.cp2k_cmd} if self.cp2k_cmd else {}
        return {"run_cp2k_kwargs": run, "cp2k_threads": self.threads}

    def relax_maker(self, relax_cell: bool = False, fmax_eV_per_A: float = 0.05,
                    max_steps: int = 200) -> SsbflowCp2kRelaxMaker:
        """CP2K GEO_OPT (BFGS) at fixed cell; ``selective_dynamics`` → ``&FIXED_ATOMS``."""
        if relax_cell:
            raise InputError("relax_cell=True is not offered by the cp2k engine; "
                             "relax the cell with mlip or vasp")
        gen = cp2k_sets.make_generator("relax", self.preset, fmax_eV_per_A=fmax_eV_per_A,
                                       max_steps=max_steps, **self._kwargs())
        return SsbflowCp2kRelaxMaker(name="cp2k relax", input_set_generator=gen,
                                     **self._maker_kwargs())

    def static_maker(self) -> SsbflowCp2kStaticMaker:
        """CP2K single point (energy and forces)."""
        gen = cp2k_sets.make_generator("static", self.preset, **self._kwargs())
        return SsbflowCp2kStaticMaker(name="cp2k static", input_set_generator=gen,
                                      **self._maker_kwargs())

    def electronic_maker(self, slab: bool, cubes: bool = True,
                         charges: bool = True) -> SsbflowCp2kStaticMaker:
        """Single point writing density/ELF/Hartree cubes and Mulliken + Hirshfeld charges.

        Cube files in the run folder: ``*ELECTRON_DENSITY*.cube``, ``*ELF_S1*.cube``
        (UKS: also ``*ELF_S2*``, ``*SPIN_DENSITY*``), ``*v_hartree*.cube``; CP2K units
        (Bohr, e/Bohr³, Hartree). The V_HARTREE cube holds the electron's electrostatic
        potential energy, −φ (higher on the negative side of a dipole; see the H2O test
        in ``tests/engines/test_engines.py``), so V_vac − E_F needs no sign flip.
        Charges: :func:`ssbflow.analysis.charges.parse_cp2k_charges`. ``slab=True``
        adds ``SURFACE_DIPOLE_CORRECTION`` along z (flat vacuum levels on both sides).
        """
        gen = cp2k_sets.make_generator("electronic", self.preset, slab=slab, cubes=cubes,
                                       charges=charges, **self._kwargs())
        return SsbflowCp2kStaticMaker(name="cp2k electronic", input_set_generator=gen,
                                      **self._maker_kwargs())

    def dft_plus_u_maker(self, hubbard_u_eV: dict[str, float], multiplicity: int | None = None,
                         pdos: bool = True, metal: bool = False,
                         kpoint_length_A: float | None = None) -> SsbflowCp2kStaticMaker:
        """Spin-polarised (UKS) DFT+U single point with Mulliken spin moments.

        U_eff (eV) on the d shell of each element in ``hubbard_u_eV`` (``&KIND/&DFT_PLUS_U``,
        ``PLUS_U_METHOD MULLIKEN``); initial moments from the ``magmom`` site property of the
        structure given to ``make`` (each distinct value its own ``&KIND`` with
        ``MAGNETIZATION``; no ``magmom``: a delocalised start). ``multiplicity`` = 2S + 1
        (``None``: CP2K's lowest). Writes the total and spin density cubes
        (``*ELECTRON_DENSITY*``, ``*SPIN_DENSITY*``), Mulliken and Hirshfeld tables with spin
        moments (:func:`ssbflow.analysis.charges.parse_cp2k_charges`) and, with ``pdos``, the
        per-kind projected DOS (``projected_dos/*-k<n>-1.pdos``, with d components).

        Without U and with ``multiplicity`` 1 (the closed-shell references Li, Li2O) a
        closed-shell structure runs RKS: a singlet's UKS energy at half the cost. UKS runs
        use OT's ``FULL_ALL`` preconditioner (:data:`DFT_PLUS_U_OT`). ``metal`` (the bcc Li
        reference): diagonalisation with Fermi–Dirac smearing (300 K) and Broyden mixing
        instead of OT, whose integer occupations leave a metal at Γ in a higher state.
        ``kpoint_length_A``: a Γ-centred k-point grid of that length (Å) instead of the
        preset's (diagonalisation; the small-cell references of llto-li).
        """
        reference = not any(hubbard_u_eV.values()) and multiplicity == 1
        gen = cp2k_sets.make_generator(
            "electronic", self.preset, slab=False, cubes=True, charges=True,
            hubbard_u_eV=dict(hubbard_u_eV), spin_polarized=None if reference else True,
            multiplicity=multiplicity, pdos=pdos, cube_names=("E_DENSITY_CUBE",),
            metal=metal, kpoint_length_A=kpoint_length_A,
            user_input_settings=({"ot": False, "smearing": True} if metal
                                 else {} if reference else dict(DFT_PLUS_U_OT)),
            **self._kwargs())
        return SsbflowCp2kStaticMaker(name="cp2k dft+u", input_set_generator=gen,
                                      **self._maker_kwargs())

    def md_maker(self, temperature_K: float, n_steps: int,
                 timestep_fs: float) -> SsbflowCp2kMDMaker:
        """CP2K NVT MD (Nosé–Hoover)."""
        check_md_arguments(temperature_K, n_steps, timestep_fs)
        gen = cp2k_sets.make_generator("md", self.preset, temperature_K=temperature_K,
                                       n_steps=n_steps, timestep_fs=timestep_fs,
                                       **self._kwargs())
        return SsbflowCp2kMDMaker(name="cp2k md", input_set_generator=gen,
                                  **self._maker_kwargs())

    def settings(self) -> dict[str, Any]:
        """CP2K version and command, preset numbers and the list of reductions.

        Where CP2K (or its data) is missing, e.g. a login node that only builds the flow,
        the version (data folder) is ``None``.
        """
        exe = find_cp2k_executable()
        try:
            data_dir: str | None = str(cp2k_sets.cp2k_data_dir())
        except EngineUnavailableError:
            data_dir = None
        out = {
            "engine": "cp2k",
            "preset": self.preset,
            "cp2k_version": _cp2k_version(exe) if exe else None,
            "cp2k_cmd": (self.cp2k_cmd or os.environ.get("SSBFLOW_CP2K_CMD")
                         or f"env OMP_NUM_THREADS={self.threads or default_threads()} "
                            f"{exe or CP2K_EXECUTABLES[0]}"),
            "data_dir": data_dir,
            "atomate2_version": package_version("atomate2"),
            **CP2K_PRESETS[self.preset].as_dict(),
        }
        if self.basis_overrides:
            out["basis_overrides"] = dict(self.basis_overrides)
        if self.dispersion is not None:
            out["dispersion"] = "DFTD3(BJ)" if self.dispersion else None
        return out
