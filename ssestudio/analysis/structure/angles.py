"""Bond-angle distributions of triplets ``A-B-C`` (angle at the centre atom B).

For each centre atom of species B, every pair of distinct neighbours ``j`` (species A,
within ``cutoff(B, A)``) and ``k`` (species C, within ``cutoff(B, C)``) contributes the
angle ``theta = arccos(d_ij . d_ik / (|d_ij| |d_ik|))`` between the bond vectors (periodic
images included, so small and triclinic cells are fine). ``"S-P-S"`` gives the
intra-tetrahedral angle of PS4 (ideal 109.47 degrees), ``"P-S-P"`` the angle at bridging S.

The distribution is a histogram over [0, 180] degrees normalised to unit area
(probability per degree), summed over the selected frames.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ssestudio.analysis.structure.frames import FrameSet, Source, open_frames
from ssestudio.analysis.structure.pairs import (
    check_element,
    full_vectors,
    resolve_pair_cutoffs,
)
from ssestudio.core.errors import UserInputError


@dataclass(frozen=True, eq=False)
class AngleDistribution:
    """Distribution of the angle ``A-B-C`` at centre atoms B.

    Attributes
    ----------
    triplet : tuple of str
        ``(A, B, C)``; B is the centre.
    cutoffs_A : tuple of float
        Bond cutoffs ``B-A`` and ``B-C``, Å.
    edges_deg : ndarray, shape (n_bins + 1,)
        Bin edges, degrees.
    counts : ndarray of int, shape (n_bins,)
        Angles per bin, summed over frames.
    n_frames : int
        Frames analysed.
    n_centres : int
        Atoms of species B per frame.
    """

    triplet: tuple[str, str, str]
    cutoffs_A: tuple[float, float]
    edges_deg: np.ndarray
    counts: np.ndarray
    n_frames: int
    n_centres: int

    @property
    def name(self) -> str:
        """``"A-B-C"``."""
        return "-".join(self.triplet)

    @property
    def angle_deg(self) -> np.ndarray:
        """Bin centres, degrees."""
        return 0.5 * (self.edges_deg[1:] + self.edges_deg[:-1])

    @property
    def n_angles(self) -> int:
        """Angles counted over all frames."""
        return int(self.counts.sum())

    @property
    def probability_per_deg(self) -> np.ndarray:
        """Histogram normalised to unit area, 1/degree (zeros when no angle)."""
        width = np.diff(self.edges_deg)
        return self.counts / max(self.n_angles, 1) / width

    @property
    def mean_deg(self) -> float | None:
        """Mean angle, degrees (None when no angle)."""
        if not self.n_angles:
            return None
        return float((self.counts * self.angle_deg).sum() / self.n_angles)

    @property
    def std_deg(self) -> float | None:
        """Standard deviation of the angle, degrees (bin-resolution limited)."""
        if not self.n_angles:
            return None
        mean = self.mean_deg
        return float(np.sqrt((self.counts * (self.angle_deg - mean) ** 2).sum() / self.n_angles))

    @property
    def peak_deg(self) -> float | None:
        """Most frequent angle (bin centre), degrees."""
        return float(self.angle_deg[int(np.argmax(self.counts))]) if self.n_angles else None

    @property
    def angles_per_centre(self) -> float:
        """Mean number of angles per centre atom and frame."""
        return self.n_angles / max(self.n_frames * self.n_centres, 1)

    def to_dict(self, *, curves: bool = True) -> dict:
        """JSON-ready summary (and the histogram when ``curves``)."""
        out = {"cutoffs_A": list(self.cutoffs_A), "n_angles": self.n_angles,
               "angles_per_centre": self.angles_per_centre, "mean_deg": self.mean_deg,
               "std_deg": self.std_deg, "peak_deg": self.peak_deg}
        if curves:
            out["angle_deg"] = self.angle_deg.tolist()
            out["probability_per_deg"] = self.probability_per_deg.tolist()
        return out


def parse_triplet(triplet: str | Sequence[str]) -> tuple[str, str, str]:
    """``"S-P-S"`` or ``("S", "P", "S")`` -> ``("S", "P", "S")`` (checked symbols)."""
    items = re.split(r"[-\s,/]+", triplet.strip()) if isinstance(triplet, str) else list(triplet)
    if len(items) != 3:
        raise UserInputError(f"{triplet!r} is not a bond-angle triplet; write it as 'S-P-S' "
                             "(the middle element is the centre)")
    a, b, c = (check_element(str(x)) for x in items)
    return a, b, c


def compute_bond_angles(source: Source, triplets: str | Sequence = ("S-P-S",), *,
                        cutoffs_A: float | Mapping | None = None, bin_width_deg: float = 1.0,
                        start: int | None = None, stop: int | None = None,
                        stride: int | None = None) -> dict[str, AngleDistribution]:
    """Bond-angle distributions of one or more triplets, from one pass over the frames.

    Parameters
    ----------
    source : ase.Atoms, sequence of Atoms, Trajectory, FrameSet or path
        See :func:`~ssestudio.analysis.structure.frames.open_frames`.
    triplets : str or sequence
        ``"S-P-S"`` or several (``["S-P-S", "P-S-P"]``); the middle element is the centre.
    cutoffs_A : float or mapping, optional
        Bond cutoff for every pair, or per pair (``{"P-S": 2.5}``); pairs not given use
        :func:`~ssestudio.analysis.structure.pairs.default_bond_cutoff_A` (P-S 2.50 Å).
    bin_width_deg : float
        Histogram bin width, degrees (180 / bin_width_deg bins, rounded).
    start, stop, stride : int, optional
        Frame selection (slice semantics).

    Returns
    -------
    dict
        ``"A-B-C" -> AngleDistribution``.

    Raises
    ------
    UserInputError
        A malformed triplet, an element not in the structure, a bad cutoff or bin width.
    """
    items = [triplets] if isinstance(triplets, str) else list(triplets)
    if not items:
        raise UserInputError("no bond-angle triplet given; e.g. triplets=['S-P-S']")
    parsed = [parse_triplet(t) for t in items]
    if not (np.isfinite(bin_width_deg) and 0 < bin_width_deg <= 30):
        raise UserInputError(f"bin_width_deg must be in (0, 30], got {bin_width_deg}")
    with open_frames(source, start=start, stop=stop, stride=stride) as frames:
        missing = sorted({e for t in parsed for e in t} - set(frames.symbols))
        if missing:
            raise UserInputError(f"{', '.join(missing)} not in this structure; it holds "
                                 f"{', '.join(frames.species)}")
        cut = resolve_pair_cutoffs({(b, a) for a, b, c in parsed} | {(b, c) for a, b, c in parsed},
                                   cutoffs_A)
        return _angles_of_frames(frames, parsed, cut, bin_width_deg)


def _angles_of_frames(frames: FrameSet, triplets, cut, bin_width_deg) -> dict:
    n_bins = max(1, int(round(180.0 / bin_width_deg)))
    edges = np.linspace(0.0, 180.0, n_bins + 1)
    symbols = np.array(frames.symbols)
    counts = {t: np.zeros(n_bins, dtype=np.int64) for t in triplets}
    rc = max(cut.values())
    for _, pos, cell in frames.frames():
        i, j, d, D = full_vectors(pos, cell, frames.pbc, rc)
        for t in triplets:
            theta = _triplet_angles(t, symbols, i, j, d, D, cut)
            idx = np.minimum((theta * (n_bins / 180.0)).astype(np.int64), n_bins - 1)
            counts[t] += np.bincount(idx, minlength=n_bins)
    return {"-".join(t): AngleDistribution(
        triplet=t, cutoffs_A=(cut[(t[1], t[0])], cut[(t[1], t[2])]), edges_deg=edges,
        counts=counts[t], n_frames=frames.n_frames,
        n_centres=int((symbols == t[1]).sum())) for t in triplets}


def _triplet_angles(triplet, symbols, i, j, d, D, cut) -> np.ndarray:
    """Angles (degrees) of one triplet in one frame's full neighbour list."""
    a, b, c = triplet
    sj = symbols[j]
    keep = (symbols[i] == b) & (((sj == a) & (d < cut[(b, a)])) | ((sj == c) & (d < cut[(b, c)])))
    i, sj, D, d = i[keep], sj[keep], D[keep], d[keep]
    order = np.argsort(i, kind="stable")
    i, sj, D, d = i[order], sj[order], D[order], d[order]
    p, q = _pairs_within_groups(i)
    if p.size == 0:
        return np.zeros(0)
    ok = ((sj[p] == a) & (sj[q] == c) & (d[p] < cut[(b, a)]) & (d[q] < cut[(b, c)])) | \
         ((sj[p] == c) & (sj[q] == a) & (d[p] < cut[(b, c)]) & (d[q] < cut[(b, a)]))
    p, q = p[ok], q[ok]
    cos = np.einsum("ij,ij->i", D[p], D[q]) / (d[p] * d[q])
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _pairs_within_groups(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All index pairs ``p < q`` with ``group[p] == group[q]`` of a sorted ``group``."""
    n = len(group)
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    sizes = np.diff(np.r_[starts, n])
    end = np.repeat(starts + sizes, sizes)           # one past the group of each entry
    later = end - np.arange(n) - 1                    # entries after p in its group
    p = np.repeat(np.arange(n), later)
    offsets = np.arange(len(p)) - np.repeat(np.cumsum(later) - later, later)
    return p, p + 1 + offsets
