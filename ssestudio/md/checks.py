"""Cheap sanity checks of an MD state: is the simulation exploding?

Run at every written frame: non-finite positions, energy or temperature, a temperature
far above the target, two atoms closer than a minimum distance (via the ``vesin``
neighbour list, ~µs for 100 atoms; ``matscipy`` or ASE's much slower one when vesin is
missing), a cell whose volume ran away (NPT), and an ML ensemble whose force deviation
(``max_force_deviation`` in the calculator's results, eV/Å; Zhang et al., Comput. Phys.
Commun. 253, 107206 (2020), doi:10.1016/j.cpc.2020.107206) is far beyond its trust level,
i.e. the model is extrapolating and its forces mean nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ssestudio.core.errors import SSEStudioError

if TYPE_CHECKING:
    from ase import Atoms


class MDExplodedError(SSEStudioError):
    """The MD state became unphysical; ``step`` says when.

    Attributes
    ----------
    step : int
        MD step at which the check failed.
    """

    def __init__(self, message: str, *, step: int) -> None:
        super().__init__(message)
        self.step = step


#: Smallest cutoff of the neighbour search behind :func:`closest_pair`, Å.
_MIN_SEARCH_A = 2.0
_ADVICE = ("reduce timestep_fs, check the input structure (overlapping atoms, wrong cell) "
           "and that the calculator suits these elements")


def closest_pair(atoms: "Atoms", cutoff_A: float) -> tuple[int, int, float] | None:
    """The closest pair of atoms nearer than ``cutoff_A``, or None.

    Parameters
    ----------
    atoms : ase.Atoms
        Positions (Å), cell and periodicity.
    cutoff_A : float
        Distance below which pairs are reported, Å.

    Returns
    -------
    tuple of (int, int, float) or None
        Indices ``i, j`` and their (minimum-image) distance in Å.
    """
    from ssestudio.core.neighbors import neighbor_pairs

    # cell-list searches slow down as 1/cutoff^3 below ~2 Å (vesin: 31 ms at 0.5 Å vs
    # 1.8 ms at 2 Å for 512 atoms), so search at least 2 Å and filter
    i, j, d = neighbor_pairs(atoms, max(float(cutoff_A), _MIN_SEARCH_A))
    near = d < cutoff_A
    i, j, d = i[near], j[near], d[near]
    if not len(d):
        return None
    k = int(np.argmin(d))
    return int(i[k]), int(j[k]), float(d[k])


def check_state(atoms: "Atoms", *, step: int, epot_eV: float, temperature_K: float,
                target_K: float, max_temperature_factor: float, min_distance_A: float,
                max_force_deviation_eV_A: float | None = None,
                max_uncertainty_eV_A: float | None = None, volume_ratio: float | None = None,
                max_volume_factor: float | None = None) -> None:
    """Raise :class:`MDExplodedError` if the state at ``step`` is unphysical.

    Parameters
    ----------
    atoms : ase.Atoms
        Current state.
    step : int
        MD step, for the message.
    epot_eV : float
        Potential energy, eV.
    temperature_K : float
        Instantaneous kinetic temperature, K.
    target_K : float
        Target temperature, K; the temperature check is skipped when it is 0.
    max_temperature_factor : float
        Fail when ``temperature_K > max_temperature_factor * target_K``.
    min_distance_A : float
        Fail when two atoms are closer than this, Å (0 disables the check).
    max_force_deviation_eV_A : float, optional
        The ensemble's maximum per-atom force deviation in this state, eV/Å (None when
        the calculator gives none).
    max_uncertainty_eV_A : float, optional
        Fail when ``max_force_deviation_eV_A`` exceeds this, eV/Å (None disables).
    volume_ratio : float, optional
        Cell volume over the volume at the start of the run (NPT).
    max_volume_factor : float, optional
        Fail when ``volume_ratio`` leaves ``[1 / f, f]`` (None disables).

    Raises
    ------
    MDExplodedError
        With the step, what failed and what to do about it.
    """
    if (not np.isfinite(atoms.positions).all() or not np.isfinite(epot_eV)
            or not np.isfinite(temperature_K)):
        raise MDExplodedError(f"MD exploded at step {step}: non-finite positions, energy or "
                              f"temperature (Epot = {epot_eV} eV, T = {temperature_K} K); "
                              f"{_ADVICE}", step=step)
    _check_uncertainty(step, max_force_deviation_eV_A, max_uncertainty_eV_A)
    if volume_ratio is not None and max_volume_factor is not None and not (
            1.0 / max_volume_factor <= volume_ratio <= max_volume_factor):
        raise MDExplodedError(
            f"MD exploded at step {step}: the cell volume changed by a factor "
            f"{volume_ratio:.3g} since the start of the run (limit {max_volume_factor:g}); "
            f"the barostat ran away: raise barostat_time_fs, check pressure_GPa, or "
            f"equilibrate at constant volume first", step=step)
    if target_K > 0 and temperature_K > max_temperature_factor * target_K:
        raise MDExplodedError(
            f"MD exploded at step {step}: temperature {temperature_K:.0f} K exceeds "
            f"{max_temperature_factor:g} x the target {target_K:g} K; {_ADVICE}", step=step)
    pair = closest_pair(atoms, min_distance_A) if min_distance_A > 0 else None
    if pair is not None:
        i, j, d = pair
        raise MDExplodedError(
            f"MD exploded at step {step}: atoms {i} ({atoms[i].symbol}) and {j} "
            f"({atoms[j].symbol}) are {d:.3f} Å apart (minimum {min_distance_A:g} Å); "
            f"{_ADVICE}", step=step)


def _check_uncertainty(step: int, deviation: float | None, limit: float | None) -> None:
    """Fail when the ensemble force deviation is beyond ``limit`` (or not finite)."""
    if deviation is None or limit is None:
        return
    if not np.isfinite(deviation) or deviation > limit:
        raise MDExplodedError(
            f"MD stopped at step {step}: the ensemble force deviation {deviation:.3g} eV/Å "
            f"exceeds max_uncertainty_eV_A = {limit:g} eV/Å, far beyond the model's trust "
            f"level (typically 0.1-0.3 eV/Å): the model is extrapolating to configurations "
            f"unlike its training data. Add such configurations to the training set (active "
            f"learning), lower the temperature, or raise max_uncertainty_eV_A", step=step)
