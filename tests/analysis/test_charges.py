"""Atomic charges from real CP2K outputs of ammonia borane and its fragments."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from ssbflow.analysis.charges import (
    bader_charges,
    charge_changes,
    parse_cp2k_charges,
    parse_cp2k_valence_electrons,
    write_charges,
)
from ssbflow.errors import InputError

pytestmark = pytest.mark.cp2k

SYMBOLS = ["B", "H", "H", "H", "N", "H", "H", "H"]


@pytest.mark.parametrize("method", ["hirshfeld", "mulliken"])
def test_cp2k_charges_of_a_neutral_molecule(cp2k_cdd, method):
    charges = parse_cp2k_charges(cp2k_cdd.log_total, method)
    assert charges.symbols == SYMBOLS
    assert charges.total_e == pytest.approx(0.0, abs=0.02)
    # the dative bond moves electrons from NH3 (donor) to BH3 (acceptor)
    nh3 = charges.charges_e[4:].sum()
    assert nh3 > 0.1
    assert charges.charges_e[:4].sum() == pytest.approx(-nh3, abs=0.02)


def test_charge_change_on_adsorption(cp2k_cdd, tmp_path):
    ab = parse_cp2k_charges(cp2k_cdd.log_total)
    bh3 = parse_cp2k_charges(cp2k_cdd.log_a)
    nh3 = parse_cp2k_charges(cp2k_cdd.log_b)
    # isolated neutral fragments
    assert bh3.total_e == pytest.approx(0.0, abs=0.02)
    assert nh3.total_e == pytest.approx(0.0, abs=0.02)
    change = charge_changes(ab, [bh3, nh3], atoms=[0, 4])
    assert change.symbols == ["B", "N"]
    # N gives part of its lone pair: less negative (Δq > 0); BH3 takes electrons: B Δq < 0
    d_b, d_n = change.change_e
    assert d_n > 0.0
    assert d_b < 0.0
    files = write_charges(change, tmp_path, "ab")
    rows = list(csv.DictReader(open(files["csv"])))
    assert [r["element"] for r in rows] == ["B", "N"]
    data = json.loads(open(files["json"]).read())
    assert data["method"] == "hirshfeld"
    assert np.isclose(data["atoms"][1]["change_e"], d_n)


def test_fragments_in_the_wrong_order_are_refused(cp2k_cdd):
    ab = parse_cp2k_charges(cp2k_cdd.log_total)
    bh3 = parse_cp2k_charges(cp2k_cdd.log_a)
    nh3 = parse_cp2k_charges(cp2k_cdd.log_b)
    with pytest.raises(InputError, match="do not match"):
        charge_changes(ab, [nh3, bh3])


def test_missing_analysis_is_reported(cp2k_n2):
    # the N2 run printed no MO-based population analysis other than the defaults; a file
    # without the table (here the ELF cube) is refused with the method named
    with pytest.raises(InputError, match="no mulliken charges"):
        parse_cp2k_charges(cp2k_n2.elf, "mulliken")


def test_gth_valence_counts_from_the_output(cp2k_cdd):
    assert parse_cp2k_valence_electrons(cp2k_cdd.log_total) == {"B": 3, "H": 1, "N": 5}
    assert parse_cp2k_valence_electrons(cp2k_cdd.log_b) == {"H": 1, "N": 5}
    with pytest.raises(InputError, match="GTH Potential"):
        parse_cp2k_valence_electrons(cp2k_cdd.total)


def test_bader_charges_of_ammonia_borane(cp2k_cdd, monkeypatch):
    # without Henkelman's executable (none on this machine; hidden if there is one) the
    # partition is computed here from the CP2K valence density cube
    monkeypatch.setattr(shutil, "which", lambda name: None)
    valence = parse_cp2k_valence_electrons(cp2k_cdd.log_total)
    ab = bader_charges(cp2k_cdd.total, valence_electrons=valence)
    assert ab.method == "bader" and ab.symbols == SYMBOLS
    # a neutral molecule: the charges sum to 0 (up to the cube's integration error)
    assert ab.total_e == pytest.approx(0.0, abs=0.05)
    # N is the anion of the molecule, B the cation, the H on B hydridic, the H on N protic
    q = ab.charges_e
    assert q[4] < -0.5 and q[0] > 0.5
    assert all(q[1:4] < 0) and all(q[5:] > 0)
    # the dative bond: NH3 gives electrons to BH3 on binding (as Hirshfeld and Mulliken)
    change = charge_changes(
        ab, [bader_charges(cp2k_cdd.part_a, valence), bader_charges(cp2k_cdd.part_b, valence)])
    assert change.change_e[4:].sum() > 0.05
    assert change.change_e[:4].sum() == pytest.approx(-change.change_e[4:].sum(), abs=0.05)
    # counts are needed to turn populations into charges
    with pytest.raises(InputError, match="valence_electrons"):
        bader_charges(cp2k_cdd.total)
    with pytest.raises(InputError, match="no count for"):
        bader_charges(cp2k_cdd.total, valence_electrons={"N": 5, "H": 1})
