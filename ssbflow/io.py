"""Writing files users open: structures (CIF, POSCAR, extended XYZ, XYZ), JSON and tables."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from monty.json import MontyEncoder
from pymatgen.core import Molecule, Structure
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.io.cif import CifWriter
from pymatgen.io.vasp import Poscar

from ssbflow.errors import InputError

#: Padding (Å) around a molecule written to a periodic format (CIF, POSCAR).
MOLECULE_BOX_PADDING_A = 15.0


def as_structure(value: Structure | dict[str, Any]) -> Structure:
    """A ``Structure`` from a job output: the store's decoder gives Structures back, a plain
    ``as_dict()`` (a job's own output before storage, tests) is decoded here."""
    return value if isinstance(value, Structure) else Structure.from_dict(value)


def structure_format(path: str | Path) -> str:
    """The output format implied by a file name: ``cif``, ``poscar``, ``extxyz`` or ``xyz``."""
    name = Path(path).name
    lower = name.lower()
    if lower.endswith(".cif"):
        return "cif"
    if lower.endswith(".vasp") or lower.startswith(("poscar", "contcar")):
        return "poscar"
    if lower.endswith(".extxyz"):
        return "extxyz"
    if lower.endswith(".xyz"):
        return "xyz"
    raise InputError(
        f"output file {str(path)!r}: unknown format; expected .cif, .vasp, POSCAR, .extxyz or .xyz"
    )


def check_writable(path: str | Path) -> Path:
    """Return ``path`` if a file can be written there, else raise ``InputError``."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"output path {str(path)!r} is a directory; expected a file name")
    if not parent.is_dir():
        raise InputError(f"output path {str(path)!r}: directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"output path {str(path)!r} is not writable")
    return path


def write_structure(obj: Structure | Molecule, path: str | Path) -> Path:
    """Write a structure or molecule; the format comes from the file name.

    Molecules written to CIF or POSCAR are put in a cubic box with
    ``MOLECULE_BOX_PADDING_A`` of vacuum. POSCAR keeps selective dynamics when the sites
    carry them; extended XYZ keeps them as ASE constraints (``move_mask``), and keeps
    oxidation states only when every site has one (see ``_normalised``). Periodic structures
    written to ``.xyz`` get an extended-XYZ comment line so that the cell is not lost.
    """
    fmt = structure_format(path)
    path = check_writable(path)
    obj = _normalised(obj)
    if fmt in ("cif", "poscar") and isinstance(obj, Molecule):
        extent = obj.cart_coords.max(axis=0) - obj.cart_coords.min(axis=0)
        side = float(extent.max()) + MOLECULE_BOX_PADDING_A
        obj = obj.get_boxed_structure(side, side, side)
    if fmt == "cif":
        # CifWriter warns (on stderr, for every CLI build) when site labels repeat, as
        # they do after supercells and slabs; suffix the repeats instead
        CifWriter(obj.relabel_sites(ignore_uniq=True)).write_file(path)
    elif fmt == "poscar":
        Poscar(obj, sort_structure=False).write_file(path)
    else:
        from ase.io import write

        # a plain XYZ comment line has no cell: periodic structures get the extended-XYZ
        # comment line (cell, pbc), which plain XYZ readers skip
        if fmt == "xyz" and isinstance(obj, Structure):
            fmt = "extxyz"
        write(path, AseAtomsAdaptor.get_atoms(obj), format=fmt)
    return path


def write_structures(structures: dict[str, Structure | dict[str, Any]],
                     folder: str | Path) -> list[Path]:
    """Write each structure of ``structures`` (name -> structure or its dictionary) into
    ``folder`` as ``<name>.cif`` (for viewers) and ``<name>.json`` (pymatgen's dictionary:
    lossless, with site properties); returns the CIF paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, value in structures.items():
        structure = as_structure(value)
        write_json(folder / f"{name}.json", structure.as_dict())
        paths.append(write_structure(structure, folder / f"{name}.cif"))
    return paths


def _normalised(obj: Structure | Molecule) -> Structure | Molecule:
    """A copy of ``obj`` without partly missing site data, which the writers choke on.

    ASE stores each site property as one extended-XYZ column; a column whose entries are
    partly missing (``None``) is written as text, which ``ase.io.read`` returns as strings
    and ``AseAtomsAdaptor.get_structure`` then fails on; pymatgen's ``Poscar`` fails on
    sites without ``selective_dynamics``. So:

    - oxidation states are kept only when every site has one (otherwise all are removed);
    - sites without ``selective_dynamics`` count as free to move (ASE constraints then
      keep the fixed atoms);
    - any other site property that some sites lack is dropped.
    """
    obj = obj.copy()
    decorated = [getattr(site.specie, "oxi_state", None) is not None for site in obj]
    if any(decorated) and not all(decorated):
        obj.remove_oxidation_states()
    for name, values in obj.site_properties.items():
        if not any(v is None for v in values):
            continue
        if name == "selective_dynamics":
            obj.add_site_property(name, [[True] * 3 if v is None else v for v in values])
        else:
            obj.remove_site_property(name)
    return obj


# --------------------------------------------------------------------------------------------
# Reports: the one JSON writer and the one table writer of the package
# --------------------------------------------------------------------------------------------


def json_ready(value: Any) -> Any:
    """JSON-ready copy: numpy scalars/arrays to Python, non-finite floats to None (recursive)."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(obj: Any, indent: int | None = None) -> str:
    """``obj`` as JSON text (see :func:`json_ready`; monty objects through MontyEncoder)."""
    return json.dumps(json_ready(obj), indent=indent, cls=MontyEncoder)


def write_json(path: str | Path, obj: Any, indent: int = 1) -> Path:
    """Write ``obj`` as JSON atomically (a killed writer leaves the old file, never half).

    numpy values become Python numbers, NaN/inf become ``null``; pymatgen/monty objects are
    written through :class:`monty.json.MontyEncoder`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(to_json(obj, indent=indent))
    os.replace(tmp, path)
    return path


def _cell(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def write_table(
    rows: list[dict[str, Any]],
    csv_path: str | Path | None = None,
    title: str | None = None,
    digits: int = 4,
) -> str:
    """Write ``rows`` (one dict each, same keys) as CSV and return them as a Markdown table.

    Parameters
    ----------
    rows : the table; the first row's keys are the columns.
    csv_path : where the CSV goes (not written when None).
    title : a ``### title`` line above the Markdown table.
    digits : significant digits of floats in the Markdown table (the CSV keeps all).
    """
    import pandas as pd

    head = f"### {title}\n\n" if title else ""
    if not rows:
        return head + "(no rows)\n"
    frame = pd.DataFrame([json_ready(r) for r in rows], columns=list(rows[0]))
    if csv_path is not None:
        Path(csv_path).parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(csv_path, index=False)
    keys = [str(k) for k in frame.columns]
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for record in frame.astype(object).where(frame.notna(), None).to_dict("records"):
        lines.append("| " + " | ".join(_cell(record[k], digits) for k in keys) + " |")
    return head + "\n".join(lines) + "\n"
