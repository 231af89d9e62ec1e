"""Li+ coordination analysis: RDF, first-shell CN and free-Li fraction on configurations
whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from ssbflow.analysis.coordination import coordination, first_shell, rdf
from ssbflow.errors import InputError

A_A = 2.5  # lattice constant of the CsCl-type test crystal (Å)


def _cscl(n: int = 4) -> tuple[np.ndarray, np.ndarray, float]:
    """Li at the body centres, F at the corners of an n x n x n simple cubic lattice."""
    grid = np.stack(np.meshgrid(*[np.arange(n)] * 3, indexing="ij"), -1).reshape(-1, 3) * A_A
    return grid + 0.5 * A_A, grid.astype(float), n * A_A


def test_cscl_lattice_has_eight_nearest_anions() -> None:
    li, f, box = _cscl()
    frames = 2
    res = rdf(np.repeat(li[None], frames, 0), np.repeat(f[None], frames, 0), [box] * 3, "Li–F",
              r_max_A=6.0, dr_A=0.02)
    assert res.r_A[-1] < box / 2  # cut to the minimum-image limit
    assert res.r_peak_A == pytest.approx(A_A * np.sqrt(3) / 2, abs=0.03)
    # the first minimum lies between the 8 neighbours at 2.17 Å and the 24 at 4.15 Å
    assert 2.2 < res.r_min_A < 4.1
    assert res.cn_first_shell == pytest.approx(8.0)
    # all 32 neighbours of the first two shells (8 + 24) are within 4.2 Å
    assert np.interp(4.2, res.r_A, res.cn) == pytest.approx(32.0)
    rows, free = coordination(li[None], {"F(FSI)": f[None]}, np.eye(3) * box,
                              anions=("F(FSI)",), dr_A=0.02)
    assert free == 0.0 and rows[0].cn_first_shell == pytest.approx(8.0)
    _, free = coordination(li[None], {"F(polymer)": f[None]}, np.eye(3) * box, dr_A=0.02)
    assert free is None


def test_ideal_gas_rdf_is_one_and_cn_is_density_times_volume() -> None:
    rng = np.random.default_rng(0)
    box, n = 20.0, 400
    li, o = rng.random((50, 20, 3)) * box, rng.random((50, n, 3)) * box
    res = rdf(li, o, [box] * 3, "Li–O", r_max_A=9.0, dr_A=0.25)
    far = res.r_A > 4.0
    assert np.mean(res.g[far]) == pytest.approx(1.0, abs=0.02)
    assert res.g_tail == pytest.approx(1.0, abs=0.05)
    assert res.cn[-1] == pytest.approx(n / box**3 * 4 / 3 * np.pi * 9.0**3, rel=0.03)


def test_free_fraction_counts_li_without_an_anion_atom_in_the_first_shell() -> None:
    li = np.array([[[1.0, 1.0, 1.0], [11.0, 11.0, 11.0]]])
    o_anion = np.array([[[1.0, 1.0, 3.0]]])  # 2 Å from the first Li, far from the second
    f_polymer = np.array([[[11.0, 11.0, 13.0]]])  # coordinates the second (not an anion)
    rows, free = coordination(li, {"O(FSI)": o_anion, "F(polymer)": f_polymer}, [22.0] * 3,
                              anions=("O(FSI)",))
    assert free == pytest.approx(0.5)
    assert [r.pair for r in rows] == ["Li–O(FSI)", "Li–F(polymer)"]
    with pytest.raises(InputError, match="anions"):
        coordination(li, {"O(FSI)": o_anion}, [22.0] * 3, anions=("N(FSI)",))


def test_flat_rdf_has_no_first_shell() -> None:
    r = np.linspace(0.05, 8, 160)
    assert first_shell(r, np.ones_like(r) * 0.9) is None
