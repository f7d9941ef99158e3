"""Models of a transport coefficient's temperature dependence: Arrhenius, two-regime, VFT.

Each model describes a positive quantity ``y(T)``: the tracer diffusion coefficient ``D``,
or ``sigma * T`` for the ionic conductivity (the thermally activated form of the
conductivity is ``sigma T = A exp(-Ea / k_B T)``, Mehrer 2007, ch. 27). The public
functions :func:`arrhenius`, :func:`two_regime` and :func:`vft` evaluate ``y`` itself; the
registry :data:`MODELS` holds, per model, what the fitter in
:mod:`ssestudio.analysis.arrhenius` needs, all in log space:

- ``log_value(T, p)``: ``ln y`` for the full parameter vector ``p``;
- ``design(T, s)``: for a fixed value ``s`` of the model's one non-linear *shape*
  parameter (breakpoint, VFT temperature; ``None`` when there is none) ``ln y`` is linear
  in the other parameters, ``ln y = design(T, s) @ p[:m]`` (separable least squares,
  Golub & Pereyra 1973);
- ``shape_grid(T)``: the candidate values of ``s`` searched by the fitter;
- ``local_Ea(T, p)``: the local activation energy ``Ea(T) = -k_B d ln y / d(1/T)``, eV;
- ``headline(p, T*)``: ``[Ea_eV, ln prefactor]`` quoted for the model at target ``T*``;
- ``physical(samples)``: which parameter samples describe thermally activated transport
  (VFT: ``B > 0``), used by :meth:`TemperatureModel.sample_params`.

References
----------
Arrhenius, S. Z. Phys. Chem. 4, 226 (1889). doi:10.1515/zpch-1889-0416
Mehrer, H. Diffusion in Solids, Springer (2007). doi:10.1007/978-3-540-71488-0
Fulcher, G. S. J. Am. Ceram. Soc. 8, 339 (1925). doi:10.1111/j.1151-2916.1925.tb16731.x
Muggeo, V. M. R. Stat. Med. 22, 3055 (2003), segmented regression with unknown
breakpoints. doi:10.1002/sim.1545
Golub, G. H. & Pereyra, V. SIAM J. Numer. Anal. 10, 413 (1973). doi:10.1137/0710036
Tiesinga, E. et al. (CODATA 2018) Rev. Mod. Phys. 93, 025010 (2021), k_B.
doi:10.1103/RevModPhys.93.025010
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Boltzmann constant, eV/K (exact in the 2019 SI; CODATA 2018, doi:10.1103/RevModPhys.93.025010).
K_B_EV = 8.617333262e-5

_N_SHAPE_GRID = 120


def arrhenius(T_K, Ea_eV: float, prefactor: float):
    """Arrhenius law ``y = prefactor * exp(-Ea / (k_B T))``.

    Parameters
    ----------
    T_K : float or ndarray, shape (n,)
        Temperature, K.
    Ea_eV : float
        Activation energy, eV.
    prefactor : float
        ``D0`` (units of D) when ``y = D``; ``A`` (units of sigma times K) when ``y = sigma T``.

    Returns
    -------
    float or ndarray, shape (n,)
        ``D`` or ``sigma T``, in the units of ``prefactor``.

    References
    ----------
    Arrhenius (1889), doi:10.1515/zpch-1889-0416; Mehrer (2007), eqs. 8.29 and 27.7,
    doi:10.1007/978-3-540-71488-0.
    """
    return prefactor * np.exp(-Ea_eV / (K_B_EV * np.asarray(T_K, dtype=float)))


def two_regime(T_K, Ea_high_eV: float, Ea_low_eV: float, value_at_break: float,
               breakpoint_K: float):
    """Two Arrhenius lines joined continuously at a breakpoint temperature ``T_b``.

    ``ln y = ln y_b - Ea / k_B * (1/T - 1/T_b)`` with ``Ea = Ea_high`` for ``T >= T_b`` and
    ``Ea = Ea_low`` below: a change of the conduction mechanism (e.g. from trapped to free
    carriers, or an order-disorder crossover) bends the Arrhenius plot without a jump.

    Parameters
    ----------
    T_K : float or ndarray, shape (n,)
        Temperature, K.
    Ea_high_eV, Ea_low_eV : float
        Activation energies above and below the breakpoint, eV.
    value_at_break : float
        ``y(T_b)``, units of ``y``.
    breakpoint_K : float
        Breakpoint temperature ``T_b``, K.

    Returns
    -------
    float or ndarray, shape (n,)
        ``D`` or ``sigma T``.

    References
    ----------
    Muggeo (2003), continuous segmented regression, doi:10.1002/sim.1545.
    """
    T = np.asarray(T_K, dtype=float)
    params = np.array([Ea_high_eV, Ea_low_eV, np.log(value_at_break), breakpoint_K])
    return np.exp(_log_two_regime(T, params))


def vft(T_K, prefactor: float, B_K: float, T0_K: float):
    """Vogel-Fulcher-Tammann law ``y = prefactor * exp(-B / (T - T0))`` for ``T > T0``.

    ``k_B B`` is the pseudo-activation energy; the local activation energy is
    ``k_B B T^2 / (T - T0)^2``. At and below ``T0`` the law predicts no transport (0).

    Parameters
    ----------
    T_K : float or ndarray, shape (n,)
        Temperature, K.
    prefactor : float
        Units of ``y``.
    B_K : float
        Pseudo-activation temperature ``B``, K.
    T0_K : float
        Vogel (ideal glass) temperature, K.

    Returns
    -------
    float or ndarray, shape (n,)
        ``D`` or ``sigma T``; 0 where ``T <= T0``.

    References
    ----------
    Fulcher (1925), doi:10.1111/j.1151-2916.1925.tb16731.x
    """
    T = np.asarray(T_K, dtype=float)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        out = prefactor * np.exp(-B_K / (T - T0_K))
    return np.where(T > T0_K, out, 0.0)


@dataclass(frozen=True)
class TemperatureModel:
    """One registered temperature-dependence model (see the module docstring).

    Attributes
    ----------
    name : str
        Registry key.
    param_names : tuple of str
        Names of the full parameter vector ``p``, the shape parameter last when there is one.
    log_value, design, local_Ea, headline : callable
        See the module docstring.
    shape_grid : callable or None
        ``T (n,) -> candidate shape values (g,)``, sorted; None for a linear model.
    min_temperatures : int
        Fewest distinct temperatures the model can be fitted to.
    reference : str
        DOI of the model.
    physical : callable or None
        ``samples (n, k) -> bool mask (n,)`` of physically admissible parameter vectors;
        None when all are.
    """

    name: str
    param_names: tuple[str, ...]
    log_value: Callable[[np.ndarray, np.ndarray], np.ndarray]
    design: Callable[[np.ndarray, float | None], np.ndarray]
    local_Ea: Callable[[np.ndarray, np.ndarray], np.ndarray]
    headline: Callable[[np.ndarray, float], np.ndarray]
    shape_grid: Callable[[np.ndarray], np.ndarray] | None
    min_temperatures: int
    reference: str
    physical: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def n_params(self) -> int:
        """Number of fitted parameters (the shape parameter included)."""
        return len(self.param_names)

    def sample_params(self, params, covariance, T_data_K, *, size: int,
                      rng: np.random.Generator) -> np.ndarray:
        """Parameter vectors drawn from the fit's Gaussian (full covariance), keeping only
        those the fit itself could have returned.

        Samples whose shape parameter leaves the searched range (``shape_grid``, e.g. a VFT
        ``T0`` below 0 or above the lowest temperature) or that are not physical (a VFT
        ``B <= 0``: transport falling with temperature) are dropped, so that the sampled
        distribution respects the same constraints as the fit.

        Parameters
        ----------
        params : array_like, shape (k,)
            Best-fit parameters.
        covariance : array_like, shape (k, k)
            Their covariance.
        T_data_K : array_like, shape (n,)
            The fitted temperatures, K.
        size : int
            Samples drawn before the constraints are applied.
        rng : numpy.random.Generator
            Random source.

        Returns
        -------
        ndarray, shape (m, k)
            The admissible samples, ``m <= size``.
        """
        samples = rng.multivariate_normal(np.asarray(params, dtype=float),
                                          np.asarray(covariance, dtype=float), size=size,
                                          method="eigh")
        keep = np.ones(len(samples), dtype=bool)
        if self.shape_grid is not None:
            grid = self.shape_grid(np.asarray(T_data_K, dtype=float))
            keep &= (samples[:, -1] >= grid[0]) & (samples[:, -1] <= grid[-1])
        if self.physical is not None:
            keep &= self.physical(samples)
        return samples[keep]


# --- Arrhenius: p = [Ea_eV, ln_prefactor] -------------------------------------------------
def _log_arrhenius(T, p):
    return p[1] - p[0] / (K_B_EV * T)


def _design_arrhenius(T, shape):
    return np.column_stack([-1.0 / (K_B_EV * T), np.ones_like(T)])


# --- two regimes: p = [Ea_high_eV, Ea_low_eV, ln_value_at_break, breakpoint_K] -------------
def _log_two_regime(T, p):
    x = 1.0 / T - 1.0 / p[3]
    return p[2] - (p[0] * np.minimum(x, 0.0) + p[1] * np.maximum(x, 0.0)) / K_B_EV


def _design_two_regime(T, breakpoint_K):
    x = 1.0 / T - 1.0 / breakpoint_K
    return np.column_stack([-np.minimum(x, 0.0) / K_B_EV, -np.maximum(x, 0.0) / K_B_EV,
                            np.ones_like(T)])


def _grid_two_regime(T):
    """Breakpoints between the 2nd-lowest and 2nd-highest distinct temperature (>= 2 each side)."""
    u = np.unique(T)
    return 1.0 / np.linspace(1.0 / u[-2], 1.0 / u[1], _N_SHAPE_GRID)[::-1]


def _local_Ea_two_regime(T, p):
    return np.where(T >= p[3], p[0], p[1])


def _headline_two_regime(p, target_T_K):
    Ea = p[0] if target_T_K >= p[3] else p[1]
    return np.array([Ea, p[2] + Ea / (K_B_EV * p[3])])


# --- VFT: p = [ln_prefactor, B_K, T0_K] ----------------------------------------------------
def _log_vft(T, p):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(T > p[2], p[0] - p[1] / (T - p[2]), -np.inf)


def _design_vft(T, T0_K):
    return np.column_stack([np.ones_like(T), -1.0 / (T - T0_K)])


def _grid_vft(T):
    """``0 <= T0 <= 0.99 min(T)``: T0 = 0 is the Arrhenius limit."""
    return np.linspace(0.0, 0.99 * T.min(), _N_SHAPE_GRID)


def _local_Ea_vft(T, p):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(T > p[2], K_B_EV * p[1] * T**2 / (T - p[2]) ** 2, np.nan)


MODELS: dict[str, TemperatureModel] = {
    "arrhenius": TemperatureModel(
        name="arrhenius", param_names=("Ea_eV", "ln_prefactor"), log_value=_log_arrhenius,
        design=_design_arrhenius, local_Ea=lambda T, p: np.full_like(T, p[0], dtype=float),
        headline=lambda p, t: np.array([p[0], p[1]]), shape_grid=None, min_temperatures=2,
        reference="doi:10.1515/zpch-1889-0416"),
    "two_regime": TemperatureModel(
        name="two_regime",
        param_names=("Ea_high_eV", "Ea_low_eV", "ln_value_at_break", "breakpoint_K"),
        log_value=_log_two_regime, design=_design_two_regime, local_Ea=_local_Ea_two_regime,
        headline=_headline_two_regime, shape_grid=_grid_two_regime, min_temperatures=4,
        reference="doi:10.1002/sim.1545"),
    "vft": TemperatureModel(
        name="vft", param_names=("ln_prefactor", "B_K", "T0_K"), log_value=_log_vft,
        design=_design_vft, local_Ea=_local_Ea_vft,
        headline=lambda p, t: np.array([K_B_EV * p[1], p[0]]), shape_grid=_grid_vft,
        min_temperatures=3, reference="doi:10.1111/j.1151-2916.1925.tb16731.x",
        physical=lambda samples: samples[:, 1] > 0),
}
