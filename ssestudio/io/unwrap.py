"""Wrapping and unwrapping of periodic positions, for any cell, constant or changing.

Unwrapping follows the "TOR" scheme of von Bülow, Bullerjahn and Hummer, which stays
correct when the cell changes from frame to frame (NPT), unlike adding image counts times
the current cell:

    u_t = u_{t-1} + (w_t - w_{t-1}) - h_t round(h_t^{-1} (w_t - w_{t-1}))

with ``w`` the wrapped and ``u`` the unwrapped positions and ``h_t`` the cell of frame
``t``. Each step is the minimum-image displacement in the current cell, so it is exact as
long as no atom moves more than half a cell (along any cell vector) between frames.

Conventions: cells have the cell vectors as rows (ASE), so Cartesian ``r = s @ h`` for
fractional ``s``, and ``h_t^{-1} d`` above is ``d @ inv(h_t)`` here.

References
----------
S. von Bülow, J. T. Bullerjahn, G. Hummer, "Systematic errors in diffusion coefficients
from long-time molecular dynamics simulations at constant pressure", J. Chem. Phys. 153,
021101 (2020), doi:10.1063/5.0008316.
"""

from __future__ import annotations

import numpy as np

from ssestudio.core.errors import UserInputError


def _as_cells(cells: np.ndarray, n_frames: int) -> np.ndarray:
    cells = np.asarray(cells, dtype=float)
    if cells.shape == (3, 3):
        return np.broadcast_to(cells, (n_frames, 3, 3))
    if cells.shape != (n_frames, 3, 3):
        raise UserInputError(f"cells must have shape (3, 3) or ({n_frames}, 3, 3) to match the "
                             f"positions, got {cells.shape}")
    return cells


def _as_frames(positions: np.ndarray) -> np.ndarray:
    positions = np.asarray(positions, dtype=float)
    if positions.ndim != 3 or positions.shape[-1] != 3:
        raise UserInputError(f"positions must have shape (n_frames, n_atoms, 3), got "
                             f"{positions.shape}")
    return positions


def wrap_positions(positions: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Wrap Cartesian positions into the cell, fractional coordinates in [0, 1).

    Parameters
    ----------
    positions : ndarray, shape (n_atoms, 3) or (n_frames, n_atoms, 3)
        Cartesian positions, Å.
    cell : ndarray, shape (3, 3) or (n_frames, 3, 3)
        Cell vectors as rows, Å; one per frame for a trajectory with a changing cell.

    Returns
    -------
    ndarray, same shape as ``positions``
        Wrapped positions, Å.
    """
    positions = np.asarray(positions, dtype=float)
    cell = np.asarray(cell, dtype=float)
    frac = positions @ np.linalg.inv(cell)
    frac -= np.floor(frac)
    frac[frac >= 1.0] = 0.0  # -1e-17 wraps to 1.0 - eps rounded up to exactly 1.0
    return frac @ cell


def _minimum_image(d: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """``d - h round(h^-1 d)`` for d (T, N, 3), h (T, 3, 3)."""
    frac = d @ np.linalg.inv(cells)
    return d - np.round(frac) @ cells


def unwrap_positions(positions: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Unwrap a trajectory so that atoms move continuously across cell boundaries.

    Parameters
    ----------
    positions : ndarray, shape (n_frames, n_atoms, 3)
        Positions, Å, wrapped or not (each step is reduced to its minimum image).
    cells : ndarray, shape (3, 3) or (n_frames, 3, 3)
        Cell vectors as rows, Å; pass one per frame for NPT runs.

    Returns
    -------
    ndarray, shape (n_frames, n_atoms, 3)
        Unwrapped positions, Å; frame 0 is returned as given.

    Notes
    -----
    TOR scheme (doi:10.1063/5.0008316), see the module docstring. Each step depends
    only on ``w_t - w_{t-1}`` and ``h_t``, so all steps are computed at once, vectorised
    over frames and atoms, and summed with a cumulative sum, for constant and changing
    cells alike. For a file too large for memory use :class:`Unwrapper`, which gives
    bit-identical results chunk by chunk.
    """
    return Unwrapper().feed(_as_frames(positions), cells)


class Unwrapper:
    """Streaming unwrapper: feed frames or chunks in order, get them back unwrapped.

    Keeps the last wrapped and unwrapped frame, so feeding a trajectory in chunks gives
    the same result as :func:`unwrap_positions` on the whole (TOR scheme,
    doi:10.1063/5.0008316).

    Examples
    --------
    >>> unwrapper = Unwrapper()
    >>> for a in range(0, traj.n_frames, 1000):                     # doctest: +SKIP
    ...     u = unwrapper.feed(traj.positions(slice(a, a + 1000)),
    ...                        traj.cells(slice(a, a + 1000)))
    """

    def __init__(self) -> None:
        self._last_wrapped: np.ndarray | None = None
        self._last_unwrapped: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the previous frame; the next frame fed starts a new unwrapped path."""
        self._last_wrapped = self._last_unwrapped = None

    def feed(self, positions: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """Unwrap the next frame or chunk of frames.

        Parameters
        ----------
        positions : ndarray, shape (n_atoms, 3) or (n_frames, n_atoms, 3)
            Positions of the next frame(s), Å.
        cells : ndarray, shape (3, 3) or (n_frames, 3, 3)
            Cell(s) of those frames, rows are vectors, Å.

        Returns
        -------
        ndarray, same shape as ``positions``
            Unwrapped positions, Å, continuing from the previous call.

        Raises
        ------
        UserInputError
            Shapes that do not match each other or the frames fed before.
        """
        single = np.ndim(positions) == 2
        w = _as_frames(np.asarray(positions, dtype=float)[None] if single else positions)
        h = _as_cells(cells, len(w))
        if self._last_wrapped is not None and self._last_wrapped.shape != w.shape[1:]:
            raise UserInputError(f"frames of {w.shape[1]} atoms fed after frames of "
                                 f"{self._last_wrapped.shape[0]}; call reset() between trajectories")
        if len(w) == 0:
            return w[0] if single else w.copy()
        prev_w = w[0] if self._last_wrapped is None else self._last_wrapped
        prev_u = w[0] if self._last_unwrapped is None else self._last_unwrapped
        d = np.diff(w, axis=0, prepend=prev_w[None])
        steps = _minimum_image(d, h)
        steps[0] += prev_u  # summing from the last unwrapped frame makes chunks exact
        u = np.cumsum(steps, axis=0)
        self._last_wrapped, self._last_unwrapped = w[-1].copy(), u[-1].copy()
        return u[0] if single else u
