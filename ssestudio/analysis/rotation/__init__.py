"""Anion-rotation (paddle-wheel) analysis: do rotating polyanions assist cation hops?

Layers, one module each:

* :mod:`~ssestudio.analysis.rotation.anions`: registry of polyanion definitions (PS4,
  P2S7, SiS4, BH4, B12H12, AlCl4, NbOCl4) and user-defined ones;
* :mod:`~ssestudio.analysis.rotation.detection`: units by connectivity in one frame;
* :mod:`~ssestudio.analysis.rotation.series`: units and cations followed over the run
  (bond breaks, re-formed units);
* :mod:`~ssestudio.analysis.rotation.orientation`: quaternion orientations (Horn 1987),
  rotation angles, C1(t)/C2(t) and stretched-exponential fits with bootstrap errors;
* :mod:`~ssestudio.analysis.rotation.events`: rotation and hop events (peak detection,
  or site-to-site hops);
* :mod:`~ssestudio.analysis.rotation.coincidence`: hop-rotation coincidence vs a
  time-shift null model (enrichment with a confidence interval over (dt, r)), verdict,
  rotation-mobility cross-correlation;
* :mod:`~ssestudio.analysis.rotation.rates`: Arrhenius fit of reorientation rates;
* :mod:`~ssestudio.analysis.rotation.synthetic`: trajectories with known answers;
* :mod:`~ssestudio.analysis.rotation.analyze`: the facade :func:`analyze_rotation`.

Units in names: ``_A`` Å, ``_fs``, ``_ps``, ``_deg``, ``_K``.
"""

from ssestudio.analysis.rotation.analyze import (
    AnalysisCancelled,
    analyze_rotation,
    analyze_series,
)
from ssestudio.analysis.rotation.anions import (
    ANIONS,
    AnionDefinition,
    custom_anion,
    register_anion,
    resolve_anion,
)
from ssestudio.analysis.rotation.coincidence import (
    CrossCorrelation,
    EnrichmentGrid,
    compute_enrichment,
    cross_correlation,
    enrichment_verdict,
)
from ssestudio.analysis.rotation.config import RotationConfig
from ssestudio.analysis.rotation.detection import Units, find_units
from ssestudio.analysis.rotation.events import Events
from ssestudio.analysis.rotation.orientation import (
    RelaxationFit,
    fit_quaternions,
    fit_relaxation,
    orientational_acf,
    rotation_angle_deg,
)
from ssestudio.analysis.rotation.rates import (
    ReorientationArrhenius,
    fit_reorientation_arrhenius,
)
from ssestudio.analysis.rotation.result import (
    AngleDistribution,
    RotationResult,
    UnitReport,
)
from ssestudio.analysis.rotation.series import RotorSeries, read_series

__all__ = [
    "ANIONS", "AnalysisCancelled", "AngleDistribution", "AnionDefinition", "CrossCorrelation",
    "EnrichmentGrid", "Events", "RelaxationFit", "ReorientationArrhenius", "RotationConfig",
    "RotationResult", "RotorSeries", "UnitReport", "Units", "analyze_rotation",
    "analyze_series", "compute_enrichment", "cross_correlation", "custom_anion",
    "enrichment_verdict", "find_units", "fit_quaternions", "fit_relaxation",
    "fit_reorientation_arrhenius", "orientational_acf", "read_series", "register_anion",
    "resolve_anion", "rotation_angle_deg",
]
