"""Work function Φ = V_vac − E_F from a plane-averaged electrostatic potential.

Inputs: a VASP LOCPOT (eV) or a CP2K V_HARTREE cube (Hartree, converted to eV); both hold the
electrostatic potential *energy of an electron*, so the vacuum level is the plateau of the
plane average in the vacuum and Φ = V_vac − E_F needs no sign change. (Checked on the Al(111)
slab test against the published PBE value.) The Fermi energy is given, or parsed from a
vasprun.xml / OUTCAR (pymatgen) or a CP2K output (its "Fermi energy" line; CP2K prints it in
Hartree unless the line says [eV]).

Vacuum plateaus are found by a flatness criterion: runs of grid planes inside the largest
atom-free region where |dV/dz| stays below ``flat_tol_eV_per_A`` over at least
``min_width_A``. Each plateau reports its mean (the vacuum level) and its spread (max − min
over the plateau). With a dipole correction an asymmetric slab has two plateaus, one on each
side of the dipole sheet: both are reported (top = the side facing +z from the slab's top).
No plateau (too little vacuum, or a field across the vacuum because a polar slab was run
without dipole correction) is refused.

A molecule in a box has no Fermi level: :func:`molecular_vacuum_gap` reports V_vac − ε_HOMO
(an ionisation-energy analogue, labelled as such).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ssbflow.analysis.volumetric import HARTREE_EV, VolumetricGrid
from ssbflow.analysis.volumetric_io import read_volumetric
from ssbflow.errors import InputError

_FLOAT = r"[-+]?\d+\.\d*(?:[EeDd][-+]?\d+)?"


# ---------------------------------------------------------------------------------------------
# Fermi level and HOMO from engine outputs


def parse_fermi_energy_eV(path: str | Path) -> float:
    """Fermi energy (eV) from vasprun.xml, OUTCAR or a CP2K output file.

    CP2K prints ``Fermi energy: <value>`` in Hartree (a.u.) in the SCF summary of smeared
    runs, ``Fermi Energy [eV] : <value>`` in some listings and ``MO| E(Fermi): <a.u.> <eV>``
    with its MO print (for an insulator that is the HOMO); the last such line is used.

    Raises
    ------
    InputError
        No Fermi energy in the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    name = path.name.lower()
    if name.endswith(".xml") or "vasprun" in name:
        from pymatgen.io.vasp.outputs import Vasprun

        try:
            efermi = Vasprun(str(path), parse_dos=False, parse_eigen=False,
                             parse_potcar_file=False).efermi
        except Exception as exc:  # pymatgen raises many types on bad files
            raise InputError(f"{path}: not a readable vasprun.xml ({exc})") from None
        if efermi is None:
            raise InputError(f"{path}: vasprun.xml holds no Fermi energy")
        return float(efermi)
    if "outcar" in name:
        from pymatgen.io.vasp.outputs import Outcar

        try:
            efermi = Outcar(str(path)).efermi
        except Exception as exc:  # pymatgen raises many types on bad files
            raise InputError(f"{path}: not a readable OUTCAR ({exc})") from None
        if efermi is None:
            raise InputError(f"{path}: OUTCAR holds no Fermi energy")
        return float(efermi)
    value = None
    pattern = re.compile(rf"Fermi\s+energy[^:=\n]*[:=]\s*({_FLOAT})", re.IGNORECASE)
    mo_line = re.compile(rf"E\(Fermi\):.*?({_FLOAT})\s+eV")  # MO| E(Fermi): x a.u. y eV
    with open(path, errors="replace") as handle:
        for line in handle:
            if "fermi" not in line.lower():
                continue
            match = pattern.search(line)
            if match:
                number = float(match.group(1).replace("D", "E").replace("d", "e"))
                value = number if "[eV]" in line else number * HARTREE_EV
            elif match := mo_line.search(line):
                value = float(match.group(1))
    if value is None:
        raise InputError(f"{path}: no 'Fermi energy' line (expected a CP2K output, "
                         "vasprun.xml or OUTCAR of a run with smearing)")
    return value


