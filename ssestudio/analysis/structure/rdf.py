"""Partial radial distribution functions g_ab(r) and running coordination numbers n_ab(r).

For species ``a``, ``b`` with ``N_a``, ``N_b`` atoms in a periodic cell of volume ``V``,
the histogram ``H_ab(k)`` of ordered pairs ``(i in a, j in b, j != i)`` with a minimum-
image distance in bin ``k`` (``r_k <= r < r_k+1``) gives (Allen & Tildesley, Computer
Simulation of Liquids, 2nd ed., OUP 2017, sec. 2.6, doi:10.1093/oso/9780198803195.001.0001)

    g_ab(r_k) = V H_ab(k) / (N_a N_b V_k),   V_k = 4 pi (r_k+1^3 - r_k^3) / 3

(so g is the same for any supercell of a periodic configuration; for N_a random points
g_aa tends to 1 - 1/N_a rather than 1) and

    n_ab(r_k+1) = sum_{k' <= k} H_ab(k') / N_a,

the mean number of ``b`` atoms within ``r`` of an ``a`` atom. Over several frames the
histograms are averaged, each g with its own frame's volume (NPT), so the result is the
mean of the per-frame g's. Minimum images are unique only for ``r`` below half the
smallest perpendicular width of the cell, hence ``rmax_A <= min(w) / 2``.

The total (number-weighted) ``g(r) = sum_ab c_a c_b g_ab(r)`` with ``c_a = N_a / N``.
Distances come from vesin's neighbour list, histograms from ``np.bincount``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ssestudio.analysis.structure.cell import cell_volume_A3, perpendicular_widths_A
from ssestudio.analysis.structure.frames import FrameSet, Source, open_frames
from ssestudio.analysis.structure.pairs import check_element, half_pairs, parse_pair
from ssestudio.core.errors import UserInputError

#: Default upper limit of the RDF range, Å (the cell allowing): longer ranges cost more
#: pairs (~rmax^3) and are mostly needed for S(q) at low q.
DEFAULT_RMAX_A = 10.0


@dataclass(frozen=True, eq=False)
class RDFResult:
    """Partial RDFs and running coordination numbers averaged over frames.

    Attributes
    ----------
    edges_A : ndarray, shape (n_bins + 1,)
        Bin edges, Å (``edges_A[0] = 0``, ``edges_A[-1] = rmax_A``).
    species : tuple of str, length S
        Species in order of atomic number; the axes of ``g`` and ``coordination``.
    counts : ndarray of int, shape (S,)
        Atoms of each species per cell.
    g : ndarray, shape (S, S, n_bins)
        ``g[a, b]`` = g_ab(r) at the bin centres (symmetric in a, b).
    coordination : ndarray, shape (S, S, n_bins + 1)
        ``coordination[a, b]`` = n_ab(r) at the bin edges: mean number of ``b`` atoms
        within ``r`` of an ``a`` atom.
    n_frames : int
        Frames averaged.
    mean_volume_A3 : float
        Mean cell volume, Å^3.
    number_density_A3 : float
        Mean of N / V over frames, Å^-3.
    frames : ndarray of int
        Trajectory frame indices averaged.
    """

    edges_A: np.ndarray
    species: tuple[str, ...]
    counts: np.ndarray
    g: np.ndarray
    coordination: np.ndarray
    n_frames: int
    mean_volume_A3: float
    number_density_A3: float
    frames: np.ndarray = field(default_factory=lambda: np.zeros(0, int))

    @property
    def r_A(self) -> np.ndarray:
        """Bin centres, Å, shape (n_bins,)."""
        return 0.5 * (self.edges_A[1:] + self.edges_A[:-1])

    @property
    def rmax_A(self) -> float:
        """Upper end of the range, Å."""
        return float(self.edges_A[-1])

    @property
    def dr_A(self) -> float:
        """Bin width, Å."""
        return float(self.edges_A[1] - self.edges_A[0])

    @property
    def concentrations(self) -> np.ndarray:
        """Atom fractions ``c_a = N_a / N``, shape (S,)."""
        return self.counts / self.counts.sum()

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """Unordered species pairs ``(a, b)`` with ``a <= b`` in :attr:`species` order."""
        s = self.species
        return [(s[a], s[b]) for a in range(len(s)) for b in range(a, len(s))]

    def index(self, symbol: str) -> int:
        """Position of ``symbol`` in :attr:`species` (:class:`UserInputError` if absent)."""
        check_element(symbol)
        if symbol not in self.species:
            raise UserInputError(f"{symbol} is not in this structure; it holds "
                                 f"{', '.join(self.species)}")
        return self.species.index(symbol)

    def partial(self, a: str, b: str | None = None) -> np.ndarray:
        """g_ab(r) at the bin centres; ``partial("P-S")`` or ``partial("P", "S")``."""
        a, b = parse_pair(a) if b is None else (a, b)
        return self.g[self.index(a), self.index(b)]

    def running_coordination(self, centre: str, neighbour: str) -> np.ndarray:
        """n_ab(r) at :attr:`edges_A`: ``neighbour`` atoms within r of a ``centre`` atom."""
        return self.coordination[self.index(centre), self.index(neighbour)]

    def coordination_at(self, centre: str, neighbour: str, cutoff_A: float) -> float:
        """Mean number of ``neighbour`` atoms within ``cutoff_A`` of a ``centre`` atom
        (linear interpolation between bin edges)."""
        if not 0 < cutoff_A <= self.rmax_A:
            raise UserInputError(f"coordination cutoff {cutoff_A} Å is outside the RDF range "
                                 f"(0, {self.rmax_A:.3g}] Å")
        return float(np.interp(cutoff_A, self.edges_A, self.running_coordination(centre, neighbour)))

    @property
    def g_total(self) -> np.ndarray:
        """Number-weighted total ``g(r) = sum_ab c_a c_b g_ab(r)``, shape (n_bins,)."""
        c = self.concentrations
        return np.nan_to_num(np.einsum("a,b,abr->r", c, c, self.g))

    def to_dict(self) -> dict:
        """JSON-ready curves: ``r_A``, ``g_total`` and ``"a-b"`` partials."""
        return {"r_A": self.r_A.tolist(), "g_total": self.g_total.tolist(),
                "partials": {f"{a}-{b}": np.nan_to_num(self.partial(a, b)).tolist()
                             for a, b in self.pairs},
                "n_frames": self.n_frames, "rmax_A": self.rmax_A, "dr_A": self.dr_A}


def max_rdf_radius_A(cells: np.ndarray) -> float:
    """Half the smallest perpendicular width over all ``cells`` (n, 3, 3), Å."""
    return 0.5 * float(perpendicular_widths_A(np.asarray(cells, float)).min())


def check_rmax(rmax_A: float | None, cells: np.ndarray, indices: np.ndarray | None = None
               ) -> float:
    """The RDF range to use: ``rmax_A``, or by default ``min(DEFAULT_RMAX_A, min(w) / 2)``.

    Raises
    ------
    UserInputError
        ``rmax_A`` not positive, or beyond half the smallest perpendicular cell width.
    """
    widths = perpendicular_widths_A(np.asarray(cells, float)).min(axis=-1)
    limit = 0.5 * float(widths.min())
    if rmax_A is None:
        return min(DEFAULT_RMAX_A, limit)
    if not (np.isfinite(rmax_A) and rmax_A > 0):
        raise UserInputError(f"rmax_A must be a positive distance in Å, got {rmax_A}")
    if rmax_A > limit * (1 + 1e-9):
        k = int(np.argmin(widths))
        frame = int(indices[k]) if indices is not None else k
        raise UserInputError(
            f"rmax_A={rmax_A:g} Å is more than half the smallest perpendicular cell width "
            f"({2 * limit:.3f} Å, frame {frame}), beyond which minimum images are not unique "
            f"and g(r) is wrong: use rmax_A <= {limit:.3f} Å, or a larger supercell "
            "(atoms.repeat((2, 2, 2)))")
    return float(rmax_A)


def compute_rdf(source: Source, *, rmax_A: float | None = None, dr_A: float = 0.02,
                start: int | None = None, stop: int | None = None,
                stride: int | None = None) -> RDFResult:
    """All partial RDFs and running coordination numbers, averaged over frames.

    Parameters
    ----------
    source : ase.Atoms, sequence of Atoms, Trajectory, FrameSet or path
        Periodic structure(s); see :func:`~ssestudio.analysis.structure.frames.open_frames`.
    rmax_A : float, optional
        Range, Å; at most half the smallest perpendicular cell width (over the frames).
        Default ``min(10 Å, that limit)``.
    dr_A : float
        Bin width, Å.
    start, stop, stride : int, optional
        Frame selection (slice semantics).

    Returns
    -------
    RDFResult

    Raises
    ------
    UserInputError
        A non-periodic cell, ``rmax_A`` beyond the limit, a bad bin width, an empty
        selection.

    References
    ----------
    Allen & Tildesley, doi:10.1093/oso/9780198803195.001.0001 (normalisation).
    """
    with open_frames(source, start=start, stop=stop, stride=stride) as frames:
        return rdf_of_frames(frames, rmax_A=rmax_A, dr_A=dr_A)


def rdf_of_frames(frames: FrameSet, *, rmax_A: float | None = None, dr_A: float = 0.02
                  ) -> RDFResult:
    """:func:`compute_rdf` on an open :class:`FrameSet`."""
    frames.require_periodic("a radial distribution function")
    cells = frames.cells()
    rmax = check_rmax(rmax_A, cells, frames.indices)
    if not (np.isfinite(dr_A) and 0 < dr_A <= rmax / 4):
        raise UserInputError(f"dr_A must be > 0 and at most rmax/4 = {rmax / 4:.3g} Å, got {dr_A}")
    n_bins = max(1, int(round(rmax / dr_A)))
    edges = np.linspace(0.0, rmax, n_bins + 1)
    types = frames.species_index()
    n_s = len(frames.species)
    counts, weighted, volumes = _histograms(frames, types, n_s, rmax, n_bins)
    return _normalise(frames, edges, counts, weighted, volumes, types)


def _histograms(frames: FrameSet, types: np.ndarray, n_s: int, rmax: float, n_bins: int):
    """Unordered pair counts summed over frames, (S*S*n_bins,) int, the same weighted by
    each frame's volume (float), and the volumes."""
    size = n_s * n_s * n_bins
    counts = np.zeros(size, dtype=np.int64)
    weighted = np.zeros(size)
    volumes = np.empty(frames.n_frames)
    inv_dr = n_bins / rmax
    for k, pos, cell in frames.frames():
        i, j, d = half_pairs(pos, cell, True, rmax)
        ti, tj = types[i], types[j]
        code = (np.minimum(ti, tj) * n_s + np.maximum(ti, tj)) * n_bins
        b = (d * inv_dr).astype(np.int64)
        keep = b < n_bins
        h = np.bincount((code + b)[keep], minlength=size)
        volumes[k] = cell_volume_A3(cell)
        counts += h
        weighted += volumes[k] * h
    return counts, weighted, volumes


