"""Spin-polarised DFT+U stage of ``llto-li`` (``--electronic cp2k|vasp``): is Ti reduced?

After the force-field prerelaxation, single points (UKS, U_eff on Ti 3d) of the host, the
host + one Li and the host − one O: from the force-field geometry with no initial moment
("delocalised") and from the seeded polaron ("localised": 1 μB on the Ti nearest the added
electrons, i.e. the Ti nearest the Li or the two Ti next to the vacancy, with their O pushed
out) at three breathing amplitudes, :data:`BREATHING_SCAN_A` — a line relaxation of the
polaron along the mode that holds it, not a full DFT relaxation. The lowest energy is kept,
with the start that gave it and the scan E(amplitude).
References at the same level: bcc Li (smeared) and Li2O in their small relaxed cells on
converged k-point grids (:data:`REFERENCE_KPOINT_LENGTH_A`) and triplet O2 in a 10 Å box, so
the insertion voltage and the O-vacancy formation energy (vs ½ O2 and vs Li/Li2O) are DFT
numbers.

Per Ti: Mulliken spin moment (μB) and Mulliken/Hirshfeld net charge; Ti3+ = |m| >= 0.5 μB.
Files: the spin-density cube of each kept run (VESTA reads it) and a Ti 3d PDOS plot.

``fast`` uses a reduced cell, :func:`reduced_llto_cell` (Li1La5Ti8O24 = Li3xLa2/3−xTiO3 with
x = 1/24, 38 atoms, two empty A sites; the (2,2,1) cell of :func:`~ssbflow.structures.
perovskites.llto` is Li4La4Ti8O24 with none), relaxed by the force field like the main cells;
``production`` uses the study's own relaxed cells.

Measured (CP2K 2023.1, fast preset, U_eff = 4.2 eV, OMP_NUM_THREADS=1 on the shared 2-core
machine). Session 5, ideal positions, no distortion: one single point of the reduced cell + Li
(Li2La5Ti8O24, 39 atoms) from the localised start took 101 OT steps, 1930 s wall / 862 s CPU
(load 8), and the electron spread over four Ti (0.36 μB each): Ti3+ count 0. Session 6, both
starts at the seeded polaron geometry (the six O of the seeded Ti pushed out 0.1 Å,
:func:`~ssbflow.structures.polaron.breathing_distortion`, on the force-field cell):
from the localised start the electron stays on the seeded Ti, 0.972 μB, every other Ti
< 0.06 μB (0.057, 0.054, 0.041, the rest < 0.005), E = −1025.136602 Ha (21 OT steps with
FULL_SINGLE_INVERSE, then 13 with FULL_ALL from its wavefunction; Hirshfeld: 0.815 μB, net
charge 0.567 e against 0.64–0.66 e on the other Ti). The delocalised start at the same
geometry reaches the same state (0.972 μB on the same Ti, others < 0.06 μB) and "wins" by
3e-5 eV, i.e. the two are one state within EPS_SCF: the 0.1 Å distortion alone localises
the electron (38 OT steps from scratch with FULL_ALL, 568 s CPU, 2553 s wall at load 6–10).
The O vacancy (localised start, the two Ti next to it seeded, 3.67 Å apart): two Ti3+,
0.956 and 0.999 μB (Hirshfeld 0.82, 0.84), every other Ti < 0.1 μB (largest 0.099),
E = −1001.535449 Ha (46 OT steps, 640 s CPU, 2854 s wall at load 6–10). Session 7, end to
end with the delocalised start at the force-field geometry (75 min, one CP2K thread): +Li
delocalised −1025.139231 Ha, 72 meV below the polaron, electron over four Ti (0.45, 0.42,
0.25, 0.25 μB); −O delocalised −1001.541586 Ha, 167 meV below, 0.86 and 0.70 μB on two Ti;
2.76 V vs Li/Li+, E_f(V_O) −0.689 eV at Li/Li2O, +4.194 eV vs ½ O2 (README). Session 8,
the breathing amplitude scanned on those force-field cells (each point from the 0.1 Å
wavefunction, 2–3 min): +Li 0.03 / 0.05 / 0.07 / 0.10 / 0.15 Å at −1025.145290 /
−1025.146337 / −1025.144674 / −1025.136603 / −1025.106562 Ha, one Ti 0.88 / 0.92 / 0.95 /
0.97 / 1.00 μB (largest other 0.12 / 0.09 / 0.07 / 0.06 / 0.04): the 0.05 Å polaron lies
193 meV below the spread electron (parabola vertex 0.048 Å); −O 0.03 / 0.05 Å at
−1001.546174 / −1001.547293 Ha, two Ti 0.91 + 0.88 / 0.94 + 0.93 μB, 155 meV below the
delocalised start (largest other 0.20 / 0.16 μB). Hence the scan. As in the rutile test
(tests/engines/test_dft_plus_u.py) the lattice distortion is what lets U hold the electron
on one Ti. The Li cell's PDOS shows no isolated gap state: the extra α d weight of that Ti
(α − β occupied d = 0.93) is spread over the top of the O 2p band (largest share 0.13 in
one MO, 0.34 eV below the α HOMO; gap to the LUMO 1.7 eV, SZV basis).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from jobflow import Response, job
from pymatgen.core import Lattice, Structure

from ssbflow.errors import InputError
from ssbflow.io import as_structure
from ssbflow.structures.polaron import breathing_distortion

#: U_eff = U − J on Ti 3d (eV). Morgan & Watson, Surf. Sci. 601, 5034 (2007): 4.2 eV
#: reproduces the Ti3+ gap state of reduced rutile/anatase (PBE+U); 3–4 eV is the usual
#: range for Ti in titanates.
U_TI_EV_DEFAULT = 4.2

#: Breathing amplitudes (Å) of the localised starts, the first computed from scratch and the
#: others from its wavefunction. Ti3+ is 0.065 Å larger than Ti4+ (Shannon radii 0.670 and
#: 0.605 Å); on the fast cell + Li the polaron energy is lowest near 0.05 Å and the 0.1 Å of
#: the rutile test costs 0.27 eV of strain (llto-li --electronic cp2k, session 8: 0.05 Å
#: −1025.146337 Ha, 0.07 Å −1025.144674, 0.10 Å −1025.136603, 0.15 Å −1025.106562).
BREATHING_SCAN_A = (0.05, 0.03, 0.07)

#: |m| (μB) from which a Ti counts as Ti3+ (d1; Ti4+ is d0); the one threshold of llto-li.
TI3_THRESHOLD_UB = 0.5

#: k-point length (Å) of the reference single points, in the relaxed cells (bcc Li: 2-atom
#: cube, 16³ grid; Li2O: 3-atom primitive cell, 7³). Measured with the fast preset: Li2O 7³
#: is within 4 μHa/f.u. of 8³, and the 81-atom Γ supercell used before was 97 meV/f.u. too
#: high (610 s against 40 s); bcc Li 12³ and 16³ differ by 7 meV/atom, and the 54-atom Γ
#: supercell used before was 113 meV/atom too low.
REFERENCE_KPOINT_LENGTH_A = {"Li": 55.0, "Li2O": 20.0}

#: The reduced cell of the ``fast`` electronic stage: (2,2,1) doubled cells, 8 A sites.
REDUCED_SUPERCELL = (2, 2, 1)
REDUCED_COUNTS = {"La": 5, "Li": 1, "Vac": 2}


def reduced_llto_cell() -> Structure:
    """Li1La5Ti8O24 on the (2,2,1) doubled perovskite cell, lowest Ewald energy ordering.

    Neutral (1 + 15 = 16 = 2 × 8), Li3xLa2/3−xTiO3 with x = 1/24, two empty A sites for Li.
    """
    from ssbflow.structures.perovskites import llto_with_a_site_counts

    return llto_with_a_site_counts(REDUCED_SUPERCELL, dict(REDUCED_COUNTS))


def o2_in_box(box_A: float = 10.0, bond_A: float = 1.21) -> Structure:
    """O2 (experimental bond length 1.21 Å) in a cubic box."""
    centre = box_A / 2
    return Structure(Lattice.cubic(box_A), ["O", "O"],
                     [[centre, centre, centre - bond_A / 2],
                      [centre, centre, centre + bond_A / 2]], coords_are_cartesian=True)


def removed_o_position(host: Structure, defect: Structure) -> np.ndarray:
    """Cartesian position (Å) in ``host`` of the O missing from ``defect`` (same lattice):
    the host O farthest from every O of the defect cell."""
    o_defect = np.array([s.frac_coords for s in defect if s.specie.symbol == "O"])
    o_host = [s for s in host if s.specie.symbol == "O"]
    gaps = [defect.lattice.get_all_distances([s.frac_coords], o_defect).min() for s in o_host]
    return o_host[int(np.argmax(gaps))].coords


def ti_nearest(structure: Structure, point_A: np.ndarray, n: int) -> list[int]:
    """Indices of the ``n`` Ti nearest the Cartesian point (periodic distances)."""
    frac = structure.lattice.get_fractional_coords(point_A)
    ti = [i for i, s in enumerate(structure) if s.specie.symbol == "Ti"]
    dist = [structure.lattice.get_distance_and_image(frac, structure[i].frac_coords)[0]
            for i in ti]
    return [ti[k] for k in np.argsort(dist)[:n]]


def with_moments(structure: Structure, ti_indices: list[int], moment_uB: float = 1.0
                 ) -> Structure:
    """``structure`` with ``magmom`` = ``moment_uB`` on ``ti_indices`` and 0 elsewhere."""
    cell = structure.copy()
    if "magmom" in cell.site_properties:
        cell.remove_site_property("magmom")
    cell.add_site_property("magmom", [moment_uB if i in ti_indices else 0.0
                                      for i in range(len(cell))])
    return cell


def plain(structure: Structure) -> Structure:
    """``structure`` without a ``magmom`` site property (a delocalised start)."""
    cell = structure.copy()
    if "magmom" in cell.site_properties:
        cell.remove_site_property("magmom")
    return cell


def seeded_ti(label: str, structure: Structure, host: Structure) -> list[int]:
    """The Ti given the added electrons: none in the host, the Ti nearest the inserted Li
    (the last site), the two Ti nearest the removed O."""
    if label == "host":
        return []
    if label == "li":
        return ti_nearest(structure, structure[-1].coords, 1)
    if label == "o_vacancy":
        return ti_nearest(structure, removed_o_position(host, structure), 2)
    raise InputError(f"label {label!r}: expected host, li or o_vacancy")


def localised_key(breathing_A: float) -> str:
    """Name of the localised start with the O pushed out ``breathing_A`` Å."""
    return f"localised {breathing_A:.3f} A"


def start_family(start: str) -> str:
    """``localised``, ``delocalised`` or ``reference``: a start's name without its amplitude."""
    return start.split()[0]