def parse_cp2k_homo_eV(path: str | Path) -> float:
    """Highest occupied Kohn–Sham eigenvalue (eV) from a CP2K output.

    Reads the last MO eigenvalue listing (``&DFT/&PRINT/&MO`` with ``EIGENVALUES`` and
    ``OCCUPATION_NUMBERS``), whose ``MO|`` rows hold index, eigenvalue (a.u.), eigenvalue
    (eV) and occupation; for spin-polarised runs the highest over both spins.

    Raises
    ------
    InputError
        No MO listing in the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    row = re.compile(rf"^\s*MO\|\s+(\d+)\s+({_FLOAT})\s+({_FLOAT})\s+({_FLOAT})\s*$")
    blocks: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    with open(path, errors="replace") as handle:
        for line in handle:
            match = row.match(line)
            if match:
                current.append((float(match.group(3)), float(match.group(4))))
            elif current:
                blocks.append(current)
                current = []
    if current:
        blocks.append(current)
    occupied = [e for block in blocks[-2:] for e, occ in block if occ > 0.5] if blocks else []
    if not occupied:
        raise InputError(f"{path}: no MO eigenvalues with occupations (add &DFT/&PRINT/&MO "
                         "with EIGENVALUES and OCCUPATION_NUMBERS)")
    return float(max(occupied))


# ---------------------------------------------------------------------------------------------
# plateaus


@dataclass
class Plateau:
    """A flat region of the plane-averaged potential (eV, Å)."""

    z_start_A: float
    z_end_A: float
    level_eV: float
    spread_eV: float
    width_A: float
    side: str = ""


@dataclass
class WorkFunctionResult:
    """Work function analysis (units in the names).

    Attributes
    ----------
    z_A, potential_eV
        The plane-averaged potential energy of an electron along the axis.
    fermi_level_eV
        E_F (or ε_HOMO for a molecule; see ``reference``).
    plateaus
        The vacuum plateaus found (one, or two with a dipole correction).
    vacuum_level_eV
        The level of the top plateau (the only one for symmetric cases).
    work_function_eV
        V_vac − E_F with the top plateau; for a molecule V_vac − ε_HOMO with the mean of the
        two plateaus (they differ by the dipole-layer step of the periodic molecule).
    work_function_top_eV, work_function_bottom_eV
        Both sides when two plateaus differ by more than ``two_sided_tol_eV``.
    plateau_spread_eV
        Largest spread over the plateaus used.
    reference
        ``"fermi"`` or ``"homo"``; with ``"homo"`` the quantity is V_vac − ε_HOMO, an
        ionisation-energy analogue, not a work function.
    work_function_pymatgen_eV
        pymatgen ``WorkFunctionAnalyzer`` value (max of the profile − E_F) for comparison.
    """

    z_A: np.ndarray
    potential_eV: np.ndarray
    fermi_level_eV: float
    plateaus: list[Plateau]
    vacuum_level_eV: float
    work_function_eV: float
    plateau_spread_eV: float
    work_function_top_eV: float | None = None
    work_function_bottom_eV: float | None = None
    reference: str = "fermi"
    work_function_pymatgen_eV: float | None = None
    source: str = ""
    axis: int = 2
    files: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        """JSON-ready numbers (units in the keys)."""
        out: dict[str, object] = {}
        if self.reference == "homo":
            out["vacuum_minus_homo_eV"] = self.work_function_eV
            out["homo_eV"] = self.fermi_level_eV
            out["note"] = ("molecule: V_vac - HOMO (ionisation-energy analogue), not a work "
                           "function; V_vac is the mean of the two plateaus when they differ")
            if self.work_function_top_eV is not None:
                out["vacuum_minus_homo_top_eV"] = self.work_function_top_eV
                out["vacuum_minus_homo_bottom_eV"] = self.work_function_bottom_eV
        else:
            out["work_function_eV"] = self.work_function_eV
            if self.work_function_top_eV is not None:
                out["work_function_top_eV"] = self.work_function_top_eV
                out["work_function_bottom_eV"] = self.work_function_bottom_eV
            out["fermi_level_eV"] = self.fermi_level_eV
        out["vacuum_level_eV"] = self.vacuum_level_eV
        out["plateau_spread_eV"] = self.plateau_spread_eV
        out["plateaus"] = [
            {"side": p.side, "z_start_A": p.z_start_A, "z_end_A": p.z_end_A,
             "level_eV": p.level_eV, "spread_eV": p.spread_eV} for p in self.plateaus
        ]
        if self.work_function_pymatgen_eV is not None:
            out["work_function_pymatgen_eV"] = self.work_function_pymatgen_eV
        out["source"] = self.source
        out["files"] = dict(self.files)
        return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Contiguous runs of True as (start, length), periodic (a run may wrap)."""
    n = mask.size
    if mask.all():
        return [(0, n)]
    if not mask.any():
        return []
    start = int(np.argmin(mask))  # begin the scan on a False so that wrapped runs stay whole
    rolled = np.roll(mask, -start)
    runs = []
    k = 0
    while k < n:
        if rolled[k]:
            j = k
            while j < n and rolled[j]:
                j += 1
            runs.append(((k + start) % n, j - k))
            k = j
        else:
            k += 1
    return runs


