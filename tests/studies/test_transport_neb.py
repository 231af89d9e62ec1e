"""NEB studies: the NCM811 subsurface hop (``ssbflow.studies.ncm_pvdf``), endpoint relaxation
that shares one host configuration (``ssbflow.methods.relax``), and the LLTO A-site hop
(``ssbflow.studies.llto.migration``, run as a flow through ``run_study``; real CHGNet)."""

from __future__ import annotations

import numpy as np
import pytest
from ase.geometry import find_mic
from pymatgen.core import Lattice, Structure

from ssbflow.engines.mlip import energy_forces_calculator, mlip_calculator
from ssbflow.methods.neb import vacancy_hop_endpoints
from ssbflow.methods.relax import as_atoms as _atoms
from ssbflow.methods.relax import relaxed_hop_endpoints
from ssbflow.structures.cathode_slabs import ncm811_slab
from ssbflow.structures.polymer_packing import polymer_on_slab
from ssbflow.studies.ncm_pvdf.hop import choose_subsurface_hop


@pytest.fixture(scope="module")
def calc():
    return mlip_calculator("CHGNet")


def _li2o() -> Structure:
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.63), ["Li", "O"], [[0.25, 0.25, 0.25], [0, 0, 0]]
    )


@pytest.mark.parametrize("shift", [0.0, 0.5])
def test_ncm_hop_is_subsurface_between_nearest_li_under_the_chain(shift) -> None:
    """The hop joins two nearest-neighbour Li below the top surface, free to move, and lies
    under the polymer chain even when the slab is shifted by half a cell in-plane (the pair
    is then split across the cell edge)."""
    slab = ncm811_slab(thickness=6.0, vacuum=15.0, min_width_A=(14.0, 8.0))
    slab.translate_sites(list(range(len(slab))), [shift, shift, 0.0], to_unit_cell=True)
    i, j = choose_subsurface_hop(slab)
    z = slab.cart_coords[:, 2]
    free = slab.site_properties["selective_dynamics"]
    assert slab[i].specie.symbol == slab[j].specie.symbol == "Li"
    assert all(free[i]) and all(free[j])
    assert max(z[i], z[j]) < z.max() - 1.5  # below the surface
    li = [k for k, s in enumerate(slab) if s.specie.symbol == "Li"]
    d_li = [slab.get_distance(i, k) for k in li if k != i]
    # nearest neighbours in the Li layer (a_hex ≈ 2.87 Å), not a second-neighbour jump
    assert slab.get_distance(i, j) == pytest.approx(min(d_li), abs=0.05)
    assert slab.get_distance(i, j) == pytest.approx(2.87, abs=0.15)
    coated = polymer_on_slab(slab, "pvdf", height=2.5)
    chain = np.array(coated.site_properties["adsorbate"], dtype=bool)
    a = _atoms(coated)
    mid = a.positions[i] + 0.5 * find_mic(a.positions[j] - a.positions[i], a.cell, a.pbc)[0]
    d = find_mic(a.positions[chain] - mid, a.cell, a.pbc)[0]
    assert np.linalg.norm(d[:, :2], axis=1).min() < 2.5  # the chain passes over the hop


def test_energy_forces_calculator_gives_the_same_forces_without_stress(calc) -> None:
    atoms = _atoms(_li2o())
    atoms.rattle(0.05, seed=1)
    full = atoms.copy()
    full.calc = calc
    fast = atoms.copy()
    fast.calc = energy_forces_calculator(calc)
    assert np.allclose(fast.get_forces(), full.get_forces(), atol=1e-4)
    assert fast.get_potential_energy() == pytest.approx(full.get_potential_energy(), abs=1e-4)
    assert "stress" not in fast.calc.results  # not computed for a fixed-cell job
    assert np.allclose(fast.get_stress(), full.get_stress(), atol=1e-4)  # still on request


def test_relaxed_hop_endpoints_of_a_symmetric_hop_are_equivalent_minima(calc, tmp_path) -> None:
    """Li vacancy hop in Li2O: both relaxed endpoints have the same energy (equivalent
    sites), the forces are below fmax, and the ion moved by about the Li–Li distance."""
    s = _li2o()
    li = [k for k, site in enumerate(s) if site.specie.symbol == "Li"]
    j = min(li[1:], key=lambda k: s.get_distance(li[0], k))
    initial, final = vacancy_hop_endpoints(s, li[0], j)
    moving = li[0] if li[0] < j else li[0] - 1
    a0, a1, info = relaxed_hop_endpoints(initial, moving, _atoms(final).positions[moving],
                                         calc, fmax_eV_per_A=0.02, max_steps=200,
                                         logdir=tmp_path)
    assert info["initial_converged"] and info["final_converged"]
    assert np.abs(a0.get_forces()).max() < 0.03 and np.abs(a1.get_forces()).max() < 0.03
    assert a1.get_potential_energy() == pytest.approx(a0.get_potential_energy(), abs=0.01)
    assert info["hop_length_A"] == pytest.approx(4.63 / 2, abs=0.3)
    # the BFGS logs go where asked; the steps are recorded (resume is the store's job now)
    assert (tmp_path / "initial_relax.log").is_file() and (tmp_path / "final_relax.log").is_file()
    assert info["initial_relax_steps"] >= 1


