"""Settings of the rotation analysis: :class:`RotationConfig`.

Defaults are chosen here unless a source is named: the rotation threshold (60°) is half
the smallest symmetry-equivalent jump of a tetrahedron (120°) and far above librations,
a "large-angle rotation" in the sense of Jun et al., PNAS 121, e2316493121 (2024),
doi:10.1073/pnas.2316493121; the hop threshold (1.5 Å) is about half the Li-Li site
distance of thiophosphates; 0.5 ps windows resolve single jumps and hops; the
coincidence radius (4 Å) covers the Li ions bonded to a PS4's S atoms (Li-P about
3-3.5 Å); the coincidence window (0.5 ps) matches the event windows.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

from ssestudio.analysis.rotation.anions import AnionDefinition
from ssestudio.core.errors import UserInputError

HopMethod = Literal["displacement", "sites"]


@dataclass(frozen=True)
class RotationConfig:
    """Settings of :func:`~ssestudio.analysis.rotation.analyze_rotation` (all optional).

    Attributes
    ----------
    anion : str or AnionDefinition
        Registry name (``"PS4"``, ``"P2S7"``, ``"SiS4"``, ``"BH4"``, ``"B12H12"``,
        ``"AlCl4"``, ``"NbOCl4"``) or a definition (:func:`custom_anion`).
    cation : str
        Mobile species.
    bond_cutoff_A : float or None
        Replace every bond cutoff of the anion, Å.
    start, stop, stride : int or None
        Frame selection (slice semantics).
    format : str or None
        Reader of a trajectory file (detected otherwise).
    timestep_fs : float or None
        Time between *stored* frames, fs, when the file does not record it.
    temperature_K : float or None
        Temperature (for Arrhenius plots); default the NVT temperature in a native file.
    break_margin_A : float
        A unit's bond is broken when longer than its cutoff plus this, Å.
    include_broken : bool
        Analyse units that broke during the run (default: only units intact throughout).
    n_checkpoints : int
        Frames where units are detected again (for re-formed units).
    rotation_window_fs : float
        Window of the rotation-angle signal (angle between ``t - w/2`` and ``t + w/2``), fs.
    rotation_threshold_deg : float
        Smallest peak angle of a rotation event, degrees.
    angle_lag_fs : float or None
        Lag of the rotation-angle distribution, fs (default: ``rotation_window_fs``).
    angle_bin_deg : float
        Bin of that distribution, degrees.
    hop_method : {"displacement", "sites"}
        Hops from the windowed displacement, or site-to-site changes (needs ``sites_frac``).
    hop_window_fs : float
        Window of the displacement signal, fs.
    hop_threshold_A : float
        Smallest peak displacement of a hop, Å.
    sites_frac : tuple of (float, float, float) or None
        Cation sites (fractional coordinates) for ``hop_method="sites"``.
    site_radius_A : float
        Core radius of a site, Å.
    max_lag_fs : float or None
        Longest lag of C1/C2, fs (default: half the run).
    fit_floor : float
        Fits of C1/C2 stop where the curve falls below this.
    n_bootstrap_fit : int
        Bootstrap resamplings of units for the errors of tau and beta.
    coincidence_dt_ps, coincidence_r_A : float
        The (dt, r) cell quoted by the verdict.
    dt_grid_ps, r_grid_A : tuple of float
        The enrichment heatmap's axes (the headline values are added).
    n_shuffles : int
        Null-model draws (circular time shifts of each unit's rotation events).
    n_bootstrap : int
        Bootstrap replicates of the enrichment interval.
    confidence : float
        Interval level.
    xcorr_max_lag_fs : float
        Largest lag of the rotation-mobility cross-correlation, fs.
    seed : int
        Seed of every random draw (null model, bootstraps).
    """

    anion: str | AnionDefinition = "PS4"
    cation: str = "Li"
    bond_cutoff_A: float | None = None
    start: int | None = None
    stop: int | None = None
    stride: int | None = None
    format: str | None = None
    timestep_fs: float | None = None
    temperature_K: float | None = None
    break_margin_A: float = 0.4
    include_broken: bool = False
    n_checkpoints: int = 10
    rotation_window_fs: float = 500.0
    rotation_threshold_deg: float = 60.0
    angle_lag_fs: float | None = None
    angle_bin_deg: float = 2.0
    hop_method: HopMethod = "displacement"
    hop_window_fs: float = 500.0
    hop_threshold_A: float = 1.5
    sites_frac: tuple[tuple[float, float, float], ...] | None = None
    site_radius_A: float = 1.0
    max_lag_fs: float | None = None
    fit_floor: float = 0.05
    n_bootstrap_fit: int = 100
    coincidence_dt_ps: float = 0.5
    coincidence_r_A: float = 4.0
    dt_grid_ps: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.0)
    r_grid_A: tuple[float, ...] = (3.0, 4.0, 5.0, 6.0)
    n_shuffles: int = 200
    n_bootstrap: int = 1000
    confidence: float = 0.95
    xcorr_max_lag_fs: float = 2000.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("rotation_window_fs", "hop_window_fs", "hop_threshold_A", "site_radius_A",
                     "coincidence_dt_ps", "coincidence_r_A", "angle_bin_deg", "xcorr_max_lag_fs",
                     "break_margin_A"):
            _positive(name, getattr(self, name))
        for name in ("bond_cutoff_A", "timestep_fs", "temperature_K", "angle_lag_fs",
                     "max_lag_fs"):
            if getattr(self, name) is not None:
                _positive(name, getattr(self, name))
        if not 0 < float(self.rotation_threshold_deg) < 180:
            raise UserInputError(f"rotation_threshold_deg must lie in (0, 180), got "
                                 f"{self.rotation_threshold_deg!r}")
        if not 0 < float(self.fit_floor) < 1:
            raise UserInputError(f"fit_floor must lie in (0, 1), got {self.fit_floor!r}")
        if not 0 < float(self.confidence) < 1:
            raise UserInputError(f"confidence must lie in (0, 1), e.g. 0.95, got "
                                 f"{self.confidence!r}")
        for name in ("n_shuffles", "n_bootstrap"):
            if int(getattr(self, name)) < 20:
                raise UserInputError(f"{name} must be at least 20, got {getattr(self, name)!r}")
        if int(self.n_checkpoints) < 2 or int(self.n_bootstrap_fit) < 0:
            raise UserInputError("n_checkpoints must be >= 2 and n_bootstrap_fit >= 0")
        for name in ("dt_grid_ps", "r_grid_A"):
            values = tuple(float(v) for v in getattr(self, name))
            for v in values:
                _positive(name, v)
            object.__setattr__(self, name, values)
        self._check_hops()

    def _check_hops(self) -> None:
        if self.hop_method not in ("displacement", "sites"):
            raise UserInputError(f"hop_method must be 'displacement' or 'sites', got "
                                 f"{self.hop_method!r}")
        if self.hop_method == "sites":
            try:
                sites = tuple(tuple(float(x) for x in s) for s in (self.sites_frac or ()))
            except (TypeError, ValueError):
                sites = ((),)
            if not sites or any(len(s) != 3 for s in sites):
                raise UserInputError("hop_method='sites' needs sites_frac: the cation sites as "
                                     "fractional coordinates ((x, y, z), ...); CLI: --sites "
                                     "a structure file whose cations are the sites")
            object.__setattr__(self, "sites_frac", sites)

    def to_dict(self) -> dict:
        """Plain dict (the anion definition as a dict when it is not a registry name)."""
        return asdict(self)


def _positive(name: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not (math.isfinite(number) and number > 0):
        raise UserInputError(f"{name} must be a positive number, got {value!r}")
    return number
