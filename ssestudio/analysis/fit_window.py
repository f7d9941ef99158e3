"""Where an MSD is diffusive: local log-log slope, automatic fit window, window variants.

An MSD grows as ``t^2`` in the ballistic regime, about ``t^0`` while ions rattle in their
sites, and as ``t^1`` once they diffuse. The local log-log slope
``beta(t) = d ln MSD / d ln t`` tells the regimes apart (Maginn et al., Living J. Comput.
Mol. Sci. 1, 6324 (2018), doi:10.33011/livecoms.1.1.6324; Bullerjahn, von Bülow and
Hummer, J. Chem. Phys. 153, 024116 (2020), doi:10.1063/5.0008312).

Rule of the automatic window (documented defaults; every step can be overridden):

* End: ``t_end = max_fraction * t_span`` (default half the trajectory). Beyond it each
  atom has fewer than two non-overlapping displacements, so the MSD tail is an average
  over strongly overlapping samples and very noisy (Maginn et al.).
* Start: the first lag ``t_s <= t_end / stay_factor`` from which the smoothed ``beta`` stays
  within ``1 +- tolerance`` (default 0.2) up to ``stay_factor * t_s`` (default 3, half a
  decade). Requiring the band to hold over half a decade skips the brief passage of
  ``beta`` through 1 on its way down from the ballistic 2 to the vibrational plateau.
* If no such lag exists the regime is *not diffusive*: the start is the lag where
  ``beta`` is closest to 1 once it has come down from the ballistic regime (after its
  first local minimum, the vibrational plateau), and the caller says so.

Window variants (for the fit-window component of the error) are the sub-windows
``[t_s + f L, t_s + e L]`` with ``f`` in {0, 1/4, 1/2}, ``e`` in {1/2, 3/4, 1} and
``e - f >= 1/4`` of the main window of length ``L``, and three windows reaching into the
tail, ``[t_s, t_last]``, ``[t_s + L/2, t_last]`` and ``[t_end, t_last]`` (``t_last``: the
last lag with two time origins). The tail is never fitted for D itself, but an MSD that
bends over there (caged ions) must show up in the error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Points per decade of the log-spaced lag grid on which beta is evaluated.
POINTS_PER_DECADE = 10
_VARIANTS = tuple((f, e) for f in (0.0, 0.25, 0.5) for e in (0.5, 0.75, 1.0) if e - f >= 0.25)


@dataclass(frozen=True)
class FitWindow:
    """A fit window in frames and what the log-log slope says about it.

    Attributes
    ----------
    start, end : int
        First and last lag of the window, frames.
    diffusive_start : bool
        Whether the start satisfies the diffusive rule (beta within tolerance of 1).
    auto : bool
        Chosen automatically (False when given by the user).
    """

    start: int
    end: int
    diffusive_start: bool
    auto: bool


def local_slope(msd: np.ndarray, *, max_lag: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed local log-log slope ``d ln MSD / d ln t`` on a log-spaced lag grid.

    Parameters
    ----------
    msd : ndarray, shape (T,)
        MSD at lags ``0..T-1`` frames (any units).
    max_lag : int, optional
        Largest lag considered (default ``T - 1``).

    Returns
    -------
    lags : ndarray of int, shape (L,)
        Lags, frames.
    beta : ndarray, shape (L,)
        Slope at each lag: central finite difference of ``ln MSD`` against ``ln t`` on the
        log grid, then a 3-point running mean; NaN where the MSD is not positive.
    """
    top = min(len(msd) - 1, max_lag or len(msd) - 1)
    if top < 2:
        return np.zeros(0, dtype=int), np.zeros(0)
    n = max(3, int(np.ceil(np.log10(top) * POINTS_PER_DECADE)) + 1)
    lags = np.unique(np.geomspace(1, top, n).astype(int))
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(msd[lags] > 0, np.log(np.where(msd[lags] > 0, msd[lags], 1.0)), np.nan)
        beta = np.gradient(y, np.log(lags))
    smooth = np.convolve(np.pad(beta, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    return lags, smooth


def choose_window(msd: np.ndarray, *, tolerance: float = 0.2, max_fraction: float = 0.5,
                  stay_factor: float = 3.0, min_lags: int = 4) -> FitWindow:
    """Automatic fit window of an MSD (rule in the module docstring).

    Parameters
    ----------
    msd : ndarray, shape (T,)
        MSD at lags ``0..T-1`` frames.
    tolerance : float
        Allowed deviation of the log-log slope from 1.
    max_fraction : float
        End of the window as a fraction of the trajectory's time span (0 < f <= 1).
    stay_factor : float
        The slope must stay in the band from ``t_s`` up to ``stay_factor * t_s``.
    min_lags : int
        Smallest number of lags in the window.

    Returns
    -------
    FitWindow
    """
    end = max(min_lags, round(max_fraction * (len(msd) - 1)))
    lags, beta = local_slope(msd, max_lag=end)
    ok = np.abs(beta - 1.0) <= tolerance
    for k, lag in enumerate(lags):
        if lag > end / stay_factor:
            break
        span = (lags >= lag) & (lags <= stay_factor * lag)
        if ok[span].all():
            return FitWindow(int(lag), end, True, True)
    return FitWindow(_closest_start(lags, beta, end, tolerance, stay_factor, min_lags), end, False, True)


def _closest_start(lags, beta, end, tolerance, stay_factor, min_lags) -> int:
    """Start of a non-diffusive window: once ``beta`` has come down from the ballistic
    regime (after its first local minimum, or after the last lag with beta > 1 + tol),
    the lag whose slope is closest to 1, no later than ``end / stay_factor``."""
    limit = max(1, min(int(end / stay_factor), end - min_lags + 1))
    usable = (lags <= limit) & np.isfinite(beta)
    idx = np.flatnonzero(usable)
    if not idx.size:
        return limit
    b = beta[idx]
    rising = np.flatnonzero(np.diff(b) > 0)
    first = rising[0] if rising.size else len(b) - 1  # first local minimum of beta
    ballistic = np.flatnonzero(b > 1.0 + tolerance)
    if ballistic.size:
        first = max(first, int(ballistic[-1]) + 1)
    if first >= len(b):
        return limit
    best = first + int(np.argmin(np.abs(b[first:] - 1.0)))
    return int(lags[idx[best]])


def window_variants(start: int, end: int, last: int | None = None) -> list[tuple[int, int]]:
    """Windows ``(start, end)`` in frames used to measure the fit-window dependence: the
    sub-windows of the module docstring and, when ``last > end``, the tail windows
    ``[start, last]``, ``[(start + end) / 2, last]`` and ``[end, last]``."""
    length = end - start
    out = []
    for f, e in _VARIANTS:
        a, b = start + round(f * length), start + round(e * length)
        if b - a >= 2 and (a, b) not in out:
            out.append((a, b))
    if last is not None and last - end >= 2:
        out.extend((a, last) for a in (start, (start + end) // 2, end))
    return out


def loglog_slope(time: np.ndarray, msd: np.ndarray) -> float:
    """Least-squares slope of ``ln msd`` against ``ln time`` over positive points (NaN if < 2)."""
    keep = (time > 0) & (msd > 0)
    if keep.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(time[keep]), np.log(msd[keep]), 1)[0])