def starts(label: str, structure: Structure, host: Structure,
           breathing_A: Sequence[float] = BREATHING_SCAN_A) -> dict[str, Structure]:
    """The initial guesses of one cell: ``{"delocalised": ..., localised_key(d): ...}`` (the
    host has only the delocalised one), localised starts in the order of ``breathing_A``.

    ``delocalised``: the force-field geometry, no initial moment. Each localised start: the
    seeded polaron, i.e. the O around each seeded Ti (:func:`seeded_ti`) pushed out by one
    amplitude of ``breathing_A`` (:func:`~ssbflow.structures.polaron.breathing_distortion`)
    and 1 μB on those Ti; ``structure.properties["breathing_A"]`` says which. The localised
    energy along the breathing amplitude is a line relaxation of the polaron (the mode that
    holds it), so the lowest of them against the delocalised one says whether the electron
    localises. (A delocalised start at a distorted geometry reached the localised state,
    3e-5 eV apart: it told nothing new.)
    """
    chosen = seeded_ti(label, structure, host)
    out = {"delocalised": plain(structure)}
    if not chosen:
        return out
    for amplitude in breathing_A:
        distorted = (breathing_distortion(structure, chosen, amplitude) if amplitude
                     else structure)
        local = with_moments(distorted, chosen)
        # a new dict: Structure.copy() shares a non-empty properties dict with its source
        local.properties = {**local.properties, "breathing_A": float(amplitude)}
        out[localised_key(amplitude)] = local
    return out


