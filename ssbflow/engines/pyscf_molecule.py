"""Molecular DFT with PySCF: frontier orbitals and vertical IP/EA of a molecule by ΔSCF.

Why PySCF and not CP2K for isolated molecules (measured on acetonitrile, 6 atoms, one core,
load ~5): PySCF B3LYP/def2-SVP neutral SCF 3.9 s, cation + anion 24 s, IP 12.21 eV
(experiment 12.20 eV vertical), HOMO −9.04 eV; CP2K (Debian) PBE/DZVP-MOLOPT-GTH, 12 Å
box, MT Poisson, 400 Ry: neutral SCF 125 s, cation 522 s (load 5–9), IP 12.06 eV, HOMO
−8.04 eV. A Gaussian-basis code needs no box, no Poisson solver for
the charged states, and gives the hybrid functional at the cost of CP2K's GGA.

:func:`frontier_orbitals` runs a Kohn–Sham SCF of the molecule at its own charge q (neutral,
or an ion given by a charged SMILES; HOMO, LUMO, gap from its eigenvalues) and unrestricted
SCFs of charges q+1 and q−1 at the same geometry (vertical IP = E(q+1) − E(q),
EA = E(q) − E(q−1)). Elements beyond Kr get the def2 effective core potential.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from pymatgen.core import Molecule

from ssbflow.errors import EngineUnavailableError, SsbflowError

#: Method of the frontier-orbital numbers (recorded with every result).
DEFAULT_XC = "B3LYP"
DEFAULT_BASIS = "def2-SVP"
#: Most atoms a frontier-orbital calculation takes (seconds to a minute at ~20 atoms).
MAX_ATOMS = 60


#: Heaviest element a def2 basis describes with all electrons (Kr); from Rb on, def2 bases
#: are valence-only and need the def2 effective core potential.
LAST_ALL_ELECTRON_Z = 36


def build_mole(mol: Molecule, charge: int, basis: str = DEFAULT_BASIS,
               max_memory_MB: int = 2000):
    """PySCF ``Mole`` of ``mol`` with total ``charge`` (spin from the electron count's
    parity); with a def2 basis, the def2 ECP on every element beyond Kr (Z > 36)."""
    try:
        from pyscf import gto
    except ImportError as exc:  # a dependency; a broken install gives one line
        raise EngineUnavailableError("PySCF is not installed: pip install pyscf") from exc
    n_electrons = sum(site.specie.Z for site in mol) - charge
    atoms = [(site.specie.symbol, tuple(site.coords)) for site in mol]
    heavy = sorted({site.specie.symbol for site in mol if site.specie.Z > LAST_ALL_ELECTRON_Z})
    ecp = {el: basis for el in heavy} if heavy and basis.lower().startswith("def2") else {}
    return gto.M(atom=atoms, basis=basis, ecp=ecp, charge=charge, spin=n_electrons % 2,
                 unit="Angstrom", verbose=0, max_memory=max_memory_MB)


@contextlib.contextmanager
def scratch_in(folder: str | Path):
    """PySCF's temporary files (SCF chkfile, out-of-core DF integrals) in ``folder``, the
    job's own folder, instead of $TMPDIR (left there when a job is killed)."""
    from pyscf import lib

    previous = lib.param.TMPDIR
    lib.param.TMPDIR = str(folder)
    try:
        yield
    finally:
        lib.param.TMPDIR = previous


