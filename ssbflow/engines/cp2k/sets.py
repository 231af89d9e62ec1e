"""CP2K input sets for ssbflow: basis/potential choice and atomate2 input generators.

Presets live in :mod:`ssbflow.engines.cp2k.presets`. The generators subclass atomate2's
CP2K generators and change only what this package needs:

* basis sets and GTH pseudopotentials are named for every element and read from the CP2K
  data directory (``$SSBFLOW_CP2K_DATA``, else ``$CP2K_DATA_DIR``, else Debian's
  ``/usr/share/cp2k``), all potentials from one file (CP2K refuses to look in two), and
  written into the run folder by atomate2 (``BASIS``/``POTENTIAL``), so a run folder is
  self-contained. We parse the data files directly instead of going through
  ``pmg config --cp2k`` + ``PMG_CP2K_DATA_DIR``: that needs a ~40 s one-off conversion of all
  of CP2K's data into YAML and global settings, for the handful of entries a run uses.
  La has no SZV basis: ``DZVP-MOLOPT-SR-GTH-q11`` (file ``BASIS_MOLOPT_UCL``) with
  ``GTH-PBE-q11``.
* closed shells run restricted (RKS; pymatgen's sets default to UKS, twice the cost);
* an explicit plane-wave cutoff (not derived from the basis), so that the slab, the
  molecule and the combined system share one FFT grid in the same cell;
* the structure keeps its site order (atomate2 sorts by default), so indices of the
  result match the input;
* ``selective_dynamics`` site properties become ``&MOTION/&CONSTRAINT/&FIXED_ATOMS``;
* optional Grimme D3(BJ) dispersion (``dftd3.dat`` ships with CP2K);
* spin-polarised DFT+U on request (``hubbard_u_eV``): UKS, a ``&DFT_PLUS_U`` block (U_eff on
  the d shell, ``PLUS_U_METHOD MULLIKEN``) in every ``&KIND`` of those elements, and initial
  moments from the ``magmom`` site property (pymatgen gives each distinct moment its own
  kind, e.g. ``Ti_2 MAGNETIZATION 1``) — pymatgen has the ``DftPlusU`` section but never
  inserts it into a kind;
* for the electronic single points: ``E_DENSITY_CUBE``, ``ELF_CUBE`` and ``V_HARTREE_CUBE``
  print keys with a stride, Mulliken and Hirshfeld (shape function ``DENSITY``) charges,
  and ``SURFACE_DIPOLE_CORRECTION`` along z for slabs.
"""

from __future__ import annotations

import os
import re
from copy import deepcopy
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from atomate2.cp2k.sets.base import _BASE_CP2K_SET, Cp2kInputGenerator
from atomate2.cp2k.sets.core import MDSetGenerator, RelaxSetGenerator, StaticSetGenerator
from pymatgen.core import Element, Molecule, Structure
from pymatgen.io.cp2k.inputs import (
    Cp2kInput,
    DftPlusU,
    GaussianTypeOrbitalBasisSet,
    GthPotential,
    Keyword,
    Section,
)
from pymatgen.io.cp2k.utils import chunk
from pymatgen.io.vasp.inputs import Kpoints

from ssbflow.engines.base import check_hubbard_u
from ssbflow.engines.cp2k.presets import (
    BASIS_FILES,
    CP2K_PRESETS,
    POTENTIAL_FILE,
    Cp2kPreset,
    kpoints_for,
)
from ssbflow.engines.geometry import looks_like_slab, vacuum_midpoint_z_A
from ssbflow.errors import EngineUnavailableError

#: Where Debian's ``cp2k-data`` package puts basis sets and potentials.
DEBIAN_CP2K_DATA_DIR = "/usr/share/cp2k"

#: Elements with partly filled d or f shells that may carry a magnetic moment: presence
#: of any of them switches the run to unrestricted (UKS).
#: Folder (in the job folder) CP2K writes ``.pdos`` files into. pymatgen's Cp2kOutput sums
#: every top-level ``*pdos*`` file into one DOS and fails when the spin channels differ in
#: length (open shells: n_alpha != n_beta occupied rows), so they are kept out of its reach.
PDOS_FOLDER = "projected_dos"

