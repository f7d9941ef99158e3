"""ASE ``.traj`` reader: a thin adapter over :class:`ase.io.Trajectory`.

ASE's ULM files already give random access; this adapter maps ``ase.Atoms`` to
:class:`~ssestudio.io.base.Frame`, reading energy, forces and stress from the stored
single-point results and velocities from stored momenta. No time is stored: pass
``timestep_fs``. A last frame that cannot be read (a run killed while writing) is dropped
with a warning; an unreadable frame before it raises
:class:`~ssestudio.core.errors.TrajectoryFormatError` when read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ssestudio.core.errors import TrajectoryFormatError
from ssestudio.io.base import Frame, Trajectory, info_from_frame
from ssestudio.io.registry import check_positive, register_reader, warn_dropped_frame


@register_reader("ase-traj", suffixes=(".traj",), sniff=lambda head: head.startswith(b"- of Ulm"))
class AseTrajectory(Trajectory):
    """Reader of ASE ``.traj`` files.

    Parameters
    ----------
    path : str or Path
        The ``.traj`` file.
    timestep_fs : float, optional
        Time between frames, fs; without it ``times_fs`` are frame indices and
        ``info.timestep_fs`` is ``None``.

    Raises
    ------
    TrajectoryFormatError
        Not an ASE trajectory, or no readable frame in it.
    """

    def __init__(self, path: str | Path, *, timestep_fs: float | None = None):
        from ase.io.trajectory import Trajectory as AseTraj

        check_positive(timestep_fs=timestep_fs)
        self._path, self._timestep_fs = Path(path), timestep_fs
        try:
            self._traj = AseTraj(str(path), "r")
        except Exception as exc:  # ULM raises its own and OS errors
            raise TrajectoryFormatError(f"{path} is not a readable ASE trajectory "
                                        f"({type(exc).__name__}: {exc})") from exc
        self._n = len(self._traj)
        if self._n and self._try_atoms(self._n - 1) is None:
            warn_dropped_frame(self._path, self._n - 1, "it cannot be read")
            self._n -= 1
        if not self._n:
            self._traj.close()
            raise TrajectoryFormatError(f"{path} holds no readable frame")
        first = self._atoms(0)
        self.symbols = tuple(first.get_chemical_symbols())
        self.masses = first.get_masses()
        self.info = info_from_frame("ase-traj", [path], self._frame_from_atoms(0, first),
                                    timestep_fs=timestep_fs)

    def _try_atoms(self, index: int):
        try:
            return self._traj[index]
        except Exception:  # noqa: BLE001 - any failure means "unreadable"
            return None

    def _atoms(self, index: int):
        atoms = self._try_atoms(index)
        if atoms is None:
            raise TrajectoryFormatError(f"{self._path}: frame {index} cannot be read; the "
                                        "file is corrupt")
        return atoms

    def _frame_from_atoms(self, index: int, atoms) -> Frame:
        results = atoms.calc.results if atoms.calc is not None else {}
        energy, forces, stress = (results.get(k) for k in ("energy", "forces", "stress"))
        if stress is not None and np.shape(stress) == (3, 3):
            from ase.stress import full_3x3_to_voigt_6_stress

            stress = full_3x3_to_voigt_6_stress(stress)
        return Frame(index=index, positions=atoms.positions.copy(), cell=atoms.cell[:].copy(),
                     time_fs=index * (self._timestep_fs or 1.0),
                     pbc=tuple(bool(p) for p in atoms.pbc),
                     velocities=atoms.get_velocities() if "momenta" in atoms.arrays else None,
                     energy=None if energy is None else float(energy),
                     forces=None if forces is None else np.array(forces, dtype=float),
                     stress=None if stress is None else np.array(stress, dtype=float))

    def _n_frames(self) -> int:
        return self._n

    def _read_frame(self, index: int) -> Frame:
        return self._frame_from_atoms(index, self._atoms(index))

    def _read_times_fs(self, indices: np.ndarray) -> np.ndarray:
        return np.asarray(indices, dtype=float) * (self._timestep_fs or 1.0)

    def close(self) -> None:
        """Close the ASE trajectory (idempotent)."""
        self._traj.close()