def excess_electrons(label: str) -> int:
    """Electrons added to the Ti 3d band: 1 per inserted Li, 2 per neutral O vacancy."""
    return {"host": 0, "li": 1, "o_vacancy": 2}[label]


def dft_maker(engine_name: str, preset: str, u_ti_eV: float, multiplicity: int | None,
              pdos: bool = True, metal: bool = False,
              kpoint_length_A: float | None = None) -> Any:
    """The engine's spin-polarised DFT+U single-point maker (``cp2k`` or ``vasp``);
    ``metal``: smeared occupations (the bcc Li reference); ``kpoint_length_A``: a k-point
    grid of that length (Å) instead of the preset's (the references)."""
    from ssbflow.engines import get_engine

    engine = get_engine(engine_name, preset=preset)
    return engine.dft_plus_u_maker({"Ti": u_ti_eV} if u_ti_eV else {}, multiplicity,
                                   pdos=pdos, metal=metal, kpoint_length_A=kpoint_length_A)


def _moments_and_charges(engine: str, folder: Path, output: Any) -> dict[str, Any]:
    """Per-atom spin moments (μB) and net charges (e) of a finished run in ``folder``."""
    if engine == "cp2k":
        from ssbflow.analysis.charges import parse_cp2k_charges

        mulliken = parse_cp2k_charges(folder / "cp2k.out", "mulliken")
        try:
            hirshfeld = parse_cp2k_charges(folder / "cp2k.out", "hirshfeld").charges_e.tolist()
        except InputError:
            hirshfeld = None
        return {"symbols": mulliken.symbols,
                "moments_uB": (mulliken.spin_moments.tolist()
                               if mulliken.spin_moments is not None
                               else [0.0] * len(mulliken.symbols)),
                "mulliken_charges_e": mulliken.charges_e.tolist(),
                "hirshfeld_charges_e": hirshfeld}
    from ssbflow.analysis.charges import parse_vasp_moments

    structure = output.output.structure
    outcars = sorted(folder.glob("OUTCAR*"))
    if not outcars:
        raise InputError(f"folder {folder}: no OUTCAR of the VASP DFT+U run")
    moments, _ = parse_vasp_moments(outcars[-1])
    if moments is None or len(moments) != len(structure):
        raise InputError(f"outcar {outcars[-1]}: no per-site magnetization table "
                         "(expected LORBIT >= 10 and ISPIN = 2)")
    return {"symbols": [s.specie.symbol for s in structure],
            "moments_uB": moments.tolist(),
            "mulliken_charges_e": None, "hirshfeld_charges_e": None}


