"""The DFT+U stage of llto-li: cells, starts, bookkeeping, options and claim rows (no DFT run;
the CP2K physics of +U is checked in tests/engines/test_dft_plus_u.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pymatgen.core import Structure

from ssbflow.studies.llto.comparison import reduction_source_comparison
from ssbflow.studies.llto.dft_summary import dft_summary, report_lines
from ssbflow.studies.llto.electronic import (
    BREATHING_SCAN_A,
    REDUCED_SUPERCELL,
    localised_key,
    o2_in_box,
    reduced_llto_cell,
    starts,
)
from ssbflow.studies.llto.reduction import lithiated_cell, o_vacancy_cell, vacant_a_sites
from ssbflow.studies.registry import get_study


@pytest.fixture(scope="module")
def cells():
    host = reduced_llto_cell()
    return host, lithiated_cell(host, REDUCED_SUPERCELL), o_vacancy_cell(host)


def test_reduced_cell_is_a_neutral_llto_member_with_empty_a_sites(cells):
    host, lith, vac = cells
    assert host.composition.formula.replace(" ", "") == "Li1La5Ti8O24"
    # Li3x La(2/3 - x) TiO3 with x = 1/24: charge neutral with Ti4+ and O2-
    assert host.composition["Li"] + 3 * host.composition["La"] == 2 * host.composition["Ti"]
    assert len(vacant_a_sites(host, REDUCED_SUPERCELL)) == 2
    assert lith.composition["Li"] == 2 and vac.composition["O"] == 23


def test_localised_starts_put_the_moment_next_to_the_added_electrons(cells):
    host, lith, vac = cells
    li_start = starts("li", lith, host)
    magmom = li_start[localised_key(BREATHING_SCAN_A[0])].site_properties["magmom"]
    chosen = [i for i, m in enumerate(magmom) if m]
    assert len(chosen) == 1 and lith[chosen[0]].specie.symbol == "Ti"
    ti_distances = [lith.get_distance(len(lith) - 1, i) for i, s in enumerate(lith)
                    if s.specie.symbol == "Ti"]
    assert lith.get_distance(len(lith) - 1, chosen[0]) == pytest.approx(min(ti_distances))
    assert "magmom" not in li_start["delocalised"].site_properties
    vac_start = starts("o_vacancy", vac, host)[localised_key(BREATHING_SCAN_A[0])]
    pair = [i for i, m in enumerate(vac_start.site_properties["magmom"]) if m]
    # the two Ti that shared the removed O, ~a/2 = 1.94 Å from it, opposite each other
    assert len(pair) == 2
    assert vac.get_distance(*pair) == pytest.approx(3.87, abs=0.05)
    assert list(starts("host", host, host)) == ["delocalised"]


def test_localised_start_is_the_seeded_polaron_and_delocalised_the_force_field_cell(cells):
    import numpy as np

    from ssbflow.structures.polaron import coordinating_anions

    host, lith, vac = cells
    for label, cell, n_ti, n_o in (("li", lith, 1, 6), ("o_vacancy", vac, 2, 8)):
        found = starts(label, cell, host, (0.05, 0.1))
        assert list(found) == ["delocalised", localised_key(0.05), localised_key(0.1)]
        deloc = found["delocalised"]
        assert np.allclose(deloc.cart_coords, cell.cart_coords)  # the force-field geometry
        for amplitude in (0.05, 0.1):
            local = found[localised_key(amplitude)]
            assert local.properties["breathing_A"] == amplitude
            seeded = [i for i, m in enumerate(local.site_properties["magmom"]) if m]
            assert len(seeded) == n_ti
            d_frac = local.frac_coords - cell.frac_coords
            shift = np.linalg.norm(
                cell.lattice.get_cartesian_coords(d_frac - np.round(d_frac)), axis=1)
            moved = set(np.flatnonzero(shift > 1e-9))
            octahedra = [{i for i, _ in coordinating_anions(cell, t)} for t in seeded]
            # only the O of the seeded Ti octahedra (five each next to the vacancy), by the
            # amplitude; the two Ti across the vacancy also share the O opposite it through
            # the 2-Ti-wide cell, which is pushed both ways and stays
            shared = set.intersection(*octahedra) if n_ti > 1 else set()
            assert moved == set.union(*octahedra) - shared
            assert len(moved) == n_o
            assert np.allclose(shift[sorted(moved)], amplitude, atol=1e-9)
        # the amplitude survives the store (the DFT job reads it from the structure)
        from monty.json import MontyDecoder, MontyEncoder

        back = MontyDecoder().process_decoded(json.loads(json.dumps(
            found[localised_key(0.05)], cls=MontyEncoder)))
        assert back.properties["breathing_A"] == 0.05


def test_references_run_in_their_small_cells_on_converged_kpoint_grids():
    """bcc Li (2 atoms) on 16³, Li2O (3 atoms) on 7³ (convergence measured, see
    REFERENCE_KPOINT_LENGTH_A); the magmom the force field left is dropped."""
    from ssbflow.structures.phases import phase
    from ssbflow.studies.llto.electronic import (
        REFERENCE_KPOINT_LENGTH_A,
        dft_maker,
        reference_job,
    )

    for label, name, grid in (("Li", "li", 16), ("Li2O", "li2o", 7)):
        relaxed = phase(name)
        relaxed.add_site_property("magmom", [0.0] * len(relaxed))
        cell = reference_job.original(relaxed)
        assert len(cell) == len(relaxed) and "magmom" not in cell.site_properties
        cell.scale_lattice(relaxed.volume * (3.44 / 3.49) ** 3 if name == "li" else
                           relaxed.volume * (3.2802 / 3.2608) ** 3)  # the MLIP-relaxed cells
        maker = dft_maker("cp2k", "fast", 0.0, 1, pdos=False, metal=label == "Li",
                          kpoint_length_A=REFERENCE_KPOINT_LENGTH_A[label])
        dft = maker.input_set_generator.get_input_set(cell).cp2k_input["FORCE_EVAL"]["DFT"]
        assert dft["KPOINTS"]["SCHEME"].values[0].split() == ["MONKHORST-PACK", *[str(grid)] * 3]
        assert dft["SCF"].check("SMEAR") and not dft["SCF"].check("OT")
    o2 = o2_in_box()
    assert o2.get_distance(0, 1) == pytest.approx(1.21)


def _run(label, start, energy, moments, n_o=0):
    from ssbflow.studies.llto.electronic import reduced_llto_cell as build

    host = build()
    symbols = ["Ti"] * len(moments) + ["O"] * n_o
    return {"label": label, "start": start, "energy_eV": energy, "symbols": symbols,
            "moments_uB": moments + [0.0] * n_o, "mulliken_charges_e": [1.2] * len(symbols),
            "hirshfeld_charges_e": None, "structure": host.as_dict(), "files": {}}


def test_summary_keeps_the_lower_start_counts_ti3_and_gives_dft_energies():
    runs = {
        "host": [_run("host", "delocalised", -100.0, [0.0, 0.0])],
        "li": [_run("li", "delocalised", -102.0, [0.3, 0.3]),
               _run("li", "localised", -102.2, [0.95, 0.02])],
        "o_vacancy": [_run("o_vacancy", "delocalised", -93.0, [0.5, 0.5]),
                      _run("o_vacancy", "localised", -92.9, [0.9, 0.9])],
        "Li": [_run("Li", "reference", -4.0, [0.0, 0.0])],  # two atoms: -2 eV per Li
        "Li2O": [_run("Li2O", "reference", -15.0, [0.0, 0.0], n_o=1)],
        "O2": [_run("O2", "reference", -10.0, [1.0, 1.0])],
    }
    # as the job receives them from the store: structure dicts decoded to Structures (the
    # first real run failed here, "list indices must be integers", on Structure.from_dict)
    from monty.json import MontyDecoder, MontyEncoder

    runs = MontyDecoder().process_decoded(json.loads(json.dumps(runs, cls=MontyEncoder)))
    assert isinstance(runs["host"][0]["structure"], Structure)
    dft = dft_summary(runs, {"engine": "cp2k", "preset": "fast", "u_ti_eV": 4.2,
                             "u_reference": "ref", "reduced_cell": True})
    assert dft["cells"]["li"]["start_kept"] == "localised"
    assert dft["cells"]["li"]["margin_eV"] == pytest.approx(0.2)
    assert dft["cells"]["o_vacancy"]["start_kept"] == "delocalised"
    assert (dft["ti3_host"], dft["ti3_lithiated"], dft["ti3_o_vacancy"]) == (0, 1, 2)
    assert dft["insertion_energy_eV_per_Li"] == pytest.approx(-102.2 + 100.0 + 2.0)
    assert dft["insertion_voltage_V"] == pytest.approx(0.2)
    # Li2O: 3 "atoms" here, one O -> one f.u.; μ_O = -15 - 2(-2) = -11
    assert dft["mu_o_li_li2o_eV"] == pytest.approx(-11.0)
    assert dft["o_vacancy_formation_energy_li_li2o_eV"] == pytest.approx(-93.0 + 100.0 - 11.0)
    assert dft["o_vacancy_formation_energy_vs_half_O2_eV"] == pytest.approx(-93 + 100 - 5)
    assert dft["cells"]["li"]["reduced_ti"][0]["neighbours"]  # listed within 3.6 Å
    text = "\n".join(report_lines(dft))
    assert "U_eff(Ti 3d) = 4.2 eV" in text and "| li | 1 |" in text
    assert "| delocalised 0, localised 1 |" in text
    # the claim rows read the DFT numbers
    rows = {r.claim: r for r in reduction_source_comparison(
        {"ti3_host": 0, "ti3_lithiated": 0, "ti3_o_vacancy": 0,
         "o_vacancy_formation_energy_eV": 1.0, "insertion_voltage_V": 0.1, "dft": dft})}
    ti3 = next(r for c, r in rows.items() if c.startswith("Li reduces Ti4+"))
    assert ti3.agrees is True and ti3.ssbflow_value == "1 (+Li) / 2 (−O)"
    assert "DFT+U" in ti3.why
    # what the losing start gave is said, with its energy above the kept one
    assert dft["cells"]["o_vacancy"]["n_ti3_by_start"] == {"delocalised": 2, "localised": 2}
    assert "li: the best delocalised start gives 0 Ti3+ at +0.200 eV" in ti3.why
    vac = next(r for c, r in rows.items() if c.startswith("Li metal makes O vacancies"))
    assert vac.ssbflow_value == pytest.approx(-4.0) and vac.agrees is True
    volt = next(r for c, r in rows.items() if c.startswith("Li metal reduces LLTO"))
    assert volt.ssbflow_value == pytest.approx(0.2) and "DFT+U" in volt.why  # not the MLIP 0.1


def test_breathing_scan_keeps_the_lowest_localised_start_and_finds_the_parabola_vertex():
    from ssbflow.studies.llto.dft_summary import breathing_scan, cell_summary

    def run(start, amplitude, energy, moment):
        r = _run("li", start, energy, [moment, 0.02])
        r["breathing_A"] = amplitude
        return r

    # E(d) = 50 (d − 0.045)² − 102.3 eV: the vertex lies between the scanned amplitudes
    def e(d):
        return 50 * (d - 0.045) ** 2 - 102.3

    runs = [run("delocalised", None, -102.2, 0.3),
            *(run(localised_key(d), d, e(d), 0.95) for d in (0.05, 0.03, 0.07))]
    scan = breathing_scan(runs)
    assert [p["breathing_A"] for p in scan["points"]] == [0.03, 0.05, 0.07]
    assert scan["vertex_A"] == pytest.approx(0.045)
    assert scan["vertex_energy_eV"] == pytest.approx(-102.3)
    cell = cell_summary(runs)
    assert cell["start_kept"] == localised_key(0.05)
    # margin: the delocalised start above the best localised one, not the next amplitude
    assert cell["margin_eV"] == pytest.approx(-102.2 - e(0.05))
    text = "\n".join(report_lines({"engine": "cp2k", "preset": "fast", "u_ti_eV": 4.2,
                                    "u_reference": "ref", "formula_host": "X",
                                    "cells": {"li": cell},
                                    "insertion_energy_eV_per_Li": -1.0,
                                    "insertion_voltage_V": 1.0, "mu_o_li_li2o_eV": -1.0,
                                    "o_vacancy_formation_energy_vs_half_O2_eV": 1.0,
                                    "o_vacancy_formation_energy_li_li2o_eV": -1.0}))
    assert "parabola minimum at 0.045 Å" in text and "0.030 Å: -0.089 eV (1 Ti3+)" in text
    # the vertex outside the scan (energy still falling at the edge) is not reported
    falling = [run(localised_key(d), d, -100 - d, 0.9) for d in (0.03, 0.05, 0.07)]
    assert breathing_scan(falling)["vertex_A"] is None
    # a point whose electron spread (no Ti3+) is another state: left out of the parabola
    spread = [*runs[1:], run(localised_key(0.01), 0.01, -103.0, 0.3)]
    assert breathing_scan(spread)["vertex_A"] == pytest.approx(0.045)
    assert len(breathing_scan(spread)["points"]) == 4
    # a run that failed or never ran (None) is skipped; a cell without any run is refused
    assert breathing_scan([*runs, None])["vertex_A"] == pytest.approx(0.045)
    with pytest.raises(ValueError, match="no finished run for li"):
        dft_summary({"li": [None]}, {})


def test_electronic_option_default_keeps_the_stored_options_and_the_flow():
    study = get_study("llto-li")
    default = study.parse_options()
    stored = study.settings(default)
    assert not {"electronic", "preset", "u_ti"} & set(stored)
    assert len(study.make_flow(default).jobs) == 6
    with pytest.raises(Exception, match="--electronic"):
        study.parse_options({"electronic": "gaussian"})


@pytest.mark.parametrize("engine", ["cp2k", "vasp"])
def test_electronic_stage_adds_the_dft_jobs(engine):
    study = get_study("llto-li")
    options = study.parse_options({"electronic": engine, "u_ti": 3.5})
    stored = study.settings(options)
    assert stored["electronic"] == engine and stored["u_ti"] == 3.5
    names = [j.name for j in study.make_flow(options).jobs]
    # 5 force-field relaxations + 3 on the reduced cell, 3 start builders, 9 DFT+U runs
    # (host; each defect delocalised + 3 breathing amplitudes), 2 reference cells + 3
    # reference runs, the summary and the result
    assert len(names) == 6 + 3 + 3 + 9 + 5 + 1
    assert {f"dft+u li {localised_key(0.05)}", "dft+u li delocalised",
            f"dft+u o_vacancy {localised_key(0.07)}", "dft+u host delocalised",
            "dft reference O2", "dft+u summary"} <= set(names)
    # the other amplitudes restart from the first localised run's wavefunction (CP2K)
    jobs = {j.name: j for j in study.make_flow(options).jobs}
    first = jobs[f"dft+u li {localised_key(BREATHING_SCAN_A[0])}"]
    later = jobs[f"dft+u li {localised_key(BREATHING_SCAN_A[1])}"]
    assert first.function_args[-1] is None
    prev = later.function_args[-1]
    assert (prev is None) if engine == "vasp" else (prev.uuid == first.uuid)
    production = study.parse_options({"electronic": engine, "preset": "production"})
    assert "relax reduced llto" not in [j.name for j in study.make_flow(production).jobs]


def test_ti_d_pdos_is_read_from_cp2k_columns_and_plotted(tmp_path):
    from ssbflow.studies.llto.dft_summary import plot_ti_d_pdos, read_cp2k_pdos

    header = ("# Projected DOS for atomic kind Ti_2 at iteration step i = 0, "
              "E(Fermi) =    -0.100000 a.u.\n"
              "#     MO Eigenvalue [a.u.]      Occupation                 s                py"
              "                pz                px               d-2               d-1"
              "                d0               d+1               d+2\n")
    rows = ["   1  -0.300000  1.000000  0.1 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0",
            "   2  -0.100000  1.000000  0.0 0.0 0.0 0.0 0.2 0.1 0.3 0.1 0.1",
            "   3   0.050000  0.000000  0.0 0.0 0.0 0.0 0.1 0.1 0.1 0.1 0.1"]
    alpha = tmp_path / "CP2K-ALPHA_k2-1.pdos"
    alpha.write_text(header + "\n".join(rows) + "\n")
    (tmp_path / "CP2K-BETA_k2-1.pdos").write_text(header + "\n".join(rows) + "\n")
    kind, fermi_eV, energies_eV, d_weight = read_cp2k_pdos(alpha)
    assert kind == "Ti_2"
    assert fermi_eV == pytest.approx(-2.7211, abs=1e-3)  # -0.1 Ha
    assert energies_eV[1] == pytest.approx(fermi_eV)
    assert d_weight.tolist() == pytest.approx([0.0, 0.8, 0.5])  # the gap state is 3d
    png = plot_ti_d_pdos(sorted(tmp_path.glob("*.pdos")), tmp_path / "pdos.png")
    assert png is not None and png.stat().st_size > 0


@pytest.mark.cp2k
def test_dft_plus_u_job_runs_cp2k_and_returns_moments_and_the_spin_cube(tmp_path, cp2k_exe,
                                                                       monkeypatch):
    """The stage's job on the cheapest open shell it runs: triplet O2 (the ½ O2 reference),
    with the PDOS on: its α and β files differ in length (7 and 5 occupied rows + 20 empty),
    which once broke atomate2's task document (pymatgen summed them into one DOS)."""
    from jobflow import run_locally

    from ssbflow.methods.electronic import unpack_files
    from ssbflow.studies.llto.electronic import dft_maker, dft_plus_u_job

    monkeypatch.setenv("SSBFLOW_CP2K_THREADS", "1")
    job = dft_plus_u_job(dft_maker("cp2k", "fast", 0.0, 3, pdos=True), o2_in_box(6.0),
                         "O2", "reference", "cp2k")
    out = run_locally(job, root_dir=tmp_path, ensure_success=True, log=False,
                      create_folders=True)[job.uuid][1].output
    assert out["symbols"] == ["O", "O"] and out["start"] == "reference"
    # two unpaired electrons, one on each O (triplet ground state of O2)
    assert sum(out["moments_uB"]) == pytest.approx(2.0, abs=0.05)
    assert out["moments_uB"][0] == pytest.approx(1.0, abs=0.1)
    assert abs(sum(out["mulliken_charges_e"])) < 1e-3
    # O2 total energy with GTH-PBE: about -31.9 Ha (-868 eV)
    assert -880.0 < out["energy_eV"] < -855.0
    files = unpack_files(out["files"], tmp_path / "files")
    assert any("SPIN_DENSITY" in p.name for p in files.values())
    pdos = sorted(p for role, p in files.items() if role.startswith("pdos"))
    assert [p.name.split("-")[1] for p in pdos] == ["ALPHA_k1", "BETA_k1"]
    rows = [len(np.loadtxt(p, ndmin=2)) for p in pdos]
    assert rows[0] - rows[1] == 2  # two more occupied α orbitals than β in the triplet