def _normalise(frames: FrameSet, edges, counts, weighted, volumes, types) -> RDFResult:
    n_s = len(frames.species)
    n_bins = len(edges) - 1
    N = np.bincount(types, minlength=n_s).astype(float)
    counts = counts.reshape(n_s, n_s, n_bins).astype(float)
    weighted = weighted.reshape(n_s, n_s, n_bins)
    # unordered (a <= b) -> ordered pairs: symmetrise, double the diagonal
    ordered = counts + np.swapaxes(counts, 0, 1)
    w_ordered = weighted + np.swapaxes(weighted, 0, 1)
    shell = 4.0 * np.pi / 3.0 * np.diff(edges ** 3)
    pairs_norm = N[:, None] * N[None, :]
    g = w_ordered / (frames.n_frames * pairs_norm[:, :, None] * shell)
    coordination = np.concatenate(
        [np.zeros((n_s, n_s, 1)), np.cumsum(ordered, axis=-1)], axis=-1)
    coordination /= frames.n_frames * N[:, None, None]
    return RDFResult(edges_A=edges, species=frames.species, counts=N.astype(int), g=g,
                     coordination=coordination, n_frames=frames.n_frames,
                     mean_volume_A3=float(volumes.mean()),
                     number_density_A3=float(np.mean(frames.n_atoms / volumes)),
                     frames=frames.indices.copy())
