"""The electronic stage of an adsorption study: three single points and one analysis job.

:func:`electronic_single_point` runs the engine's single point (AB, A = slab or B = molecule,
frozen at their AB positions in the identical cell) in its own job folder and passes on the
files the analysis reads (volumetric files and the main output, gzip-compressed, in the
``data`` store): no job reads another job's folder, so the jobs may run on separate workers.
:func:`analyse_electronic` writes those files into its own folder and runs the analyses of
:mod:`ssbflow.analysis` (charge density difference, ELF of AB and A and their difference,
work functions of the slab and of AB on both faces, V_vac − ε_HOMO of the molecule, charges
of the surface La and the molecule's anchor-element atoms);
the report files it makes (cube/CHGCAR of Δρ, PNGs, CSVs) go to the ``data`` store too, and
the study's report writer copies them into the report folder (:func:`unpack_files`).
"""

from __future__ import annotations

import base64
import gzip
from pathlib import Path
from typing import Any

import numpy as np
from jobflow import Maker, Response, job
from pymatgen.core import Structure

from ssbflow.errors import SsbflowError

#: The files each single point passes on to the analysis, by fragment.
KINDS_BY_FRAGMENT: dict[str, tuple[str, ...]] = {
    "ab": ("density", "elf", "potential", "output"),
    "slab": ("density", "elf", "potential", "output"),
    "molecule": ("density", "potential", "output"),
}

#: Glob patterns of each file kind, by engine (CP2K names: PROJECT-ELECTRON_DENSITY-1_0.cube,
#: PROJECT-ELF_S1-1_0.cube, PROJECT-v_hartree-1_0.cube; VASP: CHGCAR, ELFCAR, LOCPOT).
FILE_PATTERNS: dict[str, dict[str, tuple[str, ...]]] = {
    "cp2k": {
        "density": ("*ELECTRON_DENSITY*.cube", "*ELECTRON_DENSITY*.cube.gz"),
        "elf": ("*ELF*.cube", "*ELF*.cube.gz"),
        "potential": ("*hartree*.cube", "*HARTREE*.cube", "*hartree*.cube.gz"),
        "output": ("cp2k.out", "cp2k.out.gz"),
    },
    "vasp": {
        "density": ("CHGCAR", "CHGCAR.gz"),
        "elf": ("ELFCAR", "ELFCAR.gz"),
        "potential": ("LOCPOT", "LOCPOT.gz"),
        "output": ("vasprun.xml", "vasprun.xml.gz", "OUTCAR", "OUTCAR.gz"),
    },
}


def find_file(folder: str | Path, engine: str, kind: str) -> Path:
    """The file of ``kind`` (density, elf, potential, output) in an engine's run folder."""
    folder = Path(str(folder).split(":", 1)[-1])  # atomate2 dir_name may be "host:/path"
    for pattern in FILE_PATTERNS[engine][kind]:
        hits = sorted(folder.glob(pattern))
        if hits:
            return hits[-1]
    raise SsbflowError(f"no {kind} file ({', '.join(FILE_PATTERNS[engine][kind])}) in {folder}")


def pack_file(path: str | Path) -> dict[str, str]:
    """A file as ``{"name", "gzip_base64"}`` (its bytes, gzip-compressed, base64 text)."""
    path = Path(path)
    raw = gzip.compress(path.read_bytes(), compresslevel=1, mtime=0)
    return {"name": path.name, "gzip_base64": base64.b64encode(raw).decode("ascii")}