OPEN_SHELL_ELEMENTS = frozenset(
    str(el) for el in Element if (el.is_transition_metal and str(el) not in
                                  {"Sc", "Y", "Zr", "Hf", "Nb", "Ta", "Zn", "Cd", "Hg",
                                   "La", "Ag", "Au", "Pd"})
    or (el.is_lanthanoid and str(el) not in {"La", "Lu"}) or el.is_actinoid
)


def cp2k_data_dir() -> Path:
    """CP2K's data directory (basis sets, potentials, ``dftd3.dat``).

    ``$SSBFLOW_CP2K_DATA``, else ``$CP2K_DATA_DIR``, else ``/usr/share/cp2k``.

    Raises
    ------
    EngineUnavailableError
        If the directory does not hold ``GTH_POTENTIALS``.
    """
    for candidate in (os.environ.get("SSBFLOW_CP2K_DATA"), os.environ.get("CP2K_DATA_DIR"),
                      DEBIAN_CP2K_DATA_DIR):
        if candidate and (Path(candidate) / POTENTIAL_FILE).is_file():
            return Path(candidate)
    raise EngineUnavailableError(
        f"CP2K data files ({POTENTIAL_FILE}, BASIS_MOLOPT) not found; install Debian's "
        "cp2k-data or set SSBFLOW_CP2K_DATA to CP2K's data directory"
    )


@cache
def _data_chunks(path: str) -> dict[tuple[str, str], str]:
    """Map (element, name or alias) -> text chunk of one CP2K basis/potential file."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    out: dict[tuple[str, str], str] = {}
    for block in chunk(text):
        header = block.strip().splitlines()[0].split()
        if len(header) < 2:
            continue
        for name in header[1:]:
            out.setdefault((header[0], name), block)
    return out


@cache
def load_basis(element: str, name: str) -> GaussianTypeOrbitalBasisSet | None:
    """The basis set ``name`` of ``element`` from :data:`BASIS_FILES`, or ``None``."""
    data_dir = cp2k_data_dir()
    for filename in BASIS_FILES:
        block = _data_chunks(str(data_dir / filename)).get((element, name))
        if block is not None:
            basis = GaussianTypeOrbitalBasisSet.from_str(block)
            basis.filename = filename
            return basis
    return None


@cache
def load_potential(element: str, n_valence: int) -> GthPotential:
    """The ``GTH-PBE-q<n_valence>`` pseudopotential of ``element`` from :data:`POTENTIAL_FILE`."""
    name = f"GTH-PBE-q{n_valence}"
    block = _data_chunks(str(cp2k_data_dir() / POTENTIAL_FILE)).get((element, name))
    if block is None:
        raise ValueError(f"element {element}: no {name} potential in {POTENTIAL_FILE}")
    potential = GthPotential.from_str(block)
    potential.filename = POTENTIAL_FILE
    return potential


def basis_and_potential(
    elements: list[str] | set[str], preset: Cp2kPreset, overrides: dict[str, str] | None = None
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Basis-set and potential objects for ``elements`` under ``preset``.

    Parameters
    ----------
    elements
        Element symbols.
    preset
        The CP2K preset (its ``basis_preference`` is tried in order).
    overrides
        ``{element: basis name}`` taking precedence over the preset.

    Returns
    -------
    tuple
        ``({el: {"basis": obj, "potential": obj}}, {el: "BASIS / POTENTIAL"})`` — the second
        item is the readable record for ``settings()``.
    """
    overrides = overrides or {}
    data: dict[str, dict[str, Any]] = {}
    names: dict[str, str] = {}
    for el in sorted(elements):
        tried = [overrides[el]] if el in overrides else list(preset.basis_preference)
        basis = next((b for b in (load_basis(el, n) for n in tried) if b is not None), None)
        if basis is None:
            raise ValueError(
                f"element {el}: none of the basis sets {', '.join(tried)} is in "
                f"{'/'.join(BASIS_FILES)}; pass cp2k_basis={{'{el}': NAME}}"
            )
        n_valence = basis.info.electrons
        if n_valence is None:
            match = re.search(r"-q(\d+)", " ".join(basis.alias_names or []))
            if match is None:
                raise ValueError(f"element {el}: cannot tell the valence of basis {basis.name}")
            n_valence = int(match.group(1))
        potential = load_potential(el, int(n_valence))
        data[el] = {"basis": basis, "potential": potential}
        names[el] = f"{basis.name} ({basis.filename}) / {potential.name}"
    return data, names


