"""Simulated powder X-ray diffraction patterns.

Crystal (``method="bragg"``). Every reciprocal-lattice vector ``G = h b1 + k b2 + l b3``
(``b_i`` rows of ``2 pi (cell^-1)^T``) with ``|G| <= 4 pi sin(theta_max) / lambda`` is a
reflection at Bragg's angle (W. L. Bragg, Proc. R. Soc. A 88, 428 (1913),
doi:10.1098/rspa.1913.0040)

    2 theta = 2 arcsin(lambda |G| / (4 pi))        (lambda = 2 d sin(theta), d = 2 pi / |G|)

with structure factor ``F(G) = sum_j f_j(|G|) exp(-B_j s^2) exp(2 pi i (h x_j + k y_j + l z_j))``
(fractional coordinates, ``s = |G| / (4 pi)``, optional isotropic Debye-Waller ``B``, Å^2).
Reflections of equal ``|G|`` form one powder line whose multiplicity is their number, and
whose integrated intensity is ``sum |F|^2`` times the Lorentz-polarisation factor of an
unpolarised beam without monochromator, ``LP = (1 + cos^2 2theta) / (sin^2 theta cos theta)``
(V. K. Pecharsky, P. Y. Zavalij, Fundamentals of Powder Diffraction and Structural
Characterization of Materials, 2nd ed., Springer 2009, doi:10.1007/978-0-387-09579-0).
For several frames ``|F|^2`` is averaged with the fractional coordinates of each frame on
the mean cell, which includes the thermal (Debye-Waller) damping of the MD.

Glass or trajectory (``method="debye"``). The coherent intensity per atom of the Debye
scattering equation (P. Debye, Ann. Phys. 351, 809 (1915), doi:10.1002/andp.19153510606),
in terms of the X-ray Faber-Ziman S(q): ``I(q) = <f^2> + <f>^2 [S(q) - 1]``, times the
polarisation factor ``(1 + cos^2 2theta) / 2``; Compton scattering is left out.

Profiles (area-normalised, FWHM ``H`` in degrees 2theta): Gaussian, Lorentzian, or the
pseudo-Voigt ``eta L + (1 - eta) G`` (P. Thompson, D. E. Cox, J. B. Hastings, J. Appl.
Cryst. 20, 79 (1987), doi:10.1107/S0021889887087090); ``H`` constant or from Caglioti's
``H^2 = U tan^2 theta + V tan theta + W`` (G. Caglioti, A. Paoletti, F. P. Ricci, Nucl.
Instrum. 3, 223 (1958), doi:10.1016/0369-643X(58)90029-X). Single wavelength (no K-alpha2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from ssestudio.analysis.structure.frames import FrameSet, Source, open_frames
from ssestudio.analysis.structure.scattering import form_factor_source, xray_weights
from ssestudio.core.errors import UserInputError

#: Cu K-alpha1 wavelength, Å.
CU_KALPHA1_A = 1.5406
#: Upper bound of (reflections x atoms x frames) phase factors one pattern may need.
MAX_PHASES = 3e9
#: Lines weaker than this fraction of the strongest are dropped (systematic absences).
ABSENCE_TOLERANCE = 1e-8


@dataclass(frozen=True)
class XRDSettings:
    """Instrument and profile settings of a simulated powder pattern.

    Attributes
    ----------
    wavelength_A : float
        X-ray wavelength, Å (default Cu K-alpha1, 1.5406 Å).
    two_theta_min_deg, two_theta_max_deg : float
        Range of the pattern, degrees 2theta (0 < min < max <= 180).
    step_deg : float
        Grid step of the pattern, degrees.
    profile : {"gaussian", "lorentzian", "pseudo-voigt"}
        Peak shape.
    fwhm_deg : float
        Full width at half maximum, degrees 2theta (when ``caglioti_uvw_deg2`` is None).
    eta : float
        Lorentzian fraction of the pseudo-Voigt (0..1).
    caglioti_uvw_deg2 : (U, V, W), optional
        Angle-dependent FWHM, deg^2.
    b_iso_A2 : float or mapping
        Isotropic Debye-Waller factor B, Å^2, for all atoms or per element (Bragg only).
    """

    wavelength_A: float = CU_KALPHA1_A
    two_theta_min_deg: float = 10.0
    two_theta_max_deg: float = 80.0
    step_deg: float = 0.02
    profile: Literal["gaussian", "lorentzian", "pseudo-voigt"] = "gaussian"
    fwhm_deg: float = 0.1
    eta: float = 0.5
    caglioti_uvw_deg2: tuple[float, float, float] | None = None
    b_iso_A2: float | Mapping[str, float] = 0.0

    def check(self) -> XRDSettings:
        """Self, or :class:`UserInputError` naming the bad setting."""
        if not (math.isfinite(self.wavelength_A) and self.wavelength_A > 0):
            raise UserInputError(f"wavelength_A must be > 0 Å, got {self.wavelength_A}")
        if not 0 < self.two_theta_min_deg < self.two_theta_max_deg <= 180:
            raise UserInputError("the two-theta range must satisfy 0 < min < max <= 180 degrees, "
                                 f"got {self.two_theta_min_deg}..{self.two_theta_max_deg}")
        if not 0 < self.step_deg <= (self.two_theta_max_deg - self.two_theta_min_deg) / 10:
            raise UserInputError(f"step_deg must be > 0 and give at least 10 points, got "
                                 f"{self.step_deg}")
        if self.profile not in ("gaussian", "lorentzian", "pseudo-voigt"):
            raise UserInputError(f"profile must be 'gaussian', 'lorentzian' or 'pseudo-voigt', "
                                 f"got {self.profile!r}")
        if not (self.fwhm_deg > 0 and 0 <= self.eta <= 1):
            raise UserInputError("fwhm_deg must be > 0 and eta in [0, 1]")
        return self

    def grid(self) -> np.ndarray:
        """The pattern's 2theta grid, degrees."""
        n = int(round((self.two_theta_max_deg - self.two_theta_min_deg) / self.step_deg)) + 1
        return np.linspace(self.two_theta_min_deg, self.two_theta_max_deg, n)

    def q_of(self, two_theta_deg: np.ndarray) -> np.ndarray:
        """``q = 4 pi sin(theta) / lambda``, 1/Å."""
        return 4 * np.pi * np.sin(np.radians(two_theta_deg) / 2) / self.wavelength_A

    def fwhm_at(self, two_theta_deg: np.ndarray) -> np.ndarray:
        """FWHM at each angle, degrees."""
        t = np.asarray(two_theta_deg, dtype=float)
        if self.caglioti_uvw_deg2 is None:
            return np.full_like(t, self.fwhm_deg)
        U, V, W = self.caglioti_uvw_deg2
        tan = np.tan(np.radians(t) / 2)
        h2 = U * tan ** 2 + V * tan + W
        if np.any(h2 <= 0):
            raise UserInputError("the Caglioti U, V, W give a FWHM^2 <= 0 inside the range")
        return np.sqrt(h2)


