"""Cheap sanity checks of an MD state: is the simulation exploding?

Run at every written frame: non-finite positions or energy, a temperature far above the
target, or two atoms closer than a minimum distance (via the ``vesin`` neighbour list,
~µs for 100 atoms; ``matscipy`` or ASE's much slower one when vesin is missing).
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

    i, j, d = neighbor_pairs(atoms, cutoff_A)
    if not len(d):
        return None
    k = int(np.argmin(d))
    return int(i[k]), int(j[k]), float(d[k])


def check_state(atoms: "Atoms", *, step: int, epot_eV: float, temperature_K: float,
                target_K: float, max_temperature_factor: float, min_distance_A: float) -> None:
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
    """
    if not np.isfinite(atoms.positions).all() or not np.isfinite(epot_eV):
        raise MDExplodedError(f"MD exploded at step {step}: non-finite positions or energy "
                              f"(Epot = {epot_eV} eV); {_ADVICE}", step=step)
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
