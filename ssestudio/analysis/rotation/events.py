"""Discrete rotation and hop events from windowed signals, by peak detection.

* Rotation activity of a unit: the angle of its rotation between ``t - h`` and ``t + h``
  (window ``2h``). A rotation event is a peak of this signal above a threshold; peaks
  closer than one window are one event (:func:`scipy.signal.find_peaks` with
  ``distance``), so one jump of a unit is counted once.
* Hop activity of a cation: its displacement ``|r(t + h) - r(t - h)|`` (unwrapped); a hop
  event is a peak above a threshold, likewise.
* Site-to-site hops (:func:`site_hops`): each cation is assigned to the site it last
  came within ``radius_A`` of (a core-set assignment: crossing back and forth over a
  saddle without reaching the other site's core is not a hop); a hop is a change of
  assigned site, dated halfway between leaving the old core and reaching the new one.

Default thresholds (see :class:`~ssestudio.analysis.rotation.analyze.RotationConfig`)
are chosen here: 60° (half the smallest symmetry-equivalent jump of a tetrahedron,
120°, and well above librations) in the spirit of the "large-angle rotation" criterion
of Jun et al., PNAS 121, e2316493121 (2024), doi:10.1073/pnas.2316493121; 1.5 Å for a
hop, about half the Li-Li site distance of thiophosphates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssestudio.analysis.rotation.series import minimum_image


@dataclass(frozen=True, eq=False)
class Events:
    """Discrete events of one kind.

    Attributes
    ----------
    kind : {"rotation", "hop"}
        What happened.
    frame : ndarray of int, shape (n,)
        Index into the selected frames.
    trajectory_frame : ndarray of int, shape (n,)
        Index into the trajectory (for showing the event in a viewer).
    time_ps : ndarray, shape (n,)
        Time from the first selected frame, ps.
    index : ndarray of int, shape (n,)
        Unit number (rotations) or cation number (hops), into the analysed units/cations.
    atom : ndarray of int, shape (n,)
        Trajectory atom index: the unit's first centre atom, or the cation.
    value : ndarray, shape (n,)
        Rotation angle over the window (degrees) or displacement (Å).
    position_A : ndarray, shape (n, 3)
        Unit centre or cation position at the event, wrapped into the cell, Å.
    unit : str
        Unit of ``value`` (``"deg"`` or ``"A"``).
    """

    kind: str
    frame: np.ndarray
    trajectory_frame: np.ndarray
    time_ps: np.ndarray
    index: np.ndarray
    atom: np.ndarray
    value: np.ndarray
    position_A: np.ndarray
    unit: str

    def __len__(self) -> int:
        return len(self.frame)

    def to_dict(self) -> dict:
        """Columns as lists (``position_A`` as ``[[x, y, z], ...]``)."""
        return {"kind": self.kind, "unit": self.unit, "frame": self.frame.tolist(),
                "trajectory_frame": self.trajectory_frame.tolist(),
                "time_ps": self.time_ps.tolist(), "index": self.index.tolist(),
                "atom": self.atom.tolist(), "value": self.value.tolist(),
                "position_A": self.position_A.tolist()}


def windowed_angles_deg(q: np.ndarray, half: int) -> np.ndarray:
    """Rotation angle of each unit between frames ``t - half`` and ``t + half``.

    Parameters
    ----------
    q : ndarray, shape (T, U, 4)
        Orientations (unit quaternions).
    half : int
        Half window in frames (>= 1).

    Returns
    -------
    ndarray, shape (T - 2 half, U)
        Degrees; row ``k`` belongs to frame ``k + half``.
    """
    from ssestudio.analysis.rotation.orientation import rotation_angle_deg

    return rotation_angle_deg(q[:-2 * half], q[2 * half:])


def windowed_displacements_A(x: np.ndarray, half: int) -> np.ndarray:
    """Displacement ``|x(t + half) - x(t - half)|`` of unwrapped positions ``x`` (T, N, 3);
    shape (T - 2 half, N), Å; row ``k`` belongs to frame ``k + half``."""
    return np.linalg.norm(x[2 * half:] - x[:-2 * half], axis=-1)


def peak_events(signal: np.ndarray, *, offset: int, threshold: float, separation: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Peaks above ``threshold`` of each column of ``signal``.

    Parameters
    ----------
    signal : ndarray, shape (n, K)
        One windowed signal per unit or cation.
    offset : int
        Frame of row 0 (the half window: frames run from 0 to ``n - 1 + 2 offset``).
    threshold : float
        Minimum peak height.
    separation : int
        Minimum distance between peaks of one column, frames.

    Returns
    -------
    frame, column : ndarray of int, shape (n_events,)
        Sorted by frame. The frame is the middle of the peak's top (above halfway between
        threshold and peak): the top of a windowed signal is a plateau as long as the
        window, whose middle is the time of the jump or hop.
    height : ndarray, shape (n_events,)
    """
    from scipy.signal import find_peaks

    frames, cols, heights = [], [], []
    candidates = np.flatnonzero(signal.max(axis=0) >= threshold) if signal.size else []
    for k in candidates:
        peaks, props = find_peaks(signal[:, k], height=threshold, distance=max(1, separation))
        middle = _plateau_middles(signal[:, k], peaks, props["peak_heights"], threshold,
                                  separation / 2)
        frames.append(np.clip(middle + offset, 0, len(signal) - 1 + 2 * offset))
        cols.append(np.full(len(peaks), k))
        heights.append(props["peak_heights"])
    if not frames:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    f, c, h = np.concatenate(frames), np.concatenate(cols), np.concatenate(heights)
    order = np.lexsort((c, f))
    return f[order].astype(np.int64), c[order].astype(np.int64), h[order]


