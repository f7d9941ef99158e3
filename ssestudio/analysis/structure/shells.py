"""First coordination shell of each pair: first peak, first minimum and coordination number.

The first peak of g_ab(r) is the first maximum of a lightly smoothed g (Gaussian of
``smoothing_A``) whose prominence is at least ``PROMINENCE`` of the largest value and
3 standard errors of the counting noise (so that a short trajectory's noise is not a
peak); the
first minimum is the lowest point between it and the next such maximum (the middle of
the lowest stretch, so that a crystal's empty gap between shells gives its centre). The
coordination number is the running coordination n_ab(r) at that minimum, or at a given
cutoff.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ssestudio.analysis.structure.pairs import parse_pair
from ssestudio.analysis.structure.rdf import RDFResult
from ssestudio.core.errors import UserInputError

#: Minimum prominence of a peak, as a fraction of max(g).
PROMINENCE = 0.1
#: Values within this fraction of max(g) above the minimum count as "the lowest stretch".
FLAT_TOLERANCE = 1e-3


@dataclass(frozen=True)
class Shell:
    """The first coordination shell of ``neighbour`` atoms around ``centre`` atoms.

    Attributes
    ----------
    centre, neighbour : str
        Species.
    first_peak_A : float or None
        Position of the first peak of g, Å (None when g has no peak).
    first_peak_g : float or None
        g at the first peak (of the smoothed g).
    first_min_A : float or None
        Position of the first minimum after the first peak, Å (None when the range ends
        before g comes down again).
    first_min_g : float or None
        g at the first minimum.
    cutoff_A : float or None
        Cutoff of the coordination number: the given one, else ``first_min_A``.
    coordination : float or None
        Mean number of ``neighbour`` atoms within ``cutoff_A`` of a ``centre`` atom.
    cutoff_given : bool
        Whether ``cutoff_A`` was given rather than found.
    """

    centre: str
    neighbour: str
    first_peak_A: float | None
    first_peak_g: float | None
    first_min_A: float | None
    first_min_g: float | None
    cutoff_A: float | None
    coordination: float | None
    cutoff_given: bool = False

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def first_peak_and_minimum(r_A: np.ndarray, g: np.ndarray, *, smoothing_A: float = 0.05,
                           counts: np.ndarray | None = None
                           ) -> tuple[float | None, float | None, float | None, float | None]:
    """``(peak_r, peak_g, min_r, min_g)`` of the first shell of one g(r).

    Parameters
    ----------
    r_A : ndarray, shape (n,)
        Evenly spaced radii, Å.
    g : ndarray, shape (n,)
        g(r); NaN is treated as 0.
    smoothing_A : float
        Standard deviation of the Gaussian smoothing, Å (0: none).
    counts : ndarray, shape (n,), optional
        Pairs counted in each bin (all frames). When given, a maximum must also stand out
        by 3 standard errors of the smoothed g (Poisson statistics, ``g / sqrt(count)``
        per bin), so that noise of a short trajectory is not taken for a peak.

    Returns
    -------
    tuple
        Peak position (Å) and height, minimum position (Å) and depth; None where absent.
    """
    from scipy.ndimage import gaussian_filter1d
    from scipy.signal import find_peaks

    g = np.nan_to_num(np.asarray(g, dtype=float))
    dr = float(r_A[1] - r_A[0]) if len(r_A) > 1 else 1.0
    sigma_bins = smoothing_A / dr
    gs = gaussian_filter1d(g, sigma_bins, mode="nearest") if smoothing_A > 0 else g
    top = float(gs.max()) if gs.size else 0.0
    if top <= 0:
        return None, None, None, None
    padded = np.concatenate([[0.0], gs, [0.0]])  # a peak at the range end still counts
    peaks, props = find_peaks(padded, prominence=PROMINENCE * top)
    peaks = peaks - 1
    if counts is not None:
        need = 3.0 * np.sqrt(2.0) * _smoothed_error(g, counts, sigma_bins)
        ok = props["prominences"] >= need[np.clip(peaks, 0, len(gs) - 1)]
        peaks = peaks[ok]
    peaks = peaks[(peaks >= 0) & (peaks < len(gs))]
    if peaks.size == 0:
        return None, None, None, None
    p = int(peaks[0])
    end = int(peaks[1]) if peaks.size > 1 else len(gs) - 1
    if end <= p + 1:
        return float(r_A[p]), float(gs[p]), None, None
    seg = gs[p:end + 1]
    low = float(seg.min())
    if peaks.size == 1 and seg[-1] <= low + FLAT_TOLERANCE * top and low > PROMINENCE * top:
        return float(r_A[p]), float(gs[p]), None, None  # still falling at the range end
    flat = np.flatnonzero(seg <= low + FLAT_TOLERANCE * top)
    first = flat[0]
    run_end = first
    while run_end + 1 < len(seg) and seg[run_end + 1] <= low + FLAT_TOLERANCE * top:
        run_end += 1
    m = p + (first + run_end) // 2
    return float(r_A[p]), float(gs[p]), float(r_A[m]), float(gs[m])


def _smoothed_error(g: np.ndarray, counts: np.ndarray, sigma_bins: float) -> np.ndarray:
    """Standard error of the Gaussian-smoothed g from Poisson counts per bin."""
    from scipy.ndimage import gaussian_filter1d

    var = g ** 2 / np.maximum(np.asarray(counts, dtype=float), 1.0)
    if sigma_bins <= 0:
        return np.sqrt(var)
    # sum_i w_i^2 var_i with Gaussian weights w: ~ smoothed var / (2 sqrt(pi) sigma)
    return np.sqrt(gaussian_filter1d(var, sigma_bins, mode="nearest")
                   / max(2.0 * np.sqrt(np.pi) * sigma_bins, 1.0))


def find_shells(rdf: RDFResult, *, cutoffs_A: Mapping | None = None,
                smoothing_A: float = 0.05) -> dict[str, Shell]:
    """First shell of every ordered species pair.

    Parameters
    ----------
    rdf : RDFResult
        From :func:`~ssestudio.analysis.structure.rdf.compute_rdf`.
    cutoffs_A : mapping, optional
        Coordination cutoffs, Å, by pair (``{"Li-S": 3.0}``; either order), used instead
        of the first minimum.
    smoothing_A : float
        Gaussian smoothing of g before locating the extrema, Å.

    Returns
    -------
    dict
        ``"A-B" -> Shell`` for every ordered pair (``"P-S"``: S around P; ``"S-P"``: P
        around S), in species order.
    """
    given: dict[tuple[str, str], float] = {}
    for key, value in (cutoffs_A or {}).items():
        a, b = parse_pair(key)
        rdf.index(a), rdf.index(b)
        if not (np.isfinite(value) and 0 < value <= rdf.rmax_A):
            raise UserInputError(f"cutoff for {a}-{b} must be in (0, {rdf.rmax_A:.3g}] Å (the "
                                 f"RDF range), got {value}")
        given[(a, b)] = given[(b, a)] = float(value)
    out = {}
    for a, b in rdf.pairs:
        ia = rdf.index(a)
        counts = np.diff(rdf.coordination[ia, rdf.index(b)]) * rdf.counts[ia] * rdf.n_frames
        extrema = first_peak_and_minimum(rdf.r_A, rdf.partial(a, b), smoothing_A=smoothing_A,
                                         counts=counts)
        cutoff = given.get((a, b), extrema[2])
        for centre, neighbour in {(a, b), (b, a)}:
            n = None if cutoff is None else rdf.coordination_at(centre, neighbour, cutoff)
            out[f"{centre}-{neighbour}"] = Shell(centre, neighbour, *extrema, cutoff_A=cutoff,
                                                 coordination=n, cutoff_given=(a, b) in given)
    order = {s: k for k, s in enumerate(rdf.species)}
    return dict(sorted(out.items(), key=lambda kv: (order[kv[1].centre], order[kv[1].neighbour])))
