"""Reaction energies from computed entries: interfacial reactivity and named reactions.

Definitions (``shared/reference/science.md``): for "how reactive is X with Li", the most
negative reaction energy over all mixing ratios on the convex hull of the computed phases
(pymatgen ``InterfacialReactivity``), in eV per atom of mixture and per Li atom; for a named
reaction, ΔE = Σ E(products) − Σ E(reactants) per formula unit, each phase computed (and
relaxed) with the same engine and settings.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np
from pymatgen.analysis.interface_reactions import InterfacialReactivity
from pymatgen.analysis.phase_diagram import PhaseDiagram
from pymatgen.analysis.reaction_calculator import Reaction
from pymatgen.core import Composition, Element
from pymatgen.entries.computed_entries import ComputedEntry

from ssbflow.errors import InputError


def parse_formula(formula: str) -> Composition:
    """A composition from a formula string, with a clear error for unknown elements.

    Raises
    ------
    InputError
        Not a chemical formula, or an unknown element symbol.
    """
    text = formula.strip()
    symbols = re.findall(r"[A-Z][a-z]?", text)
    if not text or not symbols or re.sub(r"[A-Z][a-z]?|[\d.()\s]", "", text):
        raise InputError(f"formula {formula!r}: expected a chemical formula such as 'Li3N'")
    for symbol in symbols:
        if not Element.is_valid_symbol(symbol):
            raise InputError(f"formula {formula!r}: unknown element {symbol!r}")
    return Composition(text)


def check_same_source(entries: Iterable[ComputedEntry]) -> str:
    """The common energy source of ``entries``.

    Raises
    ------
    InputError
        Entries come from different sources (e.g. CHGNet and MP-corrected DFT): their
        energies cannot share a phase diagram.
    """
    sources: dict[str, str] = {}
    for e in entries:
        source = (e.data or {}).get("energy_source", "unknown")
        sources.setdefault(source, e.composition.reduced_formula)
    if len(sources) > 1:
        detail = "; ".join(f"{s} (e.g. {f})" for s, f in sources.items())
        raise InputError(
            "entries mix energies from different sources, which cannot be compared "
            f"(never mix raw and MP-corrected energies): {detail}"
        )
    if not sources:
        raise InputError("no entries given")
    return next(iter(sources))


def phase_diagram(entries: Sequence[ComputedEntry]) -> PhaseDiagram:
    """A phase diagram of ``entries`` (all from one energy source).

    Raises
    ------
    InputError
        Mixed energy sources, or an element without an elemental entry.
    """
    check_same_source(entries)
    elements = {el for e in entries for el in e.composition.elements}
    present = {e.composition.elements[0] for e in entries if e.composition.is_element}
    missing = sorted(str(el) for el in elements - present)
    if missing:
        raise InputError(f"entries: no elemental phase for {', '.join(missing)}; "
                         "every element needs a reference phase")
    return PhaseDiagram(list(entries))


@dataclass(frozen=True)
class ReactivityResult:
    """Most negative reaction energy between two phases over all mixing ratios.

    Attributes
    ----------
    reactants : the two reduced formulas, as given.
    reaction_energy_eV_per_atom : minimum over mixing ratios (eV per atom of mixture); 0 when
        the pair does not react.
    reaction_energy_eV_per_Li : the same per Li atom in the mixture (None without Li).
    mixing_ratio : atomic fraction of each reactant in the mixture at the minimum (empty when
        the pair does not react).
    reaction : balanced reaction at the minimum (``"no reaction"`` when none).
    products : reduced formulas of the products.
    energy_source : which engine made the energies.
    """

    reactants: tuple[str, str]
    reaction_energy_eV_per_atom: float
    reaction_energy_eV_per_Li: float | None
    mixing_ratio: dict[str, float]
    reaction: str
    products: list[str]
    energy_source: str

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        out = asdict(self)
        out["reactants"] = list(self.reactants)
        return out


def _lowest_entry(entries: Iterable[ComputedEntry], comp: Composition) -> ComputedEntry | None:
    formula = comp.reduced_formula
    matching = [e for e in entries if e.composition.reduced_formula == formula]
    return min(matching, key=lambda e: e.energy_per_atom) if matching else None


def _format_reaction(rxn: Reaction, reactant_order: Sequence[str]) -> str:
    """Balanced reaction with the smallest integer coefficients, reactants in a fixed order.

    pymatgen prints fractional coefficients scaled to one species; integers in a fixed
    order make the text the same whichever order the pair was given in.
    """
    # coefficient per formula unit of each reduced formula
    coeffs = {c.reduced_formula: float(n) * c.get_reduced_composition_and_factor()[1]
              for c, n in zip(rxn.all_comp, rxn.coeffs, strict=True) if abs(n) > 1e-8}
    fractions = {f: Fraction(abs(n)).limit_denominator(48) for f, n in coeffs.items()}
    smallest = min(fractions.values())
    ratios = {f: v / smallest for f, v in fractions.items()}
    lcm = math.lcm(*(r.denominator for r in ratios.values()))
    ints = {f: r * lcm for f, r in ratios.items()}
    gcd = math.gcd(*(int(v) for v in ints.values()))

    def term(f: str) -> str:
        n = int(ints[f]) // gcd
        return f if n == 1 else f"{n} {f}"

    left = [f for f in reactant_order if f in coeffs and coeffs[f] < 0]
    right = sorted(f for f, n in coeffs.items() if n > 0)
    return " + ".join(term(f) for f in left) + " -> " + " + ".join(term(f) for f in right)


def reactivity(entries: Sequence[ComputedEntry], a: str, b: str) -> ReactivityResult:
    """Most negative reaction energy of ``a`` + ``b`` on the hull of ``entries``.

    Parameters
    ----------
    entries : computed entries covering every element of ``a`` and ``b`` (one source).
    a, b : formulas of the two reactants (each must have a computed entry).

    Returns
    -------
    ReactivityResult
        Independent of the order of ``a`` and ``b`` (the mixing ratio is given per formula).

    Raises
    ------
    InputError
        Unknown formula or no entry for a reactant.
    """
    source = check_same_source(entries)
    comps = [parse_formula(a), parse_formula(b)]
    names = [c.reduced_formula for c in comps]
    for c in comps:
        if _lowest_entry(entries, c) is None:
            raise InputError(f"reactant {c.reduced_formula!r}: no computed entry")
    if names[0] == names[1]:
        raise InputError(f"reactants {a!r} and {b!r} are the same phase")
    # a canonical order makes the result independent of the order the pair was given in
    order = sorted(range(2), key=lambda i: names[i])
    c1, c2 = comps[order[0]], comps[order[1]]
    pd = phase_diagram(entries)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ir = InterfacialReactivity(c1, c2, pd, norm=True, use_hull_energy=False)
        kinks = list(ir.get_kinks())
    # kink: (index, x, energy_eV_per_atom, Reaction, energy_kJ_per_mol); x is the atomic
    # fraction of c1's reactant in the normalised mixture x·c1 + (1 − x)·c2
    _, x, energy, rxn, _ = min(kinks, key=lambda k: k[2])
    energy = float(energy)
    x_of = {c1.reduced_formula: float(x), c2.reduced_formula: 1.0 - float(x)}
    if energy > -1e-6:  # no mixing ratio reacts: no ratio to report
        energy, reaction, products = 0.0, "no reaction", sorted(names)
        x_of = {}
    else:
        reaction = _format_reaction(rxn, sorted(names))
        products = sorted(p.reduced_formula for p in rxn.products)
    li_fraction = sum(x_of.get(c.reduced_formula, 0.0) * c.get_atomic_fraction(Element("Li"))
                      for c in (c1, c2))
    has_li = any(c.get_atomic_fraction(Element("Li")) > 0 for c in comps)
    if not has_li:
        per_li = None
    elif energy == 0.0:
        per_li = 0.0
    else:
        per_li = energy / li_fraction
    return ReactivityResult(
        reactants=(names[0], names[1]),
        reaction_energy_eV_per_atom=energy,
        reaction_energy_eV_per_Li=per_li,
        mixing_ratio={n: round(x_of[n], 6) for n in names if n in x_of},
        reaction=reaction,
        products=products,
        energy_source=source,
    )


_TERM = re.compile(r"^\s*(\d+(?:\.\d+)?|\d*\.\d+)?\s*([A-Z][A-Za-z0-9().]*)\s*$")


def parse_reaction(text: str) -> tuple[dict[str, float], dict[str, float]]:
    """Parse ``"InN + 3 Li -> Li3N + In"`` into reactant and product coefficients.

    Raises
    ------
    InputError
        Not of the form ``A + n B -> C + D``, an unknown element, or not balanced.
    """
    parts = re.split(r"->|=>|→|=", text)
    if len(parts) != 2:
        raise InputError(f"reaction {text!r}: expected 'A + n B -> C + D'")
    sides: list[dict[str, float]] = []
    for side in parts:
        coefficients: dict[str, float] = {}
        for term in side.split("+"):
            match = _TERM.match(term)
            if not match:
                raise InputError(f"reaction {text!r}: cannot read the term {term.strip()!r}")
            coefficient = float(match.group(1)) if match.group(1) else 1.0
            formula = match.group(2)
            parse_formula(formula)
            coefficients[formula] = coefficients.get(formula, 0.0) + coefficient
        sides.append(coefficients)
    left = sum((Composition(f) * n for f, n in sides[0].items()), Composition())
    right = sum((Composition(f) * n for f, n in sides[1].items()), Composition())
    if not left.almost_equals(right, rtol=0, atol=1e-6):
        raise InputError(f"reaction {text!r} is not balanced: {left.formula} -> {right.formula}")
    return sides[0], sides[1]


@dataclass(frozen=True)
class NamedReactionResult:
    """ΔE of a named reaction per formula unit as written.

    Attributes
    ----------
    reaction : the reaction as given.
    reaction_energy_eV : Σ E(products) − Σ E(reactants) (eV per reaction as written).
    reaction_energy_eV_per_atom : the same divided by the atoms on one side.
    energies_eV_per_formula_unit : the energy used for each phase.
    energy_source : which engine made the energies.
    """

    reaction: str
    reaction_energy_eV: float
    reaction_energy_eV_per_atom: float
    energies_eV_per_formula_unit: dict[str, float]
    energy_source: str

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return asdict(self)


def named_reaction_energy(entries: Sequence[ComputedEntry], text: str) -> NamedReactionResult:
    """ΔE of ``text`` (e.g. ``"InN + 3 Li -> Li3N + In"``) from the lowest-energy entry of
    each formula.

    Raises
    ------
    InputError
        Unbalanced or unreadable reaction, or a phase without a computed entry.
    """
    source = check_same_source(entries)
    reactants, products = parse_reaction(text)
    energies: dict[str, float] = {}
    for formula in {**reactants, **products}:
        comp = Composition(formula)
        entry = _lowest_entry(entries, comp)
        if entry is None:
            raise InputError(f"reaction {text!r}: no computed entry for {formula!r}")
        energies[formula] = entry.energy_per_atom * comp.num_atoms
    delta = (sum(n * energies[f] for f, n in products.items())
             - sum(n * energies[f] for f, n in reactants.items()))
    n_atoms = sum(n * Composition(f).num_atoms for f, n in reactants.items())
    return NamedReactionResult(text.strip(), float(delta), float(delta / n_atoms), energies,
                               source)


def named_reaction_free_energy_eV(result: NamedReactionResult,
                                  vibrational_eV_per_atom: dict[str, float]) -> float:
    """ΔG(T) = ΔE + Σ ν n_atoms F_vib(T) for a named reaction (harmonic phonons).

    ``vibrational_eV_per_atom``: F_vib(T) per atom of each formula of the reaction (e.g. from
    harmonic phonons in ``ssbflow.methods.phonons``).
    """
    reactants, products = parse_reaction(result.reaction)
    missing = sorted((set(reactants) | set(products)) - set(vibrational_eV_per_atom))
    if missing:
        raise InputError(f"no vibrational free energy for {', '.join(missing)}")

    def side(terms: dict[str, float]) -> float:
        return sum(n * Composition(f).num_atoms * vibrational_eV_per_atom[f]
                   for f, n in terms.items())

    return result.reaction_energy_eV + side(products) - side(reactants)


def formation_enthalpy_eV_per_atom(entries: Sequence[ComputedEntry], formula: str) -> float:
    """Formation energy of ``formula`` from the elemental phases in ``entries`` (eV/atom)."""
    pd = phase_diagram(entries)
    entry = _lowest_entry(entries, parse_formula(formula))
    if entry is None:
        raise InputError(f"formula {formula!r}: no computed entry")
    return float(pd.get_form_energy_per_atom(entry))


def entries_in_system(entries: Iterable[ComputedEntry], formulas: Iterable[str]
                      ) -> list[ComputedEntry]:
    """The entries whose elements all belong to the chemical system of ``formulas``."""
    elements = {el for f in formulas for el in parse_formula(f).elements}
    return [e for e in entries if set(e.composition.elements) <= elements]


@dataclass(frozen=True)
class BondTimeSeries:
    """Bond counts along a trajectory of a reaction cell.

    Attributes
    ----------
    time_fs : time of each frame (fs).
    li_per_n : mean number of Li within ``li_n_cutoff_A`` of an N atom (3-fold in-plane plus
        2 axial = 8 in Li3N; 0 in InN).
    in_n_bonds : number of In–N pairs within ``in_n_cutoff_A`` (4 per In in wurtzite InN).
    li_n_cutoff_A, in_n_cutoff_A : the cutoffs used (Å).
    """

    time_fs: list[float]
    li_per_n: list[float]
    in_n_bonds: list[int]
    li_n_cutoff_A: float
    in_n_cutoff_A: float


def bond_time_series(frames: Sequence, time_fs: Sequence[float], *, li_n_cutoff_A: float = 2.5,
                     in_n_cutoff_A: float = 2.6) -> BondTimeSeries:
    """Li–N coordination and In–N bond count in each frame (ASE ``Atoms``).

    The cutoffs sit between the first and second neighbour shells: Li–N 1.93–2.13 Å in
    Li3N, In–N 2.15–2.20 Å in InN.
    """
    from ase.neighborlist import neighbor_list

    li_per_n, in_n = [], []
    for atoms in frames:
        symbols = np.array(atoms.get_chemical_symbols())
        i, j = neighbor_list("ij", atoms, max(li_n_cutoff_A, in_n_cutoff_A))
        d = atoms.get_distances(i, j, mic=True)
        si, sj = symbols[i], symbols[j]
        n_count = max(int(np.sum(symbols == "N")), 1)
        li_per_n.append(float(np.sum((si == "N") & (sj == "Li") & (d < li_n_cutoff_A))) / n_count)
        in_n.append(int(np.sum((si == "In") & (sj == "N") & (d < in_n_cutoff_A))))
    return BondTimeSeries([float(t) for t in time_fs], li_per_n, in_n, li_n_cutoff_A,
                          in_n_cutoff_A)


def plot_bond_time_series(series: BondTimeSeries, path: str, title: str = "") -> str:
    """Two-panel PNG: Li per N and In–N bonds against time."""
    from ssbflow.analysis.plots import new_figure, save_png

    t_ps = np.asarray(series.time_fs) / 1000.0
    fig, axes = new_figure(2, 1, (5.5, 4.5), sharex=True)
    ax1, ax2 = axes[0, 0], axes[1, 0]
    ax1.plot(t_ps, series.li_per_n, color="tab:green")
    ax1.set_ylabel(f"Li per N (< {series.li_n_cutoff_A} Å)")
    ax2.plot(t_ps, series.in_n_bonds, color="tab:purple")
    ax2.set_ylabel(f"In–N bonds (< {series.in_n_cutoff_A} Å)")
    ax2.set_xlabel("time (ps)")
    if title:
        ax1.set_title(title)
    save_png(fig, path)
    return path
