"""VASP inputs of the vasp engine (no VASP here: INCAR, KPOINTS, POSCAR and POTCAR spec)."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.core.surface import SlabGenerator

from ssbflow.engines import get_engine
from ssbflow.engines.vasp import sets as vi


def _lif_slab() -> Structure:
    bulk = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.03), ["Li", "F"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])
    slab = SlabGenerator(bulk, (0, 0, 1), 6, 12, center_slab=True,
                         lll_reduce=False).get_slab().get_orthogonal_c_slab()
    z = slab.cart_coords[:, 2]
    slab.add_site_property("selective_dynamics", [[bool(v > z.min() + 0.5)] * 3 for v in z])
    return slab


def _licoo2() -> Structure:
    return Structure(Lattice.hexagonal(2.82, 14.05), ["Li", "Co", "O", "O"],
                     [[0, 0, 0.5], [0, 0, 0], [0, 0, 0.26], [0, 0, 0.74]])


def _input_set(maker, structure):
    return maker.input_set_generator.get_input_set(structure, potcar_spec=True)


def test_slab_electronic_incar_has_the_analysis_tags_and_dipole_correction():
    maker = get_engine("vasp").electronic_maker(slab=True)
    incar = _input_set(maker, _lif_slab())["INCAR"]
    assert incar["GGA"].upper() == "PE"
    assert incar["IVDW"] == 12
    for tag in ("LCHARG", "LAECHG", "LELF", "LVHAR", "LDIPOL"):
        assert incar[tag] is True, tag
    assert incar["IDIPOL"] == 3
    assert 0.0 < incar["DIPOL"][2] < 1.0
    assert incar["NSW"] == 0
    assert incar["ISMEAR"] == 0
    # no open-shell transition metal: spin-restricted, no +U
    assert incar["ISPIN"] == 1
    assert not incar.get("LDAU", False)


def test_slab_kpoints_have_one_point_along_the_normal():
    slab = _lif_slab()
    kpoints = _input_set(get_engine("vasp").electronic_maker(slab=True), slab)["KPOINTS"]
    grid = list(kpoints.kpts[0])
    assert grid[2] == 1
    # in plane: n_i = ceil(L / |a_i|) with the fast preset's length
    length = vi.VASP_PRESETS["fast"].kpoint_length_A
    assert grid[:2] == [int(np.ceil(length / a)) for a in slab.lattice.abc[:2]]
    assert min(grid[:2]) > 1
    bulk = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.03), ["Li", "F"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])
    bulk_grid = _input_set(get_engine("vasp").static_maker(), bulk)["KPOINTS"].kpts[0]
    assert bulk_grid[2] > 1
    # a bulk cell gets no dipole correction even from the electronic maker
    incar = _input_set(get_engine("vasp").electronic_maker(slab=False), bulk)["INCAR"]
    assert "IDIPOL" not in incar and "LDIPOL" not in incar


def test_potcar_spec_lists_one_potcar_per_element_block():
    slab = _lif_slab()
    vis = _input_set(get_engine("vasp").static_maker(), slab)
    symbols = vis["POTCAR.spec"].split()
    poscar = vis["POSCAR"]
    assert symbols == ["Li_sv", "F"] or symbols == ["F", "Li_sv"]
    assert [s.split("_")[0] for s in symbols] == poscar.site_symbols


def test_transition_metal_oxide_gets_spin_and_mp_u():
    incar = _input_set(get_engine("vasp", preset="production").static_maker(), _licoo2())["INCAR"]
    assert incar["ISPIN"] == 2
    assert incar["LDAU"] is True
    poscar_symbols = _input_set(get_engine("vasp").static_maker(), _licoo2())["POSCAR"].site_symbols
    u_by_element = dict(zip(poscar_symbols, incar["LDAUU"], strict=True))
    assert u_by_element["Co"] == pytest.approx(3.32)  # Materials Project U for Co in oxides
    assert u_by_element["O"] == 0 and u_by_element["Li"] == 0


def test_relaxation_keeps_selective_dynamics_and_force_criterion():
    slab = _lif_slab()
    maker = get_engine("vasp").relax_maker(relax_cell=False, fmax_eV_per_A=0.03)
    vis = _input_set(maker, slab)
    incar = vis["INCAR"]
    assert incar["ISIF"] == 2 and incar["EDIFFG"] == pytest.approx(-0.03)
    assert incar["IBRION"] == 2 and incar["NSW"] > 0
    poscar = vis["POSCAR"]
    flags = np.array(poscar.selective_dynamics)
    n_fixed = sum(1 for s in slab.site_properties["selective_dynamics"] if not any(s))
    assert (~flags.any(axis=1)).sum() == n_fixed > 0
    cell_relax = _input_set(get_engine("vasp").relax_maker(relax_cell=True), slab)["INCAR"]
    assert cell_relax["ISIF"] == 3


def test_fast_preset_lists_its_reductions():
    fast = get_engine("vasp", preset="fast").settings()
    prod = get_engine("vasp", preset="production").settings()
    assert fast["encut_eV"] < prod["encut_eV"]
    assert any("ENCUT" in r for r in fast["reductions"])
    assert prod["reductions"] == []
    incar_fast = _input_set(get_engine("vasp").static_maker(), _lif_slab())["INCAR"]
    assert incar_fast["ENCUT"] == fast["encut_eV"]


def test_md_maker_sets_temperature_steps_and_timestep():
    maker = get_engine("vasp").md_maker(temperature_K=600, n_steps=50, timestep_fs=1.0)
    incar = _input_set(maker, _lif_slab())["INCAR"]
    assert incar["TEBEG"] == 600 and incar["TEEND"] == 600
    assert incar["NSW"] == 50 and incar["POTIM"] == 1.0 and incar["IBRION"] == 0
    assert incar["IVDW"] == 12


def test_looks_like_slab_detects_vacuum():
    assert vi.looks_like_slab(_lif_slab())
    assert not vi.looks_like_slab(_licoo2())
