"""Per-frame series of the rotor units and the cations, read once from a trajectory.

Units are found in the first selected frame
(:func:`~ssestudio.analysis.rotation.detection.find_units`) and followed by atom index. In every frame, each unit's atoms are taken relative to its
first centre atom by the minimum image in that frame's cell (units are far smaller than
half a cell), which gives without unwrapping: the unit's centre (centroid of its centre
atoms), its ligand vectors from that centre, and the length of each of its frame-0 bonds.
A bond longer than its cutoff plus ``break_margin_A`` counts as broken in that frame.
Units are detected again at a few checkpoint frames to count units that formed later
(a new composition or a ligand exchange). The cations are unwrapped with the streaming
TOR scheme of :class:`~ssestudio.io.Unwrapper` (doi:10.1063/5.0008316).

Units: Å, fs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ssestudio.analysis.rotation.anions import AnionDefinition
from ssestudio.analysis.rotation.detection import Units, find_units
from ssestudio.analysis.structure.frames import FrameSet
from ssestudio.core.errors import UserInputError

Progress = Callable[[float, str], None]


def minimum_image(vectors: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Minimum-image form of difference vectors in a cell per frame.

    Parameters
    ----------
    vectors : ndarray, shape (T, ..., 3)
        Cartesian differences, Å.
    cells : ndarray, shape (T, 3, 3)
        Cell vectors as rows, Å.

    Returns
    -------
    ndarray, shape (T, ..., 3)
        ``d - round(d h^-1) h``, exact for vectors shorter than half the smallest
        perpendicular cell width in a reduced cell.
    """
    shape = vectors.shape
    flat = vectors.reshape(shape[0], int(np.prod(shape[1:-1])), 3)
    frac = np.einsum("tnk,tkj->tnj", flat, np.linalg.inv(cells))
    return (flat - np.einsum("tnk,tkj->tnj", np.round(frac), cells)).reshape(shape)


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """Units found again in one frame.

    Attributes
    ----------
    frame : int
        Index into the selected frames.
    n_units : int
        Units of the analysed kind found there.
    n_original : int
        Of those, units with exactly the atoms of a frame-0 unit.
    formulas : dict
        Formula -> count of all units found there.
    """

    frame: int
    n_units: int
    n_original: int
    formulas: dict


@dataclass(frozen=True, eq=False)
class RotorSeries:
    """Everything the rotation analysis needs, per selected frame.

    Attributes
    ----------
    frames : ndarray of int, shape (T,)
        Trajectory indices of the selected frames.
    timestep_fs : float
        Time between selected frames, fs.
    cells : ndarray, shape (T, 3, 3)
        Cells, Å.
    units : Units
        Units found in the first selected frame.
    vectors_A : ndarray, shape (T, U, L, 3)
        Ligand vectors from each unit's centre, Å.
    centres_A : ndarray, shape (T, U, 3)
        Unit centres (not wrapped), Å.
    intact : ndarray of bool, shape (T, U)
        Whether all frame-0 bonds of the unit are shorter than cutoff + margin.
    cation_atoms : ndarray of int, shape (Nc,)
        Atom indices of the cations.
    cations_A : ndarray, shape (T, Nc, 3)
        Unwrapped cation positions, Å.
    checkpoints : tuple of Checkpoint
        Re-detections at evenly spaced frames (the first and the last included).
    """

    frames: np.ndarray
    timestep_fs: float
    cells: np.ndarray
    units: Units
    vectors_A: np.ndarray
    centres_A: np.ndarray
    intact: np.ndarray
    cation_atoms: np.ndarray
    cations_A: np.ndarray
    checkpoints: tuple[Checkpoint, ...]

    @property
    def n_frames(self) -> int:
        """Selected frames."""
        return len(self.frames)


