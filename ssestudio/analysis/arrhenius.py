"""Temperature dependence of D or sigma: fit, model choice, Ea(T) and extrapolation.

The models (:data:`ssestudio.analysis.temperature_models.MODELS`) are fitted to ``ln y``
(``y = D``, or ``y = sigma T`` for the conductivity) by weighted least squares with the
given errors turned into log errors, ``s_i = err_i / y_i`` (first-order delta method).
Every model is linear in all parameters but one shape parameter (breakpoint, VFT ``T0``),
which is found by a grid search refined by a bounded 1-D minimisation (separable least
squares). The parameter covariance is ``(J^T W J)^-1`` with ``W = diag(1/s_i^2)``: the
errors are taken as absolute (``absolute_sigma=True`` in scipy's terms).

Model choice (Schwarz's BIC decides; Hurvich-Tsai's AICc is reported alongside): a curved
model (``two_regime``, ``vft``) replaces the single Arrhenius line only when its BIC is
lower by more than :data:`STRONG_DELTA_BIC` = 6, i.e. "strong" evidence on the Kass-Raftery
scale of ``2 ln B ~ -delta BIC``, and only with at least :data:`MIN_TEMPERATURES_FOR_CURVATURE`
distinct temperatures. Extrapolation intervals come from sampling the parameters from
their fitted Gaussian (full covariance); when the data are non-Arrhenius or the target
temperature lies outside the simulated range, the reported interval spans all models'
intervals and ``warnings`` say so.

References
----------
Schwarz, G. Ann. Stat. 6, 461 (1978), BIC. doi:10.1214/aos/1176344136
Hurvich, C. M. & Tsai, C.-L. Biometrika 76, 297 (1989), AICc. doi:10.1093/biomet/76.2.297
Kass, R. E. & Raftery, A. E. J. Am. Stat. Assoc. 90, 773 (1995). doi:10.1080/01621459.1995.10476572
Ver Hoef, J. M. Am. Stat. 66, 124 (2012), delta method. doi:10.1080/00031305.2012.687494
Efron, B. & Tibshirani, R. Stat. Sci. 1, 54 (1986), parametric sampling of errors.
doi:10.1214/ss/1177013815
He, X. et al. npj Comput. Mater. 4, 18 (2018), errors of AIMD diffusion and the risk of
extrapolating to room temperature. doi:10.1038/s41524-018-0074-y
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ssestudio.analysis.arrhenius_table import TransportTable, read_transport_table
from ssestudio.analysis.temperature_models import MODELS, TemperatureModel
from ssestudio.core.errors import UserInputError
from ssestudio.core.jsonsafe import json_safe as _json_safe

__all__ = ["LocalActivationEnergy", "ModelFit", "TemperatureFit", "TransportTable",
           "fit_model", "fit_temperature_dependence", "read_transport_table"]

Quantity = Literal["D", "sigma"]

#: BIC margin a curved model needs over the Arrhenius line ("strong", Kass & Raftery 1995).
STRONG_DELTA_BIC = 6.0
#: BIC margin for "very strong" evidence (Kass & Raftery 1995).
VERY_STRONG_DELTA_BIC = 10.0
#: Fewest distinct temperatures for which a curved model can be preferred.
MIN_TEMPERATURES_FOR_CURVATURE = 5

#: quantity -> (unit of the values, unit of the fitted prefactor)
UNITS: dict[str, tuple[str, str]] = {"D": ("cm^2/s", "cm^2/s"), "sigma": ("mS/cm", "mS/cm*K")}

_N_SAMPLES = 20000
_N_EA_GRID = 30


@dataclass(frozen=True)
class ModelFit:
    """One model fitted to ``ln y(T)``.

    Attributes
    ----------
    name : str
        Registry name (``arrhenius``, ``two_regime``, ``vft``).
    param_names : tuple of str
        Parameter names (see :mod:`ssestudio.analysis.temperature_models`).
    params : tuple of float, shape (k,)
        Best-fit parameters (``ln_*`` ones are natural logs of the units of ``y``).
    covariance : tuple of tuple of float, shape (k, k)
        Parameter covariance, errors taken as absolute.
    chi2 : float
        Weighted sum of squared log residuals.
    n_points : int
        Number of data points fitted.
    bic, aicc : float
        ``chi2 + k ln n`` and ``chi2 + 2k + 2k(k+1)/(n-k-1)`` (inf when ``n <= k+1``).
    extrapolated : float
        Value of the quantity (D, or sigma, not sigma T) at the target temperature.
    extrapolated_interval : tuple of float
        Its confidence interval ``(low, high)``.
    """

    name: str
    param_names: tuple[str, ...]
    params: tuple[float, ...]
    covariance: tuple[tuple[float, ...], ...]
    chi2: float
    n_points: int
    bic: float
    aicc: float
    extrapolated: float
    extrapolated_interval: tuple[float, float]

    @property
    def param_errors(self) -> tuple[float, ...]:
        """One-sigma errors of :attr:`params` (square roots of the covariance diagonal)."""
        return tuple(float(np.sqrt(max(c, 0.0))) for c in np.diag(self.covariance))

    def to_dict(self) -> dict:
        """JSON-safe dict (NaN and inf become None)."""
        return _json_safe({
            "params": dict(zip(self.param_names, self.params)),
            "errors": dict(zip(self.param_names, self.param_errors)),
            "covariance": self.covariance, "chi2": self.chi2, "n_points": self.n_points,
            "bic": self.bic, "aicc": self.aicc, "extrapolated": self.extrapolated,
            "extrapolated_interval": self.extrapolated_interval})


@dataclass(frozen=True)
class LocalActivationEnergy:
    """``Ea(T) = -k_B d ln y / d(1/T)`` of a model on a temperature grid.

    Attributes
    ----------
    T_K, Ea_eV, Ea_err_eV : tuple of float, shape (g,)
        Temperatures (K), local activation energies and their one-sigma errors (eV).
    """

    T_K: tuple[float, ...]
    Ea_eV: tuple[float, ...]
    Ea_err_eV: tuple[float, ...]


@dataclass(frozen=True)
class TemperatureFit:
    """Result of :func:`fit_temperature_dependence`.

    Attributes
    ----------
    quantity : {"D", "sigma"}
        Fitted quantity (``sigma`` is fitted as ``sigma T``).
    unit, prefactor_unit : str
        Units of the values/extrapolations and of the prefactor.
    model : str
        Preferred model.
    Ea_eV, Ea_err_eV : float
        Activation energy of the preferred model and its one-sigma error, eV: the Arrhenius
        Ea; for ``two_regime`` the Ea of the regime that contains the target temperature;
        for ``vft`` the pseudo-activation energy ``k_B B`` (the local Ea is in ``Ea_of_T``).
    prefactor, prefactor_err : float
        Matching prefactor (D0, or A of ``sigma T = A exp(-Ea/kT)``) and its error.
    breakpoint_K, breakpoint_err_K : float or None
        Breakpoint of the preferred ``two_regime`` model, else None.
    fits : dict of str to ModelFit
        Every fitted model.
    target_T_K : float
        Temperature of the extrapolation, K.
    extrapolated_300K : float
        Preferred model's value at ``target_T_K`` (300 K by default; the key keeps its
        conventional name for any target).
    extrapolated_300K_interval : tuple of float
        ``(low, high)``: the preferred model's interval, or, when ``extrapolation_reliable``
        is False, the span of all models' intervals.
    extrapolation_reliable : bool
        True when the data are Arrhenius and the target lies within the simulated range.
    confidence : float
        Confidence level of the intervals.
    Ea_of_T : LocalActivationEnergy
        Local activation energy of the preferred model.
    n_points, n_temperatures : int
        Data points and distinct temperatures.
    T_range_K : tuple of float
        Lowest and highest simulated temperature.
    warnings : tuple of str
        Everything a reader must know before quoting the numbers.
    """

    quantity: str
    unit: str
    prefactor_unit: str
    model: str
    Ea_eV: float
    Ea_err_eV: float
    prefactor: float
    prefactor_err: float
    breakpoint_K: float | None
    breakpoint_err_K: float | None
    fits: dict[str, ModelFit]
    target_T_K: float
    extrapolated_300K: float
    extrapolated_300K_interval: tuple[float, float]
    extrapolation_reliable: bool
    confidence: float
    Ea_of_T: LocalActivationEnergy
    n_points: int
    n_temperatures: int
    T_range_K: tuple[float, float]
    warnings: tuple[str, ...]

    def to_dict(self) -> dict:
        """JSON-safe dict: the CLI's keys plus per-model fits and BICs."""
        ref_bic = self.fits["arrhenius"].bic
        out = {k: getattr(self, k) for k in (
            "model", "quantity", "unit", "Ea_eV", "Ea_err_eV", "prefactor", "prefactor_err",
            "prefactor_unit", "breakpoint_K", "breakpoint_err_K", "target_T_K",
            "extrapolated_300K", "extrapolated_300K_interval", "extrapolation_reliable",
            "confidence", "n_points", "n_temperatures", "T_range_K", "warnings")}
        out["bic"] = {n: f.bic for n, f in self.fits.items()}
        out["delta_bic"] = {n: f.bic - ref_bic for n, f in self.fits.items()}
        out["models"] = {n: f.to_dict() for n, f in self.fits.items()}
        out["Ea_of_T"] = {"T_K": self.Ea_of_T.T_K, "Ea_eV": self.Ea_of_T.Ea_eV,
                          "Ea_err_eV": self.Ea_of_T.Ea_err_eV}
        return _json_safe(out)


