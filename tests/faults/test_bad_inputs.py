"""Malformed inputs across the commands: each gives exit code 2 (or 1), exactly one line on
stderr without a traceback, writes nothing in the working folder, and leaves the store
folder byte-identical.

The cases run in-process through :func:`ssbflow.cli.main` (cheap); only the unreachable
MongoDB case runs in a real process (its time limit is the point).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ssbflow.cli import main
from tests.faults.conftest import tree_hash

ROOT = Path(__file__).resolve().parents[2]


def _cube_text(folder: Path) -> str:
    from ase import Atoms
    from ase.io.cube import write_cube

    atoms = Atoms("Li2", positions=[[0, 0, 0], [1.5, 1.5, 1.5]], cell=[3, 3, 3], pbc=True)
    path = folder / "full.cube"
    with path.open("w") as handle:
        write_cube(handle, atoms, np.random.default_rng(0).random((6, 6, 6)))
    return path.read_text()


def _chgcar_text(folder: Path) -> str:
    from pymatgen.core import Lattice, Structure
    from pymatgen.io.vasp.inputs import Poscar
    from pymatgen.io.vasp.outputs import Chgcar

    structure = Structure(Lattice.cubic(3.0), ["Li", "Li"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    path = folder / "full-CHGCAR"
    Chgcar(Poscar(structure), {"total": np.ones((6, 6, 6))}).write_file(str(path))
    return path.read_text()


def _extxyz_text() -> str:
    import io

    from ase import Atoms
    from ase.io import write

    frames = [Atoms("Li2O", positions=[[0, 0, 0], [1, 1, 1], [2, 0, 0]], cell=[4, 4, 4],
                    pbc=True) for _ in range(3)]
    buffer = io.StringIO()
    write(buffer, frames, format="extxyz")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """Malformed files: garbage, truncated and empty cube/CHGCAR/extxyz/CSV/YAML, bad
    profiles and run folders."""
    folder = tmp_path_factory.mktemp("bad-inputs")
    garbage = "\x00\x01 not a file of this kind \xff\n" * 3
    cube, chgcar, extxyz = _cube_text(folder), _chgcar_text(folder), _extxyz_text()
    files = {
        "garbage.cube": garbage, "empty.cube": "", "truncated.cube": cube[: len(cube) // 2],
        "CHGCAR": garbage, "empty/CHGCAR": "", "truncated/CHGCAR": chgcar[: len(chgcar) // 2],
        "garbage.extxyz": garbage, "empty.extxyz": "",
        "truncated.extxyz": extxyz[: len(extxyz) * 2 // 5],
        "garbage.csv": garbage, "empty.csv": "", "columns.csv": "x,y\n1,2\n3,4\n",
        "nan.csv": "T,sigma\n300,nan\n400,1e-4\n500,1e-3\n",
        "negative.csv": "T,sigma\n-300,1e-5\n400,1e-4\n500,1e-3\n",
        "garbage.yaml": "name: [unclosed\n  - : :\n", "empty.yaml": "",
        "unknown.yaml": "name: x\nmetrics: [reaction_energy_with_li]\n"
                        "candidates: [{formula: InN}]\nflavour: sweet\n",
        "badmetric.yaml": "name: x\nmetrics: [happiness]\ncandidates: [{formula: InN}]\n",
        "hugesteps.yaml": "name: x\ncandidates: [{formula: InN}]\nmax_steps: 1.0e+12\n",
        "badsmiles.yaml": ("name: x\nmetrics: [frontier_orbitals]\ncandidates:\n"
                           "  - {smiles: 'N#CCC(C#N', name: broken-sn}\n"),
        "smiles.yaml": "name: x\nmetrics: [frontier_orbitals]\ncandidates: [{smiles: 'CC#N'}]\n",
        "badobjective.yaml": ("name: x\nmetrics: [frontier_orbitals]\n"
                              "candidates: [{smiles: 'CC#N'}]\n"
                              "objectives: [{oxidation_limit_V: upwards}]\n"),
        "profile-partition.yaml": "name: evil\npartition: 'debug; rm -rf ~'\n",
        "profile-pre.yaml": "name: evil\npre_commands: [\"module load x\\nrm -rf ~\"]\n",
        "profile-garbage.yaml": garbage,
        "norun/placeholder": "",
        "badrun/run.json": "{\"settings\": {\"study\": ",
        "badrun/flow.json": "{}",
        "badresults/results.json": "{\"a\": [1, 2",
        "a-file": "x",
        "garbage.out": garbage, "garbage.json": garbage, "vasprun.xml": "<modeling><incar",
    }
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
    return folder


#: (id, arguments with {in} for the inputs folder and {db} for the store, exit code).
CASES = [
    # volumetric files: garbage, truncated, empty cube and CHGCAR
    ("cdd-garbage-cube", "analyze cdd {in}/garbage.cube {in}/garbage.cube {in}/garbage.cube", 2),
    ("cdd-truncated-cube",
     "analyze cdd {in}/truncated.cube {in}/truncated.cube {in}/truncated.cube", 2),
    ("cdd-empty-cube", "analyze cdd {in}/empty.cube {in}/empty.cube {in}/empty.cube", 2),
    ("elf-garbage-cube", "analyze elf {in}/garbage.cube", 2),
    ("workfunction-truncated-cube", "analyze workfunction {in}/truncated.cube --fermi 0", 2),
    ("workfunction-empty-cube", "analyze workfunction {in}/empty.cube --fermi 0", 2),
    ("elf-garbage-chgcar", "analyze elf {in}/CHGCAR", 2),
    ("workfunction-truncated-chgcar", "analyze workfunction {in}/truncated/CHGCAR --fermi 0",
     2),
    ("cdd-truncated-chgcar",
     "analyze cdd {in}/truncated/CHGCAR {in}/truncated/CHGCAR {in}/truncated/CHGCAR", 2),
    ("elf-empty-chgcar", "analyze elf {in}/empty/CHGCAR", 2),
    ("cdd-missing-file", "analyze cdd {in}/none.cube {in}/none.cube {in}/none.cube", 2),
    # trajectories
    ("diffusion-garbage-extxyz", "analyze diffusion {in}/garbage.extxyz --timestep-fs 1", 2),
    ("diffusion-truncated-extxyz", "analyze diffusion {in}/truncated.extxyz --timestep-fs 1", 2),
    ("diffusion-empty-extxyz", "analyze diffusion {in}/empty.extxyz --timestep-fs 1", 2),
    ("neb-truncated-extxyz", "analyze neb {in}/truncated.extxyz", 2),
    ("neb-garbage-extxyz", "analyze neb {in}/garbage.extxyz", 2),
    # engine outputs and entries
    ("charges-garbage-cp2k-output", "analyze charges {in}/garbage.out", 2),
    ("workfunction-truncated-vasprun",
     "analyze workfunction {in}/full.cube --output {in}/vasprun.xml", 2),
    ("reaction-garbage-mp-entries", "reaction InN Li --mp-entries {in}/garbage.json", 2),
    ("reaction-malformed-named", "reaction --named InN+->Li", 2),
    ("hpc-script-unknown-template", "hpc script --template ../../etc/passwd", 2),
    ("diffusion-nan-timestep", "analyze diffusion {in}/truncated.extxyz --timestep-fs nan", 2),
    # CSV
    ("arrhenius-garbage-csv", "analyze arrhenius {in}/garbage.csv", 2),
    ("arrhenius-empty-csv", "analyze arrhenius {in}/empty.csv", 2),
    ("arrhenius-no-columns-csv", "analyze arrhenius {in}/columns.csv", 2),
    ("arrhenius-nan-csv", "analyze arrhenius {in}/nan.csv", 2),
    ("arrhenius-negative-T-csv", "analyze arrhenius {in}/negative.csv", 2),
    ("arrhenius-unknown-form", "analyze arrhenius {in}/nan.csv --form kelvin", 2),
    # YAML
    ("screen-garbage-yaml", "screen {in}/garbage.yaml --out {in}/no-screen", 2),
    ("screen-empty-yaml", "screen {in}/empty.yaml --out {in}/no-screen", 2),
    ("screen-unknown-key-yaml", "screen {in}/unknown.yaml --out {in}/no-screen", 2),
    ("screen-unknown-metric-yaml", "screen {in}/badmetric.yaml --out {in}/no-screen", 2),
    ("screen-huge-max-steps-yaml", "screen {in}/hugesteps.yaml --out {in}/no-screen", 2),
    ("screen-bad-smiles-yaml", "screen {in}/badsmiles.yaml --out {in}/no-screen", 2),
    ("screen-bad-objective-yaml", "screen {in}/badobjective.yaml --out {in}/no-screen", 2),
    ("screen-status-never-submitted", "screen {in}/smiles.yaml --status --out {in}/no-screen", 2),
    # unknown names
    ("build-unknown-name", "build unobtainium -o {in}/x.cif", 2),
    ("build-unknown-format", "build llzo -o {in}/x.docx", 2),
    ("run-unknown-study", "run unobtainium --out {in}/no-run", 2),
    ("reaction-unknown-formula", "reaction InN Qx", 2),
    ("reaction-unknown-model", "reaction InN Li --mlip-model NoSuchNet", 2),
    ("electrolyte-md-bad-smiles", "run electrolyte-md --component XYZ:10 --out {in}/no-run", 2),
    ("reaction-unknown-dft-preset", "reaction InN Li --check-dft --dft-preset bogus", 2),
    ("charges-unknown-method", "analyze charges {in}/CHGCAR --method tea-leaves", 2),
    ("elf-unknown-spin", "analyze elf {in}/truncated.cube --spin sideways", 2),
    ("run-unknown-orientation", "run sn-llzo --orientation sideways --out {in}/no-run", 2),
    # NaN, negative, huge numbers
    ("build-thickness-huge", "build llzo-slab --thickness 1e9 -o {in}/x.vasp", 2),
    ("build-thickness-nan", "build llzo-slab --thickness nan -o {in}/x.vasp", 2),
    ("build-vacuum-negative", "build llzo-slab --vacuum -5 -o {in}/x.vasp", 2),
    ("build-vacuum-inf", "build llzo-slab --vacuum inf -o {in}/x.vasp", 2),
    ("build-supercell-zero", "build llzo --supercell 0 1 1 -o {in}/x.vasp", 2),
    ("build-supercell-huge", "build li --supercell 1000 1000 1000 -o {in}/x.vasp", 2),
    ("build-too-many-atoms", "build llzo --supercell 3 3 3 -o {in}/x.vasp", 2),
    ("build-miller-huge", "build llzo-slab --miller 99 98 97 -o {in}/x.vasp", 2),
    ("build-max-atoms-negative", "build llzo --max-atoms -1 -o {in}/x.vasp", 2),
    ("run-md-steps-huge", "run llzo-li-diffusion --n-steps 100000000000 --out {in}/no-run", 2),
    ("run-temperature-nan", "run llzo-li-diffusion -T nan --out {in}/no-run", 2),
    ("run-temperature-negative", "run llzo-li-diffusion -T -300 --out {in}/no-run", 2),
    ("run-timestep-inf", "run llzo-li-diffusion --timestep-fs inf --out {in}/no-run", 2),
    ("run-box-too-many-atoms", "run polymer-li-diffusion --n-units 400 --out {in}/no-run", 2),
    ("run-n-sites-huge", "run sn-llzo --n-sites 1000000 --out {in}/no-run", 2),
    ("run-continue-from-no-run",
     "run polymer-li-diffusion --engine openmm --continue-from {in}/a-file --out {in}/no-run", 2),
    ("run-n-images-huge", "run llto-li-migration --n-images 100000 --out {in}/no-run", 2),
    ("run-supercell-huge", "run llto-li-migration --supercell 20 20 20 --out {in}/no-run", 2),
    ("run-md-steps-negative", "run inn-li --md-steps -5 --out {in}/no-run", 2),
    ("run-vacuum-huge", "run ncm-pvdf --vacuum-A 1e12 --out {in}/no-run", 2),
    ("run-slab-too-many-atoms",  # refused when the flow is made: no run folder left
     "run sn-llzo --thickness 400 --electronic none --out {in}/no-run", 2),
    # unwritable paths, run folders that are not
    ("build-output-under-a-file", "build llzo -o {in}/a-file/x.cif", 2),
    ("build-output-is-a-folder", "build llzo -o {in}/norun", 2),
    ("run-out-is-a-file", "run llzo-li-diffusion --out {in}/a-file", 2),
    ("run-db-is-a-file", "run llzo-li-diffusion --out {in}/no-run --db {in}/a-file", 2),
    ("run-out-under-a-file", "run llzo-li-diffusion --out {in}/a-file/run", 2),
    ("resume-no-run", "resume {in}/norun", 2),
    ("resume-truncated-run-json", "resume {in}/badrun", 2),
    ("results-truncated-json", "results {in}/badresults", 2),
    ("results-no-results", "results {in}/norun", 2),
    # shell metacharacters in SLURM fields
    ("submit-job-name-metachar",
     "submit demo --dry-run --job-name x;rm$IFS-rf$IFS~ --out {in}/no-submit", 2),
    ("submit-partition-metachar",
     "submit demo --dry-run --profile {in}/profile-partition.yaml --out {in}/no-submit", 2),
    ("hpc-script-pre-command-newline",
     "hpc script --profile {in}/profile-pre.yaml --command hostname", 2),
    ("hpc-script-garbage-profile", "hpc script --profile {in}/profile-garbage.yaml", 2),
    ("submit-unknown-profile", "submit demo --dry-run --profile no-such-cluster", 2),
]


@pytest.mark.parametrize(("args", "code"), [pytest.param(a, c, id=i) for i, a, c in CASES])
def test_bad_input_one_line_nothing_written(args, code, inputs, filled_store, tmp_path,
                                            monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # anything written to the working folder would show
    monkeypatch.setenv("SSBFLOW_DB", str(filled_store))
    monkeypatch.delenv("SSBFLOW_MONGO_URI", raising=False)
    monkeypatch.delenv("SSBFLOW_DEBUG", raising=False)
    before_inputs = sorted(p.name for p in inputs.rglob("*"))
    before_store = tree_hash(filled_store)
    argv = [w.replace("{in}", str(inputs)) for w in args.split()]
    rc = main(argv)
    _, err = capsys.readouterr()
    lines = err.strip("\n").splitlines()
    assert rc == code, err
    assert len(lines) == 1 and lines[0].startswith("ssbflow: error: "), err
    assert "Traceback" not in err
    assert tree_hash(filled_store) == before_store
    assert sorted(p.name for p in inputs.rglob("*")) == before_inputs  # no half-written file
    assert list(tmp_path.iterdir()) == []


def test_unreachable_mongodb_fails_fast_masked_nothing_written(tmp_path):
    """A MongoDB that does not answer: one line naming the host, password masked, exit 1,
    within a few seconds, no run folder and no store folder."""
    env = {**os.environ, "SSBFLOW_MONGO_URI": "mongodb://user:secret@127.0.0.1:1/db",
           "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env.pop("SSBFLOW_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from ssbflow.cli import main; sys.exit(main())",
         "run", "sn-llzo", "--out", str(tmp_path / "run")],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1, proc.stderr
    assert len(lines) == 1 and "127.0.0.1:1" in lines[0], proc.stderr
    assert "secret" not in proc.stderr and "user:***@" in lines[0]
    assert "within 3 s" in lines[0]  # pymongo's default: 30 s, then a 109-line traceback
    assert list(tmp_path.iterdir()) == []  # no run folder, no ./ssbflow-db


def test_invalid_mongodb_uri_is_an_input_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SSBFLOW_MONGO_URI", "mongodb://user:secret@")
    assert main(["run", "llzo-li-diffusion", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "secret" not in err
    assert list(tmp_path.iterdir()) == []


def test_results_takes_the_run_folder_positionally(tmp_path, capsys):
    (tmp_path / "results.json").write_text('{"barrier_eV": 0.3}')
    assert main(["results", str(tmp_path), "--json"]) == 0
    assert main(["results", "--out", str(tmp_path), "--json"]) == 0
    first, second = capsys.readouterr().out.strip().splitlines()
    assert first == second and '"barrier_eV": 0.3' in first
    assert main(["results", str(tmp_path), "--out", str(tmp_path / "other")]) == 2
