"""Transport analysis: displacements -> MSD -> diffusion -> conductivity, one module each.

* :mod:`~ssestudio.analysis.displacements`: chunked, unwrapped, drift-corrected displacements
  of selected atoms from any trajectory;
* :mod:`~ssestudio.analysis.msd`: MSD tensor over all time origins by FFT, per species,
  direction or subset, the mean squared charge displacement, the non-Gaussian parameter;
* :mod:`~ssestudio.analysis.fit_window`, :mod:`~ssestudio.analysis.gls` and
  :mod:`~ssestudio.analysis.diffusion`: D* by
  generalised least squares over an automatic (or given) fit window, with GLS, fit-window
  and hop-count (He et al.) errors and diffusive-regime diagnostics;
* :mod:`~ssestudio.analysis.conductivity`: Nernst-Einstein conductivity from D* and from
  the charge MSD, Haven ratio;
* :mod:`~ssestudio.analysis.transport`: the facade :func:`analyze_transport`.

Units in names: ``_A`` Å, ``_A2`` Å^2, ``_ps``, ``_fs``, ``_cm2_s``, ``_mS_cm``, ``_K``.
"""

from ssestudio.analysis.conductivity import (
    FORMAL_CHARGES,
    ConductivityResult,
    compute_conductivity,
    nernst_einstein_mS_cm,
    resolve_charges,
)
from ssestudio.analysis.diffusion import DiffusionResult, fit_diffusion
from ssestudio.analysis.displacements import (
    Displacements,
    read_displacements,
    select_atoms,
)
from ssestudio.analysis.fit_window import choose_window, local_slope
from ssestudio.analysis.gls import random_walk_covariance
from ssestudio.analysis.msd import (
    MSDResult,
    compute_charge_msd,
    compute_msd,
    compute_msd_by_species,
    msd_from_array,
    non_gaussian_parameter,
)
from ssestudio.analysis.transport import (
    TransportResult,
    analyze_transport,
    fit_transport,
)

__all__ = [
    "FORMAL_CHARGES",
    "ConductivityResult",
    "DiffusionResult",
    "Displacements",
    "MSDResult",
    "TransportResult",
    "analyze_transport",
    "choose_window",
    "compute_charge_msd",
    "compute_conductivity",
    "compute_msd",
    "compute_msd_by_species",
    "fit_diffusion",
    "fit_transport",
    "local_slope",
    "msd_from_array",
    "nernst_einstein_mS_cm",
    "non_gaussian_parameter",
    "random_walk_covariance",
    "read_displacements",
    "resolve_charges",
    "select_atoms",
]

# ---- temperature dependence (ssestudio.analysis.arrhenius) ----------------------------
# Exports of the Arrhenius module are added here by its author.
