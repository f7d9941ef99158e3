"""Unwrapped displacements of selected atoms from any :class:`~ssestudio.io.Trajectory`.

The first layer of the transport analysis (parser -> displacements -> MSD -> fit). The
trajectory is read in chunks of frames and unwrapped with the streaming TOR scheme of
:class:`~ssestudio.io.Unwrapper` (correct for triclinic and changing NPT cells,
doi:10.1063/5.0008316), so only the displacements of the selected atoms are ever held
in memory: ``n_frames x n_selected x 3`` float64 plus one chunk.

Optionally the displacement of the framework's centre of mass (mass-weighted, all atoms
of the non-mobile species) is subtracted from every selected atom, which removes a
spurious drift of the whole cell (e.g. from a thermostat) from the MSD; see
R. Kutner, Phys. Lett. A 81, 239 (1981), doi:10.1016/0375-9601(81)90251-6, for the
centre-of-mass correction of tracer and collective diffusion.

Units: Å, fs (``timestep_fs``), ps (``time_ps``), amu.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ssestudio.core.errors import UserInputError
from ssestudio.io.unwrap import Unwrapper

#: Bytes of positions read per chunk (all atoms of the chunk's frames).
CHUNK_BYTES = 32 * 2**20
#: Relative tolerance on the spacing of frame times.
TIME_TOLERANCE = 1e-3

Progress = Callable[[float, str], None]


@dataclass(frozen=True, eq=False)
class Displacements:
    """Displacements of selected atoms from their positions in the first frame.

    Attributes
    ----------
    displacements_A : ndarray, shape (n_frames, n_atoms, 3)
        Cartesian displacement ``r_i(t) - r_i(0)`` of each selected atom, unwrapped, with
        the framework's centre-of-mass displacement removed when ``drift_removed``, Å.
    time_ps : ndarray, shape (n_frames,)
        Time of each frame from the first, ps (equally spaced).
    timestep_fs : float
        Time between frames, fs.
    indices : ndarray, shape (n_atoms,)
        Indices of the selected atoms in the trajectory.
    symbols : tuple of str, length n_atoms
        Chemical symbols of the selected atoms.
    mean_cell_A : ndarray, shape (3, 3)
        Cell averaged over the frames, rows are cell vectors, Å.
    mean_volume_A3 : float
        Cell volume averaged over the frames, Å^3.
    drift_removed : bool
        Whether the framework's centre-of-mass displacement was subtracted.
    nn_distance_A : float or None
        Median nearest-neighbour distance between the selected atoms in the first frame
        (periodic), Å: a proxy for the hop distance between neighbouring sites; None
        for a single atom.
    warnings : tuple of str
        Notes on what could not be done (e.g. no framework atoms for drift removal).
    """

    displacements_A: np.ndarray
    time_ps: np.ndarray
    timestep_fs: float
    indices: np.ndarray
    symbols: tuple[str, ...]
    mean_cell_A: np.ndarray
    mean_volume_A3: float
    drift_removed: bool
    nn_distance_A: float | None
    warnings: tuple[str, ...] = ()

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.displacements_A.shape[0])

    @property
    def n_atoms(self) -> int:
        """Number of selected atoms."""
        return int(self.displacements_A.shape[1])

    @property
    def species(self) -> tuple[str, ...]:
        """Distinct species among the selected atoms, in order of first appearance."""
        return tuple(dict.fromkeys(self.symbols))


def select_atoms(symbols: Sequence[str], *, species: str | Sequence[str] | None = None,
                 indices: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """Indices of the atoms of the given species and/or index subset.

    Parameters
    ----------
    symbols : sequence of str, length n_atoms
        Chemical symbols of all atoms.
    species : str or sequence of str, optional
        Species to keep (e.g. ``"Li"`` or ``("Li", "Na")``); all when None.
    indices : sequence of int, optional
        Atom indices to keep (a region or any subset); intersected with ``species``.

    Returns
    -------
    ndarray of int, sorted
        The selected atom indices.

    Raises
    ------
    UserInputError
        A species that is not present (the message lists those present), an index out of
        range, or an empty selection.
    """
    symbols = np.asarray(symbols)
    present = list(dict.fromkeys(symbols.tolist()))
    mask = np.ones(len(symbols), dtype=bool)
    if species is not None:
        wanted = [species] if isinstance(species, str) else list(species)
        missing = [s for s in wanted if s not in present]
        if missing or not wanted:
            raise UserInputError(f"species {', '.join(missing) or '(none)'} not present in this "
                                 f"trajectory; it holds: {', '.join(present)}")
        mask &= np.isin(symbols, wanted)
    if indices is not None:
        idx = np.asarray(indices, dtype=int).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= len(symbols)):
            raise UserInputError(f"atom indices must lie in 0..{len(symbols) - 1}, got "
                                 f"{idx.min()}..{idx.max()}")
        keep = np.zeros(len(symbols), dtype=bool)
        keep[idx] = True
        mask &= keep
    if not mask.any():
        raise UserInputError("the atom selection is empty: the given indices hold none of the "
                             f"requested species (present: {', '.join(present)})")
    return np.flatnonzero(mask)


def frame_timestep_fs(trajectory, *, timestep_fs: float | None = None) -> float:
    """Time between frames of ``trajectory``, fs, checked to be constant.

    Parameters
    ----------
    trajectory : Trajectory
        The trajectory.
    timestep_fs : float, optional
        Time between stored frames given by the user; overrides the file.

    Returns
    -------
    float
        The time step, fs.

    Raises
    ------
    UserInputError
        No time information (the file records none and none was given), a non-positive
        time step, or frames that are not equally spaced in time.
    """
    if timestep_fs is not None:
        if not np.isfinite(timestep_fs) or timestep_fs <= 0:
            raise UserInputError(f"timestep_fs must be a positive number of fs, got {timestep_fs}")
        return float(timestep_fs)
    if trajectory.info.timestep_fs is None:
        raise UserInputError(f"{', '.join(trajectory.info.sources) or 'this trajectory'} does not "
                             "record the time between frames; pass timestep_fs= (CLI: "
                             "--timestep-fs), the MD time step times the write interval")
    steps = np.diff(trajectory.times_fs())
    dt = float(np.median(steps))
    bad = np.flatnonzero(np.abs(steps - dt) > TIME_TOLERANCE * abs(dt))
    if dt <= 0 or bad.size:
        k = int(bad[0]) if bad.size else 0
        raise UserInputError(f"frames are not equally spaced in time (step {steps[k]:g} fs after "
                             f"frame {k}, typical {dt:g} fs); an MSD over all time origins needs "
                             "a constant spacing: drop the odd frames or pass timestep_fs=")
    return dt


def read_displacements(trajectory, *, species: str | Sequence[str] | None = None,
                       indices: Sequence[int] | None = None, remove_drift: bool = True,
                       framework_species: Sequence[str] | None = None,
                       timestep_fs: float | None = None, chunk_frames: int | None = None,
                       progress: Progress | None = None) -> Displacements:
    """Read, unwrap and (optionally) drift-correct the displacements of selected atoms.

    Parameters
    ----------
    trajectory : Trajectory
        Any trajectory (several segments joined by :func:`~ssestudio.io.open_trajectory`).
    species : str or sequence of str, optional
        Mobile species to select (e.g. ``"Li"``); all atoms when None and no ``indices``.
    indices : sequence of int, optional
        Subset of atom indices (intersected with ``species``).
    remove_drift : bool
        Subtract the displacement of the framework's centre of mass.
    framework_species : sequence of str, optional
        Species forming the framework; default: all species not selected by ``species``
        (all atoms not selected when only ``indices`` are given).
    timestep_fs : float, optional
        Time between frames, fs, when the file does not record it (or to override it).
    chunk_frames : int, optional
        Frames read per chunk; default such that a chunk holds about 32 MiB of positions.
    progress : callable, optional
        ``progress(fraction, message)`` after each chunk.

    Returns
    -------
    Displacements

    Raises
    ------
    UserInputError
        Fewer than 2 frames, an unknown species, missing or uneven frame times, or a
        non-finite position or cell (the message names the frame).
    """
    n_frames = trajectory.n_frames
    if n_frames < 2:
        raise UserInputError(f"a transport analysis needs at least 2 frames; "
                             f"{', '.join(trajectory.info.sources) or 'the trajectory'} has {n_frames}")
    dt = frame_timestep_fs(trajectory, timestep_fs=timestep_fs)
    sel = select_atoms(trajectory.symbols, species=species, indices=indices)
    framework, notes = _framework(trajectory.symbols, sel, species, framework_species, remove_drift)
    out = np.empty((n_frames, len(sel), 3))
    cell_sum, volume_sum = np.zeros((3, 3)), 0.0
    step = chunk_frames or max(1, CHUNK_BYTES // (24 * trajectory.n_atoms))
    stream, first = _Stream(trajectory.masses, sel, framework), None
    for a in range(0, n_frames, step):
        b = min(a + step, n_frames)
        pos, cells = trajectory.positions(slice(a, b)), trajectory.cells(slice(a, b))
        _check_finite(pos, cells, a, trajectory.symbols)
        first = first or (pos[0, sel], cells[0])
        out[a:b] = stream.feed(pos, cells)
        cell_sum += cells.sum(axis=0)
        volume_sum += float(np.abs(np.linalg.det(cells)).sum())
        if progress is not None:
            progress(b / n_frames, f"read {b}/{n_frames} frames")
    return Displacements(
        displacements_A=out, time_ps=np.arange(n_frames) * dt / 1000.0, timestep_fs=dt,
        indices=sel, symbols=tuple(trajectory.symbols[i] for i in sel),
        mean_cell_A=cell_sum / n_frames, mean_volume_A3=volume_sum / n_frames,
        drift_removed=bool(remove_drift and framework.size), nn_distance_A=nn_distance(*first),
        warnings=tuple(notes))


def _framework(symbols, sel, species, framework_species, remove_drift) -> tuple[np.ndarray, list]:
    """Indices of the framework atoms, and notes when drift cannot be removed."""
    symbols = np.asarray(symbols)
    if framework_species is not None:
        fw = np.flatnonzero(np.isin(symbols, list(framework_species)))
    elif species is not None:
        wanted = [species] if isinstance(species, str) else list(species)
        fw = np.flatnonzero(~np.isin(symbols, wanted))
    else:
        fw = np.setdiff1d(np.arange(len(symbols)), sel)
    fw = np.setdiff1d(fw, sel)
    notes = []
    if remove_drift and not fw.size:
        notes.append("no framework atoms (every atom is mobile): the centre-of-mass drift was "
                     "not removed")
    return (fw if remove_drift else np.zeros(0, dtype=int)), notes


class _Stream:
    """Turns chunks of frames into displacements of the selected atoms from frame 0, minus
    the framework's centre-of-mass displacement when framework atoms are given."""

    def __init__(self, masses: np.ndarray, sel: np.ndarray, framework: np.ndarray):
        self._n, self._fw = len(sel), framework
        self._keep = np.concatenate([sel, framework])
        self._weights = np.asarray(masses, dtype=float)[framework]
        self._unwrapper = Unwrapper()
        self._origin: np.ndarray | None = None  # (n_sel + 1, 3): frame-0 positions and COM

    def feed(self, positions: np.ndarray, cells: np.ndarray) -> np.ndarray:
        u = self._unwrapper.feed(positions[:, self._keep], cells)
        mobile = u[:, :self._n]
        com = (np.einsum("tni,n->ti", u[:, self._n:], self._weights) / self._weights.sum()
               if self._fw.size else np.zeros((len(u), 3)))
        if self._origin is None:
            self._origin = np.concatenate([mobile[0], com[:1]])
        mobile -= self._origin[:-1]
        mobile -= (com - self._origin[-1])[:, None, :]
        return mobile