def selected_timestep_fs(frames: FrameSet, timestep_fs: float | None) -> float:
    """Time between the selected frames, fs, checked to be constant.

    Parameters
    ----------
    frames : FrameSet
        The selection.
    timestep_fs : float, optional
        Time between *stored* frames given by the user (multiplied by the stride).

    Raises
    ------
    UserInputError
        No time information, or unevenly spaced frames.
    """
    stride = int(frames.selection.stride or 1)
    if timestep_fs is not None:
        return float(timestep_fs) * stride
    if frames.trajectory.info.timestep_fs is None:
        raise UserInputError(f"{frames.label} does not record the time between frames; pass "
                             "timestep_fs= (CLI: --timestep-fs), the MD time step times the "
                             "write interval")
    steps = np.diff(frames.times_fs())
    dt = float(np.median(steps))
    bad = np.flatnonzero(np.abs(steps - dt) > 1e-3 * abs(dt))
    if dt <= 0 or bad.size:
        k = int(bad[0]) if bad.size else 0
        raise UserInputError(f"the selected frames are not equally spaced in time (step "
                             f"{steps[k]:g} fs after selected frame {k}, typical {dt:g} fs); "
                             "select a stretch with a constant spacing or pass timestep_fs=")
    return dt


def read_series(frames: FrameSet, definition: AnionDefinition, cation_atoms: np.ndarray, *,
                timestep_fs: float, break_margin_A: float = 0.4, n_checkpoints: int = 10,
                progress: Progress | None = None) -> RotorSeries:
    """Read the unit and cation series from the selected frames.

    Parameters
    ----------
    frames : FrameSet
        Selected frames (periodic).
    definition : AnionDefinition
        The anion.
    cation_atoms : ndarray of int, shape (Nc,)
        Atom indices of the cations.
    timestep_fs : float
        Time between selected frames, fs.
    break_margin_A : float
        A bond is broken when longer than its cutoff plus this, Å.
    n_checkpoints : int
        Frames (evenly spaced) where units are detected again.
    progress : callable, optional
        ``progress(fraction, message)`` after each chunk of frames.

    Returns
    -------
    RotorSeries

    Raises
    ------
    UserInputError
        No unit of the anion in the first frame, non-finite positions.
    """
    frames.require_periodic("a rotation analysis")
    first = frames.trajectory[int(frames.indices[0])]
    units = find_units(frames.symbols, first.positions, first.cell, frames.pbc, definition)
    T, U, n_c = frames.n_frames, units.n_units, units.n_centres
    out = {"vectors_A": np.empty((T, U, units.n_ligands, 3)), "centres_A": np.empty((T, U, 3)),
           "intact": np.empty((T, U), bool), "cations_A": np.empty((T, len(cation_atoms), 3)),
           "cells": np.empty((T, 3, 3))}
    checks = np.unique(np.linspace(0, T - 1, max(2, n_checkpoints)).astype(int))
    keys0, found = units.keys(), []
    limit = units.bond_cutoff_A + break_margin_A
    starts = np.flatnonzero(np.r_[True, np.diff(units.bonds[:, 0]) != 0])
    from ssestudio.io import Unwrapper

    unwrapper = Unwrapper()
    for where, pos, cells in frames.chunks():
        if not np.isfinite(pos).all():
            bad = where.start + int(np.argwhere(~np.isfinite(pos))[0, 0])
            raise UserInputError(f"selected frame {bad} has a non-finite position; cut the "
                                 "trajectory before it")
        rel = minimum_image(pos[:, units.atoms] - pos[:, units.atoms[:, :1]], cells)
        offset = rel[:, :, :n_c].mean(axis=2)
        out["centres_A"][where] = pos[:, units.atoms[:, 0]] + offset
        out["vectors_A"][where] = rel[:, :, n_c:] - offset[:, :, None]
        b = units.bonds
        length = np.linalg.norm(rel[:, b[:, 0], b[:, 1]] - rel[:, b[:, 0], b[:, 2]], axis=-1)
        out["intact"][where] = ~np.maximum.reduceat(length > limit, starts, axis=1)
        out["cations_A"][where] = unwrapper.feed(pos[:, cation_atoms], cells)
        out["cells"][where] = cells
        for k in checks[(checks >= where.start) & (checks < where.stop)]:
            again = find_units(frames.symbols, pos[k - where.start], cells[k - where.start],
                               frames.pbc, definition, require=False)
            found.append(Checkpoint(frame=int(k), n_units=again.n_units,
                                    n_original=len(again.keys() & keys0),
                                    formulas=dict(again.formulas)))
        if progress is not None:
            progress(where.stop / T, f"read {where.stop}/{T} frames")
    return RotorSeries(frames=frames.indices.copy(), timestep_fs=float(timestep_fs),
                       units=units, cation_atoms=np.asarray(cation_atoms), checkpoints=tuple(found),
                       **out)
