"""The one trajectory reader interface every format implements.

A :class:`Trajectory` gives lazy, random access to frames of a fixed set of atoms.
Readers implement a handful of private methods; everything else (bulk reads, iteration,
conversion to ASE) comes from this base class, in the spirit of ASE's ``Calculator``.

Units: positions and cells in Å, velocities in Å per ASE time unit, energies in eV,
forces in eV/Å, stress in eV/Å^3 (Voigt order xx, yy, zz, yz, xz, xy, ASE's sign
convention), masses in amu, times in fs (the name says so: ``times_fs``).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np

from ssestudio.core.errors import UserInputError


@dataclass(frozen=True)
class Frame:
    """One frame of a trajectory.

    Attributes
    ----------
    index : int
        Frame index within the trajectory (0-based).
    positions : ndarray, shape (n_atoms, 3)
        Cartesian positions in Å, as stored in the file (usually wrapped into the cell).
    cell : ndarray, shape (3, 3)
        Cell vectors as rows, Å.
    time_fs : float
        Simulation time of the frame, fs.
    pbc : tuple of bool
        Periodicity along each cell vector.
    velocities : ndarray, shape (n_atoms, 3), optional
        Å per ASE time unit.
    energy : float, optional
        Potential energy, eV.
    forces : ndarray, shape (n_atoms, 3), optional
        eV/Å.
    stress : ndarray, shape (6,), optional
        Voigt stress, eV/Å^3.
    """

    index: int
    positions: np.ndarray
    cell: np.ndarray
    time_fs: float
    pbc: tuple[bool, bool, bool] = (True, True, True)
    velocities: np.ndarray | None = None
    energy: float | None = None
    forces: np.ndarray | None = None
    stress: np.ndarray | None = None


@dataclass(frozen=True)
class TrajectoryInfo:
    """Metadata that travels with a trajectory.

    Attributes
    ----------
    format : str
        Registry name of the reader (``"xdatcar"``, ``"extxyz"``, ``"ase-traj"``,
        ``"lammps-dump"``, ``"native"``).
    sources : tuple of str
        Files read, in order (several for multi-segment trajectories).
    timestep_fs : float or None
        Time between consecutive frames, fs, when constant and known.
    has_velocities, has_energies, has_forces : bool
        Which optional per-frame quantities the file holds.
    extra : dict
        Format-specific metadata (e.g. comment lines, MD time step, writer).
    """

    format: str
    sources: tuple[str, ...]
    timestep_fs: float | None = None
    has_velocities: bool = False
    has_energies: bool = False
    has_forces: bool = False
    extra: dict = field(default_factory=dict)


class Trajectory(abc.ABC):
    """Lazy, random-access trajectory of a fixed set of atoms.

    Subclasses set ``symbols``, ``masses``, ``info`` in ``__init__`` and implement
    :meth:`_n_frames`, :meth:`_read_frame`; they may override :meth:`_read_positions`
    and :meth:`_read_cells` with faster bulk reads and :meth:`refresh` when the file can
    grow while it is read.

    Attributes
    ----------
    symbols : tuple of str, length n_atoms
        Chemical symbols.
    masses : ndarray, shape (n_atoms,)
        Atomic masses, amu.
    info : TrajectoryInfo
        Format, sources and metadata.
    """

    symbols: tuple[str, ...]
    masses: np.ndarray
    info: TrajectoryInfo

    # ---- what a reader implements -------------------------------------------------
    @abc.abstractmethod
    def _n_frames(self) -> int:
        """Number of complete frames currently readable."""

    @abc.abstractmethod
    def _read_frame(self, index: int) -> Frame:
        """Read frame ``index`` (already validated, 0 <= index < n_frames)."""

    def _read_positions(self, indices: np.ndarray) -> np.ndarray:
        """Positions of the given frames, shape (len(indices), n_atoms, 3), Å."""
        out = np.empty((len(indices), self.n_atoms, 3))
        for k, i in enumerate(indices):
            out[k] = self._read_frame(int(i)).positions
        return out

    def _read_cells(self, indices: np.ndarray) -> np.ndarray:
        """Cells of the given frames, shape (len(indices), 3, 3), Å."""
        out = np.empty((len(indices), 3, 3))
        for k, i in enumerate(indices):
            out[k] = self._read_frame(int(i)).cell
        return out

    def _read_times_fs(self, indices: np.ndarray) -> np.ndarray:
        """Times of the given frames, shape (len(indices),), fs."""
        return np.array([self._read_frame(int(i)).time_fs for i in indices], dtype=float)

    def refresh(self) -> int:
        """Look for frames appended since the file was opened; return ``n_frames``.

        Static formats return the same count; the native format re-reads its extent so
        that a trajectory still being written can be followed.
        """
        return self.n_frames

    def close(self) -> None:
        """Release file handles (idempotent)."""

    # ---- the public API ------------------------------------------------------------
    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return self._n_frames()

    @property
    def n_atoms(self) -> int:
        """Number of atoms."""
        return len(self.symbols)

    @property
    def numbers(self) -> np.ndarray:
        """Atomic numbers, shape (n_atoms,)."""
        from ase.data import atomic_numbers

        return np.array([atomic_numbers[s] for s in self.symbols], dtype=int)

    @property
    def formula(self) -> str:
        """Reduced-order Hill-like formula of the whole cell, e.g. ``Cl32Li192P32S160``."""
        from ase.formula import Formula

        return Formula.from_list(list(self.symbols)).format("hill")

    def __len__(self) -> int:
        return self.n_frames

    def _index_array(self, frames: int | slice | Sequence[int] | np.ndarray | None) -> np.ndarray:
        n = self.n_frames
        if frames is None:
            return np.arange(n)
        if isinstance(frames, slice):
            return np.arange(n)[frames]
        idx = np.atleast_1d(np.asarray(frames, dtype=int))
        idx = np.where(idx < 0, idx + n, idx)
        bad = idx[(idx < 0) | (idx >= n)]
        if bad.size:
            raise IndexError(
                f"frame {int(bad[0])} is out of range: this trajectory has {n} frames "
                f"(valid indices 0..{n - 1} or negative from the end)"
            )
        return idx

    def __getitem__(self, index: int) -> Frame:
        if not isinstance(index, (int, np.integer)):
            raise TypeError("index a trajectory with an int; use positions(frames) for many")
        (i,) = self._index_array(int(index))
        return self._read_frame(int(i))

    def __iter__(self) -> Iterator[Frame]:
        for i in range(self.n_frames):
            yield self._read_frame(i)

    def positions(self, frames: int | slice | Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Positions of many frames.

        Parameters
        ----------
        frames : int, slice, sequence of int or None
            Which frames; ``None`` means all.

        Returns
        -------
        ndarray, shape (n_selected, n_atoms, 3)
            Positions in Å as stored (wrapped or not, as the file has them).
        """
        return self._read_positions(self._index_array(frames))

    def cells(self, frames: int | slice | Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Cells of many frames, shape (n_selected, 3, 3), Å (vectors as rows)."""
        return self._read_cells(self._index_array(frames))

    def times_fs(self, frames: int | slice | Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Times of many frames, shape (n_selected,), fs."""
        return self._read_times_fs(self._index_array(frames))

    def to_atoms(self, index: int):
        """Frame ``index`` as an :class:`ase.Atoms` with a single-point calculator when
        energies/forces are present."""
        from ase import Atoms
        from ase.calculators.singlepoint import SinglePointCalculator

        f = self[index]
        atoms = Atoms(symbols=list(self.symbols), positions=f.positions, cell=f.cell,
                      pbc=f.pbc, masses=self.masses)
        if f.velocities is not None:
            atoms.set_velocities(f.velocities)
        results = {k: v for k, v in (("energy", f.energy), ("forces", f.forces),
                                     ("stress", f.stress)) if v is not None}
        if results:
            atoms.calc = SinglePointCalculator(atoms, **results)
        return atoms

    def __enter__(self) -> "Trajectory":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.formula}: {self.n_frames} frames x "
                f"{self.n_atoms} atoms from {', '.join(self.info.sources) or '?'}>")


def check_symbols(symbols: Sequence[str]) -> tuple[str, ...]:
    """Validate chemical symbols; raise :class:`UserInputError` naming a bad one."""
    from ase.data import atomic_numbers

    out = tuple(str(s) for s in symbols)
    for s in out:
        if s not in atomic_numbers:
            raise UserInputError(
                f"{s!r} is not a chemical symbol; give species like 'Li', 'P', 'S' "
                "(for LAMMPS dumps pass type_map={1: 'Li', ...})"
            )
    return out


def info_from_frame(format: str, sources: Sequence[str], frame: Frame, *,
                    timestep_fs: float | None, extra: dict | None = None) -> TrajectoryInfo:
    """:class:`TrajectoryInfo` whose ``has_*`` flags say what ``frame`` (the first) holds."""
    return TrajectoryInfo(
        format=format, sources=tuple(str(s) for s in sources), timestep_fs=timestep_fs,
        has_velocities=frame.velocities is not None, has_energies=frame.energy is not None,
        has_forces=frame.forces is not None, extra=dict(extra or {}))