@dataclass(frozen=True, eq=False)
class XRDPattern:
    """A simulated powder pattern.

    Attributes
    ----------
    two_theta_deg : ndarray, shape (n,)
        Grid, degrees.
    intensity : ndarray, shape (n,)
        Broadened intensity scaled to a maximum of 100.
    method : str
        ``"bragg"`` or ``"debye"``.
    settings : XRDSettings
        Wavelength, range and profile used.
    peak_two_theta_deg, peak_d_A : ndarray, shape (m,)
        Bragg angles and d-spacings of the lines (``"bragg"`` only; empty otherwise).
    peak_hkl : ndarray of int, shape (m, 3)
        A representative hkl of each line (of the cell analysed: a supercell's own hkl).
    peak_multiplicity : ndarray of int, shape (m,)
        Reflections in each line.
    peak_intensity : ndarray, shape (m,)
        Integrated intensities (LP included) scaled to a maximum of 100.
    form_factors : dict
        Form-factor source per element.
    n_frames : int
        Frames averaged.
    """

    two_theta_deg: np.ndarray
    intensity: np.ndarray
    method: str
    settings: XRDSettings
    peak_two_theta_deg: np.ndarray
    peak_d_A: np.ndarray
    peak_hkl: np.ndarray
    peak_multiplicity: np.ndarray
    peak_intensity: np.ndarray
    form_factors: dict
    n_frames: int = 1

    def strongest(self, n: int = 10) -> list[dict]:
        """The ``n`` strongest lines in increasing 2theta."""
        idx = np.sort(np.argsort(self.peak_intensity)[::-1][:n])
        return [{"two_theta_deg": float(self.peak_two_theta_deg[i]), "d_A": float(self.peak_d_A[i]),
                 "hkl": [int(x) for x in self.peak_hkl[i]],
                 "multiplicity": int(self.peak_multiplicity[i]),
                 "intensity": float(self.peak_intensity[i])} for i in idx]

    def to_dict(self, *, curves: bool = True) -> dict:
        """JSON-ready summary (and the pattern when ``curves``)."""
        out = {"method": self.method, "wavelength_A": self.settings.wavelength_A,
               "two_theta_range_deg": [self.settings.two_theta_min_deg,
                                       self.settings.two_theta_max_deg],
               "n_frames": self.n_frames, "strongest_peaks": self.strongest(),
               "form_factors": dict(self.form_factors)}
        if curves:
            out["two_theta_deg"] = self.two_theta_deg.tolist()
            out["intensity"] = self.intensity.tolist()
        return out