def _plateau_middles(x: np.ndarray, peaks: np.ndarray, heights: np.ndarray, threshold: float,
                     half: float) -> np.ndarray:
    """Middle of the stretch around each peak where ``x`` stays above halfway between the
    threshold and the peak; a stretch cut by an end of ``x`` is placed ``half`` frames from
    its other edge (a windowed signal's plateau is as long as the window)."""
    out = np.empty(len(peaks), dtype=int)
    for n, (p, h) in enumerate(zip(peaks.tolist(), heights.tolist())):
        low = np.flatnonzero(x < 0.5 * (h + threshold))
        k = np.searchsorted(low, p)
        left = low[k - 1] + 1 if k > 0 else None
        right = low[k] - 1 if k < len(low) else None
        if left is None and right is None:
            middle = p
        elif left is None:
            middle = right - half
        elif right is None:
            middle = left + half
        else:
            middle = 0.5 * (left + right)
        out[n] = round(middle)
    return out


def site_hops(positions: np.ndarray, cells: np.ndarray, sites_frac: np.ndarray, *,
              radius_A: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Site-to-site hops of cations with a core-set assignment.

    Parameters
    ----------
    positions : ndarray, shape (T, N, 3)
        Cation positions (wrapped or not), Å.
    cells : ndarray, shape (T, 3, 3)
        Cells, Å.
    sites_frac : ndarray, shape (S, 3)
        Site positions in fractional coordinates of each frame's cell.
    radius_A : float
        Core radius: a cation is at a site when closer than this, Å.

    Returns
    -------
    frame, cation : ndarray of int, shape (n,)
        Hop time (halfway between leaving the old core and reaching the new one) and
        cation number, sorted by frame.
    distance_A : ndarray, shape (n,)
        Distance between the two sites, Å.
    """
    from ssestudio.analysis.structure.pairs import half_pairs

    T, N, _ = positions.shape
    state = np.full((T, N), -1)
    for t in range(T):
        sites = sites_frac @ cells[t]
        both = np.concatenate([positions[t], sites])
        i, j, d = half_pairs(both, cells[t], True, radius_A)
        ok = (i < N) & (j >= N)
        i, j, d = i[ok], j[ok] - N, d[ok]
        order = np.argsort(-d)  # nearest written last wins
        state[t, i[order]] = j[order]
    seen_at = np.where(state >= 0, np.arange(T)[:, None], -1)
    last = np.maximum.accumulate(seen_at, axis=0)
    site = np.where(last >= 0, np.take_along_axis(state, np.maximum(last, 0), axis=0), -1)
    change = (site[1:] != site[:-1]) & (site[:-1] >= 0)
    t, c = np.nonzero(change)
    t = t + 1
    frame = (last[t - 1, c] + t) // 2
    a, b = sites_frac[site[t - 1, c]], sites_frac[site[t, c]]
    step = np.einsum("nk,nkj->nj", b - a, cells[frame])[:, None]
    dist = np.linalg.norm(minimum_image(step, cells[frame]), axis=-1)
    order = np.lexsort((c, frame))
    return frame[order].astype(np.int64), c[order].astype(np.int64), dist[order, 0]


def wrap_into_cell(x: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Cartesian points ``x`` (n, 3) wrapped into the cells ``cells`` (n, 3, 3), Å."""
    frac = np.einsum("nk,nkj->nj", x, np.linalg.inv(cells))
    return np.einsum("nk,nkj->nj", frac - np.floor(frac), cells)
