"""Do rotations coincide with hops more often than chance? Enrichment against a null model.

Coincidence: a hop of a cation at frame ``t_h`` coincides with a rotation of unit ``u``
when ``u``'s centre lies within ``r`` of the cation at ``t_h`` (minimum image) and ``u``
has a rotation event with ``|t_r - t_h| <= dt``. ``observed`` counts such (hop, rotation)
pairs.

Null model: each unit's train of rotation events is shifted circularly in time by its
own random offset (``n_shuffles`` times, seeded), which keeps every unit's number and
pattern of rotations, every hop and every distance, and destroys only the timing
relation between them. ``expected`` is the mean null count and the enrichment is
``observed / expected``; the one-sided permutation p-value is
``(1 + #{null >= observed}) / (n_shuffles + 1)``.

Confidence interval (percentile, ``confidence`` level): each bootstrap replicate
resamples the cations with replacement (each with all its hops: hop sampling) and
multiplies by the relative fluctuation ``expected / null_k`` of a random null draw
(rotation timing), the two independent sources of chance coincidences.

The same counts on a grid of ``(dt, r)`` give a heatmap. :func:`cross_correlation`
relates each unit's rotation activity to the mobility of the cations around it.

References
----------
B. Efron, R. Tibshirani, Stat. Sci. 1, 54 (1986), bootstrap percentile intervals.
doi:10.1214/ss/1177013815
J. G. Smith, D. J. Siegel, Nat. Commun. 11, 1483 (2020), rotation-hop correlations in
Li3PS4 glass. doi:10.1038/s41467-020-15245-5
K. Jun, B. Lee, R. L. Kam, G. Ceder, PNAS 121, e2316493121 (2024), strict definition:
large-angle rotations coinciding with a nearby hop. doi:10.1073/pnas.2316493121
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssestudio.analysis.rotation.series import minimum_image

#: Fewest expected chance coincidences for the verdict to judge an enrichment.
MIN_EXPECTED = 5.0
#: Largest (shuffles x pairs) block held in memory at once.
_BLOCK = 2_000_000


@dataclass(frozen=True, eq=False)
class EnrichmentGrid:
    """Observed and chance coincidences of rotations and hops on a ``(dt, r)`` grid.

    Attributes
    ----------
    dt_ps : ndarray, shape (D,)
        Time windows ``|t_r - t_h| <= dt``, ps.
    r_A : ndarray, shape (R,)
        Distances between the hop and the unit centre, Å.
    observed : ndarray of int, shape (D, R)
        Coincident (hop, rotation) pairs.
    expected : ndarray, shape (D, R)
        Mean of the null model.
    null_sd : ndarray, shape (D, R)
        Standard deviation of the null model.
    enrichment : ndarray, shape (D, R)
        ``observed / expected`` (NaN when nothing is expected).
    ci_low, ci_high : ndarray, shape (D, R)
        Percentile bootstrap interval of the enrichment.
    p_value : ndarray, shape (D, R)
        One-sided permutation p-value of an excess.
    headline : tuple of int
        ``(i_dt, i_r)`` of the cell the verdict quotes.
    n_shuffles, n_bootstrap : int
        Null draws and bootstrap replicates.
    confidence : float
        Level of the interval.
    """

    dt_ps: np.ndarray
    r_A: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    null_sd: np.ndarray
    enrichment: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    headline: tuple[int, int]
    n_shuffles: int
    n_bootstrap: int
    confidence: float

    def cell(self, name: str) -> float:
        """Value of array ``name`` at the headline cell."""
        return float(getattr(self, name)[self.headline])

    def to_dict(self) -> dict:
        """Plain dict of lists (rows: dt, columns: r)."""
        out = {k: np.asarray(getattr(self, k)).tolist() for k in (
            "dt_ps", "r_A", "observed", "expected", "null_sd", "enrichment", "ci_low",
            "ci_high", "p_value")}
        out.update(headline=list(self.headline), n_shuffles=self.n_shuffles,
                   n_bootstrap=self.n_bootstrap, confidence=self.confidence)
        return out


def compute_enrichment(rotation_frame: np.ndarray, rotation_unit: np.ndarray,
                       hop_frame: np.ndarray, hop_cation: np.ndarray, hop_position_A: np.ndarray,
                       *, centres_A: np.ndarray, cells: np.ndarray, n_cations: int,
                       domain: tuple[int, int], dt_frames: np.ndarray, dt_ps: np.ndarray,
                       r_A: np.ndarray, headline: tuple[int, int], n_shuffles: int = 200,
                       n_bootstrap: int = 1000, confidence: float = 0.95,
                       rng: np.random.Generator | None = None) -> EnrichmentGrid:
    """Coincidence counts, null model and intervals on the ``(dt, r)`` grid.

    Parameters
    ----------
    rotation_frame, rotation_unit : ndarray of int, shape (n_r,)
        Rotation events: frame and unit number.
    hop_frame, hop_cation : ndarray of int, shape (n_h,)
        Hop events: frame and cation number (< ``n_cations``).
    hop_position_A : ndarray, shape (n_h, 3)
        Cation position at each hop, Å.
    centres_A : ndarray, shape (T, U, 3)
        Unit centres per frame, Å.
    cells : ndarray, shape (T, 3, 3)
        Cells, Å.
    n_cations : int
        Cations (hopping or not), the bootstrap's sampling units.
    domain : (int, int)
        Frames ``[lo, hi)`` where rotation events can be detected; null shifts are
        circular inside it.
    dt_frames, dt_ps : ndarray, shape (D,)
        Time windows in frames and ps.
    r_A : ndarray, shape (R,)
        Distances, Å.
    headline : (int, int)
        Grid cell quoted by the verdict.
    n_shuffles, n_bootstrap : int
        Null draws and bootstrap replicates.
    confidence : float
        Interval level.
    rng : numpy.random.Generator, optional
        Seeded random numbers.

    Returns
    -------
    EnrichmentGrid
    """
    rng = rng or np.random.default_rng(0)
    lo, hi = domain
    Tr, U = max(hi - lo, 1), centres_A.shape[1]
    counts = np.zeros((U, Tr), np.int64)
    np.add.at(counts, (rotation_unit, np.clip(rotation_frame - lo, 0, Tr - 1)), 1)
    cum = np.zeros((U, Tr + 1), np.int64)
    np.cumsum(counts, axis=1, out=cum[:, 1:])
    j, u, d = _near_pairs(hop_frame, hop_position_A, centres_A, cells, float(np.max(r_A)))
    within = d[:, None] <= r_A[None, :]  # (P, R)
    shifts = rng.integers(0, Tr, size=(n_shuffles, U))
    D, R = len(dt_frames), len(r_A)
    obs_c = np.zeros((D, R, n_cations))
    null_c = np.zeros((D, R, n_cations))
    null_tot = np.zeros((D, n_shuffles, R))
    cation = hop_cation[j]
    for k, width in enumerate(np.asarray(dt_frames, int)):
        a = np.clip(hop_frame[j] - width - lo, 0, Tr)
        b = np.clip(hop_frame[j] + width + 1 - lo, 0, Tr)
        obs = cum[u, b] - cum[u, a]
        mean_null = np.empty(len(j))
        step = max(1, _BLOCK // max(n_shuffles, 1))
        for s in range(0, len(j), step):
            blk = slice(s, s + step)
            cnt = _circular_counts(cum, u[blk], a[blk], b[blk], shifts[:, u[blk]], Tr)
            null_tot[k] += cnt @ within[blk]
            mean_null[blk] = cnt.mean(axis=0)
        for m in range(R):
            obs_c[k, m] = np.bincount(cation, weights=obs * within[:, m], minlength=n_cations)
            null_c[k, m] = np.bincount(cation, weights=mean_null * within[:, m],
                                       minlength=n_cations)
    return _grid(obs_c, null_c, null_tot, dt_ps=np.asarray(dt_ps, float),
                 r_A=np.asarray(r_A, float), headline=headline, n_bootstrap=n_bootstrap,
                 confidence=confidence, rng=rng)


def coincident_pairs(rotation_frame: np.ndarray, rotation_unit: np.ndarray,
                     hop_frame: np.ndarray, hop_position_A: np.ndarray, *,
                     centres_A: np.ndarray, cells: np.ndarray, dt_frames: int, r_A: float,
                     timestep_fs: float, max_pairs: int = 5000) -> dict[str, np.ndarray]:
    """The rotation-hop pairs counted as coincident at one ``(dt, r)``: a rotation event
    of a unit whose centre is within ``r_A`` of the cation at its hop, at most
    ``dt_frames`` frames before or after it (the same rule as :func:`compute_enrichment`).

    Parameters
    ----------
    rotation_frame, rotation_unit : ndarray of int, shape (n_r,)
        Rotation events: frame and unit number.
    hop_frame : ndarray of int, shape (n_h,)
        Hop events' frames.
    hop_position_A : ndarray, shape (n_h, 3)
        Cation position at each hop, Å.
    centres_A : ndarray, shape (T, U, 3)
        Unit centres per frame, Å.
    cells : ndarray, shape (T, 3, 3)
        Cells, Å.
    dt_frames : int
        Time window, frames.
    r_A : float
        Distance, Å.
    timestep_fs : float
        Time between frames, fs (for ``dt_ps``).
    max_pairs : int
        Keep at most this many (the closest in time first).

    Returns
    -------
    dict
        ``rotation`` and ``hop`` (event indices, shape (n,)), ``dt_ps`` (hop time minus
        rotation time) and ``distance_A``, sorted by ``|dt_ps|``.
    """
    empty = {"rotation": np.zeros(0, int), "hop": np.zeros(0, int), "dt_ps": np.zeros(0),
             "distance_A": np.zeros(0)}
    if not len(rotation_frame) or not len(hop_frame):
        return empty
    j, u, d = _near_pairs(np.asarray(hop_frame), np.asarray(hop_position_A, float),
                          centres_A, cells, float(r_A))
    order = np.lexsort((rotation_frame, rotation_unit))
    units_sorted, frames_sorted = rotation_unit[order], rotation_frame[order]
    rot_i, hop_i, dts, dist = [], [], [], []
    for jj, uu, dd in zip(j, u, d):
        lo, hi = np.searchsorted(units_sorted, uu), np.searchsorted(units_sorted, uu, "right")
        f = frames_sorted[lo:hi]
        a = np.searchsorted(f, hop_frame[jj] - dt_frames)
        b = np.searchsorted(f, hop_frame[jj] + dt_frames, "right")
        for k in order[lo + a:lo + b]:
            rot_i.append(k)
            hop_i.append(jj)
            dts.append((hop_frame[jj] - rotation_frame[k]) * timestep_fs / 1000.0)
            dist.append(dd)
    if not rot_i:
        return empty
    dts_a = np.asarray(dts)
    keep = np.argsort(np.abs(dts_a), kind="stable")[:max_pairs]
    return {"rotation": np.asarray(rot_i)[keep], "hop": np.asarray(hop_i)[keep],
            "dt_ps": dts_a[keep], "distance_A": np.asarray(dist)[keep]}


def _near_pairs(hop_frame, hop_pos, centres, cells, r_max, chunk: int = 4096):
    """(hop, unit, distance) of every unit centre within ``r_max`` of a hop."""
    js, us, ds = [], [], []
    for s in range(0, len(hop_frame), chunk):
        f = hop_frame[s:s + chunk]
        diff = minimum_image(centres[f] - hop_pos[s:s + chunk, None], cells[f])
        dist = np.linalg.norm(diff, axis=-1)
        jj, uu = np.nonzero(dist <= r_max)
        js.append(jj + s)
        us.append(uu)
        ds.append(dist[jj, uu])
    if not js:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    return np.concatenate(js), np.concatenate(us), np.concatenate(ds)


def _circular_counts(cum, u, a, b, shift, Tr):
    """Events of unit ``u`` in ``[a, b)`` after a circular shift of its train by ``shift``
    (events originally in ``[a - shift, b - shift)`` modulo ``Tr``), shape (n_shuffles, P)."""
    length = b - a
    start = (a[None, :] - shift) % Tr
    end = start + length[None, :]
    direct = cum[u[None, :], np.minimum(end, Tr)] - cum[u[None, :], start]
    wrapped = cum[u[None, :], np.clip(end - Tr, 0, Tr)]
    return direct + np.where(end > Tr, wrapped, 0)


def _grid(obs_c, null_c, null_tot, *, dt_ps, r_A, headline, n_bootstrap, confidence, rng):
    D, R, n_cat = obs_c.shape
    observed = obs_c.sum(axis=-1)
    expected = null_tot.mean(axis=1)
    null_sd = null_tot.std(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        enrichment = np.where(expected > 0, observed / expected, np.nan)
    p = (1 + (null_tot >= observed[:, None, :]).sum(axis=1)) / (null_tot.shape[1] + 1)
    W = rng.multinomial(n_cat, np.full(n_cat, 1.0 / n_cat), size=n_bootstrap) \
        if n_cat else np.zeros((n_bootstrap, 0))
    draw = rng.integers(0, null_tot.shape[1], size=n_bootstrap)
    alpha = 100 * (1 - confidence) / 2
    lo, hi = np.full((D, R), np.nan), np.full((D, R), np.nan)
    for k in range(D):
        o, n = W @ obs_c[k].T, W @ null_c[k].T  # (n_bootstrap, R)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = expected[k] / null_tot[k, draw]
            boot = np.where(n > 0, o / n, np.nan) * factor
        boot = np.where(np.isnan(boot) & (o > 0), np.inf, boot)
        for m in range(R):
            ok = boot[:, m][~np.isnan(boot[:, m])]
            if expected[k, m] > 0 and ok.size >= 0.9 * n_bootstrap:
                lo[k, m], hi[k, m] = np.percentile(ok, [alpha, 100 - alpha],
                                                   method="inverted_cdf")  # inf-safe
    return EnrichmentGrid(dt_ps=dt_ps, r_A=r_A, observed=observed.round().astype(np.int64),
                          expected=expected, null_sd=null_sd, enrichment=enrichment,
                          ci_low=lo, ci_high=hi, p_value=p, headline=tuple(headline),
                          n_shuffles=int(null_tot.shape[1]), n_bootstrap=int(n_bootstrap),
                          confidence=float(confidence))


def enrichment_verdict(grid: EnrichmentGrid | None, *, n_rotations: int, n_hops: int,
                       anion: str, cation: str) -> str:
    """One sentence on whether rotations coincide with hops more often than chance.

    It quotes the interval, says "no evidence" when the interval contains 1, and says
    "too few" when fewer than :data:`MIN_EXPECTED` chance coincidences are expected; a
    coincidence is never called a cause.
    """
    if n_rotations == 0 or n_hops == 0:
        missing = f"{anion} rotation" if n_rotations == 0 else f"{cation} hop"
        return (f"No {missing} events were detected, so rotation-hop coincidence cannot be "
                "assessed; lower the threshold or analyse a longer or hotter run.")
    i, m = grid.headline
    dt, r = grid.dt_ps[i], grid.r_A[m]
    obs, exp_, e = int(grid.observed[i, m]), grid.expected[i, m], grid.enrichment[i, m]
    lo, hi = grid.ci_low[i, m], grid.ci_high[i, m]
    where = f"|dt| <= {dt:g} ps, r <= {r:g} Å"
    counts = f"{obs} coincidences observed vs {exp_:.1f} expected by chance"
    level = f"{100 * grid.confidence:g}% CI"
    if not exp_ >= MIN_EXPECTED or not np.isfinite(lo):
        return (f"Too few chance coincidences expected ({exp_:.1f} < {MIN_EXPECTED:g}; {counts}, "
                f"{where}) to judge whether {anion} rotations coincide with {cation} hops; "
                "analyse a longer or hotter run, or widen dt or r.")
    ci = f"{level} {lo:.2f}-{hi:.2f}"
    if lo > 1:
        return (f"{anion} rotations coincide with {cation} hops {e:.2f} times more often than "
                f"chance ({ci}; {counts}; {where}); a coincidence, not proof that rotations "
                "cause hops.")
    if hi < 1:
        return (f"{anion} rotations coincide with {cation} hops less often than chance: "
                f"{e:.2f} times the chance rate ({ci}; {counts}; {where}).")
    return (f"No evidence that {anion} rotations coincide with {cation} hops more often than "
            f"chance: enrichment {e:.2f}, {ci} contains 1 ({counts}; {where}).")


# ---- rotation activity vs nearby cation mobility -----------------------------------------
@dataclass(frozen=True, eq=False)
class CrossCorrelation:
    """Normalised cross-correlation of rotation activity and nearby cation mobility.

    Attributes
    ----------
    lag_ps : ndarray, shape (2L + 1,)
        Lag ``tau``, ps; positive: mobility follows rotation.
    value : ndarray, shape (2L + 1,)
        ``<z_rot(t) z_mob(t + tau)>`` averaged over units (Pearson correlation per lag).
    r_A : float
        Radius of the neighbourhood, Å.
    peak_lag_ps, peak_value : float
        Lag and value of the largest ``|value|``.
    n_units : int
        Units with both signals varying.
    """

    lag_ps: np.ndarray
    value: np.ndarray
    r_A: float
    peak_lag_ps: float
    peak_value: float
    n_units: int

    def to_dict(self) -> dict:
        """Plain dict."""
        return {"lag_ps": self.lag_ps.tolist(), "value": self.value.tolist(), "r_A": self.r_A,
                "peak_lag_ps": self.peak_lag_ps, "peak_value": self.peak_value,
                "n_units": self.n_units}


def cross_correlation(x: np.ndarray, y: np.ndarray, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Normalised cross-correlation ``<z_x(t) z_y(t + m)>`` for ``m = -max_lag..max_lag``.

    Parameters
    ----------
    x, y : ndarray, shape (T, K)
        K pairs of series (e.g. a unit's rotation activity and its neighbours' mobility).
    max_lag : int
        Largest lag in frames (< T).

    Returns
    -------
    lags : ndarray of int, shape (2 max_lag + 1,)
    value : ndarray, shape (2 max_lag + 1,)
        Each series is standardised (zero mean, unit variance); the products are summed
        over series and origins and divided by the number of terms. Columns where either
        series is constant are left out; NaN when none is left.
    """
    import scipy.fft

    T = x.shape[0]
    sx, sy = x.std(axis=0), y.std(axis=0)
    ok = (sx > 0) & (sy > 0)
    lags = np.arange(-max_lag, max_lag + 1)
    if not ok.any():
        return lags, np.full(len(lags), np.nan)
    zx = (x[:, ok] - x[:, ok].mean(axis=0)) / sx[ok]
    zy = (y[:, ok] - y[:, ok].mean(axis=0)) / sy[ok]
    n = scipy.fft.next_fast_len(T + max_lag, real=True)
    spec = (np.conj(scipy.fft.rfft(zx, n=n, axis=0)) * scipy.fft.rfft(zy, n=n, axis=0)).sum(axis=1)
    full = scipy.fft.irfft(spec, n=n)
    values = np.r_[full[n - max_lag:], full[:max_lag + 1]]  # lags -L..-1, 0..L
    return lags, values / (ok.sum() * (T - np.abs(lags)))