def _check_finite(positions: np.ndarray, cells: np.ndarray, start: int, symbols) -> None:
    """Raise a :class:`UserInputError` naming the first frame with a NaN/inf or a flat cell."""
    if not np.isfinite(positions).all():
        t, i = np.argwhere(~np.isfinite(positions).all(axis=-1))[0]
        raise UserInputError(f"frame {start + t} has a non-finite position (NaN or inf) for atom "
                             f"{i} ({symbols[i]}); the file is corrupt there: cut the trajectory "
                             "before that frame")
    volumes = np.abs(np.linalg.det(cells)) if np.isfinite(cells).all() else np.zeros(len(cells))
    if (volumes < 1e-6).any():
        t = int(np.flatnonzero(volumes < 1e-6)[0])
        raise UserInputError(f"frame {start + t} has a missing, flat or non-finite cell; a "
                             "transport analysis needs a periodic cell in every frame")


def nn_distance(positions: np.ndarray, cell: np.ndarray, *, max_atoms: int = 500) -> float | None:
    """Median nearest-neighbour distance among ``positions`` under periodic boundaries.

    Parameters
    ----------
    positions : ndarray, shape (n_atoms, 3)
        Cartesian positions, Å.
    cell : ndarray, shape (3, 3)
        Cell vectors as rows, Å.
    max_atoms : int
        Use at most this many atoms (evenly spaced) for large systems.

    Returns
    -------
    float or None
        Median over atoms of the distance to the nearest other atom (the minimum over the
        27 nearest images, exact for any cell shape), Å; None for fewer than two atoms.
    """
    positions = np.asarray(positions, dtype=float)[:: max(1, -(-len(positions) // max_atoms))]
    if len(positions) < 2:
        return None
    frac = positions @ np.linalg.inv(cell)
    shifts = np.array(np.meshgrid([-1, 0, 1], [-1, 0, 1], [-1, 0, 1])).reshape(3, -1).T @ cell
    nearest = np.full(len(frac), np.inf)
    for a in range(0, len(frac), 64):
        d = frac[None, :] - frac[a:a + 64, None]
        d = (d - np.round(d)) @ cell  # (c, n, 3), reduced into the cell
        best = np.full(d.shape[:2], np.inf)
        for shift in shifts:
            np.minimum(best, np.linalg.norm(d + shift, axis=-1), out=best)
        best[np.arange(len(best)), np.arange(a, a + len(best))] = np.inf  # not itself
        nearest[a:a + 64] = best.min(axis=1)
    return float(np.median(nearest))
