"""The three engines: MLIP (default CHGNet), CP2K and VASP, all handing out atomate2 makers.

>>> engine = get_engine("mlip")                       # CHGNet, fast preset
>>> relax = engine.relax_maker(relax_cell=False, fmax_eV_per_A=0.05)
>>> job = relax.make(structure)                         # jobflow Job; job.output.output.energy

Every maker's task document exposes ``.output.energy`` (total energy, eV) and
``.structure`` (final structure); CP2K and VASP documents also have ``.output.structure``,
force-field documents do not. ``selective_dynamics`` site properties are honoured by every
relaxation: pymatgen's ``AseAtomsAdaptor`` turns them into ASE ``FixAtoms``/``FixCartesian``
constraints in atomate2's force-field relaxer (and back into ``selective_dynamics`` on the
final structure); CP2K gets ``&FIXED_ATOMS``; VASP's POSCAR carries the flags.

``settings()`` returns everything that must be stored with a result (model and version,
device, basis sets, cutoffs, k-points and the list of reductions of the ``fast`` preset).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

with warnings.catch_warnings():
    # atomate2's CP2K TaskDocument shadows a pydantic field name; harmless, noisy on import
    warnings.filterwarnings("ignore", message='Field name "schema"', category=UserWarning)
    from atomate2.cp2k.jobs.base import BaseCp2kMaker, cp2k_job
    from atomate2.cp2k.jobs.core import MDMaker as Cp2kMDMaker
    from atomate2.cp2k.jobs.core import RelaxMaker as Cp2kRelaxMaker
    from atomate2.cp2k.jobs.core import StaticMaker as Cp2kStaticMaker
from atomate2.forcefields.jobs import ForceFieldRelaxMaker, ForceFieldStaticMaker
from atomate2.forcefields.md import ForceFieldMDMaker
from atomate2.forcefields.utils import MLFF, _get_pkg_name, _get_standardized_mlff

from ssbflow.engines.cp2k import sets as cp2k_inputs
from ssbflow.engines.vasp import sets as vasp_inputs
from ssbflow.errors import EngineUnavailableError, InputError

if TYPE_CHECKING:
    from ase.calculators.calculator import Calculator
    from jobflow import Maker
    from pymatgen.core import Structure

ENGINES = ("mlip", "cp2k", "vasp")
PRESETS = ("fast", "production")

#: Force fields whose weights ship with (or are cached by) their package and load offline.
OFFLINE_MODELS = frozenset({"CHGNet", "SevenNet"})

#: Calculator keyword that selects the torch device, per force field (None: not settable).
_DEVICE_KWARG: dict[str, str | None] = {
    "CHGNet": "use_device",
    "M3GNet": None,
    "MatPES-PBE": None,
    "MatPES-r2SCAN": None,
    "GAP": None,
    "NEP": None,
}


def _package_version(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def default_device() -> str:
    """``"cuda"`` when torch sees a GPU, else ``"cpu"``."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency of chgnet
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def local_dir(dir_name: str) -> Path:
    """Local folder of a task document's ``dir_name`` (atomate2 prefixes ``host:``)."""
    text = str(dir_name)
    if ":" in text and not Path(text).exists():
        text = text.split(":", 1)[1]
    return Path(text)


