"""Molecular DFT with PySCF: frontier orbitals and vertical IP/EA of a molecule by ΔSCF.

Why PySCF and not CP2K for isolated molecules (measured on acetonitrile, 6 atoms, one core,
load ~5): PySCF B3LYP/def2-SVP neutral SCF 3.9 s, cation + anion 24 s, IP 12.21 eV
(experiment 12.20 eV vertical), HOMO −9.04 eV; CP2K (Debian) PBE/DZVP-MOLOPT-GTH, 12 Å
box, MT Poisson, 400 Ry: neutral SCF 125 s, cation 522 s (load 5–9), IP 12.06 eV, HOMO
−8.04 eV. A Gaussian-basis code needs no box, no Poisson solver for
the charged states, and gives the hybrid functional at the cost of CP2K's GGA.

:func:`frontier_orbitals` runs a restricted Kohn–Sham SCF of the neutral molecule (HOMO,
LUMO, gap from its eigenvalues) and unrestricted SCFs of the cation and the anion at the same
geometry (vertical IP = E(N−1) − E(N), EA = E(N) − E(N+1)).
"""

from __future__ import annotations

import time
from typing import Any

from pymatgen.core import Molecule

from ssbflow.errors import EngineUnavailableError, SsbflowError

#: Method of the frontier-orbital numbers (recorded with every result).
DEFAULT_XC = "B3LYP"
DEFAULT_BASIS = "def2-SVP"
#: Most atoms a frontier-orbital calculation takes (seconds to a minute at ~20 atoms).
MAX_ATOMS = 60


def _scf(mol: Molecule, charge: int, xc: str, basis: str, max_memory_MB: int) -> tuple[Any, float]:
    """Converged KS SCF (RKS closed shell, UKS otherwise) of ``mol`` with ``charge``."""
    try:
        from pyscf import dft, gto
    except ImportError as exc:  # a dependency; a broken install gives one line
        raise EngineUnavailableError("PySCF is not installed: pip install pyscf") from exc
    n_electrons = sum(site.specie.Z for site in mol) - charge
    spin = n_electrons % 2
    atoms = [(site.specie.symbol, tuple(site.coords)) for site in mol]
    m = gto.M(atom=atoms, basis=basis, charge=charge, spin=spin, unit="Angstrom", verbose=0,
              max_memory=max_memory_MB)
    # density fitting (def2-universal-jkfit): dimethyl carbonate IP 10.811 eV with and
    # without it; 168 s instead of 258 s for the three SCFs (one core, load 9-14)
    mf = (dft.RKS(m) if spin == 0 else dft.UKS(m)).density_fit()
    mf.xc = xc
    mf.conv_tol = 1e-8
    energy = mf.kernel()
    if not mf.converged:
        mf = mf.newton()  # second-order SCF when DIIS does not converge
        energy = mf.kernel()
    if not mf.converged:
        raise SsbflowError(f"PySCF {xc}/{basis} SCF of charge {charge:+d} did not converge")
    return mf, float(energy)


def frontier_orbitals(molecule: Molecule, xc: str = DEFAULT_XC, basis: str = DEFAULT_BASIS,
                      max_memory_MB: int = 2000) -> dict[str, Any]:
    """HOMO, LUMO, gap (eV) and vertical ΔSCF IP and EA (eV) of a neutral molecule.

    Returns
    -------
    dict
        ``homo_eV``, ``lumo_eV``, ``gap_eV``, ``ip_eV``, ``ea_eV``, ``energy_eV`` (neutral
        total energy), ``method`` (code, functional, basis, ΔSCF), ``seconds`` (wall) and
        ``cpu_seconds`` (this process: the cost without the machine's other load).
    """
    from pyscf.data.nist import HARTREE2EV

    if len(molecule) > MAX_ATOMS:
        raise SsbflowError(f"frontier orbitals: {len(molecule)} atoms; at most {MAX_ATOMS}")
    import numpy as np

    start, cpu_start = time.perf_counter(), time.process_time()
    neutral = molecule.copy()
    neutral.set_charge_and_spin(0)
    mf, e0 = _scf(neutral, 0, xc, basis, max_memory_MB)
    occupied = np.asarray(mf.mo_occ) > 0
    energies = np.asarray(mf.mo_energy)
    if energies.ndim == 2:  # open-shell neutral (UKS): highest occupied / lowest virtual
        occupied, energies = occupied.ravel(), energies.ravel()
    homo = float(energies[occupied].max()) * HARTREE2EV
    lumo = float(energies[~occupied].min()) * HARTREE2EV
    _, e_cation = _scf(neutral, 1, xc, basis, max_memory_MB)
    _, e_anion = _scf(neutral, -1, xc, basis, max_memory_MB)
    return {
        "homo_eV": homo, "lumo_eV": lumo, "gap_eV": lumo - homo,
        "ip_eV": (e_cation - e0) * HARTREE2EV, "ea_eV": (e0 - e_anion) * HARTREE2EV,
        "energy_eV": e0 * HARTREE2EV,
        "method": {"code": "PySCF", "xc": xc, "basis": basis,
                   "density_fitting": "def2-universal-jkfit",
                   "ip_ea": "vertical ΔSCF (UKS ions at the neutral geometry)"},
        "seconds": round(time.perf_counter() - start, 2),
        "cpu_seconds": round(time.process_time() - cpu_start, 2),
    }
