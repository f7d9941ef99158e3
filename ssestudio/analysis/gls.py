"""Statistics of time-averaged MSDs: random-walk covariance, GLS line fit, chi-square test.

The covariance of the time-averaged MSD of a Gaussian random walk (one atom, one axis,
per-frame step variance ``sigma^2``) at lags ``m`` and ``m'`` frames of a T-frame
trajectory is ``2 sigma^4 G(m, m')`` with

    G(m, m') = 1/(n_m n_m') sum_k sum_k' overlap(k, m; k', m')^2,   n_m = T - m,

(two overlapping Gaussian increments have covariance ``sigma^2 * overlap`` and
``Cov(X^2, Y^2) = 2 Cov(X, Y)^2``); see Bullerjahn, von Bülow and Hummer, J. Chem. Phys.
153, 024116 (2020), doi:10.1063/5.0008312, and McCluskey, Coles and Morgan, J. Chem.
Theory Comput. 21, 79 (2025), doi:10.1021/acs.jctc.4c01249. :func:`overlap_geometry`
evaluates the double sum in closed form.
"""

from __future__ import annotations

import numpy as np


def random_walk_covariance(lags: np.ndarray, n_frames: int) -> np.ndarray:
    """Geometry ``G(m, m')`` of the covariance of time-averaged MSDs of a random walk.

    ``Cov[M(m), M(m')] = 2 sigma^4 G(m, m')`` for one atom along one axis with per-frame
    step variance ``sigma^2`` (module docstring; doi:10.1063/5.0008312).

    Parameters
    ----------
    lags : ndarray of int, shape (K,)
        Lags in frames, 1 <= lag < n_frames.
    n_frames : int
        Frames T of the trajectory (``n_m = T - m`` origins at lag m).

    Returns
    -------
    ndarray, shape (K, K)
        ``G``, in steps^2.
    """
    lags = np.asarray(lags, dtype=float)
    return overlap_geometry(np.minimum.outer(lags, lags), np.maximum.outer(lags, lags), n_frames)


def overlap_geometry(m: np.ndarray, mp: np.ndarray, n_frames: int) -> np.ndarray:
    """Closed form of ``sum_k sum_k' overlap^2 / (n_m n_m')`` for lags ``m <= mp`` (elementwise).

    With ``n' = T - mp`` the offsets ``k' - k`` fall into three ranges: the m-step interval
    inside the mp-step one (``mp - m + 1`` offsets, overlap ``m``, ``n'`` pairs each) and two
    mirror-image ranges with overlap ``m - j`` and ``max(n' - j, 0)`` pairs, ``j = 1..m-1``,
    summed with Faulhaber's formulas up to ``J = min(m, n') - 1``.
    """
    m, mp = np.asarray(m, dtype=float), np.asarray(mp, dtype=float)
    n, n1 = n_frames - m, n_frames - mp
    J = np.maximum(np.minimum(m, n1) - 1.0, 0.0)
    p1, p2 = J * (J + 1) / 2, J * (J + 1) * (2 * J + 1) / 6
    ramps = n1 * m**2 * J - (2 * m * n1 + m**2) * p1 + (n1 + 2 * m) * p2 - p1**2
    return ((mp - m + 1) * n1 * m**2 + 2 * ramps) / (n * n1)


def gls_line(t: np.ndarray, geometry: np.ndarray) -> np.ndarray:
    """GLS estimator matrix ``A`` (2, K) of ``y = slope * t + c``: ``(slope, c) = A @ y``.

    Parameters
    ----------
    t : ndarray, shape (K,)
        Abscissae (lag times).
    geometry : ndarray, shape (K, K)
        Covariance of ``y`` up to a scale factor (weights are its inverse).

    Returns
    -------
    ndarray, shape (2, K)
    """
    X = np.column_stack([t, np.ones_like(t)])
    scale = np.sqrt(np.diag(geometry))
    corr = geometry / np.outer(scale, scale) + 1e-10 * np.eye(len(t))  # tiny ridge for rounding
    Xs = X / scale[:, None]
    W_X = np.linalg.solve(corr, Xs)
    return np.linalg.solve(Xs.T @ W_X, W_X.T) / scale[None, :]


def chi2_significant(diff: np.ndarray, noise: np.ndarray, *, scale_dof: int | None = None,
                 level: float = 0.99) -> bool:
    """Chi-square test of ``diff`` against covariance ``noise`` (pseudo-inverse, rank-aware).

    When the scale of ``noise`` is itself estimated from ``scale_dof`` degrees of freedom
    (the spread of N atoms: N - 1), the statistic over its rank ``k`` follows ``k F(k, dof)``
    rather than ``chi2(k)``.
    """
    from scipy.stats import chi2, f

    vals, vecs = np.linalg.eigh(noise)
    keep = vals > 1e-10 * max(vals.max(), 0.0)
    if not keep.any():
        return bool(np.any(diff != 0))
    k = int(keep.sum())
    stat = float(np.sum((vecs[:, keep].T @ diff) ** 2 / vals[keep]))
    limit = k * f.ppf(level, k, scale_dof) if scale_dof else chi2.ppf(level, k)
    return stat > limit