def fit_temperature_dependence(T_K, values, errors, *, quantity: Quantity = "D",
                               target_T_K: float = 300.0, models: Sequence[str] | None = None,
                               confidence: float = 0.95) -> TemperatureFit:
    """Fit Arrhenius, two-regime and VFT models, choose one, extrapolate to ``target_T_K``.

    Parameters
    ----------
    T_K : array_like, shape (n,)
        Temperatures, K; repeated temperatures (several runs) are fine.
    values : array_like, shape (n,)
        ``D`` (e.g. cm^2/s) or ``sigma`` (e.g. mS/cm), all > 0.
    errors : array_like, shape (n,)
        One-sigma errors of ``values``, same units, all > 0.
    quantity : {"D", "sigma"}
        ``sigma`` is fitted as ``sigma T = A exp(-Ea / k_B T)``; extrapolations are sigma.
    target_T_K : float
        Extrapolation temperature, K.
    models : sequence of str, optional
        Models to compare (default: all of ``MODELS``); ``arrhenius`` is always fitted.
    confidence : float
        Confidence level of the intervals, in (0, 1).

    Returns
    -------
    TemperatureFit

    Raises
    ------
    UserInputError
        On mismatched lengths, non-finite or non-positive values/errors/temperatures, fewer
        than 3 distinct temperatures, an unknown model or quantity.
    """
    T, y, s = _validated(T_K, values, errors, quantity, target_T_K, confidence)
    names = _model_names(models)
    notes: list[str] = []
    fits = _fit_all(names, T, y, s, target_T_K=target_T_K, quantity=quantity,
                    confidence=confidence, notes=notes)
    n_temperatures = len(np.unique(T))
    chosen = _choose_model(fits, n_temperatures, notes)
    params = np.asarray(fits[chosen].params)
    cov = np.asarray(fits[chosen].covariance)
    reliable = chosen == "arrhenius" and T.min() <= target_T_K <= T.max()
    lows, highs = zip(*(f.extrapolated_interval for f in fits.values()))
    interval = (fits[chosen].extrapolated_interval if reliable
                else (float(np.nanmin(lows)), float(np.nanmax(highs))))
    notes += _extrapolation_warnings(fits, chosen, T, target_T_K, interval, quantity)
    notes += _goodness_of_fit_warnings(fits[chosen])
    headline = _headline(MODELS[chosen], params, cov, target_T_K)
    return TemperatureFit(
        quantity=quantity, unit=UNITS[quantity][0], prefactor_unit=UNITS[quantity][1],
        model=chosen, **headline, fits=fits, target_T_K=float(target_T_K),
        extrapolated_300K=fits[chosen].extrapolated, extrapolated_300K_interval=interval,
        extrapolation_reliable=bool(reliable), confidence=float(confidence),
        Ea_of_T=_local_activation_energy(MODELS[chosen], params, cov, T, target_T_K),
        n_points=len(T), n_temperatures=n_temperatures,
        T_range_K=(float(T.min()), float(T.max())), warnings=tuple(notes))


