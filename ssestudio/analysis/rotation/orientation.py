"""Orientation of rigid units: quaternion fits, rotation angles, C_l(t) and their fits.

* :func:`fit_quaternions`: the rotation that best maps each unit's reference ligand
  vectors onto its vectors in every frame, by Horn's closed form (the eigenvector of the
  largest eigenvalue of a symmetric 4x4 matrix), batched over frames and units with one
  ``numpy.linalg.eigh`` call. Ligands are matched by atom index, so a 120° jump about a
  C3 axis of a tetrahedron, which maps the ligand *positions* onto themselves, is a
  rotation of 120°, not 0°.
* :func:`rotation_angle_deg`: the angle of the relative rotation of two orientations,
  ``theta = 2 arccos |q1 . q2|`` (the scalar part of ``q2 q1*``; ``q`` and ``-q`` are the
  same rotation).
* :func:`orientational_acf`: ``C_l(t) = < P_l(u(0) . u(t)) >`` (Legendre P1, P2) over the
  unit's ligand directions ``u`` and all time origins, by FFT, per unit.
* :func:`fit_relaxation`: the Kohlrausch-Williams-Watts (stretched exponential) fit
  ``C(t) = A exp(-(t/tau)^beta)``, the mean relaxation time
  ``<tau> = (tau / beta) Gamma(1 / beta)``, and bootstrap errors over units. For
  isotropic rotational diffusion of coefficient ``D_r``, ``C_l = exp(-l(l+1) D_r t)``:
  ``tau_1 = 1 / (2 D_r)``, ``tau_2 = 1 / (6 D_r)``, ``beta = 1``.

References
----------
B. K. P. Horn, J. Opt. Soc. Am. A 4, 629 (1987), closed-form quaternion fit.
doi:10.1364/JOSAA.4.000629
L. D. Favro, Phys. Rev. 119, 53 (1960), rotational Brownian motion, C_l decay.
doi:10.1103/PhysRev.119.53
G. Williams, D. C. Watts, Trans. Faraday Soc. 66, 80 (1970), stretched exponential.
doi:10.1039/TF9706600080
C. P. Lindsey, G. D. Patterson, J. Chem. Phys. 73, 3348 (1980), mean relaxation time
of the KWW function. doi:10.1063/1.440530
B. Efron, R. Tibshirani, Stat. Sci. 1, 54 (1986), bootstrap. doi:10.1214/ss/1177013815
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

#: Largest number of time points used in one stretched-exponential fit (evenly thinned).
MAX_FIT_POINTS = 200
#: Unit-vector products whose autocorrelations give <(u(0).u(t))^2>, with their weights.
_PAIRS_P2 = ((0, 0, 1.0), (1, 1, 1.0), (2, 2, 1.0), (0, 1, 2.0), (0, 2, 2.0), (1, 2, 2.0))


def fit_quaternions(reference: np.ndarray, current: np.ndarray, *,
                    chunk_frames: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Best rotations of ``reference`` onto ``current`` (rotation about the unit's centre).

    Parameters
    ----------
    reference : ndarray, shape (U, L, 3)
        Ligand vectors of each unit in its reference orientation (from the unit centre), Å.
    current : ndarray, shape (T, U, L, 3)
        The same ligands (same order) in every frame, Å.
    chunk_frames : int, optional
        Frames solved at once (memory: about 400 bytes per unit and frame); default about
        500,000 eigenproblems per chunk.

    Returns
    -------
    q : ndarray, shape (T, U, 4)
        Unit quaternions ``(w, x, y, z)`` with ``current ~ R(q) reference``.
    rmsd_A : ndarray, shape (T, U)
        Root-mean-square distance of the ligands from the rotated reference, Å (0 for a
        rigid unit).

    Notes
    -----
    Horn (1987), eq. 4.5 and sec. 4: with ``S_ab = sum_k x_ka y_kb`` (``x`` reference,
    ``y`` current), ``q`` is the eigenvector of the largest eigenvalue ``lambda`` of the
    symmetric matrix ``N(S)``, and the residual is ``sum |x|^2 + sum |y|^2 - 2 lambda``.
    """
    T, U = current.shape[:2]
    step = chunk_frames or max(1, 500_000 // max(U, 1))
    if T > step:
        parts = [fit_quaternions(reference, current[a:a + step], chunk_frames=step)
                 for a in range(0, T, step)]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    S = np.einsum("ula,tulb->tuab", reference, current)
    xx, xy, xz = S[..., 0, 0], S[..., 0, 1], S[..., 0, 2]
    yx, yy, yz = S[..., 1, 0], S[..., 1, 1], S[..., 1, 2]
    zx, zy, zz = S[..., 2, 0], S[..., 2, 1], S[..., 2, 2]
    N = np.empty(S.shape[:-2] + (4, 4))
    N[..., 0, 0] = xx + yy + zz
    N[..., 1, 1] = xx - yy - zz
    N[..., 2, 2] = -xx + yy - zz
    N[..., 3, 3] = -xx - yy + zz
    N[..., 0, 1] = N[..., 1, 0] = yz - zy
    N[..., 0, 2] = N[..., 2, 0] = zx - xz
    N[..., 0, 3] = N[..., 3, 0] = xy - yx
    N[..., 1, 2] = N[..., 2, 1] = xy + yx
    N[..., 1, 3] = N[..., 3, 1] = zx + xz
    N[..., 2, 3] = N[..., 3, 2] = yz + zy
    lam, vec = np.linalg.eigh(N)
    q = vec[..., :, -1]
    residual = (np.einsum("ulk,ulk->u", reference, reference)[None]
                + np.einsum("tulk,tulk->tu", current, current) - 2.0 * lam[..., -1])
    return q, np.sqrt(np.maximum(residual, 0.0) / reference.shape[1])


def rotation_angle_deg(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """Angle of the rotation taking orientation ``q1`` to ``q2``, degrees in [0, 180].

    Parameters
    ----------
    q1, q2 : ndarray, shape (..., 4)
        Unit quaternions (broadcast against each other).
    """
    dot = np.abs(np.einsum("...k,...k->...", q1, q2))
    return np.degrees(2.0 * np.arccos(np.minimum(dot, 1.0)))


def lag_angles_deg(q: np.ndarray, lag: int) -> np.ndarray:
    """Rotation angle of every unit between frames ``t`` and ``t + lag``.

    Parameters
    ----------
    q : ndarray, shape (T, U, 4)
        Orientations.
    lag : int
        Lag in frames (1 <= lag < T).

    Returns
    -------
    ndarray, shape (T - lag, U)
        Degrees.
    """
    return rotation_angle_deg(q[:-lag], q[lag:])


def orientational_acf(directions: np.ndarray, max_lag: int, *, chunk_units: int = 64
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit ``C_1(t)`` and ``C_2(t)`` of unit vectors, over all time origins (FFT).

    Parameters
    ----------
    directions : ndarray, shape (T, U, L, 3)
        Unit vectors (ligand directions) of each unit in every frame.
    max_lag : int
        Largest lag in frames (< T).
    chunk_units : int
        Units transformed at once (memory).

    Returns
    -------
    C1, C2 : ndarray, shape (U, max_lag + 1)
        ``<P_l(u(t0) . u(t0 + m))>`` averaged over the unit's L vectors and the
        ``T - m`` origins; ``P1(x) = x``, ``P2(x) = (3 x^2 - 1) / 2``.

    Notes
    -----
    ``sum_t0 u(t0) . u(t0+m)`` is the sum of the three component autocorrelations and
    ``sum_t0 (u(t0) . u(t0+m))^2`` that of the nine ``u_a u_b`` products (six distinct),
    each an inverse FFT of a power spectrum of the zero-padded series (Wiener-Khinchin).
    """
    import scipy.fft

    T, U, L, _ = directions.shape
    nfft = scipy.fft.next_fast_len(T + max_lag, real=True)
    counts = L * (T - np.arange(max_lag + 1))
    weights = np.array([w for _, _, w in _PAIRS_P2])
    ia, ib = [a for a, _, _ in _PAIRS_P2], [b for _, b, _ in _PAIRS_P2]
    C1, x2 = np.empty((U, max_lag + 1)), np.empty((U, max_lag + 1))
    for lo in range(0, U, chunk_units):
        u = directions[:, lo:lo + chunk_units]
        f = scipy.fft.rfft(u, n=nfft, axis=0)
        power = (f.real**2 + f.imag**2).sum(axis=(2, 3))
        C1[lo:lo + chunk_units] = scipy.fft.irfft(power, n=nfft, axis=0)[:max_lag + 1].T
        f = scipy.fft.rfft(u[..., ia] * u[..., ib], n=nfft, axis=0)
        power = ((f.real**2 + f.imag**2) * weights).sum(axis=(2, 3))
        x2[lo:lo + chunk_units] = scipy.fft.irfft(power, n=nfft, axis=0)[:max_lag + 1].T
    return C1 / counts, 1.5 * (x2 / counts) - 0.5


@dataclass(frozen=True, eq=False)
class RelaxationFit:
    """An orientational correlation function and its stretched-exponential fit.

    Attributes
    ----------
    l : int
        Legendre order (1 or 2).
    time_ps : ndarray, shape (n,)
        Lags, ps.
    C : ndarray, shape (n,)
        ``C_l`` averaged over units.
    C_sem : ndarray, shape (n,)
        Its standard error over units (NaN for one unit).
    fitted : ndarray, shape (n,)
        ``A exp(-(t/tau)^beta)`` at ``time_ps`` (NaN when the fit failed).
    fit_range_ps : tuple of float
        First and last lag fitted, ps.
    A, tau_ps, beta, mean_tau_ps : float
        Amplitude, KWW time (ps), stretching exponent, mean relaxation time
        ``(tau / beta) Gamma(1 / beta)`` (ps); NaN when the fit failed.
    A_err, tau_err_ps, beta_err, mean_tau_err_ps : float
        One-sigma bootstrap errors over units (NaN with fewer than 3 units).
    n_units : int
        Units averaged.
    decayed_to : float
        ``C / A`` at the end of the fit range (how far the curve decayed).
    reliable : bool
        Whether ``C`` decayed below ``A / e`` inside the fit range; otherwise ``tau`` is an
        extrapolation beyond the data.
    note : str
        Why the fit is unreliable or failed ("" otherwise).
    """

    l: int
    time_ps: np.ndarray
    C: np.ndarray
    C_sem: np.ndarray
    fitted: np.ndarray
    fit_range_ps: tuple[float, float]
    A: float
    tau_ps: float
    beta: float
    mean_tau_ps: float
    A_err: float
    tau_err_ps: float
    beta_err: float
    mean_tau_err_ps: float
    n_units: int
    decayed_to: float
    reliable: bool
    note: str = ""

    def to_dict(self, *, curves: bool = True) -> dict:
        """Plain dict (arrays as lists when ``curves``)."""
        out = {k: getattr(self, k) for k in (
            "l", "A", "A_err", "tau_ps", "tau_err_ps", "beta", "beta_err", "mean_tau_ps",
            "mean_tau_err_ps", "n_units", "decayed_to", "reliable", "note")}
        out["fit_range_ps"] = list(self.fit_range_ps)
        if curves:
            out.update(time_ps=self.time_ps.tolist(), C=self.C.tolist(),
                       C_sem=self.C_sem.tolist(), fitted=self.fitted.tolist())
        return out


def kww(t, A: float, tau: float, beta: float):
    """Stretched exponential ``A exp(-(t / tau)^beta)`` (Williams & Watts 1970)."""
    return A * np.exp(-(np.asarray(t, float) / tau) ** beta)


def mean_relaxation_time(tau: float, beta: float) -> float:
    """``<tau> = integral of exp(-(t/tau)^beta) dt = (tau / beta) Gamma(1 / beta)``
    (Lindsey & Patterson 1980, doi:10.1063/1.440530)."""
    return tau / beta * math.gamma(1.0 / beta) if tau > 0 and beta > 0 else float("nan")


def fit_relaxation(time_ps: np.ndarray, per_unit: np.ndarray, *, l: int, floor: float = 0.05,
                   n_bootstrap: int = 100, rng: np.random.Generator | None = None
                   ) -> RelaxationFit:
    """Fit ``A exp(-(t/tau)^beta)`` to the unit-averaged ``C_l`` and bootstrap over units.

    Parameters
    ----------
    time_ps : ndarray, shape (n,)
        Lags, ps (``time_ps[0] = 0``).
    per_unit : ndarray, shape (U, n)
        ``C_l`` of each unit.
    l : int
        Legendre order (label only).
    floor : float
        The fit stops before the first lag where ``C`` falls below ``floor`` (the noisy
        tail carries no information on tau).
    n_bootstrap : int
        Resamplings of the units (with replacement) for the errors.
    rng : numpy.random.Generator, optional
        Random numbers for the bootstrap (seeded default).

    Returns
    -------
    RelaxationFit
    """
    rng = rng or np.random.default_rng(0)
    U = per_unit.shape[0]
    C = per_unit.mean(axis=0)
    sem = per_unit.std(axis=0, ddof=1) / np.sqrt(U) if U > 1 else np.full(C.shape, np.nan)
    below = np.flatnonzero(C[1:] < floor)
    end = int(below[0]) if below.size else len(C) - 1  # last lag index fitted
    idx = np.unique(np.linspace(1, end, min(MAX_FIT_POINTS, max(end, 1))).astype(int))
    nan = float("nan")
    base = {"l": l, "time_ps": time_ps, "C": C, "C_sem": sem, "n_units": U,
            "fit_range_ps": (float(time_ps[min(1, end)]), float(time_ps[end]))}
    if len(idx) < 4:
        return RelaxationFit(**base, fitted=np.full(C.shape, nan), A=nan, tau_ps=nan, beta=nan,
                             mean_tau_ps=nan, A_err=nan, tau_err_ps=nan, beta_err=nan,
                             mean_tau_err_ps=nan, decayed_to=nan, reliable=False,
                             note=f"C{l} falls below {floor} within {len(idx)} lags: too fast "
                                  "for the frame spacing, save frames more often")
    t = time_ps[idx]
    p = _fit_kww(t, C[idx], _initial_guess(t, C[idx]))
    fixed = p is not None and C[end] / p[0] >= math.exp(-1.0)
    if fixed:  # beta is not determined by a curve that barely decays: a plain exponential
        p = _fit_kww(t, C[idx], _initial_guess(t, C[idx]), beta=1.0)
    if p is None:
        return RelaxationFit(**base, fitted=np.full(C.shape, nan), A=nan, tau_ps=nan, beta=nan,
                             mean_tau_ps=nan, A_err=nan, tau_err_ps=nan, beta_err=nan,
                             mean_tau_err_ps=nan, decayed_to=nan, reliable=False,
                             note=f"the stretched-exponential fit of C{l} did not converge")
    errors = _bootstrap_errors(t, per_unit[:, idx], p, n_bootstrap, rng,
                               beta=1.0 if fixed else None)
    decayed = float(C[end] / p[0]) if p[0] > 0 else nan
    reliable = not fixed
    note = "" if reliable else (
        f"C{l} decays only to {decayed:.2f} of its amplitude within {time_ps[end]:.3g} ps: tau "
        "is an extrapolation beyond the data (fitted with beta fixed at 1); run longer (or "
        "hotter) before quoting it")
    return RelaxationFit(**base, fitted=kww(time_ps, *p), A=p[0], tau_ps=p[1], beta=p[2],
                         mean_tau_ps=mean_relaxation_time(p[1], p[2]), **errors,
                         decayed_to=decayed, reliable=reliable, note=note)


def _initial_guess(t: np.ndarray, c: np.ndarray) -> tuple[float, float, float]:
    A = float(np.clip(c[0], 0.05, 1.2))
    below = np.flatnonzero(c < A / math.e)
    if below.size:
        tau = float(t[below[0]])
    else:
        ratio = float(np.clip(c[-1] / A, 1e-6, 0.999))
        tau = float(t[-1] / -math.log(ratio))
    return A, max(tau, 1e-6), 1.0


def _fit_kww(t: np.ndarray, c: np.ndarray, p0, *, beta: float | None = None
             ) -> tuple[float, float, float] | None:
    """Least-squares ``(A, tau, beta)``, fitted as ``(A, ln tau, beta)`` for conditioning;
    ``beta`` given: fixed at that value."""
    from scipy.optimize import least_squares

    def residual(p):
        b = p[2] if beta is None else beta
        return p[0] * np.exp(-np.exp(b * (np.log(t) - p[1]))) - c

    n = 3 if beta is None else 2
    x0 = [p0[0], math.log(p0[1]), p0[2]][:n]
    lo, hi = [0.0, math.log(t[0]) - 10, 0.1][:n], [1.05, math.log(t[-1]) + 15, 2.0][:n]
    x0 = np.clip(x0, np.add(lo, 1e-9), np.subtract(hi, 1e-9))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sol = least_squares(residual, x0, bounds=(lo, hi), x_scale=[0.1, 1.0, 0.1][:n])
    if not sol.success or not np.all(np.isfinite(sol.x)):
        return None
    return (float(sol.x[0]), float(math.exp(sol.x[1])),
            float(sol.x[2]) if beta is None else float(beta))


def _bootstrap_errors(t, per_unit, p, n_bootstrap, rng, *, beta: float | None = None) -> dict:
    U = per_unit.shape[0]
    keys = ("A_err", "tau_err_ps", "beta_err", "mean_tau_err_ps")
    if U < 3 or n_bootstrap < 2:
        return dict.fromkeys(keys, float("nan"))
    weights = np.stack([np.bincount(rng.integers(0, U, U), minlength=U)
                        for _ in range(n_bootstrap)]) / U
    samples = []
    for curve in weights @ per_unit:
        fit = _fit_kww(t, curve, p, beta=beta)
        if fit is not None:
            samples.append((*fit, mean_relaxation_time(fit[1], fit[2])))
    if len(samples) < 2:
        return dict.fromkeys(keys, float("nan"))
    s = np.asarray(samples)
    # ln-space spread for the times (they are skewed), mapped back as a symmetric one-sigma
    sd = s.std(axis=0, ddof=1)
    sd[2] = np.nan if beta is not None else sd[2]
    sd[1] = p[1] * np.std(np.log(s[:, 1]), ddof=1)
    sd[3] = mean_relaxation_time(p[1], p[2]) * np.std(np.log(s[:, 3]), ddof=1)
    return dict(zip(keys, map(float, sd)))
