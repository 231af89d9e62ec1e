"""The one CP2K charge parser on spin-polarised (UKS) tables and gzipped outputs.

Moved here from ``tests/engines/test_cp2k_sets.py`` (the engines' own parser is gone): the
same tables, read by :func:`ssbflow.analysis.charges.parse_cp2k_charges`; plus a real UKS run
of the OH radical.
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from ssbflow.analysis.charges import parse_cp2k_charges

# Population tables as CP2K 2023.1 prints them for a spin-polarised run (OH radical,
# SZV-MOLOPT-SR-GTH, UKS): the Mulliken net charge is the second-to-last column there.
_UKS_TABLES = """
                     Mulliken Population Analysis

 #  Atom  Element  Kind  Atomic population (alpha,beta) Net charge  Spin moment
       1     O        1         3.701642     2.670160    -0.371801     1.031482
       2     H        2         0.298358     0.329840     0.371801    -0.031482
 # Total charge and spin        4.000000     3.000000     0.000000     1.000000

                           Hirshfeld Charges

  #Atom  Element  Kind  Ref Charge     Population       Spin moment  Net charge
      1       O      1       6.000    3.562   2.603            0.959     -0.165
      2       H      2       1.000    0.438   0.397            0.041      0.165

  Total Charge                                                           -0.000
"""


def test_charges_of_spin_polarised_output_take_the_net_charge_column(tmp_path):
    (tmp_path / "cp2k.out").write_text(_UKS_TABLES)
    mulliken = parse_cp2k_charges(tmp_path, "mulliken")  # a run folder means its cp2k.out
    hirshfeld = parse_cp2k_charges(tmp_path / "cp2k.out", "hirshfeld")
    assert mulliken.charges_e == pytest.approx([-0.371801, 0.371801])
    assert hirshfeld.charges_e == pytest.approx([-0.165, 0.165])
    assert mulliken.spin_moments == pytest.approx([1.031482, -0.031482])
    assert hirshfeld.spin_moments == pytest.approx([0.959, 0.041])
    assert mulliken.symbols == hirshfeld.symbols == ["O", "H"]


def test_gzipped_output_is_read_like_the_plain_one(tmp_path):
    with gzip.open(tmp_path / "cp2k.out.gz", "wt") as handle:  # as atomate2 leaves it
        handle.write(_UKS_TABLES)
    for given in (tmp_path, tmp_path / "cp2k.out", tmp_path / "cp2k.out.gz"):
        charges = parse_cp2k_charges(given, "mulliken")
        assert charges.charges_e == pytest.approx([-0.371801, 0.371801])
    with pytest.raises(FileNotFoundError, match="nor"):
        parse_cp2k_charges(tmp_path / "other.out")


@pytest.mark.cp2k
@pytest.mark.parametrize("method", ["mulliken", "hirshfeld"])
def test_real_uks_run_of_the_oh_radical(cp2k_oh, method, tmp_path):
    charges = parse_cp2k_charges(cp2k_oh, method)
    assert charges.symbols == ["O", "H"]
    o, h = charges.charges_e
    assert o < -0.1 and h > 0.1  # O–H polarity
    assert o + h == pytest.approx(0.0, abs=2e-3)  # neutral radical
    # one unpaired electron, on O: spin moments (not populations) in their own column
    assert charges.spin_moments is not None
    assert charges.spin_moments.sum() == pytest.approx(1.0, abs=0.02)
    assert charges.spin_moments[0] > 0.8
    gz = tmp_path / "cp2k.out.gz"
    gz.write_bytes(gzip.compress(cp2k_oh.read_bytes()))
    again = parse_cp2k_charges(gz, method)
    assert np.array_equal(again.charges_e, charges.charges_e)
