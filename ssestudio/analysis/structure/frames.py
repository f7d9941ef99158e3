"""The frames a structure analysis reads: one structure, several, a trajectory or a file.

:func:`open_frames` turns any of these into a :class:`FrameSet`, the selected frames
(``start:stop:stride``, Python slice rules) of one fixed set of atoms, read in chunks of
frames so that long trajectories never sit in memory whole. Every analysis of this
package goes through it, so they all accept the same inputs and the same selection.

Units: positions and cells Å, times fs, masses amu.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Union

import numpy as np

from ssestudio.core.errors import UserInputError

if TYPE_CHECKING:
    from ase import Atoms

    from ssestudio.io import Trajectory

#: Anything the analyses accept: an ``ase.Atoms``, a sequence of them, a
#: :class:`~ssestudio.io.Trajectory`, or a path that ssestudio.io or ``ase.io`` reads.
Source = Union["Atoms", Sequence["Atoms"], "Trajectory", str, Path, "FrameSet"]

#: Bytes of positions read per chunk of frames.
CHUNK_BYTES = 32 * 2**20


@dataclass(frozen=True)
class FrameSelection:
    """Which frames to analyse, with Python slice semantics (negative indices count from
    the end; ``None`` means the default of a slice).

    Attributes
    ----------
    start, stop : int or None
        First frame and one past the last.
    stride : int or None
        Step between frames (>= 1).
    """

    start: int | None = None
    stop: int | None = None
    stride: int | None = None

    def indices(self, n_frames: int) -> np.ndarray:
        """Selected frame indices of a trajectory with ``n_frames`` frames.

        Raises
        ------
        UserInputError
            A stride below 1, or a selection that holds no frame.
        """
        if self.stride is not None and int(self.stride) < 1:
            raise UserInputError(f"stride must be >= 1, got {self.stride}")
        for name, value in (("start", self.start), ("stop", self.stop)):
            if value is not None and not isinstance(value, (int, np.integer)):
                raise UserInputError(f"{name} must be an integer frame index, got {value!r}")
        idx = np.arange(n_frames)[slice(self.start, self.stop, self.stride)]
        if idx.size == 0:
            raise UserInputError(
                f"the frame selection start={self.start}, stop={self.stop}, stride={self.stride} "
                f"holds no frame of a trajectory with {n_frames} frames; widen it (frames are "
                f"0..{n_frames - 1}, negative indices count from the end)")
        return idx


class FrameSet:
    """Selected frames of one set of atoms, read lazily in chunks.

    Use :func:`open_frames` to make one; it is a context manager that closes the file it
    opened (and only that).

    Attributes
    ----------
    trajectory : Trajectory
        The underlying reader.
    indices : ndarray of int, shape (n_frames,)
        Selected frame indices of ``trajectory``.
    symbols : tuple of str, length n_atoms
        Chemical symbols.
    pbc : tuple of bool
        Periodicity (of the first selected frame).
    label : str
        Where the frames came from (file names or ``"memory"``).
    """

    def __init__(self, trajectory: Trajectory, selection: FrameSelection, *,
                 owned: bool = False) -> None:
        self.trajectory = trajectory
        self._owned = owned
        n = trajectory.n_frames
        if n == 0:
            raise UserInputError("the trajectory holds no frame yet; wait for frames or pick "
                                 "another file")
        self.indices = selection.indices(n)
        self.selection = selection
        self.symbols = tuple(trajectory.symbols)
        self.pbc = tuple(bool(p) for p in trajectory[int(self.indices[0])].pbc)
        self.label = ", ".join(trajectory.info.sources) or "memory"

    # ---- what the analyses use -------------------------------------------------
    @property
    def n_frames(self) -> int:
        """Number of selected frames."""
        return len(self.indices)

    @property
    def n_atoms(self) -> int:
        """Number of atoms."""
        return len(self.symbols)

    @property
    def species(self) -> tuple[str, ...]:
        """Distinct species in order of atomic number (``("Li", "P", "S")``)."""
        from ase.data import atomic_numbers

        return tuple(sorted(set(self.symbols), key=lambda s: atomic_numbers[s]))

    @property
    def masses(self) -> np.ndarray:
        """Atomic masses, shape (n_atoms,), amu."""
        return np.asarray(self.trajectory.masses, dtype=float)

    def species_index(self) -> np.ndarray:
        """Index into :attr:`species` of each atom, shape (n_atoms,)."""
        lookup = {s: k for k, s in enumerate(self.species)}
        return np.array([lookup[s] for s in self.symbols], dtype=np.int64)

    def cells(self) -> np.ndarray:
        """Cells of the selected frames, shape (n_frames, 3, 3), Å (vectors as rows)."""
        return np.asarray(self.trajectory.cells(self.indices), dtype=float)

    def times_fs(self) -> np.ndarray:
        """Times of the selected frames, shape (n_frames,), fs."""
        return np.asarray(self.trajectory.times_fs(self.indices), dtype=float)

    def chunks(self) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
        """Yield ``(where, positions, cells)`` chunk by chunk.

        ``where`` is the slice of the selected frames the chunk covers; ``positions`` has
        shape (k, n_atoms, 3) and ``cells`` shape (k, 3, 3), Å.
        """
        step = max(1, CHUNK_BYTES // max(1, 24 * self.n_atoms))
        for lo in range(0, self.n_frames, step):
            idx = self.indices[lo:lo + step]
            yield (slice(lo, lo + len(idx)), np.asarray(self.trajectory.positions(idx), float),
                   np.asarray(self.trajectory.cells(idx), float))

    def frames(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """Yield ``(k, positions, cell)`` for each selected frame ``k = 0..n_frames-1``."""
        for where, pos, cells in self.chunks():
            for k in range(len(pos)):
                yield where.start + k, pos[k], cells[k]

    def require_periodic(self, what: str) -> None:
        """Raise :class:`UserInputError` unless the frames are periodic in 3D."""
        if not all(self.pbc):
            raise UserInputError(
                f"{what} needs a cell periodic in all three directions, but pbc={self.pbc}; "
                "set atoms.pbc = True with a cell around the atoms (e.g. atoms.center(vacuum=10))")
        volumes = np.abs(np.linalg.det(self.cells()))
        if not np.all(volumes > 1e-6):
            raise UserInputError(f"{what} needs a cell of non-zero volume; frame "
                                 f"{int(self.indices[np.argmin(volumes)])} has none")

    # ---- context manager ---------------------------------------------------------
    def close(self) -> None:
        """Close the trajectory if :func:`open_frames` opened it."""
        if self._owned:
            self.trajectory.close()

    def __enter__(self) -> FrameSet:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<FrameSet {self.n_frames} frames x {self.n_atoms} atoms from {self.label}>"


def open_frames(source: Source, *, start: int | None = None, stop: int | None = None,
                stride: int | None = None, format: str | None = None) -> FrameSet:
    """Open the selected frames of any input the structure analyses accept.

    Parameters
    ----------
    source : ase.Atoms, sequence of ase.Atoms, Trajectory, FrameSet, str or Path
        One structure, several (same atoms in the same order), an open trajectory, or a
        file: a trajectory format of :mod:`ssestudio.io` (native ``.h5``, XDATCAR, extended
        XYZ, ASE ``.traj``, LAMMPS dump) or anything ``ase.io.read`` reads (CIF, POSCAR, ...).
        A FrameSet keeps its selection unless start/stop/stride are given, which then
        select from its whole trajectory.
    start, stop, stride : int, optional
        Frame selection, as in ``frames[start:stop:stride]``.
    format : str, optional
        :mod:`ssestudio.io` reader name for a file (detected otherwise).

    Returns
    -------
    FrameSet
        Closes the file it opened when used as a context manager.

    Raises
    ------
    UserInputError
        A missing or unreadable file, structures with different atoms, an empty selection.
    """
    selection = FrameSelection(start, stop, stride)
    if isinstance(source, FrameSet) and selection == FrameSelection():
        return FrameSet(source.trajectory, source.selection, owned=False)
    trajectory, owned = _as_trajectory(source, format=format)
    try:
        return FrameSet(trajectory, selection, owned=owned)
    except Exception:
        if owned:
            trajectory.close()
        raise


def _as_trajectory(source, *, format: str | None) -> tuple[Trajectory, bool]:
    from ase import Atoms

    from ssestudio.io import AtomsTrajectory, Trajectory

    if isinstance(source, FrameSet):
        return source.trajectory, False
    if isinstance(source, Trajectory):
        return source, False
    if isinstance(source, Atoms):
        return AtomsTrajectory([source], label=source.get_chemical_formula()), False
    if isinstance(source, (str, Path)):
        return _read_file(Path(source), format=format), True
    items = list(source)
    if items and all(isinstance(a, Atoms) for a in items):
        return AtomsTrajectory(items, label="structures"), False
    raise UserInputError(f"cannot analyse a {type(source).__name__}: pass an ase.Atoms, a list of "
                         "them, a Trajectory (ssestudio.io.open_trajectory) or a file path")


def _read_file(path: Path, *, format: str | None) -> Trajectory:
    from ssestudio.io import AtomsTrajectory, detect_format, open_trajectory

    if not path.is_file():
        raise UserInputError(f"file {path} does not exist; give the path of a structure or "
                             "trajectory file (or, on the command line, a workspace trajectory)")
    if format is None:
        try:
            detect_format(path)
        except UserInputError:
            return AtomsTrajectory(_ase_read(path), label=str(path))
    return open_trajectory(path, format=format)


def _ase_read(path: Path) -> list:
    import ase.io

    try:
        images = ase.io.read(str(path), index=":")
    except Exception as exc:  # ase raises many types for unknown or broken files
        raise UserInputError(f"neither ssestudio.io nor ase.io can read {path}: {exc}; give a "
                             "trajectory (.h5, XDATCAR, .extxyz, .traj, LAMMPS dump) or a "
                             "structure file (CIF, POSCAR, ...)") from exc
    images = images if isinstance(images, list) else [images]
    if not images:
        raise UserInputError(f"{path} holds no structure")
    return images
