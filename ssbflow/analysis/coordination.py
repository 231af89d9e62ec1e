"""Li+ coordination from MD frames: radial distribution functions, coordination numbers to the
first minimum, and the fraction of Li+ with no anion atom in its first shell.

g(r) of centre atoms A and partner atoms B in a periodic cell, averaged over frames:
g(r) = <n_B(r, r + dr)> / (ρ_B · 4/3 π ((r + dr)³ − r³)), ρ_B = N_B / V, with minimum-image
distances (:func:`ase.geometry.get_distances`), so ``r_max_A`` is at most half the shortest
cell height. The coordination number CN(r) is the mean number of B atoms within r of an A
atom; the first-shell CN is CN at the first minimum of g after its first peak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ssbflow.errors import InputError

#: Default histogram range (Å) and bin width (Å).
R_MAX_A = 8.0
DR_A = 0.05
#: First-shell radius (Å) used for a pair whose g(r) has no first minimum (no coordination
#: peak, e.g. an atom type that never approaches Li+): about where Li–O/N/F shells end.
DEFAULT_SHELL_A = 3.0
#: Bins of the moving average that smooths g(r) before its first minimum is looked for.
SMOOTH_BINS = 5


@dataclass
class RdfResult:
    """g(r) and CN(r) of one centre–partner pair (units in the names)."""

    pair: str
    n_centres: int
    n_partners: int
    n_frames: int
    r_A: np.ndarray = field(repr=False)
    g: np.ndarray = field(repr=False)
    cn: np.ndarray = field(repr=False)
    r_peak_A: float | None = None
    g_peak: float | None = None
    r_min_A: float | None = None
    cn_first_shell: float | None = None
    g_tail: float | None = None

    def row(self) -> dict:
        """The table row (no curves)."""
        return {"pair": self.pair, "n_centres": self.n_centres, "n_partners": self.n_partners,
                "n_frames": self.n_frames, "r_peak_A": self.r_peak_A, "g_peak": self.g_peak,
                "r_min_A": self.r_min_A, "cn_first_shell": self.cn_first_shell,
                "g_tail": self.g_tail}

    def curves(self) -> dict:
        """JSON-ready curves (r at bin centres, g, CN)."""
        return {"r_A": self.r_A.tolist(), "g": self.g.tolist(), "cn": self.cn.tolist()}


def _cells(cell_A: np.ndarray, n_frames: int) -> np.ndarray:
    cell = np.asarray(cell_A, dtype=float)
    if cell.shape == (3,):
        cell = np.diag(cell)
    if cell.shape == (3, 3):
        cell = np.broadcast_to(cell, (n_frames, 3, 3))
    if cell.shape != (n_frames, 3, 3):
        raise InputError(f"cell_A: expected (3,), (3, 3) or ({n_frames}, 3, 3), got {cell.shape}")
    return cell


def _max_radius_A(cells: np.ndarray) -> float:
    """Half the smallest cell height over the frames (the minimum-image limit)."""
    heights = [np.linalg.det(c) / np.linalg.norm(np.cross(c[(i + 1) % 3], c[(i + 2) % 3]))
               for c in cells for i in range(3)]
    return 0.5 * float(np.min(np.abs(heights)))


def distances_A(centres_A: np.ndarray, partners_A: np.ndarray, cells_A: np.ndarray
                ) -> list[np.ndarray]:
    """Minimum-image distance matrices (n_centres, n_partners), one per frame."""
    from ase.geometry import get_distances

    return [get_distances(a, b, cell=c, pbc=True)[1]
            for a, b, c in zip(centres_A, partners_A, cells_A, strict=True)]


def first_shell(r_A: np.ndarray, g: np.ndarray) -> tuple[float, float, float] | None:
    """``(r_peak, g_peak, r_min)`` of the first coordination shell, or ``None``.

    The peak is the highest point of g in the first stretch where g, smoothed over
    :data:`SMOOTH_BINS` bins, is above 1; the minimum is the first local minimum of the
    smoothed g after it.
    """
    kernel = np.ones(SMOOTH_BINS) / SMOOTH_BINS
    gs = np.convolve(g, kernel, mode="same")
    above = np.flatnonzero(gs > 1.0)
    if above.size == 0:
        return None
    # first maximum: the highest point before g first falls back below 1 after rising
    start = above[0]
    below = np.flatnonzero(gs[start:] < 1.0)
    stop = start + (below[0] if below.size else gs.size - start)
    peak = start + int(np.argmax(g[start:stop]))
    for i in range(peak + 1, gs.size - 1):
        if gs[i] <= gs[i - 1] and gs[i] < gs[i + 1]:
            return float(r_A[peak]), float(g[peak]), float(r_A[i])
    return None


def rdf(centres_A: np.ndarray, partners_A: np.ndarray, cell_A: np.ndarray, pair: str = "",
        r_max_A: float = R_MAX_A, dr_A: float = DR_A,
        dists: list[np.ndarray] | None = None) -> RdfResult:
    """g(r), CN(r) and the first shell of centre atoms around partner atoms.

    Parameters
    ----------
    centres_A, partners_A
        (n_frames, n, 3) Cartesian positions (Å), wrapped or not; no atom in both sets.
    cell_A
        Cell edges (3,) of an orthorhombic box, a (3, 3) cell (rows are vectors) or one per
        frame (n_frames, 3, 3).
    r_max_A, dr_A
        Histogram range and bin (Å); ``r_max_A`` is cut to half the smallest cell height.
    dists
        Precomputed :func:`distances_A` (saves recomputing them for several cutoffs).
    """
    a, b = np.asarray(centres_A, dtype=float), np.asarray(partners_A, dtype=float)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0] or a.shape[2] != 3:
        raise InputError(f"positions: expected (frames, atoms, 3) twice, got {a.shape}, "
                         f"{b.shape}")
    if a.shape[1] == 0 or b.shape[1] == 0 or a.shape[0] == 0:
        raise InputError(f"rdf {pair}: no centre, partner or frame")
    if dr_A <= 0:
        raise InputError(f"dr_A must be > 0, got {dr_A}")
    n_frames = a.shape[0]
    cells = _cells(cell_A, n_frames)
    r_max = min(float(r_max_A), _max_radius_A(cells))
    edges = np.arange(0.0, r_max + 0.5 * dr_A, dr_A)
    dists = distances_A(a, b, cells) if dists is None else dists
    counts = sum(np.histogram(d, bins=edges)[0] for d in dists).astype(float)
    volume = float(np.mean(np.abs(np.linalg.det(cells))))
    rho = b.shape[1] / volume
    shell = 4.0 / 3.0 * math.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    per_centre = counts / (n_frames * a.shape[1])
    g = per_centre / (rho * shell)
    cn = np.cumsum(per_centre)
    r = 0.5 * (edges[1:] + edges[:-1])
    res = RdfResult(pair=pair, n_centres=a.shape[1], n_partners=b.shape[1], n_frames=n_frames,
                    r_A=r, g=g, cn=cn)
    tail = r >= r_max - 1.0
    res.g_tail = float(np.mean(g[tail])) if tail.any() else None
    found = first_shell(r, g)
    if found is not None:
        res.r_peak_A, res.g_peak, res.r_min_A = found
        res.cn_first_shell = float(np.interp(res.r_min_A, edges[1:], cn))
    return res


def coordination(centres_A: np.ndarray, partners_A: dict[str, np.ndarray],
                 cell_A: np.ndarray, anions: tuple[str, ...] = (), r_max_A: float = R_MAX_A,
                 dr_A: float = DR_A) -> tuple[list[RdfResult], float | None]:
    """RDFs of every partner set and the fraction of centres with no anion atom in their
    first shell.

    Parameters
    ----------
    centres_A
        (n_frames, n_centres, 3) positions of the centres (Li+), Å.
    partners_A
        Name (e.g. ``"O(FSI)"``) -> (n_frames, n, 3) positions of that partner set.
    anions
        Names of the partner sets that belong to anions; a centre is "free" in a frame when
        no atom of any of them is closer than that set's first-minimum radius
        (:data:`DEFAULT_SHELL_A` when its g(r) has none).

    Returns
    -------
    results, free_fraction
        One :class:`RdfResult` per set (in order), and the free fraction averaged over
        centres and frames (``None`` without anion sets).
    """
    unknown = set(anions) - set(partners_A)
    if unknown:
        raise InputError(f"anions: {sorted(unknown)} are not partner sets")
    a = np.asarray(centres_A, dtype=float)
    cells = _cells(cell_A, a.shape[0])
    results, bound = [], np.zeros(a.shape[:2], dtype=bool)
    for name, pos in partners_A.items():
        pos = np.asarray(pos, dtype=float)
        if pos.shape[1] == 0:
            continue
        dists = distances_A(a, pos, cells)
        res = rdf(a, pos, cells, f"Li–{name}", r_max_A, dr_A, dists)
        results.append(res)
        if name in anions:
            cut = res.r_min_A or DEFAULT_SHELL_A
            bound |= np.array([(d < cut).any(axis=1) for d in dists])
    free = float(1.0 - bound.mean()) if any(n in partners_A for n in anions) else None
    return results, free


def plot_rdf(results: list[RdfResult], path: str | Path, title: str = "") -> Path:
    """g(r) (left axis) and CN(r) (right axis, dashed) of every pair."""
    from ssbflow.analysis.plots import new_figure, save_png

    fig, axes = new_figure(1, 1, (5.5, 4.0))
    ax = axes[0, 0]
    twin = ax.twinx()
    for res in results:
        (line,) = ax.plot(res.r_A, res.g, lw=1.2, label=res.pair)
        twin.plot(res.r_A, res.cn, "--", lw=0.8, color=line.get_color())
    ax.axhline(1.0, color="grey", lw=0.5)
    ax.set_xlabel("r (Å)")
    ax.set_ylabel("g(r)")
    twin.set_ylabel("CN(r) (dashed)")
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    return save_png(fig, path)


def site_coordination(positions_A: np.ndarray, atomic_numbers: list[int], labels: list[str],
                      box_A: np.ndarray, anion_labels: tuple[str, ...] = (),
                      r_max_A: float = R_MAX_A, dr_A: float = DR_A) -> dict:
    """Li+ coordination of saved MD sites: Li around every (element, molecule label) set.

    Parameters
    ----------
    positions_A
        (n_frames, n_sites, 3) positions (Å) of Li and of the atoms that may coordinate it.
    atomic_numbers, labels
        Per site: atomic number and the name of its molecule kind (e.g. ``FSI``).
    box_A
        Cell edges (3,) or cell (3, 3), Å.
    anion_labels
        Labels of anions (for the fraction of Li+ with no anion atom in the first shell).

    Returns
    -------
    dict
        ``rows`` (one per partner set ``"O(FSI)"``...: first peak, first minimum, CN),
        ``free_fraction``, ``curves`` (pair -> r_A, g, cn), ``n_frames``, ``n_li``,
        ``wall_s_per_frame`` (of this analysis).
    """
    import time

    from ase.data import chemical_symbols

    t0 = time.perf_counter()
    pos = np.asarray(positions_A, dtype=float)
    z = np.asarray(atomic_numbers, dtype=int)
    lab = np.asarray(labels, dtype=object)
    if pos.ndim != 3 or pos.shape[1] != z.size or lab.size != z.size:
        raise InputError(f"positions_A {pos.shape}: expected (frames, {z.size}, 3) with one "
                         "atomic number and label per site")
    li = z == 3
    if not li.any():
        raise InputError("sites: no Li among them")
    partners, anions = {}, []
    for zi, label in dict.fromkeys(zip(z[~li].tolist(), lab[~li].tolist(), strict=True)):
        name = f"{chemical_symbols[zi]}({label})"
        partners[name] = pos[:, (z == zi) & (lab == label)]
        if label in anion_labels:
            anions.append(name)
    results, free = coordination(pos[:, li], partners, box_A, tuple(anions), r_max_A, dr_A)
    n = max(pos.shape[0], 1)
    return {"rows": [r.row() for r in results], "free_fraction": free,
            "curves": {r.pair: r.curves() for r in results}, "n_frames": pos.shape[0],
            "n_li": int(li.sum()), "wall_s_per_frame": (time.perf_counter() - t0) / n}


def results_from_curves(curves: dict) -> list[RdfResult]:
    """:class:`RdfResult` objects back from stored ``curves`` (for :func:`plot_rdf`)."""
    return [RdfResult(pair=k, n_centres=0, n_partners=0, n_frames=0,
                      r_A=np.asarray(v["r_A"]), g=np.asarray(v["g"]), cn=np.asarray(v["cn"]))
            for k, v in curves.items()]


def write_coordination(coord: dict, curves: dict, out: str | Path, tag: str = "") -> str:
    """``coordination{tag}.csv`` and ``rdf{tag}.png`` in ``out`` from a
    :func:`site_coordination` result (``curves`` apart); returns their Markdown."""
    from ssbflow.io import write_table

    out = Path(out)
    what = f" {tag.strip('_')}" if tag else ""
    plot_rdf(results_from_curves(curves), out / f"rdf{tag}.png", f"Li+ shells{what}")
    lines = [write_table(coord["rows"], out / f"coordination{tag}.csv",
                         f"Li+ coordination{what} ({coord['n_frames']} frames, "
                         f"{coord['n_li']} Li+; CN to the first minimum of g)"), ""]
    if coord.get("free_fraction") is not None:
        lines.append(f"Li+ with no anion atom in the first shell: {coord['free_fraction']:.1%}")
    lines.append(f"![Li+ RDFs{what}](rdf{tag}.png)")
    return "\n".join(lines)