# --------------------------------------------------------------------------------------------
# LLTO
# --------------------------------------------------------------------------------------------
def test_mirrored_target_maps_the_cage_onto_its_neighbour() -> None:
    """Reflection through the shared window: an ion 0.8 Å off its site towards the window
    lands 0.8 Å off the neighbouring site towards the same window; an ion in the window
    plane is carried over by the whole site-to-site vector."""
    from ase import Atoms

    from ssbflow.studies.llto.migration import mirrored_target_A

    a_A = 3.9
    atoms = Atoms("Li", positions=[[0.8, 0.3, 0.1]], cell=[3 * a_A, 3 * a_A, 2 * a_A], pbc=True)
    to_frac = [1 / 3, 0.0, 0.0]
    target = mirrored_target_A(atoms, 0, [0.0, 0.0, 0.0], to_frac)
    assert np.allclose(target, [a_A - 0.8, 0.3, 0.1])
    atoms.positions[0] = [a_A / 2, 0.3, 0.1]
    assert np.allclose(mirrored_target_A(atoms, 0, [0.0, 0.0, 0.0], to_frac),
                       [1.5 * a_A, 0.3, 0.1])


_LLTO_TINY = {"supercell": (3, 2, 1), "n_images": 1, "fmax_eV_per_A": 0.1, "max_steps": 100,
              "relax_cell": False}


@pytest.fixture(scope="module")
def llto_run(tmp_path_factory):
    """The LLTO study, reduced: a 3x2x1 cell (58 atoms, Li0.25La0.58TiO3: two empty A sites
    in the La-poor layer), positions-only host relaxation, fmax 0.1 eV/Å, one moving image;
    run as a flow through ``run_study`` with its own store."""
    from ssbflow.runtime.studies import run_study

    out = tmp_path_factory.mktemp("llto")
    db = tmp_path_factory.mktemp("llto-db")
    with pytest.warns(UserWarning, match="Li0.333La0.556TiO3 needs"):
        doc = run_study("llto-li-migration", out / "run", db=db, quiet=True, **_LLTO_TINY)
    return doc, out / "run", db


def test_llto_flow_resumes_from_the_store(llto_run, capsys) -> None:
    """A second ``run_study`` with the same folder takes every job from the store (no job
    runs again) and writes the same report; the band images sit in the ``data`` store."""
    from ssbflow.runtime.store import get_job_store
    from ssbflow.runtime.studies import resume_study, run_study

    doc, out, db = llto_run
    jobs_before = sorted(p.name for p in (out / "jobs").iterdir())
    again = run_study("llto-li-migration", out, db=db, **_LLTO_TINY)
    err = capsys.readouterr().err
    for name in ("llto host", "llto endpoints", "neb llto", "llto-li-migration results"):
        assert f"reused from store: {name}" in err
    assert sorted(p.name for p in (out / "jobs").iterdir()) == jobs_before
    assert again["barriers"] == doc["barriers"]
    assert resume_study(out, db=db, quiet=True)["barriers"] == doc["barriers"]
    store = get_job_store(db)
    store.connect()
    assert store.additional_stores["data"].count() >= 1  # the band, not in the documents
    with pytest.raises(ValueError, match="other settings"):
        run_study("llto-li-migration", out, db=db, quiet=True, **{**_LLTO_TINY, "seed": 1})


def test_llto_a_site_centre_is_not_a_minimum_for_li(llto_run, calc) -> None:
    """Why the endpoints must be relaxed off-centre: in the ideal cell, Li on an A-site centre
    gains energy when it is pushed towards the window (a saddle by symmetry), while in the
    relaxed initial state any small push costs energy."""
    doc, out, _ = llto_run
    hop = doc["hop"]
    k = hop["index"]
    ideal = _atoms(Structure.from_file(out / "structures" / "ideal.json"))
    ideal.calc = energy_forces_calculator(calc)
    e_centre = ideal.get_potential_energy()
    step = (np.asarray(hop["to_frac"]) - np.asarray(hop["from_frac"])) @ ideal.cell.array
    step = find_mic(step, ideal.cell, ideal.pbc)[0]
    ideal.positions[k] += 0.2 * step  # ~0.8 Å towards the window
    assert ideal.get_potential_energy() < e_centre - 0.02
    initial = _atoms(Structure.from_file(out / "structures" / "initial.json"))
    initial.calc = energy_forces_calculator(calc)
    e0 = initial.get_potential_energy()
    for axis in range(3):
        for sign in (-1, 1):
            probe = initial.copy()
            probe.calc = initial.calc
            probe.positions[k, axis] += sign * 0.3
            assert probe.get_potential_energy() > e0


def test_llto_band_lies_above_relaxed_endpoints(llto_run) -> None:
    """The old failure was a band 0.5 eV below its endpoints (Li left on the A-site
    centres). With relaxed off-centre endpoints no image is below the lower endpoint, the
    barrier is positive and at least the reaction energy."""
    doc, out, _ = llto_run
    row = doc["barriers"][0]
    energies = np.array(doc["neb"]["image_energies_eV"])
    assert row["converged"]
    assert row["images_above_lower_endpoint"] and not row["intermediate_minimum"]
    assert np.all(energies[1:-1] > min(energies[0], energies[-1]))
    assert row["barrier_eV"] > 0.02
    assert row["barrier_eV"] >= row["reaction_energy_eV"] - 1e-6
    assert 1.0 < row["hop_length_A"] < 3.9  # one window crossing, less than the site spacing
    for name in ("report.md", "results.json", "barriers.csv", "neb_profile.png"):
        assert (out / name).is_file()