def n_valence_electrons(structure: Structure | Molecule, preset: Cp2kPreset,
                        overrides: dict[str, str] | None = None) -> int:
    """Number of valence electrons with the preset's pseudopotentials (charge included)."""
    data, _ = basis_and_potential(structure.symbol_set, preset, overrides)
    n = sum(data[site.specie.symbol]["potential"].info.electrons for site in structure)
    return int(n - round(structure.charge))


def is_closed_shell(structure: Structure | Molecule, preset: Cp2kPreset,
                    overrides: dict[str, str] | None = None) -> bool:
    """True when RKS is appropriate: even electron count and no open-shell d/f elements."""
    if OPEN_SHELL_ELEMENTS & set(structure.symbol_set):
        return False
    return n_valence_electrons(structure, preset, overrides) % 2 == 0


def n_basis_functions(structure: Structure | Molecule, preset: Cp2kPreset,
                      overrides: dict[str, str] | None = None) -> int:
    """Number of spherical Gaussian basis functions of ``structure`` under ``preset``."""
    data, _ = basis_and_potential(structure.symbol_set, preset, overrides)
    per_element = {
        el: sum(n * (2 * int(ang) + 1) for shells in d["basis"].nshell for ang, n in shells.items())
        for el, d in data.items()
    }
    return sum(per_element[site.specie.symbol] for site in structure)


def pdos_nlumo(structure: Structure | Molecule, preset: Cp2kPreset,
               overrides: dict[str, str] | None, multiplicity: int | None,
               wanted: int = 20) -> int:
    """Empty states CP2K's PDOS can ask for: ``wanted`` (20 covers a gap state and the band
    edges), capped by the virtual space of the α channel. Asking for more fails in OT's
    eigensolver (Cholesky of a singular overlap; seen for O2 with SZV)."""
    n_e = n_valence_electrons(structure, preset, overrides)
    unpaired = (multiplicity - 1) if multiplicity else n_e % 2
    n_alpha = (n_e + unpaired) // 2
    return max(1, min(wanted, n_basis_functions(structure, preset, overrides) - n_alpha))


def _fix_components(flags: Any) -> str | bool:
    """CP2K ``COMPONENTS_TO_FIX`` for a ``selective_dynamics`` entry (True = may move)."""
    if flags is None:
        return False
    fixed = "".join(axis for axis, free in zip("XYZ", flags, strict=True) if not free)
    return fixed or False