def simulate_xrd(source: Source, settings: XRDSettings | None = None, *,
                 start: int | None = None, stop: int | None = None, stride: int | None = None,
                 **overrides) -> XRDPattern:
    """Powder pattern of a crystal (or the average of several frames) from its reflections.

    Parameters
    ----------
    source : ase.Atoms, sequence of Atoms, Trajectory, FrameSet or path
        Periodic structure(s); for a glass model prefer :func:`xrd_from_rdf`.
    settings : XRDSettings, optional
        Wavelength, range, profile; ``**overrides`` replace single fields
        (``wavelength_A=0.7093``).
    start, stop, stride : int, optional
        Frame selection (slice semantics).

    Returns
    -------
    XRDPattern

    Raises
    ------
    UserInputError
        A non-periodic cell, bad settings, or a pattern too costly to compute (too many
        reflections x atoms x frames: use fewer frames or :func:`xrd_from_rdf`).
    """
    s = replace(settings or XRDSettings(), **overrides).check()
    with open_frames(source, start=start, stop=stop, stride=stride) as frames:
        frames.require_periodic("a Bragg diffraction pattern")
        cell = frames.cells().mean(axis=0)
        hkl, q = _reflections(cell, s)
        cost = len(hkl) * frames.n_atoms * frames.n_frames
        if cost > MAX_PHASES:
            raise UserInputError(
                f"this pattern needs {len(hkl)} reflections x {frames.n_atoms} atoms x "
                f"{frames.n_frames} frames phase factors: select fewer frames (stride), narrow "
                "the two-theta range, or use xrd_from_rdf for a glass")
        F2 = _mean_F2(frames, hkl, q, s)
    return _bragg_pattern(hkl, q, F2, s, frames.species, frames.n_frames)


def _reflections(cell: np.ndarray, s: XRDSettings) -> tuple[np.ndarray, np.ndarray]:
    """All hkl != 0 with q inside the range, (m, 3) int, and their q (m,), 1/Å."""
    q_lo, q_hi = s.q_of(np.array([s.two_theta_min_deg, s.two_theta_max_deg]))
    recip = 2 * np.pi * np.linalg.inv(cell).T
    hmax = np.floor(q_hi * np.linalg.norm(cell, axis=1) / (2 * np.pi)).astype(int)
    axes = [np.arange(-m, m + 1) for m in hmax]
    hkl = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    q = np.linalg.norm(hkl @ recip, axis=1)
    keep = (q >= q_lo * (1 - 1e-12)) & (q <= q_hi * (1 + 1e-12)) & np.any(hkl != 0, axis=1)
    return hkl[keep], q[keep]