def find_plateaus(
    z_A: np.ndarray,
    potential_eV: np.ndarray,
    period_A: float,
    vacuum_A: tuple[float, float] | None = None,
    flat_tol_eV_per_A: float = 0.05,
    min_width_A: float = 1.5,
    trim_A: float = 0.3,
) -> list[Plateau]:
    """Flat runs of a periodic profile, optionally restricted to a vacuum interval.

    Parameters
    ----------
    z_A, potential_eV
        Equally spaced profile over one period.
    period_A
        Length of the period (Å).
    vacuum_A
        (start, end) of the atom-free region (may wrap: start > end); None: anywhere.
    flat_tol_eV_per_A
        Largest |dV/dz| inside a plateau.
    min_width_A
        Shortest accepted plateau.
    trim_A
        Points this close to a plateau's ends are left out of its level and spread.
    """
    n = potential_eV.size
    dz = period_A / n
    grad = (np.roll(potential_eV, -1) - np.roll(potential_eV, 1)) / (2 * dz)
    flat = np.abs(grad) < flat_tol_eV_per_A
    if vacuum_A is not None:
        start, end = vacuum_A
        rel = np.mod(z_A - start, period_A)
        flat &= rel <= np.mod(end - start, period_A)
    plateaus = []
    trim = round(trim_A / dz)
    for first, length in _runs(flat):
        if length * dz < min_width_A:
            continue
        index = (first + np.arange(length)) % n
        core = index[trim: length - trim] if length > 2 * trim + 2 else index
        values = potential_eV[core]
        plateaus.append(Plateau(
            z_start_A=float(z_A[index[0]]), z_end_A=float(z_A[index[-1]]),
            level_eV=float(values.mean()), spread_eV=float(values.max() - values.min()),
            width_A=float(length * dz),
        ))
    return plateaus


def _vacuum_interval(grid: VolumetricGrid, axis: int, period: float) -> tuple[float, float] | None:
    """Largest atom-free interval along the axis normal (start, end), possibly wrapping."""
    if len(grid.structure) == 0:
        return None
    matrix = grid.structure.lattice.matrix
    i, j = (k for k in range(3) if k != axis)
    normal = np.cross(matrix[i], matrix[j])
    normal /= np.linalg.norm(normal)
    heights = np.sort(np.mod((grid.structure.cart_coords - grid.origin_A) @ normal, period))
    gaps = np.diff(np.append(heights, heights[0] + period))
    k = int(np.argmax(gaps))
    return float(heights[k]), float(np.mod(heights[(k + 1) % heights.size], period))


def work_function(
    potential: VolumetricGrid | str | Path,
    fermi_eV: float | None = None,
    output: str | Path | None = None,
    axis: int = 2,
    homo_eV: float | None = None,
    flat_tol_eV_per_A: float = 0.05,
    min_width_A: float = 1.5,
    two_sided_tol_eV: float = 0.05,
) -> WorkFunctionResult:
    """Work function (or V_vac − ε_HOMO for a molecule) from a potential grid.

    Parameters
    ----------
    potential
        LOCPOT / V_HARTREE cube (or a potential grid).
    fermi_eV
        Fermi energy (eV); or give ``output``.
    output
        vasprun.xml, OUTCAR or CP2K output to parse the Fermi energy from (or, with
        ``homo_eV=None`` and no Fermi line, nothing: give ``homo_eV`` for molecules).
    axis
        Lattice axis normal to the surface (c = 2).
    homo_eV
        For a molecule in a box: report V_vac − ε_HOMO instead of a work function.
    flat_tol_eV_per_A, min_width_A
        Plateau criterion (see :func:`find_plateaus`).
    two_sided_tol_eV
        Plateaus whose levels differ by more than this are reported as two sides.

    Raises
    ------
    InputError
        No Fermi energy given, not a potential, or no vacuum plateau.
    """
    grid = potential if isinstance(potential, VolumetricGrid) else read_volumetric(
        potential, kind="potential")
    if grid.kind != "potential":
        raise InputError(f"{grid.source}: expected a potential (LOCPOT or V_HARTREE cube), "
                         f"got a {grid.kind} grid")
    reference = "fermi"
    if homo_eV is not None:
        reference, level = "homo", float(homo_eV)
    elif fermi_eV is not None:
        level = float(fermi_eV)
    elif output is not None:
        level = parse_fermi_energy_eV(output)
    else:
        raise InputError("fermi: give the Fermi energy (--fermi EV) or an output file to read "
                         "it from (--output FILE)")
    matrix = grid.structure.lattice.matrix
    i, j = (k for k in range(3) if k != axis)
    area = float(np.linalg.norm(np.cross(matrix[i], matrix[j])))
    period = grid.volume_A3 / area
    profile = grid.plane_average(axis)
    z = np.arange(profile.size) * period / profile.size
    vacuum = _vacuum_interval(grid, axis, period)
    # only the atom-free interval can hold the vacuum level: flat spots between atomic planes
    # or inside a molecule are excluded this way
    plateaus = find_plateaus(z, profile, period, vacuum, flat_tol_eV_per_A, min_width_A)
    if not plateaus:
        raise InputError(
            f"{grid.source}: no vacuum plateau in the plane-averaged potential (|dV/dz| < "
            f"{flat_tol_eV_per_A} eV/Å over {min_width_A} Å); add vacuum, or use a dipole "
            "correction for an asymmetric slab"
        )
    top_level = bottom_level = None
    if vacuum is not None:
        start, _end = vacuum
        # order by distance above the slab's top atom (start of the vacuum interval)
        plateaus.sort(key=lambda p: np.mod(p.z_start_A - start, period))
        top, bottom = plateaus[0], plateaus[-1]
        top.side = "top"
        if bottom is not top:
            bottom.side = "bottom"
        if len(plateaus) > 1 and abs(top.level_eV - bottom.level_eV) > two_sided_tol_eV:
            top_level, bottom_level = top.level_eV, bottom.level_eV
            used = [top, bottom]
        else:
            used = [max(plateaus, key=lambda p: p.width_A)]
            used[0].side = "both"
    else:
        used = [max(plateaus, key=lambda p: p.level_eV)]
    if top_level is None:
        vacuum_level = used[0].level_eV
    elif reference == "homo":
        # a molecule in a slab-shaped box with the dipole correction is a periodic dipole
        # layer: its field shifts the two plateaus by about ±Δ/2 from the isolated molecule's
        # vacuum level, so their mean is the reference for V_vac − ε_HOMO (the top plateau
        # alone is off by half the step, 1.8 eV for acetonitrile in a 6 Å cell)
        vacuum_level = 0.5 * (top_level + bottom_level)
    else:
        vacuum_level = top_level
    result = WorkFunctionResult(
        z_A=z,
        potential_eV=profile,
        fermi_level_eV=level,
        plateaus=plateaus,
        vacuum_level_eV=vacuum_level,
        work_function_eV=vacuum_level - level,
        plateau_spread_eV=max(p.spread_eV for p in used),
        work_function_top_eV=None if top_level is None else top_level - level,
        work_function_bottom_eV=None if bottom_level is None else bottom_level - level,
        reference=reference,
        source=grid.source,
        axis=axis,
    )
    if axis == 2 and len(grid.structure) and reference == "fermi":
        result.work_function_pymatgen_eV = _pymatgen_work_function(grid, profile, level)
    return result


