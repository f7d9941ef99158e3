"""Tracer (and collective) diffusion coefficients from an MSD, with honest uncertainties.

``MSD(t) = 2 d D t + c`` is fitted over a fit window (automatic or given, see
:mod:`~ssestudio.analysis.fit_window`) by generalised least squares (GLS). MSD points at
different lags are strongly correlated; their covariance is modelled as that of the
time-averaged MSD of a Gaussian random walk (Bullerjahn, von Bülow and Hummer, J. Chem.
Phys. 153, 024116 (2020), doi:10.1063/5.0008312; McCluskey, Coles and Morgan, J. Chem.
Theory Comput. 21, 79 (2025), doi:10.1021/acs.jctc.4c01249, the approach of kinisi):

    Cov[M(m), M(m')] = d * 2 sigma^4 * G(m, m') / N,
    G(m, m') = 1/(n_m n_m') sum_k sum_k' overlap(k, m; k', m')^2,

where ``sigma^2 = 2 D dt`` is the per-frame step variance along one axis, ``n_m = T - m``
the number of time origins and ``overlap`` the number of steps that the intervals
``[k, k+m)`` and ``[k', k'+m')`` share (the covariance of two overlapping Gaussian
increments is ``sigma^2 * overlap`` and ``Cov(X^2, Y^2) = 2 Cov(X, Y)^2``).

* GLS weights: the inverse of that model covariance with each variance scaled by a
  smooth power law ``kappa(m) = A m^p`` fitted to the ratio of the observed variance (the
  spread of the per-atom time-averaged MSDs, ``MSDResult.msd_sem_A2``) to the model's. For
  a random walk ``kappa = 1`` and the weights are the optimal ones; where the MSD bends
  over (caged ions) the observed variance grows more slowly than the model's and the
  weights shift to longer lags. Two parameters only, so the weights do not follow the
  lag-to-lag noise of the observed variance (noise-following weights bias D low).
* The error of the slope is the sandwich ``A S A^T`` with ``A`` the GLS estimator and
  ``S = diag(s) corr(G) diag(s)``: correlations from the random-walk model, standard
  deviations ``s`` from the data lag by lag (valid also for hopping, heterogeneous or
  non-Gaussian dynamics, assuming independent atoms). Where no per-atom spread exists
  (collective MSD, a single atom) ``s`` is the random-walk model's with the fitted D
  (iterated to consistency); along a direction the model is scaled by the data/model
  variance ratio of the total MSD.
* Fit-window dependence: D is refitted over the variant windows of
  :func:`~ssestudio.analysis.fit_window.window_variants` (sub-windows of the fit window and
  windows reaching into the tail); ``D_window_err`` is zero unless a chi-square test
  (99 %, noise covariance from the same model) finds the windows inconsistent, then the
  largest change ``max_w |dD_w|``, so that ``D +- D_window_err`` spans every variant's D.
  ``D_err`` adds it to the GLS error in quadrature.
* He et al., npj Comput. Mater. 4, 18 (2018), doi:10.1038/s41524-018-0074-y: relative
  error ``3.43 / sqrt(N_eff) + 0.04`` with ``N_eff = N * MSD(t_total) / a^2`` the effective
  number of hops, ``MSD(t_total) = 2 d D t_total`` and ``a`` the hop distance (default the
  median nearest-neighbour distance of the mobile ions). Reported as ``D_hop_err``, a
  separate cross-check, not added to ``D_err``.

Units: D in cm^2/s (1 Å^2/ps = 1e-4 cm^2/s), times ps, MSD Å^2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ssestudio.analysis.fit_window import (
    FitWindow,
    choose_window,
    local_slope,
    loglog_slope,
    window_variants,
)
from ssestudio.analysis.gls import (
    chi2_significant,
    gls_line,
    overlap_geometry,
    random_walk_covariance,
)
from ssestudio.analysis.msd import MSDResult
from ssestudio.core.errors import UserInputError

#: cm^2/s per Å^2/ps.
A2_PER_PS_TO_CM2_PER_S = 1e-4
#: Largest number of lags in a fit (evenly spaced over the window).
MAX_FIT_POINTS = 100
#: Above this non-Gaussian parameter the dynamics are flagged as strongly non-Gaussian.
ALPHA2_WARN = 1.0


@dataclass(frozen=True)
class DiffusionResult:
    """Diffusion coefficient fitted to an MSD, with its error budget and diagnostics.

    Attributes
    ----------
    D_cm2_s : float
        Diffusion coefficient, cm^2/s (for a collective MSD: ``slope / 2d`` in e^2 cm^2/s).
    D_err_cm2_s : float
        Total standard error: GLS and fit-window components in quadrature, cm^2/s.
    D_gls_err_cm2_s : float
        Statistical error of the GLS fit over the main window, cm^2/s.
    D_window_err_cm2_s : float
        Fit-window dependence, cm^2/s: 0 unless the variant windows disagree beyond their
        noise (chi-square, 99 %), then the largest change of D over them.
    D_hop_err_cm2_s : float or None
        He et al. hop-count estimate of the statistical error, cm^2/s; None if unknown.
    intercept_A2, intercept_err_A2 : float
        Fitted offset ``c`` of the MSD (vibrations), Å^2, and its error.
    fit_window_ps : tuple of float
        ``(t0, t1)`` of the main window, ps.
    fit_window_auto : bool
        Whether the window was chosen automatically.
    n_dims : int
        Dimensions of the MSD fitted (3, or 1 along a direction).
    direction : tuple of float or None
        Unit vector of a one-dimensional fit.
    n_eff_hops : float or None
        Effective number of hops ``N_eff`` (He et al.).
    hop_distance_A : float or None
        Hop distance used for ``N_eff``, Å.
    diffusive : bool
        Whether the MSD is diffusive over the window (log-log slope within tolerance of 1
        from the window start on, and over the whole window).
    loglog_slope : float
        Log-log slope of the MSD over the window.
    non_gaussian_max : float
        Largest non-Gaussian parameter alpha2 over the window (NaN if not computed).
    window_D_cm2_s : tuple of float
        D over the variant windows used for ``D_window_err``, cm^2/s.
    window_bounds_ps : tuple of (float, float)
        Those windows, ps.
    collective : bool
        Fitted to a mean squared charge displacement.
    warnings : tuple of str
        Everything a user should know before trusting the number.
    """

    D_cm2_s: float
    D_err_cm2_s: float
    D_gls_err_cm2_s: float
    D_window_err_cm2_s: float
    D_hop_err_cm2_s: float | None
    intercept_A2: float
    intercept_err_A2: float
    fit_window_ps: tuple[float, float]
    fit_window_auto: bool
    n_dims: int
    direction: tuple[float, float, float] | None
    n_eff_hops: float | None
    hop_distance_A: float | None
    diffusive: bool
    loglog_slope: float
    non_gaussian_max: float
    window_D_cm2_s: tuple[float, ...]
    window_bounds_ps: tuple[tuple[float, float], ...]
    collective: bool
    warnings: tuple[str, ...]

    def model_msd_A2(self, time_ps: np.ndarray) -> np.ndarray:
        """The fitted line ``2 d D t + c`` at ``time_ps``, Å^2."""
        slope = 2 * self.n_dims * self.D_cm2_s / A2_PER_PS_TO_CM2_PER_S
        return slope * np.asarray(time_ps, dtype=float) + self.intercept_A2

    def to_dict(self) -> dict:
        """Plain-Python dictionary (JSON-ready)."""
        out = asdict(self)
        out["fit_window_ps"] = list(self.fit_window_ps)
        out["window_bounds_ps"] = [list(w) for w in self.window_bounds_ps]
        out["window_D_cm2_s"] = list(self.window_D_cm2_s)
        out["direction"] = None if self.direction is None else list(self.direction)
        out["warnings"] = list(self.warnings)
        return out


@dataclass(frozen=True)
class _Series:
    """What one fit needs: the MSD to fit and the variance model."""

    y: np.ndarray  # (T,) MSD, Å^2
    n_dims: int
    sem: np.ndarray | None  # (T,) data standard error, or None for the model
    kappa: np.ndarray | None  # (T,) data/model variance ratio for a direction
    n_walkers: int
    dt_ps: float


def fit_diffusion(msd: MSDResult, *, fit_window_ps: tuple[float, float] | None = None,
                  direction: str | Sequence[float] | None = None,
                  hop_distance_A: float | None = None, tolerance: float = 0.2,
                  max_fraction: float = 0.5) -> DiffusionResult:
    """Fit ``MSD = 2 d D t + c`` by GLS and report D with its full error budget.

    Parameters
    ----------
    msd : MSDResult
        From :func:`~ssestudio.analysis.msd.compute_msd` (tracer) or
        :func:`~ssestudio.analysis.msd.compute_charge_msd` (collective).
    fit_window_ps : (float, float), optional
        ``(t0, t1)`` in ps; automatic when None (rule in :mod:`~ssestudio.analysis.fit_window`).
    direction : str or 3-vector, optional
        Fit the one-dimensional MSD along ``"x"``, ``"y"``, ``"z"``, a cell axis ``"a"``,
        ``"b"``, ``"c"`` or a Cartesian vector (``d = 1``); the full 3D MSD when None.
    hop_distance_A : float, optional
        Hop distance ``a`` for the He et al. estimate, Å; default ``msd.nn_distance_A``.
    tolerance : float
        Allowed deviation of the log-log slope from 1 for the diffusive regime.
    max_fraction : float
        End of the automatic window as a fraction of the time span.

    Returns
    -------
    DiffusionResult

    Raises
    ------
    UserInputError
        Too few frames, or a fit window outside the data or with fewer than 3 lags.

    References
    ----------
    doi:10.1063/5.0008312; doi:10.1021/acs.jctc.4c01249; doi:10.1038/s41524-018-0074-y.
    """
    if msd.n_frames < 8:
        raise UserInputError(f"a diffusion fit needs at least 8 frames, the MSD has {msd.n_frames}")
    series = _series(msd, direction)
    window = _window(series, msd, fit_window_ps, tolerance, max_fraction)
    lags, main = _fit_lags(window.start, window.end, msd.n_frames)
    geometry = random_walk_covariance(lags, msd.n_frames)
    t = lags * series.dt_ps
    est, weights = _gls_fit(series, lags, main, geometry)
    slope, intercept = est @ series.y[lags]
    D = slope / (2 * series.n_dims) * A2_PER_PS_TO_CM2_PER_S
    cov_y = _data_covariance(series, lags, geometry, slope)
    cov_fit = est @ cov_y @ est.T
    gls_err = float(np.sqrt(max(cov_fit[0, 0], 0.0))) / (2 * series.n_dims) * A2_PER_PS_TO_CM2_PER_S
    spread, variants, bounds = _window_spread(
        series, lags, weights, est, _smooth_covariance(series, lags, geometry, slope), window)
    t = t[main]
    slope_ll = loglog_slope(t, series.y[lags[main]])
    diffusive = bool(window.diffusive_start and abs(slope_ll - 1.0) <= tolerance and D > 0)
    hop_a = hop_distance_A if hop_distance_A is not None else msd.nn_distance_A
    n_eff, hop_err = _hop_estimate(msd, series, slope, hop_a)
    alpha2 = _alpha2_max(msd, t[0], t[-1])
    total = float(np.hypot(gls_err, spread))
    return DiffusionResult(
        D_cm2_s=float(D), D_err_cm2_s=total, D_gls_err_cm2_s=gls_err, D_window_err_cm2_s=spread,
        D_hop_err_cm2_s=hop_err, intercept_A2=float(intercept),
        intercept_err_A2=float(np.sqrt(max(cov_fit[1, 1], 0.0))),
        fit_window_ps=(float(t[0]), float(t[-1])), fit_window_auto=window.auto,
        n_dims=series.n_dims, direction=_direction_tuple(msd, direction), n_eff_hops=n_eff,
        hop_distance_A=None if hop_a is None else float(hop_a), diffusive=diffusive,
        loglog_slope=slope_ll, non_gaussian_max=alpha2, window_D_cm2_s=tuple(variants),
        window_bounds_ps=tuple((a * series.dt_ps, b * series.dt_ps) for a, b in bounds),
        collective=msd.collective,
        warnings=tuple(_warnings(msd, D, gls_err, spread, diffusive, slope_ll, window, n_eff,
                                 hop_a, alpha2, tolerance)))


def _hop_estimate(msd: MSDResult, series: _Series, slope: float,
                  hop_a: float | None) -> tuple[float | None, float | None]:
    """He et al. (doi:10.1038/s41524-018-0074-y): ``N_eff = N MSD(t_total) / a^2`` with the
    fitted ``MSD(t_total) = slope * t_total`` (a 1D MSD counts ``a^2 / 3`` per hop), and the
    error ``D (3.43 / sqrt(N_eff) + 0.04)``, cm^2/s; None where undefined."""
    if msd.collective or hop_a is None or slope <= 0:
        return None, None
    t_total = (msd.n_frames - 1) * series.dt_ps
    n_eff = float(msd.n_atoms * slope * t_total * (3 / series.n_dims) / hop_a**2)
    D = slope / (2 * series.n_dims) * A2_PER_PS_TO_CM2_PER_S
    return n_eff, float(D * (3.43 / np.sqrt(n_eff) + 0.04))


def _series(msd: MSDResult, direction) -> _Series:
    dt_ps = msd.timestep_fs / 1000.0
    has_sem = not msd.collective and msd.n_atoms > 1 and np.isfinite(msd.msd_sem_A2[1:]).all()
    walkers = 1 if msd.collective else msd.n_atoms
    if direction is None:
        return _Series(np.asarray(msd.msd_A2), 3, msd.msd_sem_A2 if has_sem else None, None,
                       walkers, dt_ps)
    kappa = None
    if has_sem:  # data/model variance ratio of the total MSD, lag by lag
        model = _model_variance_diag(msd.msd_A2, 3, walkers, msd.n_frames)
        with np.errstate(divide="ignore", invalid="ignore"):
            kappa = np.where(model > 0, msd.msd_sem_A2**2 / model, 1.0)
    return _Series(msd.along(direction), 1, None, kappa, walkers, dt_ps)


def _model_variance_diag(y: np.ndarray, n_dims: int, walkers: int, n_frames: int) -> np.ndarray:
    """Random-walk variance of the MSD at every lag, with ``sigma^2`` from ``y`` itself
    (``sigma^2(m) = y(m) / (d m)``), shape (T,)."""
    lags = np.arange(1, n_frames, dtype=float)
    g = overlap_geometry(lags, lags, n_frames)
    sigma2 = np.maximum(y[1:], 0.0) / (n_dims * lags)
    return np.concatenate([[0.0], n_dims * 2 * sigma2**2 * g / walkers])


def _window(series: _Series, msd: MSDResult, fit_window_ps, tolerance, max_fraction) -> FitWindow:
    if fit_window_ps is None:
        if not 0 < max_fraction <= 1:
            raise UserInputError(f"max_fraction must lie in (0, 1], got {max_fraction}")
        return choose_window(series.y, tolerance=tolerance, max_fraction=max_fraction)
    t0, t1 = (float(v) for v in fit_window_ps)
    span = (msd.n_frames - 1) * series.dt_ps
    start, end = int(np.ceil(t0 / series.dt_ps - 1e-9)), int(np.floor(t1 / series.dt_ps + 1e-9))
    start = max(start, 1)
    if not (0 <= t0 < t1 <= span + 1e-9) or end - start < 2:
        raise UserInputError(f"fit window ({t0:g}, {t1:g}) ps must satisfy 0 <= t0 < t1 <= "
                             f"{span:g} ps (the trajectory's span) and hold at least 3 frames "
                             f"({series.dt_ps:g} ps apart)")
    lags, beta = local_slope(series.y)
    inside = (lags >= start) & (lags <= min(end, 3 * start))
    ok = bool(inside.any() and np.all(np.abs(beta[inside] - 1.0) <= tolerance))
    return FitWindow(start, end, ok, False)


def _fit_lags(start: int, end: int, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Lags of the fit (at most :data:`MAX_FIT_POINTS`, evenly spaced in the window), then
    up to half as many in the tail beyond it (for the window test only), and the mask of
    the fit's own lags."""
    main = np.unique(np.linspace(start, end, min(MAX_FIT_POINTS, end - start + 1)).round())
    last = n_frames - 2  # at least two time origins
    tail = np.unique(np.linspace(end + 1, last, max(0, min(MAX_FIT_POINTS // 2, last - end))).round())
    lags = np.concatenate([main, tail]).astype(int)
    return lags, lags <= end


def _gls_fit(series: _Series, lags, main, geometry) -> tuple[np.ndarray, np.ndarray]:
    """GLS estimator over the ``main`` lags, as a (2, K) matrix over all ``lags``, and the
    weight covariance over all lags; iterated because the variance model depends on D
    (through ``sigma^2`` only, so it converges at once)."""
    est, weights, slope = np.zeros((2, len(lags))), geometry, 0.0
    for _ in range(3):
        est[:, main] = gls_line(lags[main] * series.dt_ps, weights[np.ix_(main, main)])
        slope = (est @ series.y[lags])[0]
        weights = _weight_covariance(series, lags, main, geometry, slope)
    return est, weights


def _data_covariance(series: _Series, lags, geometry, slope) -> np.ndarray:
    """Covariance of the MSD at ``lags``: model correlations, data (or model) variances."""
    diag = np.sqrt(np.diag(geometry))
    corr = geometry / np.outer(diag, diag)
    if series.sem is not None:
        s = series.sem[lags]
    else:
        s = np.sqrt(np.diag(_model_covariance(series, lags, geometry, slope)))
        if series.kappa is not None:
            s = s * np.sqrt(np.maximum(series.kappa[lags], 0.0))
    return corr * np.outer(s, s)


def _model_covariance(series: _Series, lags, geometry, slope) -> np.ndarray:
    """Random-walk covariance ``d 2 sigma^4 G / N`` with ``sigma^2`` from the fitted slope."""
    sigma2 = abs(slope) * series.dt_ps / series.n_dims  # per-frame step variance, one axis
    if sigma2 == 0:
        sigma2 = max(float(series.y[lags].mean()), 0.0) / (series.n_dims * lags.mean())
    return series.n_dims * 2 * sigma2**2 * geometry / series.n_walkers


def _variance_ratio(series: _Series, lags, model: np.ndarray) -> np.ndarray | None:
    """Observed / random-walk-model variance of the MSD at ``lags`` (None: no observation)."""
    if series.sem is not None:
        return series.sem[lags] ** 2 / np.diag(model)
    if series.kappa is not None:
        return series.kappa[lags]
    return None


def _weight_covariance(series: _Series, lags, main, geometry, slope) -> np.ndarray:
    """Covariance for the GLS weights: the random-walk model times a smooth power law
    ``kappa(m) = A m^p`` fitted (log-log least squares, ``main`` lags) to the data/model
    variance ratio; the model itself where the data give no variance."""
    model = _model_covariance(series, lags, geometry, slope)
    ratio = _variance_ratio(series, lags, model)
    if ratio is None:
        return model
    keep = np.isfinite(ratio) & (ratio > 0) & main
    if keep.sum() < 3:
        return model
    p, log_a = np.polyfit(np.log(lags[keep]), np.log(ratio[keep]), 1)
    kappa = np.exp(log_a + p * np.log(lags))
    return model * np.sqrt(np.outer(kappa, kappa))


def _smooth_covariance(series: _Series, lags, geometry, slope) -> np.ndarray:
    """Model covariance scaled by one data/model variance ratio pooled over the window:
    free of the lag-to-lag noise of the per-atom spread (for the window test)."""
    model = _model_covariance(series, lags, geometry, slope)
    ratio = _variance_ratio(series, lags, model)
    if ratio is None:
        return model
    ratio = ratio[np.isfinite(ratio)]
    return model * (float(np.mean(ratio)) if ratio.size else 1.0)


def _window_spread(series, lags, weights, est, cov_y, window) -> tuple[float, list, list]:
    """Fit-window error beyond noise, the D of each variant (cm^2/s) and their bounds.

    The differences ``dD_w`` between variants and the main fit are tested against their
    noise covariance (chi-square, 99 %); only a significant window dependence counts, as
    the largest change ``max_w |dD_w|``, so that ``D +- D_window_err`` spans the D of every
    variant window, tail windows included.
    """
    to_D = A2_PER_PS_TO_CM2_PER_S / (2 * series.n_dims)
    t, y = lags * series.dt_ps, series.y[lags]
    rows, bounds = [], []
    for a, b in window_variants(window.start, window.end, int(lags[-1])):
        sel = np.flatnonzero((lags >= a) & (lags <= b))
        if len(sel) >= 3:
            row = np.zeros(len(lags))
            row[sel] = gls_line(t[sel], weights[np.ix_(sel, sel)])[0]
            rows.append(row)
            bounds.append((int(lags[sel[0]]), int(lags[sel[-1]])))
    if not rows:
        return 0.0, [], []
    contrast = (np.array(rows) - est[0]) * to_D  # (V, K): dD_w = contrast @ y
    diff, noise = contrast @ y, contrast @ cov_y @ contrast.T
    values = [float(v) for v in np.array(rows) @ y * to_D]
    dof = series.n_walkers - 1 if series.sem is not None or series.kappa is not None else None
    if not chi2_significant(diff, noise, scale_dof=dof):
        return 0.0, values, bounds
    return float(np.max(np.abs(diff))), values, bounds


def _alpha2_max(msd: MSDResult, t0: float, t1: float) -> float:
    t, a2 = msd.alpha2_time_ps, msd.alpha2
    if not len(t):
        return float("nan")
    inside = (t >= t0) & (t <= t1)
    if not inside.any():
        inside = np.abs(t - 0.5 * (t0 + t1)) == np.min(np.abs(t - 0.5 * (t0 + t1)))
    return float(np.nanmax(a2[inside])) if np.isfinite(a2[inside]).any() else float("nan")


def _direction_tuple(msd: MSDResult, direction) -> tuple[float, float, float] | None:
    return None if direction is None else tuple(float(v) for v in msd.unit_vector(direction))


def _warnings(msd, D, gls_err, spread, diffusive, slope_ll, window, n_eff, hop_a, alpha2,
              tolerance) -> list[str]:
    out = list(msd.warnings)
    if not diffusive:
        out.append(f"diffusive regime not reached: the MSD's log-log slope over the fit window is "
                   f"{slope_ll:.2f} (diffusion needs 1 +- {tolerance:g}); D is only an estimate, "
                   "its error includes the fit-window dependence; run longer (or hotter)")
    if D <= 0:
        out.append("the fitted MSD slope is not positive: no measurable diffusion in this window")
    if spread > gls_err:
        out.append(f"the fit window changes D by more than its statistical error "
                   f"({spread:.2g} vs {gls_err:.2g} cm^2/s): D depends on the window")
    if not msd.collective and hop_a is None:
        out.append("no hop distance known (a single mobile atom): He et al. error not computed; "
                   "pass hop_distance_A")
    elif n_eff is not None and n_eff < 100:
        out.append(f"few effective hops (N_eff = {n_eff:.0f}): relative error about "
                   f"{100 * (3.43 / np.sqrt(n_eff) + 0.04):.0f}% (He et al.)")
    if np.isfinite(alpha2) and alpha2 > ALPHA2_WARN:
        out.append(f"strongly non-Gaussian displacements in the fit window (alpha2 up to "
                   f"{alpha2:.2f}): heterogeneous or hop-dominated dynamics")
    if not window.auto and not window.diffusive_start:
        out.append("the given fit window starts where the MSD is not yet diffusive")
    return out
