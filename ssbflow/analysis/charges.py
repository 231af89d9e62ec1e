"""Atomic charges: Bader (via pymatgen's ``bader_caller``), Mulliken and Hirshfeld (CP2K output).

Charges are *net* atomic charges in e (positive = the atom lost electrons), for every method:
Bader net charge = valence electrons of the pseudopotential − Bader population. CP2K's
Hirshfeld analysis should use ``&HIRSHFELD SHAPE_FUNCTION DENSITY`` (atomic densities as
shape functions); the Gaussian default shape gives different numbers.

The change on adsorption of an atom is q(atom in AB) − q(same atom in its isolated fragment),
for atoms chosen by index in AB (:func:`charge_changes`).
"""

from __future__ import annotations

import gzip
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from ssbflow.errors import EngineUnavailableError, InputError

Method = Literal["hirshfeld", "mulliken", "bader"]

_HEADERS = {
    "mulliken": re.compile(r"Mulliken Population Analysis", re.IGNORECASE),
    "hirshfeld": re.compile(r"Hirshfeld Charges", re.IGNORECASE),
}
_ROW = re.compile(r"^\s*(\d+)\s+([A-Z][a-z]?)\s+\d+\s+(.*)$")


@dataclass
class AtomicCharges:
    """Net atomic charges (e) of one structure.

    Attributes
    ----------
    symbols
        Element of each atom, in the engine's order.
    charges_e
        Net charge of each atom (e); positive = electrons lost.
    method
        ``"hirshfeld"``, ``"mulliken"`` or ``"bader"``.
    source
        The file they were read from.
    spin_moments
        Per-atom spin moments (μB) when the run was spin polarised, else None.
    """

    symbols: list[str]
    charges_e: np.ndarray
    method: str
    source: str = ""
    spin_moments: np.ndarray | None = None

    @property
    def total_e(self) -> float:
        """Sum of the net charges (e): the total charge of the system."""
        return float(np.sum(self.charges_e))


def _read_cp2k_output(path: Path) -> list[str]:
    """Lines of a CP2K output: a file, its gzipped copy (``.gz``, as atomate2 leaves it), or a
    run folder holding ``cp2k.out``/``cp2k.out.gz``."""
    if path.is_dir():
        path = path / "cp2k.out"
    if not path.is_file() and path.with_name(path.name + ".gz").is_file():
        path = path.with_name(path.name + ".gz")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (nor {path.name}.gz)")
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines()
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def _columns(header: str, method: str, n_numbers: int) -> tuple[int, int | None]:
    """Positions (from the end of a row) of the net charge and of the spin moment.

    Read from the table's ``#`` header where there is one: CP2K prints Mulliken UKS rows as
    pop α, pop β, net charge, spin moment and Hirshfeld UKS rows as ref, pop α, pop β, spin
    moment, net charge. Without a header, the number of values decides (UKS rows have one
    population more and a spin column).
    """
    if "Net charge" in header:
        if "Spin moment" not in header:
            return -1, None
        if header.index("Spin moment") < header.index("Net charge"):
            return -1, -2
        return -2, -1
    spin_polarised = n_numbers >= (5 if method == "hirshfeld" else 4)
    if not spin_polarised:
        return -1, None
    return (-1, -2) if method == "hirshfeld" else (-2, -1)


# Own parser, not pymatgen's Cp2kOutput (2026.10.16, checked): its parse_mulliken only prints
# "not yet implemented" and its Hirshfeld row pattern matches atom indices 1-9 only.
def parse_cp2k_charges(path: str | Path, method: Method = "hirshfeld") -> AtomicCharges:
    """Mulliken or Hirshfeld charges from a CP2K output (the last analysis printed).

    Closed-shell (RKS) and spin-polarised (UKS/LSD) tables are both read; for UKS the net
    charge column is taken and the per-atom spin moments are kept.

    Parameters
    ----------
    path
        CP2K output file; ``cp2k.out.gz`` is read too (given, or found next to a missing
        ``cp2k.out``), and a run folder means its ``cp2k.out``. Atom order is the order of the
        input coordinates.
    method
        ``"hirshfeld"`` (needs ``&DFT/&PRINT/&HIRSHFELD``) or ``"mulliken"``.

    Raises
    ------
    InputError
        The analysis is not in the file.
    FileNotFoundError
        No such file (nor a gzipped copy).
    """
    path = Path(path)
    if method not in _HEADERS:
        raise InputError(
            f"method: expected hirshfeld or mulliken for a CP2K output, got {method!r}"
        )
    lines = _read_cp2k_output(path)
    starts = [k for k, line in enumerate(lines) if _HEADERS[method].search(line)]
    if not starts:
        hint = "&HIRSHFELD with SHAPE_FUNCTION DENSITY" if method == "hirshfeld" else "&MULLIKEN"
        raise InputError(f"{path}: no {method} charges in this file (add &DFT/&PRINT/{hint})")
    symbols: list[str] = []
    charges: list[float] = []
    spins: list[float] = []
    header = ""
    started = False
    for line in lines[starts[-1] + 1:]:
        match = _ROW.match(line)
        if match:
            started = True
            numbers = [float(x) for x in match.group(3).split()]
            net, spin = _columns(header, method, len(numbers))
            symbols.append(match.group(2))
            charges.append(numbers[net])
            if spin is not None:
                spins.append(numbers[spin])
        elif started and ("Total" in line or not line.strip()):
            break
        elif not started and line.lstrip().startswith("#"):
            header = line
    if not symbols:
        raise InputError(f"{path}: could not read the {method} table")
    return AtomicCharges(symbols, np.array(charges), method, str(path),
                         np.array(spins) if len(spins) == len(symbols) and spins else None)