def _ase_vasp_testdata(name: str):
    """A file of ASE's shipped VASP test data (a real spin-polarised Ni18 run, LORBIT = 0)."""
    from pathlib import Path

    import ase

    return Path(ase.__file__).parent / "test" / "testdata" / "vasp" / name


def test_vasp_moments_come_from_the_outcar_and_a_missing_site_table_is_refused(tmp_path):
    import shutil
    from types import SimpleNamespace

    from pymatgen.core import Structure

    from ssbflow.analysis.charges import parse_vasp_moments
    from ssbflow.errors import InputError
    from ssbflow.studies.llto.electronic import _moments_and_charges

    outcar = _ase_vasp_testdata("OUTCAR_example_1")
    per_site, total = parse_vasp_moments(outcar)
    # ISPIN = 2, 18 Ni: ~0.95 μB per Ni at the last electronic step; LORBIT = 0 writes no
    # per-site magnetization table (no shipped OUTCAR has one; none is made up here)
    assert total == pytest.approx(17.0482806)
    assert per_site is None
    with pytest.raises(InputError, match="outcar"):
        parse_vasp_moments(tmp_path / "OUTCAR")
    structure = Structure.from_file(_ase_vasp_testdata("POSCAR_example_1"))
    task = SimpleNamespace(output=SimpleNamespace(structure=structure))
    with pytest.raises(InputError, match="no OUTCAR"):
        _moments_and_charges("vasp", tmp_path, task)
    shutil.copy(outcar, tmp_path / "OUTCAR")
    with pytest.raises(InputError, match="LORBIT"):
        _moments_and_charges("vasp", tmp_path, task)