@dataclass
class _SsbflowCp2kMixin:
    """Fields and hooks shared by the ssbflow CP2K generators (see module docstring)."""

    preset: str = "fast"
    slab: bool | None = None
    electronic: bool = False
    cubes: bool = True
    charges: bool = True
    dispersion: bool | None = None
    basis_overrides: dict[str, str] = field(default_factory=dict)
    hubbard_u_eV: dict[str, float] = field(default_factory=dict)
    spin_polarized: bool | None = None
    multiplicity: int | None = None
    pdos: bool = False
    cube_names: tuple[str, ...] = ("E_DENSITY_CUBE", "ELF_CUBE", "V_HARTREE_CUBE")
    metal: bool = False
    kpoint_length_A: float | None = None

    def _ssbflow_updates(self, structure: Structure | Molecule) -> dict[str, Any]:
        preset = CP2K_PRESETS[self.preset]
        data, _ = basis_and_potential(structure.symbol_set, preset, self.basis_overrides)
        closed = (not self.spin_polarized and not self.hubbard_u_eV
                  and is_closed_shell(structure, preset, self.basis_overrides))
        extra = {"multiplicity": int(self.multiplicity)} if self.multiplicity else {}
        return {**extra,
            "basis_and_potential": data,
            "xc_functionals": ["PBE"],
            "spin_polarized": not closed,
            # closed shells: plain OT (no orbital rotation/fractional occupations), which
            # converges in far fewer steps for insulators than pymatgen's IRAC + rotation
            "rotation": not closed,
            "algorithm": "IRAC" if not closed else "STRICT",
            "cutoff": preset.cutoff_Ry,
            "rel_cutoff": preset.rel_cutoff_Ry,
            "eps_default": preset.eps_default,
            "eps_pgf_orb": preset.eps_pgf_orb,
            "eps_scf": preset.eps_scf,
            "print_pdos": self.pdos,
            "print_dos": False,
            "print_mo_cubes": False,
            "print_v_hartree": False,
            "print_e_density": False,
        }

    def _get_structure(self, structure: Structure | Molecule) -> Structure | Molecule:
        structure = structure.copy()
        sd = structure.site_properties.get("selective_dynamics")
        if sd is not None and any(_fix_components(f) for f in sd):
            structure.add_site_property("fix", [_fix_components(f) for f in sd])
        # keep the site order (atomate2 sorts by electronegativity by default)
        return structure

    def _get_kpoints(self, structure: Structure, kpoints_updates: dict | None) -> Kpoints | None:
        return kpoints_for(structure, CP2K_PRESETS[self.preset], self._is_slab(structure),
                           self.kpoint_length_A)

    def _is_slab(self, structure: Structure | Molecule) -> bool:
        return looks_like_slab(structure) if self.slab is None else self.slab

    def _finish(self, cp2k_input: Cp2kInput, structure: Structure | Molecule) -> Cp2kInput:
        preset = CP2K_PRESETS[self.preset]
        dft = cp2k_input["FORCE_EVAL"]["DFT"]
        use_d3 = preset.dispersion if self.dispersion is None else (
            "DFTD3(BJ)" if self.dispersion else None)
        if use_d3:
            # absolute path: CP2K looks for dftd3.dat in the run folder otherwise
            d3_file = str(cp2k_data_dir() / "dftd3.dat")
            cp2k_input.update({"FORCE_EVAL": {"DFT": {"XC": {"VDW_POTENTIAL": {
                "POTENTIAL_TYPE": "PAIR_POTENTIAL",
                "PAIR_POTENTIAL": {
                    "TYPE": use_d3,
                    "PARAMETER_FILE_NAME": d3_file,
                    "REFERENCE_FUNCTIONAL": "PBE",
                },
            }}}}})
        scf = dft["SCF"]
        if self.metal and scf.check("MIXING"):
            # a small bulk metal (bcc Li, 54 atoms): 7 steps with Broyden α 0.2, against 277 OT
            # steps (integer occupations) ending 61 meV/atom higher; pymatgen's α 0.05 with
            # Kerker β 0.01 is tuned for slabs
            scf.subsections.pop("MIXING")
            scf.insert(Section("MIXING", subsections={}, keywords={
                "METHOD": Keyword("METHOD", "BROYDEN_MIXING"),
                "ALPHA": Keyword("ALPHA", 0.2), "NBUFFER": Keyword("NBUFFER", 8)}))
        if scf.check("SMEAR") and scf.get("ADDED_MOS") is not None:
            # pymatgen asks for all virtual orbitals (-1); 10 % of the occupied ones (at
            # least 10) is plenty for Fermi smearing at 300 K and much cheaper
            n_occ = n_valence_electrons(structure, preset, self.basis_overrides) // 2
            n_added = max(10, int(np.ceil(0.1 * n_occ)))
            # a small cell has fewer virtual orbitals than that (CP2K aborts: bcc Li, 2 atoms)
            n_added = min(n_added, n_basis_functions(structure, preset, self.basis_overrides)
                          - n_occ)
            uks = bool(dft["UKS"].values[0]) if dft.get("UKS") is not None else False
            scf["ADDED_MOS"] = Keyword("ADDED_MOS", *([n_added] * (2 if uks else 1)))
        if self.electronic and isinstance(structure, Structure) and self._is_slab(structure):
            # the dipole sheet in the middle of the vacuum gap: CP2K's default (the plane of
            # lowest density) stalled the SCF of a metal slab here and aborts when atoms
            # reach the top of the cell
            dft.update({"SURFACE_DIPOLE_CORRECTION": True, "SURF_DIP_DIR": "Z",
                        "SURF_DIP_POS": vacuum_midpoint_z_A(structure)})
        prints = dft["PRINT"]
        if self.electronic:
            stride = Keyword("STRIDE", *([preset.cube_stride] * 3))
            if self.cubes:
                for name in self.cube_names:
                    if prints.check(name):
                        prints.subsections.pop(name)
                    prints.insert(Section(name, keywords={"STRIDE": stride}, subsections={}))
            # Kohn–Sham eigenvalues with occupations: ε_HOMO of molecules and the valence-band
            # top of insulating slabs (OT prints no Fermi energy) for work functions
            # printed once, after convergence: the listings of the OT steps are not eigenvalues
            each = Section("EACH", subsections={}, keywords={"QS_SCF": Keyword("QS_SCF", 0)})
            prints.insert(Section("MO", subsections={"EACH": each}, keywords={
                "EIGENVALUES": Keyword("EIGENVALUES", True),
                "OCCUPATION_NUMBERS": Keyword("OCCUPATION_NUMBERS", True),
                "NDIGITS": Keyword("NDIGITS", 8),
            }))
            if self.charges:
                prints.insert(Section("MULLIKEN", section_parameters=["ON"], subsections={}))
                prints.insert(Section(
                    "HIRSHFELD", section_parameters=["ON"], subsections={},
                    keywords={"SHAPE_FUNCTION": Keyword("SHAPE_FUNCTION", "DENSITY")},
                ))
        if self.hubbard_u_eV:
            add_hubbard_u(cp2k_input, self.hubbard_u_eV)
        if self.pdos and prints.check("PDOS"):
            # pymatgen asks for every virtual orbital (-1): with OT each one costs an
            # iterative solve; 20 empty states cover a gap state and the band edges
            nlumo = pdos_nlumo(structure, CP2K_PRESETS[self.preset], self.basis_overrides,
                               self.multiplicity)
            prints["PDOS"]["NLUMO"] = Keyword("NLUMO", nlumo)
            prints["PDOS"]["FILENAME"] = Keyword("FILENAME", f"./{PDOS_FOLDER}/pdos")
        return cp2k_input

    def _get_input(self, structure, kpoints=None, previous_input=None, input_updates=None):
        updates = dict(input_updates or {})
        updates.update(self._ssbflow_updates(structure))
        cp2k_input = super()._get_input(  # type: ignore[misc]
            structure, kpoints, previous_input, updates
        )
        return self._finish(cp2k_input, structure)


