"""Ionic conductivity (Nernst-Einstein) from tracer and collective diffusion; Haven ratio.

For ``N`` mobile ions of charge ``q e`` in a cell of mean volume ``V`` at temperature ``T``:

* from the tracer diffusion coefficient ``D*`` (uncorrelated ions, Haven ratio 1):
  ``sigma* = N q^2 e^2 D* / (V k_B T)``;
* from the mean squared charge displacement (all ion-ion correlations included):
  ``sigma = e^2 D_Q / (V k_B T)`` with ``D_Q = lim <|sum_i q_i dr_i(t)|^2> / (6 t)``
  (the collective "D" fitted by :func:`~ssestudio.analysis.diffusion.fit_diffusion` to
  :func:`~ssestudio.analysis.msd.compute_charge_msd`, in e^2 cm^2/s);
* Haven ratio ``H = sigma* / sigma = N q^2 D* / D_Q`` (``D*/D_sigma``), error propagated
  assuming independent errors of ``D*`` and ``D_Q`` (the collective error dominates).

References: X. He, Y. Zhu, A. Epstein, Y. Mo, npj Comput. Mater. 4, 18 (2018),
doi:10.1038/s41524-018-0074-y (Eqs. for sigma from D* and from the charge displacement);
B. J. Morgan, "Mechanistic origin of superionic lithium diffusion in anion-disordered
Li6PS5X argyrodites", Chem. Mater. 33, 2004 (2021), doi:10.1021/acs.chemmater.0c03738
(Haven ratio from AIMD).

Units: S/cm reported as mS/cm, volumes Å^3, D cm^2/s, charges e, temperature K.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ssestudio.analysis.diffusion import DiffusionResult
from ssestudio.core.errors import UserInputError

#: Elementary charge, C (exact, SI 2019).
ELEMENTARY_CHARGE_C = 1.602176634e-19
#: Boltzmann constant, J/K (exact, SI 2019).
BOLTZMANN_J_K = 1.380649e-23
#: Formal charges (e) used when the user gives none: monovalent and divalent cations, halides.
FORMAL_CHARGES: dict[str, float] = {
    **dict.fromkeys(("H", "Li", "Na", "K", "Rb", "Cs", "Ag", "Cu"), 1.0),
    **dict.fromkeys(("Mg", "Ca", "Sr", "Ba", "Zn"), 2.0),
    **dict.fromkeys(("F", "Cl", "Br", "I"), -1.0),
}


@dataclass(frozen=True)
class ConductivityResult:
    """Nernst-Einstein conductivities, Haven ratio and the inputs they came from.

    Attributes
    ----------
    sigma_mS_cm, sigma_err_mS_cm : float
        Conductivity from the tracer D* (Haven ratio 1), mS/cm, and its standard error.
    sigma_collective_mS_cm, sigma_collective_err_mS_cm : float or None
        Conductivity from the mean squared charge displacement, mS/cm, and its error.
    haven_ratio, haven_ratio_err : float or None
        ``H = sigma / sigma_collective`` and its propagated error (None if undefined).
    D_sigma_cm2_s, D_sigma_err_cm2_s : float or None
        Charge diffusion coefficient ``D_Q / (N q^2)``, cm^2/s.
    temperature_K : float
        Temperature, K.
    volume_A3 : float
        Mean cell volume, Å^3.
    n_ions : int
        Mobile ions.
    charge_e : float
        Charge per mobile ion, e.
    warnings : tuple of str
        Notes (e.g. a collective slope that is not positive).
    """

    sigma_mS_cm: float
    sigma_err_mS_cm: float
    sigma_collective_mS_cm: float | None
    sigma_collective_err_mS_cm: float | None
    haven_ratio: float | None
    haven_ratio_err: float | None
    D_sigma_cm2_s: float | None
    D_sigma_err_cm2_s: float | None
    temperature_K: float
    volume_A3: float
    n_ions: int
    charge_e: float
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """Plain-Python dictionary (JSON-ready)."""
        out = asdict(self)
        out["warnings"] = list(self.warnings)
        return out


def resolve_charges(species: Sequence[str], charges: Mapping[str, float] | None = None) -> dict:
    """Charge of each species: the user's mapping, else the formal charge of :data:`FORMAL_CHARGES`.

    Parameters
    ----------
    species : sequence of str
        Mobile species, e.g. ``["Li"]``.
    charges : mapping str -> float, optional
        User charges in e, e.g. ``{"Li": 1}``; override the defaults.

    Returns
    -------
    dict
        Species -> charge, e.

    Raises
    ------
    UserInputError
        A species with no given and no default formal charge, or a non-finite charge.
    """
    given = {str(k): float(v) for k, v in (charges or {}).items()}
    out = {}
    for s in species:
        if s in given:
            out[s] = given[s]
        elif s in FORMAL_CHARGES:
            out[s] = FORMAL_CHARGES[s]
        else:
            raise UserInputError(f"no formal charge is known for {s!r}; give it explicitly, e.g. "
                                 f"charges={{'{s}': 1}} (CLI: --charge {s}=1)")
        if not np.isfinite(out[s]):
            raise UserInputError(f"the charge of {s} must be a finite number, got {out[s]}")
    return out


def nernst_einstein_mS_cm(D_cm2_s: float, *, n_ions: float, charge_e: float, volume_A3: float,
                          temperature_K: float) -> float:
    """Nernst-Einstein conductivity ``N q^2 e^2 D / (V k_B T)``, mS/cm.

    Parameters
    ----------
    D_cm2_s : float
        Diffusion coefficient, cm^2/s (for ``n_ions = 1, charge_e = 1`` pass ``D_Q`` in
        e^2 cm^2/s to get the collective conductivity).
    n_ions : float
        Number of mobile ions in the cell.
    charge_e : float
        Charge per ion, e.
    volume_A3 : float
        Cell volume, Å^3.
    temperature_K : float
        Temperature, K.

    Returns
    -------
    float
        Conductivity, mS/cm.

    References
    ----------
    doi:10.1038/s41524-018-0074-y.
    """
    if not (volume_A3 > 0 and temperature_K > 0):
        raise UserInputError(f"the conductivity needs a positive volume and temperature, got "
                             f"V = {volume_A3} Å^3, T = {temperature_K} K")
    volume_cm3 = volume_A3 * 1e-24
    sigma_S_cm = (n_ions * charge_e**2 * ELEMENTARY_CHARGE_C**2 * D_cm2_s
                  / (volume_cm3 * BOLTZMANN_J_K * temperature_K))
    return 1000.0 * sigma_S_cm


def compute_conductivity(tracer: DiffusionResult, collective: DiffusionResult | None, *,
                         n_ions: int, charge_e: float, volume_A3: float,
                         temperature_K: float) -> ConductivityResult:
    """Conductivity from D* and from the charge MSD, and the Haven ratio, with errors.

    Parameters
    ----------
    tracer : DiffusionResult
        Tracer fit of the mobile species.
    collective : DiffusionResult or None
        Fit of the mean squared charge displacement (``D`` is ``D_Q`` in e^2 cm^2/s).
    n_ions : int
        Mobile ions in the cell.
    charge_e : float
        Charge per mobile ion, e.
    volume_A3 : float
        Mean cell volume, Å^3.
    temperature_K : float
        Temperature, K.

    Returns
    -------
    ConductivityResult
    """
    per_D = nernst_einstein_mS_cm(1.0, n_ions=n_ions, charge_e=charge_e, volume_A3=volume_A3,
                                  temperature_K=temperature_K)
    notes, coll = [], (None,) * 6
    if collective is not None:
        coll, notes = _collective(tracer, collective, per_D, n_ions, charge_e)
    return ConductivityResult(
        sigma_mS_cm=per_D * tracer.D_cm2_s, sigma_err_mS_cm=per_D * tracer.D_err_cm2_s,
        sigma_collective_mS_cm=coll[0], sigma_collective_err_mS_cm=coll[1], haven_ratio=coll[2],
        haven_ratio_err=coll[3], D_sigma_cm2_s=coll[4], D_sigma_err_cm2_s=coll[5],
        temperature_K=float(temperature_K), volume_A3=float(volume_A3), n_ions=int(n_ions),
        charge_e=float(charge_e), warnings=tuple(notes))


def _collective(tracer, collective, per_D, n_ions, charge_e) -> tuple[tuple, list]:
    """(sigma, err, H, H_err, D_sigma, D_sigma_err) from the collective fit, and notes."""
    nq2 = n_ions * charge_e**2
    d_sigma, d_sigma_err = collective.D_cm2_s / nq2, collective.D_err_cm2_s / nq2
    sigma, sigma_err = per_D * d_sigma, per_D * d_sigma_err
    if d_sigma <= 0 or tracer.D_cm2_s <= 0:
        return (sigma, sigma_err, None, None, d_sigma, d_sigma_err), [
            "the Haven ratio is undefined: the tracer or the charge MSD slope is not positive"]
    haven = tracer.D_cm2_s / d_sigma
    rel = np.hypot(tracer.D_err_cm2_s / tracer.D_cm2_s, d_sigma_err / d_sigma)
    notes = []
    if rel > 0.5:
        notes.append(f"the Haven ratio is poorly determined (relative error {100 * rel:.0f}%): the "
                     "charge MSD of one trajectory is a single, noisy collective coordinate")
    return (sigma, sigma_err, float(haven), float(haven * rel), d_sigma, d_sigma_err), notes
