"""DFT spot checks (``ssbflow.methods.dft_check``): CP2K single points at MLIP geometries.

The CP2K tests run Debian's CP2K on tiny systems: a reaction through ``ssbflow reaction
--check-dft`` (Li, N2 and Li3N cells) and a 4-atom band (collinear H3 exchange plus a
spectator He that the reduced cell drops).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.entries.computed_entries import ComputedStructureEntry

from ssbflow.errors import InputError, SsbflowError
from ssbflow.methods.dft_check import (
    POINT_FILE,
    DftCheckSettings,
    band_dft_check,
    cli_dft_check,
    gamma_supercell,
    input_fingerprint,
    read_total_energy_eV,
    reduced_cell,
)
from ssbflow.studies.dft_check import adsorption_dft_check, adsorption_lines, band_lines
from ssbflow.studies.ncm_pvdf.comparison import is_thin_slab
from ssbflow.studies.ncm_pvdf.comparison import source_comparison as ncm_rows

_BOX = Lattice.orthorhombic(9.0, 4.0, 4.0)


def _h3_he(r_left_A: float, r_right_A: float) -> Structure:
    """Collinear H–H–H along x (middle H at x = 3 Å) and a He 4.5 Å away along x."""
    x, y, z = 3.0, 2.0, 2.0
    return Structure(_BOX, ["H", "H", "H", "He"],
                     [[x - r_left_A, y, z], [x, y, z], [x + r_right_A, y, z], [7.5, y, z]],
                     coords_are_cartesian=True)


def test_gamma_supercell_reaches_the_minimum_length() -> None:
    cell = Structure(Lattice.from_parameters(3.49, 3.49, 5.7, 90, 90, 120), ["Li"], [[0, 0, 0]])
    assert gamma_supercell(cell, 5.5) == [2, 2, 1]
    assert gamma_supercell(cell, 7.0) == [3, 3, 2]
    assert gamma_supercell(cell, 3.0) == [1, 1, 1]


def test_settings_record_and_bad_input() -> None:
    record = DftCheckSettings().record()
    assert record["functional"] == "PBE+D3(BJ)" and record["kpoints"] == "gamma"
    assert record["smearing"] is None and "no smearing" in record["scf"]
    assert DftCheckSettings(preset="production").record()["smearing"] == "Fermi-Dirac 300 K"
    with pytest.raises(InputError, match="preset"):
        DftCheckSettings(preset="huge")
    with pytest.raises(InputError, match="min_length_A"):
        DftCheckSettings(min_length_A=0)


def test_read_total_energy_refuses_unfinished_and_unconverged(tmp_path) -> None:
    out = tmp_path / "cp2k.out"
    out.write_text(" ENERGY| Total FORCE_EVAL ( QS ) energy [a.u.]:   -1.500000000000\n")
    assert read_total_energy_eV(out) == pytest.approx(-1.5 * 27.211386245988)
    out.write_text("SCF run NOT converged\n")
    with pytest.raises(SsbflowError, match="did not converge"):
        read_total_energy_eV(out)
    out.write_text("nothing\n")
    with pytest.raises(SsbflowError, match="no total energy"):
        read_total_energy_eV(out)


def test_reduced_cell_keeps_the_atoms_near_the_moving_one() -> None:
    images = [_h3_he(1.6, 0.75), _h3_he(0.93, 0.93), _h3_he(0.75, 1.6)]
    cut, moving, kept = reduced_cell(images, 1, 2.5)
    assert kept == [0, 1, 2] and moving == 1
    assert [len(s) for s in cut] == [3, 3, 3]
    assert np.allclose(cut[2].cart_coords, images[2].cart_coords[:3])


def test_cli_check_refuses_entries_without_mlip_structures() -> None:
    li = Structure(Lattice.cubic(3.49), ["Li", "Li"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    entry = ComputedStructureEntry(li, -3.8, data={"energy_source": "materials-project (raw)"})
    with pytest.raises(InputError, match="--check-dft"):
        cli_dft_check([entry], "Li -> Li", None, None)


def test_adsorption_check_puts_mlip_and_dft_side_by_side() -> None:
    doc = {"adsorption_energy_eV": -0.80,
           "electronic": {"engine": "cp2k", "dft_interaction_energy_eV": -1.05},
           "settings": {"electronic_engine": {"engine": "cp2k", "xc": "PBE",
                                              "dispersion": "DFTD3(BJ)", "preset": "fast",
                                              "basis_preference": ["SZV-MOLOPT-SR-GTH"]}}}
    check = adsorption_dft_check(doc)
    assert check["dft_minus_mlip_eV"] == pytest.approx(-0.25)
    assert check["functional"] == "PBE+DFTD3(BJ)" and check["basis"] == "SZV-MOLOPT-SR-GTH"
    assert "no fragment relaxation" in check["note"]
    assert "-0.250" in "\n".join(adsorption_lines(check))
    assert adsorption_dft_check({**doc, "electronic": {}}) is None


def _ncm_doc(thickness_A: float, dft_barrier_eV: float | None = None) -> dict:
    doc = {"settings": {"thickness_A": thickness_A}, "hop": {"hop_length_A": 2.6},
           "barriers": [{"system": "bare", "barrier_eV": 0.36, "converged": True}],
           "binding": []}
    if dft_barrier_eV is not None:
        doc["dft_check"] = {"bare": {
            "barrier_eV": dft_barrier_eV, "mlip_barrier_eV": 0.35,
            "dft_minus_mlip_eV": dft_barrier_eV - 0.35, "highest_image": 2,
            "functional": "PBE+D3(BJ)", "preset": "fast", "basis": "SZV-MOLOPT-SR-GTH",
            "cutoff_Ry": 300.0, "kpoints": "gamma", "wall_s": 10.0,
            "cell": {"kind": "reduced: atoms within 4.5 Å of the moving Li", "n_atoms": 30}}}
    return doc


def test_ncm_rows_say_when_the_band_is_a_thin_slab_surface_hop() -> None:
    thin, thick = ncm_rows(_ncm_doc(6.0)), ncm_rows(_ncm_doc(12.0))
    assert is_thin_slab(_ncm_doc(6.0)) and not is_thin_slab(_ncm_doc(12.0))
    assert "surface hop in a thin slab" in thin[0].why
    assert "not the bulk barrier the study quotes" in thin[0].why
    assert "thin slab" not in thick[0].why and "NCM811 itself" in thick[0].why
    assert is_thin_slab({"settings": {}}) is None


def test_ncm_dft_check_row_flips_with_the_dft_barrier() -> None:
    assert len(ncm_rows(_ncm_doc(6.0))) == 4  # no spot check: no extra row
    low = [r for r in ncm_rows(_ncm_doc(6.0, 0.5)) if "DFT single points" in r.claim]
    high = [r for r in ncm_rows(_ncm_doc(6.0, 1.45)) if "DFT single points" in r.claim]
    assert [(r.ssbflow_value, r.agrees) for r in low] == [(0.5, False)]
    assert [(r.ssbflow_value, r.agrees) for r in high] == [(1.45, True)]
    assert "reduced" in low[0].why and "DFT − MLIP" in low[0].why
    table = "\n".join(band_lines(_ncm_doc(6.0, 0.5)["dft_check"]))
    assert "| bare | 0.350 | 0.500 | +0.150 |" in table


def _mlip_entries() -> list[ComputedStructureEntry]:
    """Li, N2 and Li3N library cells with made-up MLIP energies (eV/atom)."""
    from ssbflow.methods.phases import library_structures, make_entry

    per_atom = {"li": -1.9, "n2": -8.3, "li3n": -4.2}
    return [make_entry(name, s, per_atom[name] * len(s), {"engine": "mlip"},
                       source="mlip:CHGNet:0.3.0")
            for name, s in library_structures(per_atom).items()]


def test_reaction_and_reactivity_checks_with_stand_in_single_points(tmp_path,
                                                                     monkeypatch) -> None:
    """The bookkeeping around the single points: supercells divided out, DFT entries as
    their own source, DFT − MLIP per reaction (CP2K replaced by MLIP, + 0.1 eV per atom of
    Li3N only: 2 Li3N hold 8 atoms, so DFT − MLIP = +0.8 eV)."""
    import ssbflow.methods.dft_check as dft_check

    entries = _mlip_entries()
    per_atom = {e.composition.reduced_formula: e.energy_per_atom for e in entries}
    seen = []

    def stand_in(structure, run_dir, settings=None):
        seen.append((run_dir.name, len(structure)))
        formula = structure.composition.reduced_formula
        shift = 0.1 * len(structure) if formula == "Li3N" else 0.0
        return {"energy_eV": per_atom[formula] * len(structure) + shift,
                "n_atoms": len(structure), "wall_s": 0.0, "scf_steps": 1}

    monkeypatch.setattr(dft_check, "cp2k_single_point", stand_in)
    check = cli_dft_check(entries, "6 Li + N2 -> 2 Li3N", None, None, tmp_path)
    assert check["dft_minus_mlip_eV"] == pytest.approx(0.8)
    assert check["mlip_reaction_energy_eV"] == pytest.approx(8 * -4.2 - 6 * -1.9 - 2 * -8.3)
    assert check["cells"]["li"]["supercell"] == [2, 2, 2]
    assert check["cells"]["li"]["n_atoms"] == 16
    assert check["cells"]["li3n"]["dft_eV_per_atom"] == pytest.approx(-4.2 + 0.1)
    assert check["energy_source"].startswith("cp2k:fast") and check["run_dir"] == str(tmp_path)
    assert sorted(seen) == [("li", 16), ("li3n", 32), ("n2", 8)]
    pair = cli_dft_check(entries, None, "Li", "N2", tmp_path / "pair")
    assert set(pair["cells"]) == {"li", "n2", "li3n"}
    assert pair["products"] == pair["mlip_products"]
    assert pair["dft_minus_mlip_eV_per_atom"] == pytest.approx(
        pair["reaction_energy_eV_per_atom"] - pair["mlip_reaction_energy_eV_per_atom"])


@pytest.mark.cp2k
def test_band_check_barrier_from_real_single_points(tmp_path, cp2k_exe) -> None:
    """H + H2 → H2 + H along a 5-image path: the DFT barrier is E(symmetric H3) − E(initial),
    positive; the symmetric endpoints give a zero reaction energy; the He spectator is cut
    away (reduced cell of 3 atoms)."""
    band = [_h3_he(a, b) for a, b in ((1.6, 0.75), (1.2, 0.8), (0.93, 0.93), (0.8, 1.2),
                                       (0.75, 1.6))]
    mlip = [-10.0, -9.8, -9.6, -9.8, -10.0]
    settings = DftCheckSettings(max_band_atoms=3, cluster_radius_A=2.5, threads=2)
    check = band_dft_check(band, mlip, tmp_path, settings, moving_index=1)
    e = check["dft_energies_eV"]
    assert check["highest_image"] == 2
    assert check["cell"]["n_atoms"] == 3 and check["cell"]["n_atoms_full"] == 4
    assert check["barrier_eV"] == pytest.approx(e["highest"] - e["initial"])
    # collinear H3 in PBE: a saddle some 0.1-0.3 eV above H···H–H (exact 0.42 eV vs H + H2)
    assert 0.02 < check["barrier_eV"] < 0.6
    assert abs(check["reaction_energy_eV"]) < 2e-3  # mirror images
    assert check["mlip_barrier_eV"] == pytest.approx(0.4)
    assert check["dft_minus_mlip_eV"] == pytest.approx(check["barrier_eV"] - 0.4)
    assert {p.name for p in tmp_path.iterdir()} == {"initial", "highest", "final"}
    assert check["guess"] == {"initial": "atomic", "highest": "atomic", "final": "atomic"}

    # a rerun in the same folder (the job is resumable) reads the finished points back ...
    (tmp_path / "final" / POINT_FILE).unlink()  # ... and the final point was "killed"
    again = band_dft_check(band, mlip, tmp_path, settings, moving_index=1)
    assert again["guess"]["final"] == "resumed"  # from the wavefunction CP2K left
    assert again["dft_energies_eV"]["initial"] == e["initial"]  # read back, not rerun
    assert again["dft_energies_eV"]["highest"] == e["highest"]
    assert again["dft_energies_eV"]["final"] == pytest.approx(e["final"], abs=1e-4)
    # another geometry in the same folder is computed, not read back
    moved = band_dft_check([_h3_he(1.7, 0.75), *band[1:]], mlip, tmp_path, settings,
                           moving_index=1)
    assert moved["dft_energies_eV"]["initial"] != e["initial"]


def test_fast_preset_says_what_its_numbers_are_good_for() -> None:
    assert "not converged" in DftCheckSettings().record()["note"]
    assert DftCheckSettings(preset="production").record()["note"] == ""


_WRITE_INPUT = """
from pymatgen.core import Lattice, Structure
from ssbflow.engines.cp2k import sets
s = Structure(Lattice.cubic(8), ["Li", "Ni", "O", "Co", "Mn"],
              [[0, 0, 0], [.3, .3, .3], [.5, .5, .5], [.7, .7, .1], [.1, .6, .3]])
