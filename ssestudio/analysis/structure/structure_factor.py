"""Total structure factor S(q) from the partial RDFs (Faber-Ziman), neutron or X-ray
weighted, and the matching real-space total correlation functions.

Faber-Ziman partials (T. E. Faber, J. M. Ziman, Philos. Mag. 11, 153 (1965),
doi:10.1080/14786436508211931), with ``rho = N / V`` (variable ``rho``), bins ``k`` of
shell volume ``V_k`` and centre ``r_k``:

    S_ab(q) - 1 = rho sum_k V_k [g_ab(r_k) - 1] W(r_k) sin(q r_k) / (q r_k)

and the total, with weights ``w_a`` (neutron: coherent scattering length ``b_a``;
X-ray: form factor ``f_a(q)``) and atom fractions ``c_a``:

    S(q) - 1 = sum_ab c_a c_b w_a w_b [S_ab(q) - 1] / (sum_a c_a w_a)^2.

``W`` is 1 or the Lorch modification function ``W(r) = sin(pi r / R) / (pi r / R)``
(E. Lorch, J. Phys. C 2, 229 (1969), doi:10.1088/0022-3719/2/2/305) that damps the
ripples from truncating g at ``R = rmax``. For a finite ``R`` features below
``q ~ 2 pi / R`` are not resolved.

Real space, in the notation of D. A. Keen, J. Appl. Cryst. 34, 172 (2001),
doi:10.1107/S0021889800019993: the weighted total ``g_w(r) = 1 + sum_ab c_a c_b w_a w_b
[g_ab(r) - 1] / (sum c w)^2`` (X-ray weights taken at q = 0, i.e. ``f_a(0)``, an
approximation) and ``G(r) = 4 pi rho r [g_w(r) - 1]`` (the reduced PDF, Å^-2), the
Fourier partner of ``q [S(q) - 1]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ssestudio.analysis.structure.rdf import RDFResult
from ssestudio.analysis.structure.scattering import (
    FormFactor,
    form_factor_source,
    neutron_weights,
    xray_weights,
)
from ssestudio.core.errors import UserInputError

Weighting = Literal["neutron", "xray", "number"]
Window = Literal["lorch", "none"]


@dataclass(frozen=True, eq=False)
class StructureFactor:
    """Total and partial Faber-Ziman structure factors and real-space correlations.

    Attributes
    ----------
    q_inv_A : ndarray, shape (n_q,)
        Scattering vector magnitudes, 1/Å.
    S : ndarray, shape (n_q,)
        Total weighted S(q) (-> 1 at large q).
    partials : ndarray, shape (S, S, n_q)
        Faber-Ziman partials S_ab(q).
    species : tuple of str
        Order of the partials' axes.
    concentrations : ndarray, shape (S,)
        Atom fractions.
    weighting : str
        ``"neutron"``, ``"xray"`` or ``"number"`` (all weights 1).
    weights : ndarray, shape (S,) or (S, n_q)
        Scattering lengths (fm), form factors (electrons) or ones.
    window : str
        ``"lorch"`` or ``"none"``.
    r_A : ndarray, shape (n_r,)
        Radii of the real-space functions, Å.
    g_weighted : ndarray, shape (n_r,)
        Weighted total pair distribution ``g_w(r)``.
    G_r_inv_A2 : ndarray, shape (n_r,)
        Reduced pair distribution ``G(r) = 4 pi rho r (g_w - 1)``, Å^-2.
    number_density_A3 : float
        ``rho``, Å^-3.
    rmax_A : float
        Truncation radius of the transform, Å.
    sources : dict
        Where the weights came from, per species.
    """

    q_inv_A: np.ndarray
    S: np.ndarray
    partials: np.ndarray
    species: tuple[str, ...]
    concentrations: np.ndarray
    weighting: str
    weights: np.ndarray
    window: str
    r_A: np.ndarray
    g_weighted: np.ndarray
    G_r_inv_A2: np.ndarray
    number_density_A3: float
    rmax_A: float
    sources: dict

    @property
    def q_resolution_inv_A(self) -> float:
        """``2 pi / rmax``: features narrower than this in q are not resolved, 1/Å."""
        return 2 * np.pi / self.rmax_A

    def peaks(self, *, min_q_inv_A: float | None = None, n: int = 5) -> list[dict]:
        """The ``n`` highest local maxima of S(q) above ``min_q_inv_A`` (default the
        resolution), as ``{"q_inv_A", "S"}`` in increasing q."""
        from scipy.signal import find_peaks

        lo = self.q_resolution_inv_A if min_q_inv_A is None else min_q_inv_A
        idx, _ = find_peaks(self.S)
        idx = idx[self.q_inv_A[idx] >= lo]
        idx = np.sort(idx[np.argsort(self.S[idx])[::-1][:n]])
        return [{"q_inv_A": float(self.q_inv_A[i]), "S": float(self.S[i])} for i in idx]

    def to_dict(self, *, curves: bool = True) -> dict:
        """JSON-ready summary (and curves when ``curves``)."""
        out = {"weighting": self.weighting, "window": self.window, "rmax_A": self.rmax_A,
               "q_resolution_inv_A": self.q_resolution_inv_A, "peaks": self.peaks(),
               "weight_sources": dict(self.sources)}
        if curves:
            out.update(q_inv_A=self.q_inv_A.tolist(), S=self.S.tolist(), r_A=self.r_A.tolist(),
                       g_weighted=self.g_weighted.tolist(), G_r_inv_A2=self.G_r_inv_A2.tolist())
        return out


def default_q_grid(q_max_inv_A: float = 15.0, n_q: int = 750) -> np.ndarray:
    """Evenly spaced q from q_max / n_q to q_max, 1/Å."""
    return np.linspace(q_max_inv_A / n_q, q_max_inv_A, n_q)


def compute_structure_factor(rdf: RDFResult, *, weighting: Weighting = "neutron",
                             q_inv_A: np.ndarray | None = None, window: Window = "lorch",
                             scattering_lengths_fm: Mapping[str, float] | None = None,
                             form_factors: Mapping[str, FormFactor | float] | None = None,
                             ) -> StructureFactor:
    """Total structure factor S(q) of the partial RDFs, and the real-space total g_w(r).

    Parameters
    ----------
    rdf : RDFResult
        Partial RDFs (:func:`~ssestudio.analysis.structure.rdf.compute_rdf`); the longer
        their range, the finer the q resolution (``2 pi / rmax``).
    weighting : {"neutron", "xray", "number"}
        Coherent neutron scattering lengths (Sears 1992), X-ray form factors f(q), or all
        weights 1 (the Bhatia-Thornton number-number S_NN of the Faber-Ziman partials).
    q_inv_A : ndarray, optional
        q values, 1/Å (> 0); default 750 points up to 15 / Å.
    window : {"lorch", "none"}
        Modification function on g(r) against truncation ripples.
    scattering_lengths_fm : mapping, optional
        Scattering lengths (fm) that replace or add to the table.
    form_factors : mapping, optional
        X-ray form factors per element: a callable ``f(q)`` or a constant.

    Returns
    -------
    StructureFactor

    Raises
    ------
    UserInputError
        An unknown weighting or window, q <= 0, an element without a scattering length,
        a composition whose mean scattering length is (nearly) zero.

    References
    ----------
    Faber & Ziman, doi:10.1080/14786436508211931; Lorch, doi:10.1088/0022-3719/2/2/305;
    Keen, doi:10.1107/S0021889800019993.
    """
    q = default_q_grid() if q_inv_A is None else np.asarray(q_inv_A, dtype=float).ravel()
    if q.size == 0 or not np.all(np.isfinite(q) & (q > 0)):
        raise UserInputError("q_inv_A must be positive numbers (1/Å)")
    if window not in ("lorch", "none"):
        raise UserInputError(f"window must be 'lorch' or 'none', got {window!r}")
    weights, sources, w0 = _weights(rdf.species, q, weighting, scattering_lengths_fm, form_factors)
    c = rdf.concentrations
    partials = _partials(rdf, q, window)
    cw = c[:, None] * (weights if weights.ndim == 2 else weights[:, None] * np.ones_like(q))
    norm = cw.sum(axis=0) ** 2
    scale = float(np.max(np.abs(cw).sum(axis=0) ** 2))
    if np.any(norm < 1e-6 * scale):
        raise UserInputError("the mean scattering length of this composition is (nearly) zero "
                             "(a null-scattering mix), so the normalised S(q) is undefined; use "
                             "weighting='xray' or 'number'")
    F = np.einsum("aq,bq,abq->q", cw, cw, np.nan_to_num(partials - 1.0)) / norm
    r, g_w, G = _real_space(rdf, c, w0)
    return StructureFactor(q_inv_A=q, S=1.0 + F, partials=partials, species=rdf.species,
                           concentrations=c, weighting=weighting, weights=weights, window=window,
                           r_A=r, g_weighted=g_w, G_r_inv_A2=G,
                           number_density_A3=rdf.number_density_A3, rmax_A=rdf.rmax_A,
                           sources=sources)


def _weights(species, q, weighting, lengths, form_factors):
    """(weights (S,) or (S, n_q), sources, weights at q = 0 (S,))."""
    if weighting == "neutron":
        b = neutron_weights(species, lengths)
        src = {s: "given" if lengths and s in lengths else "Sears 1992" for s in species}
        return b, src, b
    if weighting == "xray":
        f = xray_weights(species, q, form_factors)
        f0 = xray_weights(species, np.zeros(1), form_factors)[:, 0]
        src = {s: "given" if form_factors and s in form_factors else form_factor_source(s)
               for s in species}
        return f, src, f0
    if weighting == "number":
        ones = np.ones(len(species))
        return ones, {s: "1" for s in species}, ones
    raise UserInputError(f"weighting must be 'neutron', 'xray' or 'number', got {weighting!r}")


def _partials(rdf: RDFResult, q: np.ndarray, window: str) -> np.ndarray:
    """Faber-Ziman S_ab(q), shape (S, S, n_q)."""
    r, edges = rdf.r_A, rdf.edges_A
    shell = 4.0 * np.pi / 3.0 * np.diff(edges ** 3)
    W = np.sinc(r / rdf.rmax_A) if window == "lorch" else np.ones_like(r)  # sin(pi x)/(pi x)
    kernel = np.sinc(np.outer(q, r) / np.pi) * (shell * W)                   # (n_q, n_r)
    h = rdf.g - 1.0                                                          # (S, S, n_r)
    return 1.0 + rdf.number_density_A3 * np.einsum("abr,qr->abq", h, kernel)


def _real_space(rdf: RDFResult, c: np.ndarray, w0: np.ndarray):
    cw = c * w0
    h = np.nan_to_num(rdf.g - 1.0)
    d = np.einsum("a,b,abr->r", cw, cw, h) / cw.sum() ** 2
    r = rdf.r_A
    return r, 1.0 + d, 4.0 * np.pi * rdf.number_density_A3 * r * d
