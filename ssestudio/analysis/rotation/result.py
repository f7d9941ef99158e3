"""Results of the rotation analysis: :class:`RotationResult` and its parts.

:meth:`RotationResult.to_dict` is the JSON of ``ssestudio rotation --json`` and of the
``rotation`` job (``rotation.json``): flat headline keys (``tau_C1_ps``, ``tau_C2_ps``,
``rotation_events``, ``hop_events``, ``enrichment``, ``enrichment_ci``, ``verdict``, ...)
and, with ``detail=True``, the curves and event lists a plot needs. NaN and inf become
None.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssestudio.analysis.rotation.coincidence import CrossCorrelation, EnrichmentGrid
from ssestudio.analysis.rotation.config import RotationConfig
from ssestudio.analysis.rotation.events import Events
from ssestudio.analysis.rotation.orientation import RelaxationFit
from ssestudio.analysis.rotation.series import Checkpoint
from ssestudio.core.jsonsafe import json_safe


@dataclass(frozen=True, eq=False)
class UnitReport:
    """Which units were found, which broke or re-formed, which were analysed.

    Attributes
    ----------
    anion : str
        Anion name.
    description : str
        What the anion is.
    formulas : dict
        Formula -> count of every unit found in the first frame (matching or not).
    n_units : int
        Units of the anion in the first frame.
    n_analysed : int
        Units analysed (intact throughout unless broken ones were included).
    n_broken : int
        Units with a bond longer than cutoff + margin in some frame.
    n_reformed : int
        Broken units whose bonds were all intact again at the end.
    broken : tuple of dict
        Per broken unit: ``unit`` (first-frame number), ``atom`` (first centre atom),
        ``first_broken_ps``, ``reformed_ps`` (None if still broken at the end),
        ``broken_fraction`` (of frames).
    n_new_units : int
        Most units at a checkpoint whose atoms differ from every first-frame unit (formed
        later, e.g. by ligand exchange).
    checkpoints : tuple of Checkpoint
        Re-detections.
    unit_atoms : ndarray of int, shape (n_analysed, n_centres + n_ligands)
        Atoms of the analysed units (centres first).
    mean_fit_rmsd_A : float
        Mean distance of the ligands from the rigidly rotated reference, Å (distortion).
    """

    anion: str
    description: str
    formulas: dict
    n_units: int
    n_analysed: int
    n_broken: int
    n_reformed: int
    broken: tuple[dict, ...]
    n_new_units: int
    checkpoints: tuple[Checkpoint, ...]
    unit_atoms: np.ndarray
    mean_fit_rmsd_A: float

    def to_dict(self) -> dict:
        """Plain dict."""
        out = {k: getattr(self, k) for k in ("anion", "description", "formulas", "n_units",
                                             "n_analysed", "n_broken", "n_reformed",
                                             "n_new_units", "mean_fit_rmsd_A")}
        out["broken"] = [dict(b) for b in self.broken]
        out["checkpoints"] = [{"frame": c.frame, "n_units": c.n_units,
                               "n_original": c.n_original, "formulas": dict(c.formulas)}
                              for c in self.checkpoints]
        out["unit_atoms"] = self.unit_atoms.tolist()
        return out


@dataclass(frozen=True, eq=False)
class AngleDistribution:
    """Distribution of the rotation angle of units over a fixed lag.

    Attributes
    ----------
    lag_ps : float
        Lag, ps.
    bin_edges_deg : ndarray, shape (n_bins + 1,)
        Degrees, 0 to 180.
    density_per_deg : ndarray, shape (n_bins,)
        Probability density over all units and time origins, 1/degree.
    uniform_density_per_deg : ndarray, shape (n_bins,)
        The density of uniformly random rotations (Haar measure of SO(3),
        ``(1 - cos theta) / pi`` per radian), the fully randomised limit.
    mean_deg : float
        Mean angle, degrees.
    fraction_above_threshold : float
        Fraction of angles above the rotation threshold.
    """

    lag_ps: float
    bin_edges_deg: np.ndarray
    density_per_deg: np.ndarray
    uniform_density_per_deg: np.ndarray
    mean_deg: float
    fraction_above_threshold: float

    def to_dict(self) -> dict:
        """Plain dict."""
        return {"lag_ps": self.lag_ps, "bin_edges_deg": self.bin_edges_deg.tolist(),
                "density_per_deg": self.density_per_deg.tolist(),
                "uniform_density_per_deg": self.uniform_density_per_deg.tolist(),
                "mean_deg": self.mean_deg,
                "fraction_above_threshold": self.fraction_above_threshold}


def angle_distribution(angles_deg: np.ndarray, *, lag_ps: float, bin_deg: float,
                       threshold_deg: float) -> AngleDistribution:
    """Histogram of rotation angles (any shape), with the random-rotation reference."""
    edges = np.linspace(0.0, 180.0, max(1, round(180.0 / bin_deg)) + 1)
    a = np.asarray(angles_deg, float).ravel()
    density, _ = np.histogram(a, bins=edges, density=True)
    th = np.radians(edges)
    # integral of (1 - cos t)/pi over each bin, per degree of bin width
    uniform = ((th[1:] - np.sin(th[1:])) - (th[:-1] - np.sin(th[:-1]))) / np.pi / np.diff(edges)
    return AngleDistribution(lag_ps=float(lag_ps), bin_edges_deg=edges, density_per_deg=density,
                             uniform_density_per_deg=uniform,
                             mean_deg=float(a.mean()) if a.size else float("nan"),
                             fraction_above_threshold=float((a > threshold_deg).mean())
                             if a.size else float("nan"))


@dataclass(frozen=True, eq=False)
class RotationResult:
    """Everything :func:`~ssestudio.analysis.rotation.analyze_rotation` found.

    Attributes
    ----------
    anion, cation : str
        What was analysed.
    source : str
        Where the frames came from.
    n_frames : int
        Selected frames.
    timestep_fs : float
        Time between selected frames, fs.
    duration_ps : float
        Length of the analysed run, ps.
    temperature_K : float or None
        Temperature (given or recorded in the file).
    n_cations : int
        Cations followed.
    units : UnitReport
        Units found, broken, re-formed, analysed.
    c1, c2 : RelaxationFit
        ``C_1(t)``, ``C_2(t)`` and their stretched-exponential fits.
    angles : AngleDistribution
        Rotation angles over ``angle_lag_fs``.
    rotation_events, hop_events : Events
        Discrete events.
    enrichment : EnrichmentGrid or None
        Coincidence counts vs the null model (None without events of both kinds).
    xcorr : CrossCorrelation
        Rotation activity vs nearby cation mobility.
    verdict : str
        One sentence on rotation-hop coincidence (quotes the interval, never overstates).
    config : RotationConfig
        Settings used.
    warnings : tuple of str
        What a reader must know before quoting the numbers.
    pairs : dict or None
        The coincident rotation-hop pairs at (``coincidence_dt_ps``,
        ``coincidence_r_A``): ``rotation``/``hop`` event indices, ``dt_ps``,
        ``distance_A`` (:func:`~ssestudio.analysis.rotation.coincidence.coincident_pairs`).
    """

    anion: str
    cation: str
    source: str
    n_frames: int
    timestep_fs: float
    duration_ps: float
    temperature_K: float | None
    n_cations: int
    units: UnitReport
    c1: RelaxationFit
    c2: RelaxationFit
    angles: AngleDistribution
    rotation_events: Events
    hop_events: Events
    enrichment: EnrichmentGrid | None
    xcorr: CrossCorrelation
    verdict: str
    config: RotationConfig
    warnings: tuple[str, ...] = ()
    pairs: dict | None = None

    def summary(self) -> dict:
        """The flat headline numbers (the keys of ``ssestudio rotation --json``)."""
        out = {"anion": self.anion, "cation": self.cation, "source": self.source,
               "n_frames": self.n_frames, "timestep_fs": self.timestep_fs,
               "duration_ps": self.duration_ps, "temperature_K": self.temperature_K,
               "n_units": self.units.n_units, "n_units_analysed": self.units.n_analysed,
               "n_units_broken": self.units.n_broken, "n_units_reformed": self.units.n_reformed,
               "n_cations": self.n_cations}
        for fit in (self.c1, self.c2):
            n = f"C{fit.l}"
            out.update({f"tau_{n}_ps": fit.tau_ps, f"tau_{n}_err_ps": fit.tau_err_ps,
                        f"mean_tau_{n}_ps": fit.mean_tau_ps,
                        f"mean_tau_{n}_err_ps": fit.mean_tau_err_ps, f"beta_{n}": fit.beta,
                        f"beta_{n}_err": fit.beta_err, f"A_{n}": fit.A,
                        f"{n}_reliable": fit.reliable})
        out["rotation_events"] = len(self.rotation_events)
        out["hop_events"] = len(self.hop_events)
        g = self.enrichment
        cell = (lambda k: g.cell(k)) if g is not None else (lambda k: float("nan"))
        out.update(enrichment=cell("enrichment"),
                   enrichment_ci=[cell("ci_low"), cell("ci_high")],
                   coincidences_observed=None if g is None else int(cell("observed")),
                   coincidences_expected=cell("expected"), p_value=cell("p_value"),
                   coincidence_dt_ps=self.config.coincidence_dt_ps,
                   coincidence_r_A=self.config.coincidence_r_A,
                   confidence=self.config.confidence, verdict=self.verdict,
                   xcorr_peak_lag_ps=self.xcorr.peak_lag_ps,
                   xcorr_peak_value=self.xcorr.peak_value, warnings=list(self.warnings))
        return out

    def to_dict(self, *, detail: bool = True) -> dict:
        """JSON-safe dict: :meth:`summary`, ``parameters``, and with ``detail`` the unit
        report, curves (``curves.C1``/``C2``), angle distribution, event lists
        (``events.rotation``/``hop``), enrichment heatmap and cross-correlation."""
        out = self.summary()
        out["parameters"] = self.config.to_dict()
        if detail:
            out.update(
                units=self.units.to_dict(),
                curves={"C1": self.c1.to_dict(), "C2": self.c2.to_dict()},
                angle_distribution=self.angles.to_dict(),
                events={"rotation": self.rotation_events.to_dict(),
                        "hop": self.hop_events.to_dict()},
                enrichment_grid=None if self.enrichment is None else self.enrichment.to_dict(),
                cross_correlation=self.xcorr.to_dict(),
                pairs=None if self.pairs is None else {k: np.asarray(v).tolist()
                                                       for k, v in self.pairs.items()})
        return json_safe(out)