@pytest.mark.cp2k
def test_a_later_amplitude_restarts_from_the_first_runs_wavefunction(tmp_path, cp2k_exe,
                                                                     monkeypatch):
    """The localised starts after the first read its wavefunction (``prev_dir``): the same
    state at a nearby geometry converges in fewer SCF steps to the energy of a cold start.
    Triplet O2 at 1.21 Å, then stretched to 1.23 Å (the cheapest open shell)."""
    import re
    from pathlib import Path

    from jobflow import Flow, run_locally

    from ssbflow.studies.llto.electronic import dft_maker, dft_plus_u_job

    monkeypatch.setenv("SSBFLOW_CP2K_THREADS", "1")
    first = dft_plus_u_job(dft_maker("cp2k", "fast", 0.0, 3, pdos=False), o2_in_box(6.0),
                           "O2", "reference", "cp2k")
    stretched = o2_in_box(6.0, bond_A=1.23)
    warm = dft_plus_u_job(dft_maker("cp2k", "fast", 0.0, 3, pdos=False), stretched,
                          "O2", "reference", "cp2k", first.output["dir_name"])
    cold = dft_plus_u_job(dft_maker("cp2k", "fast", 0.0, 3, pdos=False), stretched,
                          "O2", "reference", "cp2k")
    done = run_locally(Flow([first, warm, cold]), root_dir=tmp_path, ensure_success=True,
                       log=False, create_folders=True)
    out = {name: done[j.uuid][1].output for name, j in
           (("first", first), ("warm", warm), ("cold", cold))}

    def scf_steps(run):
        text = (Path(run["dir_name"]) / "cp2k.out").read_text()
        return sum(int(n) for n in re.findall(r"SCF run converged in\s+(\d+) steps", text))

    assert Path(out["warm"]["dir_name"]) != Path(out["first"]["dir_name"])
    assert out["warm"]["energy_eV"] == pytest.approx(out["cold"]["energy_eV"], abs=2e-3)
    assert scf_steps(out["warm"]) < scf_steps(out["cold"])
    assert sum(out["warm"]["moments_uB"]) == pytest.approx(2.0, abs=0.05)