#: Files kept from each run (CP2K names; VASP: CHGCAR holds the spin density).
KEPT_FILES = {"cp2k": {"spin_density": "*SPIN_DENSITY*.cube", "pdos": "projected_dos/*.pdos"},
              "vasp": {"chgcar": "CHGCAR*"}}


@job(data="files")
def dft_plus_u_job(maker: Any, structure: Structure, label: str, start: str,
                   engine: str = "cp2k", prev_dir: str | None = None) -> Response:
    """Run ``maker``'s DFT+U single point here; output energy, per-atom moments and charges,
    the run folder (``dir_name``) and the packed spin-density cube and PDOS files (``data``
    store). ``prev_dir``: a run of the same atoms whose wavefunction starts this one."""
    from ssbflow.methods.electronic import pack_file

    response = maker.make.original(maker, structure, prev_dir)
    if not isinstance(response, Response):
        response = Response(output=response)
    task = response.output
    folder = Path.cwd()
    files = {}
    for role, pattern in KEPT_FILES[engine].items():
        for k, path in enumerate(sorted(folder.glob(pattern))):
            files[f"{role}_{k}"] = pack_file(path)
    magmom = structure.site_properties.get("magmom")
    output = {"label": label, "start": start, "energy_eV": float(task.output.energy),
              "breathing_A": structure.properties.get("breathing_A"),
              "dir_name": str(folder),
              "initial_moments_on": ([i for i, m in enumerate(magmom) if m] if magmom else []),
              "structure": structure.as_dict(), "files": files,
              **_moments_and_charges(engine, folder, task)}
    return Response(output=output, stored_data=response.stored_data,
                    stop_children=response.stop_children)


