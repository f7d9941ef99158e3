"""Temperature dependence of reorientation: Arrhenius fit of the rate ``1 / <tau_l>``.

The reorientation rate ``k = 1 / <tau_l>`` from runs at several temperatures is fitted to
``k = k0 exp(-Ea / (k_B T))`` by weighted least squares on ``ln k`` with the model and
fitter of :mod:`ssestudio.analysis.arrhenius` (:func:`~ssestudio.analysis.arrhenius.fit_model`,
``MODELS["arrhenius"]``); the log errors are the relative errors of tau
(``s = tau_err / tau``, delta method). Without usable errors the fit is unweighted and
the covariance is scaled by the residual variance.

References
----------
S. Arrhenius, Z. Phys. Chem. 4, 226 (1889). doi:10.1515/zpch-1889-0416
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ssestudio.core.errors import UserInputError


@dataclass(frozen=True)
class ReorientationArrhenius:
    """Arrhenius fit of reorientation rates.

    Attributes
    ----------
    l : int
        Legendre order of the correlation function used.
    T_K, rate_per_ps, rate_err_per_ps : tuple of float
        Temperatures (K), rates ``1 / <tau_l>`` (1/ps) and their errors.
    Ea_eV, Ea_err_eV : float
        Activation energy of reorientation and its one-sigma error, eV.
    prefactor_per_ps, prefactor_err_per_ps : float
        Attempt rate ``k0`` and its one-sigma error (delta method), 1/ps.
    weighted : bool
        Whether the fit used the errors of tau.
    warnings : tuple of str
        E.g. rates from correlation functions that did not decay within the run.
    """

    l: int
    T_K: tuple[float, ...]
    rate_per_ps: tuple[float, ...]
    rate_err_per_ps: tuple[float, ...]
    Ea_eV: float
    Ea_err_eV: float
    prefactor_per_ps: float
    prefactor_err_per_ps: float
    weighted: bool
    warnings: tuple[str, ...] = ()

    def rate_at(self, T_K) -> np.ndarray:
        """Fitted rate at ``T_K`` (K), 1/ps."""
        from ssestudio.analysis.temperature_models import arrhenius

        return arrhenius(T_K, self.Ea_eV, self.prefactor_per_ps)

    def to_dict(self) -> dict:
        """JSON-ready dict (NaN -> None)."""
        out = {k: getattr(self, k) for k in (
            "l", "Ea_eV", "Ea_err_eV", "prefactor_per_ps", "prefactor_err_per_ps", "weighted")}
        out.update(T_K=list(self.T_K), rate_per_ps=list(self.rate_per_ps),
                   rate_err_per_ps=list(self.rate_err_per_ps), warnings=list(self.warnings))
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in out.items()}


def _point(item, l: int, use_mean: bool) -> tuple[float, float, float, str]:
    """(T, tau, tau_err, note) from a result, (T, result) or (T, tau, tau_err)."""
    result, T = item, None
    if isinstance(item, tuple) and len(item) == 3:
        T, tau, err = (float(v) if v is not None else float("nan") for v in item)
        return T, tau, err, ""
    if isinstance(item, tuple) and len(item) == 2:
        T, result = item
    fit = getattr(result, f"c{l}", None)
    if fit is None:
        raise UserInputError(f"cannot read a reorientation time from {item!r}: give "
                             "RotationResult objects, (T_K, result) or (T_K, tau_ps, tau_err_ps)")
    T = float(T if T is not None else (result.temperature_K or float("nan")))
    tau = fit.mean_tau_ps if use_mean else fit.tau_ps
    err = fit.mean_tau_err_ps if use_mean else fit.tau_err_ps
    note = "" if fit.reliable else f"T = {T:g} K: {fit.note}"
    return T, tau, err, note


def fit_reorientation_arrhenius(points: Iterable, *, l: int = 2, use_mean_tau: bool = True
                                ) -> ReorientationArrhenius:
    """Fit ``1 / <tau_l> = k0 exp(-Ea / k_B T)`` to several runs.

    Parameters
    ----------
    points : iterable
        :class:`~ssestudio.analysis.rotation.RotationResult` objects (their
        ``temperature_K`` must be known), ``(T_K, result)`` pairs, or
        ``(T_K, tau_ps, tau_err_ps)`` triples (``tau_err_ps`` may be None).
    l : {1, 2}
        Which correlation function's time to use.
    use_mean_tau : bool
        Use the mean relaxation time ``<tau>`` (default) or the KWW ``tau``.

    Returns
    -------
    ReorientationArrhenius

    Raises
    ------
    UserInputError
        Fewer than 2 distinct temperatures, a missing temperature, a non-positive or
        non-finite time.
    """
    from ssestudio.analysis.arrhenius import fit_model
    from ssestudio.analysis.temperature_models import MODELS

    if l not in (1, 2):
        raise UserInputError(f"l must be 1 or 2, got {l!r}")
    rows = [_point(p, l, use_mean_tau) for p in points]
    T = np.array([r[0] for r in rows])
    tau = np.array([r[1] for r in rows])
    err = np.array([r[2] for r in rows])
    if not np.all(np.isfinite(T) & (T > 0)):
        raise UserInputError("every run needs a positive temperature: set temperature_K in the "
                             "rotation analysis or pass (T_K, result) pairs")
    if not np.all(np.isfinite(tau) & (tau > 0)):
        raise UserInputError(f"reorientation times must be positive and finite, got {tau.tolist()}"
                             " ps (a failed fit gives NaN; analyse those runs again)")
    if len(np.unique(T)) < 2:
        raise UserInputError("an Arrhenius fit needs runs at 2 or more temperatures")
    rel = err / tau
    weighted = bool(np.all(np.isfinite(rel) & (rel > 0)))
    log_err = rel if weighted else np.ones_like(tau)
    params, cov, chi2 = fit_model(MODELS["arrhenius"], T, np.log(1.0 / tau), log_err)
    if not weighted:
        dof = len(T) - 2
        cov = cov * (chi2 / dof) if dof > 0 else np.full_like(cov, np.nan)
    Ea, ln_k0 = float(params[0]), float(params[1])
    Ea_err = float(math.sqrt(cov[0, 0])) if np.isfinite(cov[0, 0]) else float("nan")
    k0 = math.exp(ln_k0)
    k0_err = k0 * math.sqrt(cov[1, 1]) if np.isfinite(cov[1, 1]) else float("nan")
    notes = [r[3] for r in rows if r[3]]
    if not weighted:
        notes.append("no errors for some reorientation times: unweighted fit")
    return ReorientationArrhenius(
        l=l, T_K=tuple(T.tolist()), rate_per_ps=tuple((1.0 / tau).tolist()),
        rate_err_per_ps=tuple((rel / tau).tolist()), Ea_eV=Ea, Ea_err_eV=Ea_err,
        prefactor_per_ps=k0, prefactor_err_per_ps=k0_err, weighted=weighted,
        warnings=tuple(notes))