def unpack_files(packed: dict[str, dict[str, str]], folder: str | Path) -> dict[str, Path]:
    """Write files packed by :func:`pack_file` into ``folder`` (created); role -> path.

    The bytes and the name of each file are the original ones.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for role, item in packed.items():
        name = Path(item["name"])
        if name.is_absolute() or ".." in name.parts:
            raise SsbflowError(f"packed file {role!r}: unsafe name {item['name']!r}")
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.decompress(base64.b64decode(item["gzip_base64"])))
        paths[role] = path
    return paths


@job(data="files")
def electronic_single_point(
    maker: Maker, structure: Structure, engine: str, kinds: list[str]
) -> Response:
    """Run ``maker``'s single point here and pass on the files of ``kinds``.

    Parameters
    ----------
    maker : the engine's electronic maker (``Engine.electronic_maker``); its job function
        runs in this job's folder.
    structure : the frozen fragment.
    engine : ``cp2k`` or ``vasp`` (decides the file names, see :data:`FILE_PATTERNS`).
    kinds : file kinds to pass on (density, elf, potential, output).

    Returns
    -------
    Response
        Output ``{"task": task document, "files": {kind: packed file}}``; ``files`` goes to
        the ``data`` store. A non-converged run stops the children as atomate2 does.
    """
    # the maker's own job function, run inside this job (same folder, same custodian run)
    response = maker.make.original(maker, structure)
    if not isinstance(response, Response):
        response = Response(output=response)
    files = {kind: pack_file(find_file(Path.cwd(), engine, kind)) for kind in kinds}
    return Response(output={"task": response.output, "files": files},
                    stored_data=response.stored_data, stop_children=response.stop_children)


def _anchor_atoms(structure: Structure, n_slab: int, site: int, anchor: str) -> tuple[int, int]:
    """The anchor atom of the molecule nearest to ``site`` and its nearest molecule neighbour."""
    mol = [i for i in range(n_slab, len(structure)) if structure[i].specie.symbol == anchor]
    if not mol:
        raise SsbflowError(f"the molecule has no {anchor} atom")
    n_idx = min(mol, key=lambda i: structure.get_distance(site, i))
    others = [i for i in range(n_slab, len(structure)) if i != n_idx]
    neighbour = min(others, key=lambda i: structure.get_distance(n_idx, i))
    return n_idx, neighbour


#: Slab atoms of the site's element within this height (Å) of the site are surface atoms.
SURFACE_LAYER_A = 1.0


def charged_atoms(structure: Structure, n_slab: int, site: int, anchor: str) -> list[int]:
    """AB indices whose charges are reported: the surface layer of the site's element (the
    slab atoms of that element within :data:`SURFACE_LAYER_A` of the site's height along the
    surface normal) and every ``anchor`` atom of the molecule (e.g. all La of the top layer
    and both nitrile N)."""
    matrix = structure.lattice.matrix
    normal = np.cross(matrix[0], matrix[1])
    normal /= np.linalg.norm(normal)
    heights = structure.cart_coords @ normal
    element = structure[site].specie.symbol
    surface = [i for i in range(n_slab) if structure[i].specie.symbol == element
               and abs(heights[i] - heights[site]) <= SURFACE_LAYER_A]
    molecule = [i for i in range(n_slab, len(structure)) if structure[i].specie.symbol == anchor]
    return sorted(set(surface) | {site}) + molecule


def _charges(engine: str, folders: dict[str, Path], atoms: list[int]) -> dict[str, Any]:
    """Bader, Hirshfeld and Mulliken charges of ``atoms`` in AB and in their fragments (CP2K).

    Bader from the density cubes (valence density; charges with the GTH valence counts read
    from the AB output), Hirshfeld and Mulliken from the outputs.
    """
    from ssbflow.analysis.charges import (
        bader_charges,
        charge_changes,
        parse_cp2k_charges,
        parse_cp2k_valence_electrons,
    )

    if engine != "cp2k":
        return {"note": "charges for VASP need Bader: `ssbflow analyze charges` with CHGCAR"}
    out: dict[str, Any] = {}
    outputs = {k: find_file(folders[k], engine, "output") for k in folders}
    valence = parse_cp2k_valence_electrons(outputs["ab"])
    bader = {k: bader_charges(find_file(folders[k], engine, "density"), valence)
             for k in folders}
    out["bader"] = charge_changes(bader["ab"], [bader["slab"], bader["molecule"]],
                                  atoms=atoms).rows()
    out["bader_note"] = (
        "Bader partition of the CP2K valence (GTH) density cube, charge = valence count "
        f"{ {k: v for k, v in sorted(valence.items())} } − population; net charge of AB "
        f"{bader['ab'].total_e:+.3f} e (cube sampling). See "
        "ssbflow.analysis.charges.bader_charges for the method (Henkelman's program when "
        "installed, else on-grid steepest ascent with a model core)")
    for method in ("hirshfeld", "mulliken"):
        combined = parse_cp2k_charges(outputs["ab"], method=method)
        refs = [parse_cp2k_charges(outputs[k], method=method) for k in ("slab", "molecule")]
        change = charge_changes(combined, refs, atoms=atoms)
        out[method] = change.rows()
    return out


@job(data="report_files")
def analyse_electronic(
    engine: str,
    files_ab: dict[str, dict[str, str]],
    files_slab: dict[str, dict[str, str]],
    files_molecule: dict[str, dict[str, str]],
    structure_ab: Structure,
    n_atoms_slab: int,
    site_index: int,
    anchor: str,
    energies_eV: dict[str, float] | None = None,
) -> dict[str, Any]:
    """CDD, ELF, work functions and charges of an adsorption geometry.

    Parameters
    ----------
    engine : ``cp2k`` or ``vasp`` (decides file names).
    files_ab, files_slab, files_molecule : the files passed on by the three single points
        (:func:`electronic_single_point`).
    structure_ab : the adsorption geometry (slab atoms first).
    n_atoms_slab : number of slab atoms at the start of ``structure_ab``.
    site_index : the surface atom the molecule is anchored on (e.g. La).
    anchor : element of the molecule's anchoring atom (e.g. N).
    energies_eV : total energies of the three single points (keys ab, slab, molecule);
        gives the DFT interaction energy of the frozen fragments (no counterpoise correction).

    Returns
    -------
    dict
        Numbers with units in the keys, ``files`` (role -> file name) and ``report_files``
        (file name -> packed file, in the ``data`` store) for the report folder.
    """
    from ssbflow.analysis.cdd import (
        charge_density_difference,
        plot_cdd_profile,
        plot_cdd_slice,
        write_cdd,
    )
    from ssbflow.analysis.elf import (
        analyze_elf,
        elf_slice_difference,
        plot_elf_difference,
        write_elf_plots,
    )
    from ssbflow.analysis.workfunction import (
        molecular_vacuum_gap,
        plot_work_function,
        work_function,
    )

    # everything is written in this job's folder: the inputs under ab/, slab/, molecule/
    # and the report files under report/
    here = Path.cwd()
    packed = {"ab": files_ab, "slab": files_slab, "molecule": files_molecule}
    folders = {key: here / key for key in packed}
    for key, files in packed.items():
        unpack_files(files, folders[key])
    out = here / "report"
    out.mkdir(parents=True, exist_ok=True)
    n_idx, neighbour = _anchor_atoms(structure_ab, n_atoms_slab, site_index, anchor)
    plane = (site_index, n_idx, neighbour)
    files: dict[str, str] = {}

    # charge density difference: slab atoms first in AB, molecule after
    cdd = charge_density_difference(
        find_file(folders["ab"], engine, "density"),
        find_file(folders["slab"], engine, "density"),
        find_file(folders["molecule"], engine, "density"),
        axis=2,
        slab_indices=list(range(n_atoms_slab)),
        molecule_indices=list(range(n_atoms_slab, len(structure_ab))),
    )
    files.update({f"cdd_{k}": v for k, v in write_cdd(cdd, out).items()})
    files["cdd_profile.png"] = str(plot_cdd_profile(cdd, out))
    files["cdd_slice.png"] = str(plot_cdd_slice(cdd, plane, out))

    # ELF of AB (plane La–N–C, line La → N) and of the bare slab, and their difference
    elf_ab = analyze_elf(
        find_file(folders["ab"], engine, "elf"), plane=plane, line=(site_index, n_idx)
    )
    files.update({f"elf_ab_{k}": v for k, v in write_elf_plots(elf_ab, out, "elf_ab").items()})
    elf_slab_file = find_file(folders["slab"], engine, "elf")
    elf_slab = analyze_elf(elf_slab_file)
    elf_diff_ok = True
    # the slab file lacks the molecule atoms: define the same plane by La and its normal
    coords = structure_ab.cart_coords
    normal = np.cross(coords[n_idx] - coords[site_index], coords[neighbour] - coords[site_index])
    try:
        diff = elf_slice_difference(
            find_file(folders["ab"], engine, "elf"),
            elf_slab_file,
            center_atom=site_index,
            normal=tuple(normal),
        )
        files["elf_difference.png"] = str(plot_elf_difference(diff, out / "elf_difference.png"))
    except ValueError:  # grids differ (e.g. other FFT grids): no difference map
        elf_diff_ok = False

    # work function of the slab (dipole corrected: both sides) and V_vac − HOMO of the molecule
    wf = work_function(
        find_file(folders["slab"], engine, "potential"),
        output=find_file(folders["slab"], engine, "output"),
    )
    files["workfunction_slab.png"] = str(plot_work_function(wf, out, "workfunction_slab"))
    # the same for AB: the molecule sits on the top face, so "top" is the SN-covered face
    try:
        wf_ab = work_function(
            find_file(folders["ab"], engine, "potential"),
            output=find_file(folders["ab"], engine, "output"),
        )
        files["workfunction_ab.png"] = str(plot_work_function(wf_ab, out, "workfunction_ab"))
        ab_result = wf_ab.summary()
    except (ValueError, SsbflowError) as exc:  # e.g. no vacuum plateau above the molecule
        ab_result = {"error": str(exc)}
    mol_result: dict[str, Any] = {}
    try:
        mol = molecular_vacuum_gap(
            find_file(folders["molecule"], engine, "potential"),
            find_file(folders["molecule"], engine, "output"),
        )
        files["potential_molecule.png"] = str(plot_work_function(mol, out, "potential_molecule"))
        mol_result = mol.summary()
    except (ValueError, SsbflowError) as exc:
        mol_result = {"error": str(exc)}

    charges = _charges(engine, folders,
                       charged_atoms(structure_ab, n_atoms_slab, site_index, anchor))
    wf_summary = wf.summary()
    interaction = None
    if energies_eV:
        interaction = float(energies_eV["ab"] - energies_eV["slab"] - energies_eV["molecule"])
    return {
        "engine": engine,
        "dft_interaction_energy_eV": interaction,
        "dft_interaction_note": "E(AB) - E(A) - E(B) at the frozen AB geometry, same cell; "
        "no counterpoise (BSSE) correction",
        "cdd_integral_e": cdd.integral_e,
        "transferred_charge_e": cdd.transferred_charge_e,
        "gap_charge_e": cdd.gap_charge_e,
        "gap_A": list(cdd.gap_A),
        "max_accumulation_e_per_A3": cdd.max_accumulation_e_per_A3,
        "max_depletion_e_per_A3": cdd.max_depletion_e_per_A3,
        "elf_ab_min": elf_ab.min,
        "elf_ab_max": elf_ab.max,
        "elf_slab_min": elf_slab.min,
        "elf_slab_max": elf_slab.max,
        "elf_difference_plotted": elf_diff_ok,
        "elf_la_n_profile": (
            {"distance_A": elf_ab.line.distance_A.tolist(), "elf": elf_ab.line.values.tolist()}
            if elf_ab.line is not None
            else None
        ),
        "work_function_slab_eV": wf.work_function_eV,
        "work_function_slab": wf_summary,
        "work_function_ab": ab_result,
        "work_function_note": (
            "Φ = V_vac − E_F, E_F = CP2K's E(Fermi); for these insulating cells (no "
            "smearing) that is the highest occupied level, so Φ is VBM(HOMO)-referenced; "
            "top = the face the molecule sits on, bottom = the far face (dipole corrected)"),
        "molecule_vacuum_minus_homo_eV": mol_result.get("vacuum_minus_homo_eV"),
        "molecule_potential": mol_result,
        "anchor_atoms": {"site": site_index, "anchor": n_idx, "neighbour": neighbour},
        "charges": charges,
        "files": {role: str(Path(path).relative_to(out)) for role, path in files.items()},
        "report_files": {str(Path(path).relative_to(out)): pack_file(path)
                         for path in files.values()},
    }