def _scf(mol: Molecule, charge: int, xc: str, basis: str, max_memory_MB: int,
         scratch_dir: str | Path = ".") -> tuple[Any, float]:
    """Converged KS SCF (RKS closed shell, UKS otherwise) of ``mol`` with ``charge``; no
    chkfile, scratch files in ``scratch_dir``."""
    from pyscf import dft

    m = build_mole(mol, charge, basis, max_memory_MB)
    with scratch_in(Path(scratch_dir).absolute()):
        # density fitting (def2-universal-jkfit): dimethyl carbonate IP 10.811 eV with and
        # without it; 168 s instead of 258 s for the three SCFs (one core, load 9-14)
        mf = (dft.RKS(m) if m.spin == 0 else dft.UKS(m)).density_fit()
        mf.chkfile = None
        mf.xc = xc
        mf.conv_tol = 1e-8
        energy = mf.kernel()
        if not mf.converged:
            mf = mf.newton()  # second-order SCF when DIIS does not converge
            mf.chkfile = None
            energy = mf.kernel()
    if not mf.converged:
        raise SsbflowError(f"PySCF {xc}/{basis} SCF of charge {charge:+d} did not converge")
    return mf, float(energy)


def frontier_orbitals(molecule: Molecule, xc: str = DEFAULT_XC, basis: str = DEFAULT_BASIS,
                      max_memory_MB: int = 2000,
                      scratch_dir: str | Path = ".") -> dict[str, Any]:
    """HOMO, LUMO, gap (eV) and vertical ΔSCF IP and EA (eV) of a molecule of charge
    ``q = molecule.charge`` (0 for a neutral one, -1 for an anion such as TFSI⁻).

    IP = E(q+1) − E(q) and EA = E(q) − E(q−1), all at the given geometry; the spin of each
    state is the lowest its electron count allows (singlet or doublet). PySCF's scratch
    files go to ``scratch_dir`` (the job's folder), no chkfile is written.

    Returns
    -------
    dict
        ``homo_eV``, ``lumo_eV``, ``gap_eV``, ``ip_eV``, ``ea_eV``, ``energy_eV`` (total
        energy at charge q), ``charge`` (q), ``method`` (code, functional, basis, ΔSCF; the
        ECP when an element beyond Kr is present), ``seconds`` (wall) and ``cpu_seconds``
        (this process: the cost without the machine's other load).
    """
    from pyscf.data.nist import HARTREE2EV

    if len(molecule) > MAX_ATOMS:
        raise SsbflowError(f"frontier orbitals: {len(molecule)} atoms; at most {MAX_ATOMS}")
    import numpy as np

    start, cpu_start = time.perf_counter(), time.process_time()
    charge = round(molecule.charge)
    mf, e0 = _scf(molecule, charge, xc, basis, max_memory_MB, scratch_dir)
    occupied = np.asarray(mf.mo_occ) > 0
    energies = np.asarray(mf.mo_energy)
    if energies.ndim == 2:  # open-shell species (UKS): highest occupied / lowest virtual
        occupied, energies = occupied.ravel(), energies.ravel()
    homo = float(energies[occupied].max()) * HARTREE2EV
    lumo = float(energies[~occupied].min()) * HARTREE2EV
    _, e_oxidised = _scf(molecule, charge + 1, xc, basis, max_memory_MB, scratch_dir)
    _, e_reduced = _scf(molecule, charge - 1, xc, basis, max_memory_MB, scratch_dir)
    method = {"code": "PySCF", "xc": xc, "basis": basis,
              "density_fitting": "def2-universal-jkfit",
              "ip_ea": "vertical ΔSCF (UKS ions at the neutral geometry)"}
    if charge:
        method["ip_ea"] = (f"vertical ΔSCF (UKS charges {charge + 1:+d}, {charge - 1:+d} at "
                           f"the geometry of charge {charge:+d})")
    if any(site.specie.Z > LAST_ALL_ELECTRON_Z for site in molecule):
        method["ecp"] = f"{basis} ECP beyond Kr"
    return {
        "homo_eV": homo, "lumo_eV": lumo, "gap_eV": lumo - homo,
        "ip_eV": (e_oxidised - e0) * HARTREE2EV, "ea_eV": (e0 - e_reduced) * HARTREE2EV,
        "energy_eV": e0 * HARTREE2EV, "charge": charge, "method": method,
        "seconds": round(time.perf_counter() - start, 2),
        "cpu_seconds": round(time.process_time() - cpu_start, 2),
    }