def fit_model(model: TemperatureModel, T_K: np.ndarray, log_y: np.ndarray,
              log_err: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted least-squares fit of one model to ``ln y``.

    Parameters
    ----------
    model : TemperatureModel
        Registry entry.
    T_K, log_y, log_err : ndarray, shape (n,)
        Temperatures (K), ``ln y`` and its one-sigma errors.

    Returns
    -------
    params : ndarray, shape (k,)
    covariance : ndarray, shape (k, k)
        ``(J^T W J)^+`` at the optimum, absolute errors.
    chi2 : float
    """
    w = 1.0 / log_err**2
    if model.shape_grid is None:
        params, chi2 = _wls(model.design(T_K, None), log_y, w)
    else:
        params, chi2 = _profile_shape(model, T_K, log_y, w)
    J = _jacobian(lambda p: model.log_value(T_K, p), params)
    return params, np.linalg.pinv(J.T @ (w[:, None] * J)), chi2


def _wls(X, y, w):
    sw = np.sqrt(w)
    beta = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]
    return beta, float(np.sum(w * (y - X @ beta) ** 2))


def _profile_shape(model, T, y, w):
    """Grid search of the shape parameter, then bounded refinement around the best cell."""
    from scipy.optimize import minimize_scalar

    grid = model.shape_grid(T)
    chi2_of = lambda s: _wls(model.design(T, s), y, w)[1]
    chi2s = np.array([chi2_of(s) for s in grid])
    i = int(np.argmin(chi2s))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    best = grid[i]
    if hi > lo:
        res = minimize_scalar(chi2_of, bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-6 * (hi - lo)})
        best = res.x if res.fun < chi2s[i] else best
    beta, chi2 = _wls(model.design(T, best), y, w)
    return np.append(beta, best), chi2


def _jacobian(fn, p):
    """Central-difference Jacobian of ``fn`` (vector-valued) at ``p``, shape (n, k)."""
    p = np.asarray(p, dtype=float)
    h = 1e-6 * np.maximum(np.abs(p), 1.0)
    cols = []
    for i in range(len(p)):
        e = np.zeros_like(p)
        e[i] = h[i]
        cols.append((np.atleast_1d(fn(p + e)) - np.atleast_1d(fn(p - e))) / (2 * h[i]))
    return np.column_stack(cols)


def _fit_all(names, T, y, s, *, target_T_K, quantity, confidence, notes):
    n_temperatures = len(np.unique(T))
    fits = {}
    for name in names:
        model = MODELS[name]
        if n_temperatures < model.min_temperatures or len(T) <= model.n_params:
            notes.append(f"model {name} not fitted: it needs at least {model.min_temperatures}"
                         f" distinct temperatures and more than {model.n_params} points.")
            continue
        params, cov, chi2 = fit_model(model, T, np.log(y), s)
        n, k = len(T), model.n_params
        aicc = chi2 + 2 * k + (2 * k * (k + 1) / (n - k - 1) if n > k + 1 else np.inf)
        value, interval = _extrapolate(model, params, cov, T, target_T_K, quantity,
                                       confidence)
        fits[name] = ModelFit(
            name=name, param_names=model.param_names, params=tuple(map(float, params)),
            covariance=tuple(tuple(map(float, row)) for row in cov), chi2=chi2, n_points=n,
            bic=float(chi2 + k * np.log(n)), aicc=float(aicc), extrapolated=value,
            extrapolated_interval=interval)
    return fits


def _extrapolate(model, params, cov, T_data, T_K, quantity, confidence):
    """Value at ``T_K`` and interval from Gaussian parameter samples (full covariance),
    restricted to what the fit admits (:meth:`TemperatureModel.sample_params`)."""
    to_quantity = 1.0 / T_K if quantity == "sigma" else 1.0
    T = np.array([float(T_K)])
    value = float(np.exp(model.log_value(T, params)[0]) * to_quantity)
    samples = model.sample_params(params, cov, T_data, size=_N_SAMPLES,
                                  rng=np.random.default_rng(0))
    if not len(samples):
        return value, (value, value)
    with np.errstate(over="ignore"):
        y = np.exp(model.log_value(T, samples.T)) * to_quantity
    tail = 50.0 * (1.0 - confidence)
    low, high = np.percentile(y, [tail, 100.0 - tail])
    return value, (float(low), float(high))


def _choose_model(fits, n_temperatures, notes) -> str:
    """Arrhenius unless a curved model wins by delta BIC > STRONG_DELTA_BIC (see module doc)."""
    ref = fits["arrhenius"].bic
    gain = {n: ref - f.bic for n, f in fits.items() if n != "arrhenius"}
    strong = [n for n, g in gain.items() if g > STRONG_DELTA_BIC]
    listing = ", ".join(f"{n}: {g:.1f}" for n, g in gain.items())
    if n_temperatures < MIN_TEMPERATURES_FOR_CURVATURE:
        notes.append(f"only {n_temperatures} distinct temperatures (< "
                     f"{MIN_TEMPERATURES_FOR_CURVATURE}): a curved model cannot be preferred "
                     f"and non-Arrhenius behaviour cannot be detected (BIC gain over "
                     f"Arrhenius: {listing or 'none'}); simulate more temperatures.")
        return "arrhenius"
    weak = [n for n, g in gain.items() if 2.0 < g <= STRONG_DELTA_BIC]
    if not strong:
        if weak:
            notes.append(f"positive but not strong evidence of curvature (BIC gain over "
                         f"Arrhenius: {listing}; {STRONG_DELTA_BIC:g} needed); Arrhenius kept.")
        return "arrhenius"
    chosen = min(strong, key=lambda n: fits[n].bic)
    level = "very strong" if gain[chosen] > VERY_STRONG_DELTA_BIC else "strong"
    notes.append(f"NON-ARRHENIUS: {chosen} fits better than one Arrhenius line (BIC gain "
                 f"{gain[chosen]:.1f}, {level} evidence; all gains: {listing}). One activation"
                 f" energy does not describe these data: see Ea_of_T.")
    return chosen


def _extrapolation_warnings(fits, chosen, T, target_T_K, interval, quantity) -> list[str]:
    outside = not (T.min() <= target_T_K <= T.max())
    if chosen == "arrhenius" and not outside:
        return []
    unit = UNITS[quantity][0]
    spread = "; ".join(f"{n}: {f.extrapolated:.3g} [{f.extrapolated_interval[0]:.3g}, "
                       f"{f.extrapolated_interval[1]:.3g}]" for n, f in fits.items())
    why = (f"the target {target_T_K:g} K lies outside the simulated range "
           f"[{T.min():g}, {T.max():g}] K, where a phase transition or a change of mechanism "
           "would go unseen" if outside else "the data are non-Arrhenius")
    return [(f"EXTRAPOLATION UNRELIABLE: {why}. Do not quote one number: the interval "
             f"[{interval[0]:.3g}, {interval[1]:.3g}] {unit} spans all models' extrapolations"
             f" ({spread}). Simulate at or near {target_T_K:g} K to be sure.")]


def _goodness_of_fit_warnings(fit) -> list[str]:
    from scipy.stats import chi2 as chi2_dist

    dof = fit.n_points - len(fit.params)
    if dof <= 0 or chi2_dist.sf(fit.chi2, dof) >= 1e-3:
        return []
    return [(f"the scatter exceeds the given errors (chi2/dof = {fit.chi2 / dof:.2f}, p < "
             "0.001): the errors are probably underestimated, so Ea_err_eV, the intervals and"
             " the evidence for curvature are overstated.")]


def _headline(model, params, cov, target_T_K) -> dict:
    """Ea, prefactor and breakpoint with delta-method errors (Ver Hoef 2012)."""
    fn = lambda p: model.headline(p, target_T_K)
    value = fn(params)
    J = _jacobian(fn, params)
    err = np.sqrt(np.clip(np.diag(J @ cov @ J.T), 0.0, None))
    prefactor = float(np.exp(value[1]))
    has_break = "breakpoint_K" in model.param_names
    i = model.param_names.index("breakpoint_K") if has_break else None
    return {"Ea_eV": float(value[0]), "Ea_err_eV": float(err[0]), "prefactor": prefactor,
            "prefactor_err": float(prefactor * err[1]),
            "breakpoint_K": float(params[i]) if has_break else None,
            "breakpoint_err_K": float(np.sqrt(max(cov[i, i], 0.0))) if has_break else None}


def _local_activation_energy(model, params, cov, T, target_T_K) -> LocalActivationEnergy:
    """``Ea(T)`` on a grid uniform in 1/T spanning the data and the target (delta method)."""
    lo, hi = min(T.min(), target_T_K), max(T.max(), target_T_K)
    grid = 1.0 / np.linspace(1.0 / hi, 1.0 / lo, _N_EA_GRID)[::-1]
    Ea = model.local_Ea(grid, params)
    J = _jacobian(lambda p: model.local_Ea(grid, p), params)
    err = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", J, cov, J), 0.0, None))
    return LocalActivationEnergy(tuple(map(float, grid)), tuple(map(float, Ea)),
                                 tuple(map(float, err)))


def _validated(T_K, values, errors, quantity, target_T_K, confidence):
    if quantity not in UNITS:
        raise UserInputError(f"quantity must be one of {sorted(UNITS)}, got {quantity!r}")
    if not (np.isfinite(target_T_K) and target_T_K > 0):
        raise UserInputError(f"target_T_K must be a positive temperature, got {target_T_K}")
    if not 0.0 < confidence < 1.0:
        raise UserInputError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence}")
    arrays = [np.asarray(a, dtype=float).ravel() for a in (T_K, values, errors)]
    if len({a.size for a in arrays}) != 1:
        raise UserInputError("T_K, values and errors must have the same length, got "
                             f"{[a.size for a in arrays]}")
    for name, a in zip(("T_K", "values", "errors"), arrays):
        bad = np.flatnonzero(~np.isfinite(a) | (a <= 0))
        if bad.size:
            raise UserInputError(f"{name}[{bad[0]}] = {a[bad[0]]} is not a positive finite "
                                 f"number; remove or correct that point")
    T, v, e = arrays
    if len(np.unique(T)) < 3:
        raise UserInputError(f"need at least 3 distinct temperatures, got {len(np.unique(T))}")
    y = v * T if quantity == "sigma" else v
    return T, y, e / v


def _model_names(models) -> list[str]:
    names = list(MODELS) if models is None else ["arrhenius", *models]
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        raise UserInputError(f"unknown model(s) {unknown}; choose from {sorted(MODELS)}")
    return list(dict.fromkeys(names))