print(sets.make_generator("static", "fast").get_input_set(s).cp2k_input.get_str())
"""


def test_a_resumed_point_recognises_its_input_across_processes() -> None:
    """The same input written by two processes (other string hashing) has other &KIND
    orders but one fingerprint; another input has another."""
    import os
    import subprocess
    import sys

    texts = [subprocess.run([sys.executable, "-c", _WRITE_INPUT], capture_output=True,
                            text=True, check=True,
                            env={**os.environ, "PYTHONHASHSEED": seed}).stdout
             for seed in ("1", "2")]
    assert texts[0] != texts[1]  # the KIND sections moved
    assert input_fingerprint(texts[0]) == input_fingerprint(texts[1])
    assert input_fingerprint(texts[0]) != input_fingerprint(texts[0].replace("ENERGY", "X"))


def test_band_barrier_stands_when_the_final_state_does_not_converge(tmp_path,
                                                                    monkeypatch) -> None:
    """Stand-in single points (an SCF that does not converge cannot be ordered from CP2K's
    settings here): a failed final state loses the reaction energy only, a failed highest
    image stops the check."""
    import ssbflow.methods.dft_check as dft_check

    band = [_h3_he(a, b) for a, b in ((1.6, 0.75), (0.93, 0.93), (0.75, 1.6))]
    energies = {"initial": -10.0, "highest": -9.7}

    def stand_in(structure, run_dir, settings=None):
        label = Path(run_dir).name
        if label not in energies:
            raise SsbflowError(f"{run_dir}/cp2k.out: the CP2K SCF did not converge")
        return {"energy_eV": energies[label], "n_atoms": len(structure), "wall_s": 1.0,
                "scf_steps": 5, "guess": "atomic", "reused": False}

    monkeypatch.setattr(dft_check, "cp2k_single_point", stand_in)
    check = band_dft_check(band, [-1.0, -0.5, -1.0], tmp_path, moving_index=1)
    assert check["barrier_eV"] == pytest.approx(0.3)
    assert check["reaction_energy_eV"] is None and check["dft_minus_mlip_reaction_eV"] is None
    assert "did not converge" in check["errors"]["final"]
    energies.pop("highest")
    with pytest.raises(SsbflowError, match="did not converge"):
        band_dft_check(band, [-1.0, -0.5, -1.0], tmp_path, moving_index=1)