def add_hubbard_u(cp2k_input: Cp2kInput, u_eV_by_element: dict[str, float],
                  method: str = "MULLIKEN") -> None:
    """Insert ``&DFT_PLUS_U`` (U_eff = U − J on the d shell, ``L 2``) into every ``&KIND`` of
    the given elements and set ``&DFT PLUS_U_METHOD``.

    Parameters
    ----------
    cp2k_input
        Input with its ``&SUBSYS`` kinds already written (changed in place).
    u_eV_by_element
        ``{element: U_eff in eV}``; elements absent from the input are ignored.
    method
        CP2K's ``PLUS_U_METHOD`` (``MULLIKEN``, the default, works with OT; ``LOWDIN``).

    Raises
    ------
    ValueError
        A negative U.
    """
    check_hubbard_u(u_eV_by_element)
    subsys = cp2k_input["FORCE_EVAL"]["SUBSYS"]
    for kind in [sec for sec in subsys.subsections.values() if sec.name.upper() == "KIND"]:
        element = str(kind.get("ELEMENT").values[0])
        u_eV = u_eV_by_element.get(element)
        if not u_eV:
            continue
        kind.insert(DftPlusU(l=2, u_minus_j=u_eV))
        kind["DFT_PLUS_U"]["U_MINUS_J"] = Keyword("U_MINUS_J", float(u_eV), units="eV")
    cp2k_input["FORCE_EVAL"]["DFT"]["PLUS_U_METHOD"] = Keyword("PLUS_U_METHOD", method)


