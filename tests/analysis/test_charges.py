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
    write_charges,
)
from ssbflow.errors import EngineUnavailableError, InputError

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


def test_bader_needs_its_executable(cp2k_cdd):
    if shutil.which("bader") is None:
        with pytest.raises(EngineUnavailableError, match="bader: executable not found"):
            bader_charges(cp2k_cdd.total, valence_electrons={"B": 3, "N": 5, "H": 1})
    else:  # with Henkelman's bader installed: charges of a neutral molecule sum to ~0
        charges = bader_charges(cp2k_cdd.total, valence_electrons={"B": 3, "N": 5, "H": 1})
        assert charges.total_e == pytest.approx(0.0, abs=0.05)