def _check_choice(parameter: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InputError(
            f"{parameter} {value!r} is not known; expected one of {', '.join(allowed)}"
        )


def _mlff_names() -> tuple[str, ...]:
    return tuple(m.value for m in MLFF if m is not MLFF.Forcefield)


@dataclass
class Engine:
    """Base class of the engines (see :func:`get_engine`).

    Parameters
    ----------
    name
        ``mlip``, ``cp2k`` or ``vasp``.
    preset
        ``fast`` (laptop; every reduction listed in :meth:`settings`) or ``production``.
    """

    name: str
    preset: str

    def relax_maker(self, relax_cell: bool = False, fmax_eV_per_A: float = 0.05,
                    max_steps: int = 500) -> Maker:
        """Geometry relaxation maker (fixed cell unless ``relax_cell``)."""
        raise NotImplementedError

    def static_maker(self) -> Maker:
        """Single-point energy/forces maker."""
        raise NotImplementedError

    def md_maker(self, temperature_K: float, n_steps: int, timestep_fs: float) -> Maker:
        """NVT molecular dynamics maker."""
        raise NotImplementedError

    def electronic_maker(self, slab: bool, cubes: bool = True, charges: bool = True) -> Maker:
        """Single point that writes densities, ELF, potential and charges (DFT engines)."""
        raise InputError(
            f"engine {self.name!r} has no electronic structure; expected cp2k or vasp"
        )

    def settings(self) -> dict[str, Any]:
        """Everything that must be recorded with a result of this engine."""
        raise NotImplementedError


# --------------------------------------------------------------------------- MLIP


def _load_error(model: str, err: Exception) -> EngineUnavailableError:
    hint = ("its weights ship with the package" if model in OFFLINE_MODELS else
            "its weights are downloaded on first use (needs internet, or pre-downloaded "
            "weights in the package's cache)")
    return EngineUnavailableError(
        f"MLIP model {model!r} could not be loaded ({type(err).__name__}: "
        f"{str(err).splitlines()[0] if str(err) else ''}); {hint}"
    )


@dataclass
class SsbflowForceFieldRelaxMaker(ForceFieldRelaxMaker):
    """atomate2 force-field relaxation whose model-loading failures are one-line errors."""

    def _get_calculator(self) -> Calculator:
        try:
            return super()._get_calculator()
        except Exception as err:  # model packages raise anything when weights are missing
            raise _load_error(str(self.force_field_name).split("MLFF.")[-1], err) from err


@dataclass
class SsbflowForceFieldStaticMaker(ForceFieldStaticMaker):
    """atomate2 force-field single point whose model-loading failures are one-line errors."""

    def _get_calculator(self) -> Calculator:
        try:
            return super()._get_calculator()
        except Exception as err:
            raise _load_error(str(self.force_field_name).split("MLFF.")[-1], err) from err


@dataclass
class SsbflowForceFieldMDMaker(ForceFieldMDMaker):
    """atomate2 force-field MD whose model-loading failures are one-line errors."""

    def _get_calculator(self) -> Calculator:
        try:
            return super()._get_calculator()
        except Exception as err:
            raise _load_error(str(self.force_field_name).split("MLFF.")[-1], err) from err


def _model_version(model: str) -> str | None:
    """Version of the default weights a package loads (CHGNet: ``CHGNet.load``'s default)."""
    if model == "CHGNet" and find_spec("chgnet") is not None:
        import inspect

        from chgnet.model import CHGNet

        default = inspect.signature(CHGNet.load).parameters.get("model_name")
        return None if default is None else str(default.default)
    if model == "SevenNet":
        return "7net-0"
    return None


@dataclass
class MlipEngine(Engine):
    """Machine-learned interatomic potential through ``atomate2.forcefields``.

    Parameters
    ----------
    mlip_model
        Any atomate2 force-field name (``CHGNet``, ``SevenNet``, ``MACE-MP-0``, ...).
    device
        torch device; ``None`` = ``cuda`` when available, else ``cpu``.
    optimizer
        ASE optimiser of relaxations (``BFGS``, ``FIRE``, ``BFGSLineSearch``, ...). BFGS
        by default: on a rattled 8-atom LiF slab with CHGNet it needed 20 steps against
        FIRE's 28 (atomate2's default) for fmax 0.05 eV/Å.
    """

    mlip_model: str = "CHGNet"
    device: str | None = None
    optimizer: str = "BFGS"

    def __post_init__(self) -> None:
        by_lower = {m.value.lower(): m.value for m in MLFF} | {m.name.lower(): m.value
                                                               for m in MLFF}
        name = by_lower.get(str(self.mlip_model).lower(), self.mlip_model)
        try:
            self._mlff = _get_standardized_mlff(name)
        except ValueError:
            self._mlff = None
        if self._mlff is None or self._mlff is MLFF.Forcefield:
            raise InputError(f"mlip_model {self.mlip_model!r} is not known; expected one of "
                             f"{', '.join(_mlff_names())}")
        self.mlip_model = self._mlff.value
        pkg = _get_pkg_name(self._mlff)
        module = {"mace-torch": "mace", "quippy-ase": "quippy", "deepmd-kit": "deepmd",
                  "fairchem.core": "fairchem"}.get(pkg or "", pkg)
        if not module or find_spec(module.split(".")[0]) is None:
            raise EngineUnavailableError(
                f"MLIP model {self.mlip_model!r} needs the Python package {pkg!r} "
                f"(pip install {pkg})"
                + ("" if self.mlip_model in OFFLINE_MODELS else
                   " and downloaded weights (fetched from the internet on first use)")
            )
        self._package = pkg
        self.device = self.device or default_device()

    def _calculator_kwargs(self) -> dict[str, Any]:
        key = _DEVICE_KWARG.get(self.mlip_model, "device")
        return {key: self.device} if key else {}

    def relax_maker(self, relax_cell: bool = False, fmax_eV_per_A: float = 0.05,
                    max_steps: int = 500) -> SsbflowForceFieldRelaxMaker:
        """Force-field relaxation; ``selective_dynamics`` become ASE constraints."""
        return SsbflowForceFieldRelaxMaker(
            name=f"{self.mlip_model} relax",
            force_field_name=self.mlip_model,
            relax_cell=relax_cell,
            steps=max_steps,
            relax_kwargs={"fmax": fmax_eV_per_A},
            optimizer_kwargs={"optimizer": self.optimizer},
            calculator_kwargs=self._calculator_kwargs(),
        )

    def static_maker(self) -> SsbflowForceFieldStaticMaker:
        """Force-field single point."""
        return SsbflowForceFieldStaticMaker(
            name=f"{self.mlip_model} static",
            force_field_name=self.mlip_model,
            calculator_kwargs=self._calculator_kwargs(),
        )

    def md_maker(self, temperature_K: float, n_steps: int,
                 timestep_fs: float) -> SsbflowForceFieldMDMaker:
        """Langevin NVT MD (friction 10 ps⁻¹, atomate2's default)."""
        if temperature_K <= 0 or n_steps < 1 or timestep_fs <= 0:
            raise InputError("md_maker expects temperature_K > 0, n_steps >= 1, timestep_fs > 0")
        return SsbflowForceFieldMDMaker(
            name=f"{self.mlip_model} md",
            force_field_name=self.mlip_model,
            temperature=temperature_K,
            n_steps=n_steps,
            time_step=timestep_fs,
            ensemble="nvt",
            dynamics="langevin",
            calculator_kwargs=self._calculator_kwargs(),
        )

    def settings(self) -> dict[str, Any]:
        """Model name, package and weights versions, device, optimiser, weights source."""
        return {
            "engine": "mlip",
            "preset": self.preset,
            "model": self.mlip_model,
            "model_version": _model_version(self.mlip_model),
            "package": self._package,
            "package_version": _package_version(self._package),
            "atomate2_version": _package_version("atomate2"),
            "device": self.device,
            "optimizer": self.optimizer,
            "weights": ("shipped with the package" if self.mlip_model in OFFLINE_MODELS
                        else "downloaded by the package on first use"),
            "reductions": [],
        }


# --------------------------------------------------------------------------- CP2K


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


def _drop_cp2k_dft_validator() -> None:
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


_drop_cp2k_dft_validator()


@contextmanager
def _cp2k_job_environment():
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


@dataclass
class SsbflowCp2kStaticMaker(Cp2kStaticMaker):
    """atomate2 CP2K single point that leaves its output files uncompressed."""

    @cp2k_job
    def make(self, structure: Structure, prev_dir: str | Path | None = None):
        """Run CP2K (see :meth:`atomate2.cp2k.jobs.base.BaseCp2kMaker.make`)."""
        with _cp2k_job_environment():
            return BaseCp2kMaker.make.original(self, structure, prev_dir)


@dataclass
class SsbflowCp2kRelaxMaker(Cp2kRelaxMaker):
    """atomate2 CP2K geometry optimisation that leaves its output files uncompressed."""

    @cp2k_job
    def make(self, structure: Structure, prev_dir: str | Path | None = None):
        """Run CP2K (see :meth:`atomate2.cp2k.jobs.base.BaseCp2kMaker.make`)."""
        with _cp2k_job_environment():
            return BaseCp2kMaker.make.original(self, structure, prev_dir)


@dataclass
class SsbflowCp2kMDMaker(Cp2kMDMaker):
    """atomate2 CP2K MD that leaves its output files uncompressed.

    The trajectory is not parsed into the task document (atomate2 0.1.5 fails to build it
    with current pymatgen: one more energy frame than structures); it stays in the run
    folder as ``*-pos-1.xyz`` with energies in ``*-1.ener``.
    """

    task_document_kwargs: dict = field(default_factory=lambda: {"store_trajectory": False})

    @cp2k_job
    def make(self, structure: Structure, prev_dir: str | Path | None = None):
        """Run CP2K (see :meth:`atomate2.cp2k.jobs.base.BaseCp2kMaker.make`)."""
        with _cp2k_job_environment():
            return BaseCp2kMaker.make.original(self, structure, prev_dir)


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


@dataclass
class Cp2kEngine(Engine):
    """CP2K (GPW, PBE, GTH pseudopotentials, MOLOPT basis sets) through ``atomate2.cp2k``.

    Parameters
    ----------
    threads
        OpenMP threads of ``cp2k.psmp`` (``$SSBFLOW_CP2K_THREADS``, default: all cores).
    cp2k_cmd
        Full command (``$SSBFLOW_CP2K_CMD``); default ``<cp2k.psmp>`` with ``OMP_NUM_THREADS``.
    basis_overrides
        ``{element: basis name}`` replacing the preset's choice.
    dispersion
        D3(BJ) on/off; ``None`` = the preset's choice.
    """

    threads: int | None = None
    cp2k_cmd: str | None = None
    basis_overrides: dict[str, str] = field(default_factory=dict)
    dispersion: bool | None = None

    def __post_init__(self) -> None:
        self._exe = cp2k_inputs.find_cp2k_executable()
        if self._exe is None:
            raise EngineUnavailableError(
                "engine cp2k: no CP2K executable found (install Debian's cp2k package, or "
                "set SSBFLOW_CP2K_EXE)"
            )
        cp2k_inputs.cp2k_data_dir()  # raises when the data files are missing
        if self.threads is None:
            self.threads = int(os.environ.get("SSBFLOW_CP2K_THREADS", os.cpu_count() or 1))
        self.cp2k_cmd = (self.cp2k_cmd or os.environ.get("SSBFLOW_CP2K_CMD")
                         or f"env OMP_NUM_THREADS={self.threads} {self._exe}")

    def _kwargs(self) -> dict[str, Any]:
        return {"basis_overrides": dict(self.basis_overrides), "dispersion": self.dispersion}

    def _run_kwargs(self) -> dict[str, Any]:
        return {"cp2k_cmd": self.cp2k_cmd}

    def relax_maker(self, relax_cell: bool = False, fmax_eV_per_A: float = 0.05,
                    max_steps: int = 200) -> SsbflowCp2kRelaxMaker:
        """CP2K GEO_OPT (BFGS) at fixed cell; ``selective_dynamics`` → ``&FIXED_ATOMS``."""
        if relax_cell:
            raise InputError("relax_cell=True is not offered by the cp2k engine; "
                             "relax the cell with mlip or vasp")
        gen = cp2k_inputs.make_generator("relax", self.preset, fmax_eV_per_A=fmax_eV_per_A,
                                         max_steps=max_steps, **self._kwargs())
        return SsbflowCp2kRelaxMaker(name="cp2k relax", input_set_generator=gen,
                                     run_cp2k_kwargs=self._run_kwargs())

    def static_maker(self) -> SsbflowCp2kStaticMaker:
        """CP2K single point (energy and forces)."""
        gen = cp2k_inputs.make_generator("static", self.preset, **self._kwargs())
        return SsbflowCp2kStaticMaker(name="cp2k static", input_set_generator=gen,
                                      run_cp2k_kwargs=self._run_kwargs())

    def electronic_maker(self, slab: bool, cubes: bool = True,
                         charges: bool = True) -> SsbflowCp2kStaticMaker:
        """Single point writing density/ELF/Hartree cubes and Mulliken + Hirshfeld charges.

        Cube files in the run folder: ``*ELECTRON_DENSITY*.cube``, ``*ELF_S1*.cube``
        (UKS: also ``*ELF_S2*``, ``*SPIN_DENSITY*``), ``*v_hartree*.cube``; CP2K units
        (Bohr, e/Bohr³, Hartree). The V_HARTREE cube holds the electron's electrostatic
        potential energy, −φ (higher on the negative side of a dipole; see the H2O test
        in ``tests/workflows/test_engines.py``), so V_vac − E_F needs no sign flip.
        Charges: :func:`ssbflow.analysis.charges.parse_cp2k_charges`. ``slab=True``
        adds ``SURFACE_DIPOLE_CORRECTION`` along z (flat vacuum levels on both sides).
        """
        gen = cp2k_inputs.make_generator("electronic", self.preset, slab=slab, cubes=cubes,
                                         charges=charges, **self._kwargs())
        return SsbflowCp2kStaticMaker(name="cp2k electronic", input_set_generator=gen,
                                      run_cp2k_kwargs=self._run_kwargs())

    def md_maker(self, temperature_K: float, n_steps: int,
                 timestep_fs: float) -> SsbflowCp2kMDMaker:
        """CP2K NVT MD (Nosé–Hoover)."""
        if temperature_K <= 0 or n_steps < 1 or timestep_fs <= 0:
            raise InputError("md_maker expects temperature_K > 0, n_steps >= 1, timestep_fs > 0")
        gen = cp2k_inputs.make_generator("md", self.preset, temperature_K=temperature_K,
                                         n_steps=n_steps, timestep_fs=timestep_fs,
                                         **self._kwargs())
        return SsbflowCp2kMDMaker(name="cp2k md", input_set_generator=gen,
                                  run_cp2k_kwargs=self._run_kwargs())

    def settings(self) -> dict[str, Any]:
        """CP2K version and command, preset numbers and the list of reductions."""
        preset = cp2k_inputs.CP2K_PRESETS[self.preset]
        out = {
            "engine": "cp2k",
            "preset": self.preset,
            "cp2k_version": _cp2k_version(self._exe),
            "cp2k_cmd": self.cp2k_cmd,
            "data_dir": str(cp2k_inputs.cp2k_data_dir()),
            "atomate2_version": _package_version("atomate2"),
            **preset.as_dict(),
        }
        if self.basis_overrides:
            out["basis_overrides"] = dict(self.basis_overrides)
        if self.dispersion is not None:
            out["dispersion"] = "DFTD3(BJ)" if self.dispersion else None
        return out


# --------------------------------------------------------------------------- VASP


@dataclass
class VaspEngine(Engine):
    """VASP through ``atomate2.vasp`` (input generation works without VASP installed)."""

    def relax_maker(self, relax_cell: bool = False, fmax_eV_per_A: float = 0.05,
                    max_steps: int = 200) -> Maker:
        """VASP relaxation (ISIF 2, or 3 with ``relax_cell``), force criterion EDIFFG."""
        from atomate2.vasp.jobs.core import RelaxMaker

        gen = vasp_inputs.make_generator("relax", self.preset, relax_cell=relax_cell,
                                         fmax_eV_per_A=fmax_eV_per_A, max_steps=max_steps)
        return RelaxMaker(name="vasp relax", input_set_generator=gen)

    def static_maker(self) -> Maker:
        """VASP single point."""
        from atomate2.vasp.jobs.core import StaticMaker

        return StaticMaker(name="vasp static",
                           input_set_generator=vasp_inputs.make_generator("static", self.preset))

    def electronic_maker(self, slab: bool, cubes: bool = True, charges: bool = True) -> Maker:
        """Single point writing CHGCAR, AECCAR*, ELFCAR, LOCPOT (Hartree); dipole for slabs.

        ``cubes``/``charges`` are accepted for symmetry with CP2K: VASP's volumetric files
        are always written (Bader charges come from CHGCAR + AECCAR0/2).
        """
        from atomate2.vasp.jobs.core import StaticMaker

        gen = vasp_inputs.make_generator("electronic", self.preset, slab=slab)
        return StaticMaker(name="vasp electronic", input_set_generator=gen)

    def md_maker(self, temperature_K: float, n_steps: int, timestep_fs: float) -> Maker:
        """VASP NVT MD (atomate2's MD set, Γ point)."""
        from atomate2.vasp.jobs.md import MDMaker

        if temperature_K <= 0 or n_steps < 1 or timestep_fs <= 0:
            raise InputError("md_maker expects temperature_K > 0, n_steps >= 1, timestep_fs > 0")
        gen = vasp_inputs.make_generator("md", self.preset, start_temp=temperature_K,
                                         end_temp=temperature_K, nsteps=n_steps,
                                         time_step=timestep_fs)
        return MDMaker(name="vasp md", input_set_generator=gen)

    def settings(self) -> dict[str, Any]:
        """Preset numbers, tags and the list of reductions."""
        return {
            "engine": "vasp",
            "preset": self.preset,
            "vasp_cmd": os.environ.get("ATOMATE2_VASP_CMD", "vasp_std"),
            "vasp_found": shutil.which("vasp_std") is not None,
            "atomate2_version": _package_version("atomate2"),
            **vasp_inputs.VASP_PRESETS[self.preset].as_dict(),
        }


# --------------------------------------------------------------------------- factory


def get_engine(name: str = "mlip", preset: str = "fast", mlip_model: str = "CHGNet",
               device: str | None = None, **options: Any) -> Engine:
    """The engine ``name`` with ``preset``.

    Parameters
    ----------
    name
        ``mlip`` (default), ``cp2k`` or ``vasp``.
    preset
        ``fast`` or ``production``.
    mlip_model
        atomate2 force-field name for ``mlip`` (default ``CHGNet``).
    device
        torch device for ``mlip`` (default: ``cuda`` when available, else ``cpu``).
    **options
        Engine-specific extras: ``optimizer`` (mlip); ``threads``, ``cp2k_cmd``,
        ``basis_overrides``, ``dispersion`` (cp2k).

    Raises
    ------
    InputError
        Unknown engine, preset or model (a ``ValueError``).
    EngineUnavailableError
        CP2K or the model's package is not installed.
    """
    _check_choice("engine", name, ENGINES)
    _check_choice("preset", preset, PRESETS)
    if name == "mlip":
        return MlipEngine(name="mlip", preset=preset, mlip_model=mlip_model, device=device,
                          **options)
    if name == "cp2k":
        return Cp2kEngine(name="cp2k", preset=preset, **options)
    return VaspEngine(name="vasp", preset=preset, **options)