def local_mobility(mobility: np.ndarray, cations_A: np.ndarray, centres_A: np.ndarray,
                   cells: np.ndarray, *, r_A: float, stride: int) -> np.ndarray:
    """Mean mobility of the cations within ``r_A`` of each unit, per frame.

    Parameters
    ----------
    mobility : ndarray, shape (T, Nc)
        A per-cation signal (e.g. windowed displacement).
    cations_A : ndarray, shape (T, Nc, 3)
        Cation positions, Å.
    centres_A : ndarray, shape (T, U, 3)
        Unit centres, Å.
    cells : ndarray, shape (T, 3, 3)
        Cells, Å.
    r_A : float
        Neighbourhood radius, Å.
    stride : int
        Neighbourhoods are found every ``stride`` frames and kept in between.

    Returns
    -------
    ndarray, shape (T, U)
        Mean over the neighbours; the unit's own mean where it has none.
    """
    T, U = centres_A.shape[:2]
    total, count = np.zeros((T, U)), np.zeros((T, U))
    for t0 in range(0, T, stride):
        diff = minimum_image(centres_A[t0][None, :, None] - cations_A[t0][None, None],
                             cells[t0][None])[0]
        near = (np.linalg.norm(diff, axis=-1) <= r_A).astype(float)  # (U, Nc)
        sl = slice(t0, min(t0 + stride, T))
        total[sl] = mobility[sl] @ near.T
        count[sl] = near.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = total / count
        fill = (np.where(count > 0, out, 0.0).sum(axis=0)
                / np.maximum((count > 0).sum(axis=0), 1))
    return np.where(count > 0, out, fill[None])