def _pymatgen_work_function(grid: VolumetricGrid, profile: np.ndarray,
                            fermi_eV: float) -> float | None:
    """pymatgen's WorkFunctionAnalyzer (vacuum = maximum of the profile) for comparison."""
    from pymatgen.analysis.surface_analysis import WorkFunctionAnalyzer

    try:
        analyzer = WorkFunctionAnalyzer(grid.structure, list(profile), fermi_eV)
    except Exception:  # its slab-region detection fails on some cells; the comparison is optional
        return None
    return float(analyzer.work_function)


def molecular_vacuum_gap(
    potential: VolumetricGrid | str | Path, output: str | Path, axis: int = 2, **kwargs
) -> WorkFunctionResult:
    """V_vac − ε_HOMO for a molecule in a box (HOMO from the CP2K output's MO listing).

    This is an ionisation-energy analogue (Koopmans-like), not a work function: a molecule has
    no Fermi level. The result has ``reference == "homo"``.
    """
    return work_function(potential, axis=axis, homo_eV=parse_cp2k_homo_eV(output), **kwargs)


def plot_work_function(result: WorkFunctionResult, out_dir: str | Path,
                       stem: str = "workfunction") -> Path:
    """PNG of the plane-averaged potential with the plateaus and E_F (or ε_HOMO)."""
    from ssbflow.analysis.plots import plot_profiles

    ref_label = "ε_HOMO" if result.reference == "homo" else "E_F"
    hlines = [(result.fermi_level_eV, f"{ref_label} = {result.fermi_level_eV:.3f} eV")]
    hlines += [(p.level_eV, f"V_vac ({p.side}) = {p.level_eV:.3f} eV") for p in result.plateaus]
    if result.work_function_top_eV is not None:
        title = (f"Φ top = {result.work_function_top_eV:.3f} eV, bottom = "
                 f"{result.work_function_bottom_eV:.3f} eV")
    elif result.reference == "homo":
        title = f"V_vac − ε_HOMO = {result.work_function_eV:.3f} eV (molecule)"
    else:
        title = f"Φ = {result.work_function_eV:.3f} eV"
    path = plot_profiles(
        result.z_A, [(result.potential_eV, "plane-averaged potential energy")],
        Path(out_dir) / f"{stem}.png", xlabel=f"{'xyz'[result.axis]} (Å)",
        ylabels=["V (eV)"], hlines=hlines, title=title,
    )
    result.files["png"] = str(path)
    return path
