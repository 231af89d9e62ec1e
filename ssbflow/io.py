"""Writing structures to the formats users open (CIF, POSCAR, extended XYZ, XYZ)."""

from __future__ import annotations

import os
from pathlib import Path

from pymatgen.core import Molecule, Structure
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.io.cif import CifWriter
from pymatgen.io.vasp import Poscar

from ssbflow.errors import InputError

#: Padding (Å) around a molecule written to a periodic format (CIF, POSCAR).
MOLECULE_BOX_PADDING_A = 15.0


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