def _mean_F2(frames: FrameSet, hkl: np.ndarray, q: np.ndarray, s: XRDSettings) -> np.ndarray:
    """``<|F(hkl)|^2>`` over the frames, shape (m,)."""
    species = frames.species
    types = frames.species_index()
    f = xray_weights(species, q)                                           # (S, m)
    b = s.b_iso_A2
    B = np.array([float(b.get(x, 0.0)) if isinstance(b, Mapping) else float(b) for x in species])
    f = f * np.exp(-B[:, None] * (q / (4 * np.pi))[None, :] ** 2)
    out = np.zeros(len(hkl))
    chunk = max(1, int(2e6 // max(frames.n_atoms, 1)))                    # ~32 MB of phases
    members = [np.flatnonzero(types == k) for k in range(len(species))]
    for _, pos, cell in frames.frames():
        frac = pos @ np.linalg.inv(cell)
        for lo in range(0, len(hkl), chunk):
            phase = np.exp(2j * np.pi * (frac @ hkl[lo:lo + chunk].T))     # (n_atoms, k)
            F = sum(f[k, lo:lo + chunk] * phase[m].sum(axis=0) for k, m in enumerate(members))
            out[lo:lo + chunk] += np.abs(F) ** 2
    return out / frames.n_frames


def _bragg_pattern(hkl, q, F2, s: XRDSettings, species, n_frames) -> XRDPattern:
    order = np.argsort(q, kind="stable")
    hkl, q, F2 = hkl[order], q[order], F2[order]
    new_line = np.r_[True, np.diff(q) > 1e-7 * q[1:]] if len(q) else np.zeros(0, bool)
    line = np.cumsum(new_line) - 1
    n_lines = int(line[-1]) + 1 if len(line) else 0
    F2_line = np.bincount(line, weights=F2, minlength=n_lines)
    mult = np.bincount(line, minlength=n_lines)
    q_line = q[new_line]
    rep = _representatives(hkl, line)
    theta = np.arcsin(np.clip(q_line * s.wavelength_A / (4 * np.pi), 0.0, 1.0))
    lp = (1 + np.cos(2 * theta) ** 2) / (np.sin(theta) ** 2 * np.cos(theta))
    integrated = F2_line * lp
    keep = integrated > ABSENCE_TOLERANCE * (integrated.max() if n_lines else 0.0)
    tt = np.degrees(2 * theta[keep])
    integrated = integrated[keep]
    grid = s.grid()
    pattern = _broaden(grid, tt, integrated, s)
    return XRDPattern(two_theta_deg=grid, intensity=_scaled(pattern), method="bragg", settings=s,
                      peak_two_theta_deg=tt, peak_d_A=2 * np.pi / q_line[keep],
                      peak_hkl=rep[keep], peak_multiplicity=mult[keep],
                      peak_intensity=_scaled(integrated),
                      form_factors={x: form_factor_source(x) for x in species}, n_frames=n_frames)


def _representatives(hkl: np.ndarray, line: np.ndarray) -> np.ndarray:
    """The hkl to show for each line: all >= 0 and largest h, then k, then l, when possible."""
    if len(hkl) == 0:
        return np.zeros((0, 3), int)
    order = np.lexsort((-hkl[:, 2], -hkl[:, 1], -hkl[:, 0], ~(hkl >= 0).all(axis=1), line))
    first = np.r_[True, np.diff(line[order]) != 0]
    return hkl[order[first]]


def _broaden(grid: np.ndarray, centres: np.ndarray, areas: np.ndarray, s: XRDSettings) -> np.ndarray:
    """Sum of area-normalised profiles on ``grid``, each evaluated within a window of
    +-6 FWHM (Gaussian) or +-200 FWHM (with a Lorentzian part; 0.3 % of the area beyond)."""
    out = np.zeros_like(grid)
    if centres.size == 0:
        return out
    H = s.fwhm_at(centres)
    eta = {"gaussian": 0.0, "lorentzian": 1.0}.get(s.profile, s.eta)
    half = (6.0 if eta == 0 else 200.0) * H
    lo = np.searchsorted(grid, centres - half)
    hi = np.searchsorted(grid, centres + half, side="right")
    sizes = hi - lo
    peak = np.repeat(np.arange(len(centres)), sizes)
    idx = np.repeat(lo - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
    x = (grid[idx] - centres[peak]) / H[peak]
    gauss = 2 * np.sqrt(np.log(2) / np.pi) * np.exp(-4 * np.log(2) * x ** 2)
    lorentz = (2 / np.pi) / (1 + 4 * x ** 2)
    values = areas[peak] / H[peak] * (eta * lorentz + (1 - eta) * gauss)
    return np.bincount(idx, weights=values, minlength=len(grid))


def _scaled(x: np.ndarray) -> np.ndarray:
    top = float(np.max(x)) if x.size else 0.0
    return 100.0 * x / top if top > 0 else np.zeros_like(x)


def xrd_from_rdf(rdf, settings: XRDSettings | None = None, *,
                 form_factors: Mapping | None = None, **overrides) -> XRDPattern:
    """Powder pattern of a glass (or any model) from its partial RDFs: Debye scattering.

    Parameters
    ----------
    rdf : RDFResult
        Partial RDFs (:func:`~ssestudio.analysis.structure.rdf.compute_rdf`); their range
        limits the resolution to ~``2 pi / rmax`` in q (Lorch window applied).
    settings : XRDSettings, optional
        Wavelength and range (the profile fields are not used); ``**overrides`` replace
        single fields.
    form_factors : mapping, optional
        X-ray form factors per element (callable ``f(q)`` or constant).

    Returns
    -------
    XRDPattern
        Without a line list (``method="debye"``).
    """
    from ssestudio.analysis.structure.structure_factor import compute_structure_factor

    s = replace(settings or XRDSettings(), **overrides).check()
    grid = s.grid()
    q = s.q_of(grid)
    sq = compute_structure_factor(rdf, weighting="xray", q_inv_A=q, window="lorch",
                                  form_factors=form_factors)
    c = sq.concentrations
    f = sq.weights                                                           # (S, n)
    mean_f2 = (c[:, None] * f ** 2).sum(axis=0)
    mean_f = (c[:, None] * f).sum(axis=0)
    intensity = (mean_f2 + mean_f ** 2 * (sq.S - 1.0)) * (1 + np.cos(np.radians(grid)) ** 2) / 2
    empty = np.zeros(0)
    return XRDPattern(two_theta_deg=grid, intensity=_scaled(np.clip(intensity, 0, None)),
                      method="debye", settings=s, peak_two_theta_deg=empty, peak_d_A=empty,
                      peak_hkl=np.zeros((0, 3), int), peak_multiplicity=np.zeros(0, int),
                      peak_intensity=empty, form_factors=dict(sq.sources),
                      n_frames=rdf.n_frames)
