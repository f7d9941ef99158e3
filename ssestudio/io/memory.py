"""An in-memory trajectory over :class:`ase.Atoms` objects (previews, dataset rows)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ssestudio.core.errors import UserInputError
from ssestudio.io.base import Frame, Trajectory, info_from_frame


class AtomsTrajectory(Trajectory):
    """Frames made of ``ase.Atoms`` objects with the same atoms in the same order.

    Parameters
    ----------
    images : sequence of ase.Atoms
        At least one; every image has the chemical symbols of the first.
    timestep_fs : float, optional
        Time between images, fs (frame indices otherwise).
    label : str
        Shown as the trajectory's source.

    Raises
    ------
    UserInputError
        No images, or images with different atoms (view those one at a time).
    """

    def __init__(self, images: Sequence, *, timestep_fs: float | None = None,
                 label: str = "memory") -> None:
        self._images = list(images)
        if not self._images:
            raise UserInputError("nothing to show: no structures were given")
        symbols = self._images[0].get_chemical_symbols()
        for i, atoms in enumerate(self._images[1:], start=1):
            if atoms.get_chemical_symbols() != symbols:
                raise UserInputError(f"structure {i} has different atoms from structure 0 "
                                     f"({atoms.get_chemical_formula()} vs "
                                     f"{self._images[0].get_chemical_formula()}): show them one "
                                     "at a time")
        self.symbols = tuple(symbols)
        self.masses = self._images[0].get_masses()
        self._timestep_fs = timestep_fs
        self.info = info_from_frame("memory", [label], self._read_frame(0),
                                    timestep_fs=timestep_fs)

    def _n_frames(self) -> int:
        return len(self._images)

    def _read_frame(self, index: int) -> Frame:
        atoms = self._images[index]
        results = getattr(atoms.calc, "results", {}) if atoms.calc is not None else {}
        stress = results.get("stress")
        return Frame(index=index, positions=np.array(atoms.positions, dtype=float),
                     cell=np.array(atoms.cell[:], dtype=float),
                     time_fs=float(index * (self._timestep_fs or 1.0)),
                     pbc=tuple(bool(p) for p in atoms.pbc),
                     energy=results.get("energy"), forces=results.get("forces"),
                     stress=None if stress is None else np.asarray(stress, dtype=float))