def bader_charges(
    density: str | Path,
    valence_electrons: dict[str, float] | None = None,
    potcar: str | Path | None = None,
    bader_exe: str | None = None,
) -> AtomicCharges:
    """Bader net charges with the Henkelman ``bader`` program through pymatgen.

    Parameters
    ----------
    density
        CHGCAR (ideally with AECCAR0+2 summed as reference) or a density cube.
    valence_electrons
        Valence electrons of each element's pseudopotential (e.g. ``{"N": 5, "B": 3}`` for
        GTH); needed for cubes unless ``potcar`` is given.
    potcar
        VASP POTCAR for the valence counts (CHGCAR input).
    bader_exe
        Path of the ``bader`` executable (default: found on PATH).

    Raises
    ------
    EngineUnavailableError
        No ``bader`` executable.
    """
    from pymatgen.command_line.bader_caller import BaderAnalysis

    exe = bader_exe or shutil.which("bader") or shutil.which("bader.exe")
    if exe is None:
        raise EngineUnavailableError(
            "bader: executable not found on PATH (get it from "
            "https://theory.cm.utexas.edu/henkelman/code/bader/ or use Hirshfeld/Mulliken "
            "charges from the CP2K output)"
        )
    density = Path(density)
    if not density.is_file():
        raise FileNotFoundError(f"{density}: no such file")
    is_cube = density.suffix.lower() in {".cube", ".cub"}
    if is_cube:
        analysis = BaderAnalysis(cube_filename=str(density), bader_path=exe)
    else:
        analysis = BaderAnalysis(chgcar_filename=str(density),
                                 potcar_filename=str(potcar) if potcar else "", bader_path=exe)
    structure = analysis.structure
    symbols = [site.species_string for site in structure]
    populations = np.array([analysis.data[k]["charge"] for k in range(len(symbols))])
    if valence_electrons is not None:
        missing = sorted(set(symbols) - set(valence_electrons))
        if missing:
            raise InputError(f"valence_electrons: no count for {missing}")
        zval = np.array([valence_electrons[s] for s in symbols], dtype=float)
    elif getattr(analysis, "nelects", None):
        zval = np.array(analysis.nelects, dtype=float)
    else:
        raise InputError("valence_electrons: needed to turn Bader populations into charges "
                         "(e.g. {'La': 11, 'N': 5} for GTH potentials), or give a POTCAR")
    return AtomicCharges(symbols, zval - populations, "bader", str(density))


@dataclass
class ChargeChange:
    """Charges of chosen atoms in AB, in their isolated fragment, and the change (e)."""

    indices: list[int]
    symbols: list[str]
    charges_e: np.ndarray
    reference_e: np.ndarray
    change_e: np.ndarray
    method: str
    files: dict[str, str] = field(default_factory=dict)

    def rows(self) -> list[dict[str, object]]:
        """One dict per atom (index, element, charge_e, reference_charge_e, change_e)."""
        return [
            {"index": i, "element": s, "charge_e": float(q), "reference_charge_e": float(r),
             "change_e": float(d)}
            for i, s, q, r, d in zip(self.indices, self.symbols, self.charges_e,
                                     self.reference_e, self.change_e, strict=True)
        ]


def charge_changes(
    combined: AtomicCharges,
    references: list[AtomicCharges],
    atoms: list[int] | None = None,
) -> ChargeChange:
    """Change of the net charges on adsorption: q(AB) − q(fragment), atom by atom.

    Parameters
    ----------
    combined
        Charges of AB.
    references
        Charges of the isolated fragments, in the order their atoms appear in AB (e.g. slab
        then molecule): the concatenation must have AB's atoms and elements.
    atoms
        AB atom indices to report (default all).

    Raises
    ------
    InputError
        Fragment atoms do not match AB's, or indices out of range.
    """
    ref_symbols = [s for r in references for s in r.symbols]
    if ref_symbols != combined.symbols:
        raise InputError(
            f"references: the fragments' atoms ({len(ref_symbols)}: {''.join(ref_symbols)[:40]}) "
            f"do not match AB's ({len(combined.symbols)}: {''.join(combined.symbols)[:40]}) in "
            "order; list the fragments in the order of their atoms in AB"
        )
    ref = np.concatenate([r.charges_e for r in references])
    indices = list(range(len(combined.symbols))) if atoms is None else list(atoms)
    bad = [i for i in indices if not 0 <= i < len(combined.symbols)]
    if bad:
        raise InputError(f"atoms: indices {bad} out of range (0..{len(combined.symbols) - 1})")
    q = combined.charges_e[indices]
    r = ref[indices]
    return ChargeChange(indices, [combined.symbols[i] for i in indices], q, r, q - r,
                        combined.method)


def write_charges(
    table: AtomicCharges | ChargeChange, out_dir: str | Path, stem: str = "charges"
) -> dict[str, str]:
    """Write a per-atom table as ``<stem>.csv`` and ``<stem>.json``; return the paths."""
    from ssbflow.io import write_json, write_table

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(table, ChargeChange):
        rows = table.rows()
    else:
        rows = [{"index": i, "element": s, "charge_e": float(q)}
                for i, (s, q) in enumerate(zip(table.symbols, table.charges_e, strict=True))]
    csv_path = out / f"{stem}.csv"
    write_table(rows, csv_path)
    json_path = write_json(out / f"{stem}.json", {"method": table.method, "atoms": rows})
    files = {"csv": str(csv_path), "json": str(json_path)}
    if isinstance(table, ChargeChange):
        table.files.update(files)
    return files