def make_dft_stage(cells: dict[str, Any], li: Any, li2o: Any, engine: str, preset: str,
                   u_ti_eV: float, breathing_A: Sequence[float] = BREATHING_SCAN_A
                   ) -> tuple[list, dict[str, Any]]:
    """The DFT+U jobs: ``cells`` maps host/li/o_vacancy to MLIP outputs (``{"structure"}``);
    ``breathing_A``: the amplitudes of the localised starts (:func:`starts`).

    Returns
    -------
    tuple
        (jobs, ``{label: [run outputs]}``) for :func:`dft_summary_job`.
    """
    jobs, runs = [], {}
    for label in ("host", "li", "o_vacancy"):
        plan = starts_job(cells[label]["structure"], cells["host"]["structure"], label,
                          list(breathing_A))
        plan.name = f"dft+u starts {label}"
        jobs.append(plan)
        mult = excess_electrons(label) + 1
        runs[label] = []
        first = None
        for start in (["delocalised"] if label == "host"
                      else ["delocalised", *map(localised_key, breathing_A)]):
            # the localised starts after the first one restart from its wavefunction: the
            # same state at a nearby geometry (6 OT steps instead of 34 on the fast cell + Li)
            prev = first.output["dir_name"] if first is not None and engine == "cp2k" else None
            run = dft_plus_u_job(dft_maker(engine, preset, u_ti_eV, mult), plan.output[start],
                                 label, start, engine, prev)
            run.name = f"dft+u {label} {start}"
            if start != "delocalised" and first is None:
                first = run
            jobs.append(run)
            runs[label].append(run.output)
    for label, doc, mult in (("Li", li, 1), ("Li2O", li2o, 1)):
        cell = reference_job(doc["structure"])
        cell.name = f"dft reference cell {label}"
        run = dft_plus_u_job(dft_maker(engine, preset, 0.0, mult, pdos=False,
                                       metal=label == "Li",
                                       kpoint_length_A=REFERENCE_KPOINT_LENGTH_A[label]),
                             cell.output,
                             label, "reference", engine)
        run.name = f"dft reference {label}"
        jobs += [cell, run]
        runs[label] = [run.output]
    o2 = dft_plus_u_job(dft_maker(engine, preset, 0.0, 3, pdos=False), o2_in_box(), "O2",
                        "reference", engine)
    o2.name = "dft reference O2"
    jobs.append(o2)
    runs["O2"] = [o2.output]
    return jobs, runs


@job
def starts_job(structure: Structure | dict, host: Structure | dict, label: str,
               breathing_A: Sequence[float] = BREATHING_SCAN_A) -> dict[str, Structure]:
    """The initial guesses of one relaxed cell (see :func:`starts`)."""
    return starts(label, as_structure(structure), as_structure(host), breathing_A)


@job
def reference_job(structure: Structure | dict) -> Structure:
    """The relaxed cell of a reference phase, without the force field's moments."""
    cell = as_structure(structure).copy()
    if "magmom" in cell.site_properties:
        cell.remove_site_property("magmom")
    return cell