def _ssbflow_config(preset: str) -> dict[str, Any]:
    """atomate2's base CP2K config without its element table (we name every element)."""
    config = deepcopy(_BASE_CP2K_SET)
    config["cp2k_input"]["basis_and_potential"] = {}
    config["KPOINTS"] = {} if CP2K_PRESETS[preset].kpoint_length_A is not None else None
    return config


@dataclass
class SsbflowCp2kStaticGenerator(_SsbflowCp2kMixin, StaticSetGenerator):
    """Single point (``ENERGY_FORCE``) with ssbflow's CP2K choices."""

    config_dict: dict = field(default_factory=lambda: _ssbflow_config("fast"))
    sort_structure: bool = False


@dataclass
class SsbflowCp2kRelaxGenerator(_SsbflowCp2kMixin, RelaxSetGenerator):
    """Geometry optimisation (``GEO_OPT``, BFGS) with ssbflow's CP2K choices."""

    config_dict: dict = field(default_factory=lambda: _ssbflow_config("fast"))
    sort_structure: bool = False
    fmax_eV_per_A: float = 0.05
    max_steps: int = 200

    def get_input_updates(self, structure: Structure, *args: Any, **kwargs: Any) -> dict:
        """GEO_OPT with the force criterion converted to Hartree/Bohr."""
        updates = super().get_input_updates(structure, *args, **kwargs)
        max_force_au = self.fmax_eV_per_A / 51.42208619083232  # eV/Å per Ha/Bohr
        updates["activate_motion"].update({
            "max_force": max_force_au, "rms_force": max_force_au / 1.5,
            "max_iter": self.max_steps,
        })
        return updates


@dataclass
class SsbflowCp2kMDGenerator(_SsbflowCp2kMixin, MDSetGenerator):
    """NVT molecular dynamics (Nosé–Hoover) with ssbflow's CP2K choices."""

    config_dict: dict = field(default_factory=lambda: _ssbflow_config("fast"))
    sort_structure: bool = False
    temperature_K: float = 300.0
    n_steps: int = 1000
    timestep_fs: float = 1.0

    def _finish(self, cp2k_input: Cp2kInput, structure: Structure | Molecule) -> Cp2kInput:
        cp2k_input = super()._finish(cp2k_input, structure)
        # pymatgen's activate_motion stores the thermostat type as a bare string, which
        # its own writer cannot print; wrap it in a Keyword
        thermostat = cp2k_input["MOTION"]["MD"]["THERMOSTAT"]
        for key, value in list(thermostat.keywords.items()):
            if isinstance(value, str):
                thermostat.keywords[key] = Keyword(key, value)
        return cp2k_input

    def get_input_updates(self, structure: Structure, *args: Any, **kwargs: Any) -> dict:
        """MD section from this generator's temperature, steps and time step."""
        updates = super().get_input_updates(structure, *args, **kwargs)
        updates["activate_motion"].update({
            "temperature": self.temperature_K, "nsteps": self.n_steps,
            "timestep": self.timestep_fs,
        })
        return updates


def make_generator(kind: str, preset: str, **kwargs: Any) -> Cp2kInputGenerator:
    """A ssbflow CP2K generator: ``kind`` is ``static``, ``relax``, ``md`` or ``electronic``."""
    if preset not in CP2K_PRESETS:
        raise ValueError(
            f"preset {preset!r} is not known; expected one of {', '.join(CP2K_PRESETS)}"
        )
    config = _ssbflow_config(preset)
    if kwargs.get("kpoint_length_A") is not None:
        config["KPOINTS"] = {}
    if kind == "static":
        return SsbflowCp2kStaticGenerator(preset=preset, config_dict=config, **kwargs)
    if kind == "electronic":
        return SsbflowCp2kStaticGenerator(preset=preset, config_dict=config, electronic=True,
                                          **kwargs)
    if kind == "relax":
        return SsbflowCp2kRelaxGenerator(preset=preset, config_dict=config, **kwargs)
    if kind == "md":
        return SsbflowCp2kMDGenerator(preset=preset, config_dict=config, **kwargs)
    raise ValueError(f"kind {kind!r} is not known; expected static, relax, md or electronic")


