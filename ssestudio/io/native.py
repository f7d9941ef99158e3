"""Native trajectory file: HDF5 laid out after H5MD, written incrementally and crash-safe.

Layout (H5MD 1.1, doi:10.1016/j.cpc.2014.01.018): per-frame quantities are groups with
``value`` (T, ...), ``step`` (T,) and ``time`` (T,, fs), the last two shared by hard links::

    /h5md                           version=[1, 1]; creator/ (name, version), author/
    /particles/all/species, mass    (N,) atomic numbers, (N,) amu
    /particles/all/position         value (T, N, 3) Å
    /particles/all/box              dimension=3, boundary; edges/value (T, 3, 3) Å, rows
    /particles/all/velocity, force  optional, value (T, N, 3) Å/fs, eV/Å
    /observables/potential_energy   value (T,) eV, NaN where unknown
    /observables/stress             optional, value (T, 6) eV/Å^3, Voigt, ASE sign
    /parameters                     attrs timestep_fs (if known), metadata_json

Choices: datasets are resizable, uncompressed, chunked along time in ~512 KiB chunks (21
frames of 1,000 atoms): a random frame costs one small read, appending no compression.
Positions, velocities and forces are float64 by default (exact round trips; unwrapped
coordinates of long runs keep sub-µÅ resolution); ``precision="float32"`` halves the
file (~1e-5 Å at 100 Å). The writer turns on HDF5 SWMR once all datasets exist, so every
flush leaves a consistent file: a writer killed even by SIGKILL loses only unflushed
frames, and readers can follow a growing file (:meth:`NativeTrajectory.refresh`). The
frame count is the shortest per-frame dataset, so a half-appended frame is never seen.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Literal, Sequence

import h5py
import numpy as np

from ssestudio.core.errors import TrajectoryFormatError, UserInputError
from ssestudio.core.units import FS
from ssestudio.io.base import Frame, Trajectory, TrajectoryInfo, check_symbols
from ssestudio.io.registry import check_positive, register_reader

_POS, _BOX, _VEL, _FRC = ("particles/all/position", "particles/all/box/edges",
                          "particles/all/velocity", "particles/all/force")
_ENE, _STR = "observables/potential_energy", "observables/stress"
_CHUNK_BYTES = 512 * 1024


def _check_target(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise UserInputError(f"{path} already exists; pass overwrite=True to replace it")
    if not path.parent.is_dir():
        raise UserInputError(f"folder {path.parent} does not exist; create it first")


class TrajectoryWriter:
    """Append frames to a native trajectory file, flushing as it goes.

    Parameters
    ----------
    path : str or Path
        File to create (``.h5``).
    symbols : sequence of str, length n_atoms
        Chemical symbols.
    masses : array_like, shape (n_atoms,), optional
        Masses, amu; ASE's standard atomic masses when omitted.
    timestep_fs : float, optional
        Time between frames, fs; used for frames appended without ``time_fs``.
    store_velocities, store_forces, store_stress : bool
        Create these per-frame datasets (they cannot be added once writing started).
    metadata : dict, optional
        JSON-serialisable provenance, stored in ``/parameters`` as ``metadata_json``.
    flush_every : int
        Flush to disk every this many frames; flushed frames survive a crash.
    precision : {"float64", "float32"}
        Floating type of positions, velocities and forces.
    overwrite : bool
        Replace an existing file instead of refusing.
    expected_frames : int, optional
        Final frame count when known (conversions): caps the chunk length so that a
        short trajectory does not occupy whole 512 KiB chunks.

    Examples
    --------
    >>> with TrajectoryWriter("md.h5", ["Li", "Cl"], timestep_fs=2.0) as w:   # doctest: +SKIP
    ...     w.append(positions, cell, energy=-3.2)
    """

    def __init__(self, path: str | Path, symbols: Sequence[str], masses: np.ndarray | None = None,
                 *, timestep_fs: float | None = None, store_velocities: bool = False,
                 store_forces: bool = False, store_stress: bool = False,
                 metadata: dict | None = None, flush_every: int = 1,
                 precision: Literal["float64", "float32"] = "float64", overwrite: bool = False,
                 expected_frames: int | None = None):
        from ase.data import atomic_masses, atomic_numbers

        self.path = Path(path)
        self.symbols = check_symbols(symbols)
        numbers = np.array([atomic_numbers[s] for s in self.symbols], dtype=np.int32)
        masses = atomic_masses[numbers] if masses is None else np.asarray(masses, dtype=float)
        if masses.shape != numbers.shape:
            raise UserInputError(f"masses has shape {masses.shape}, expected ({len(numbers)},)")
        if precision not in ("float64", "float32"):
            raise UserInputError(f"precision must be 'float64' or 'float32', got {precision!r}")
        check_positive(timestep_fs=timestep_fs)
        if int(flush_every) < 1:
            raise UserInputError(f"flush_every must be >= 1, got {flush_every}")
        _check_target(self.path, overwrite)
        self.timestep_fs, self.flush_every, self._n = timestep_fs, int(flush_every), 0
        self._dtype, self._max_chunk = np.dtype(precision), max(1, int(expected_frames or 4096))
        self._file = h5py.File(self.path, "w", libver="latest")
        try:
            self._create_layout(numbers, masses, metadata or {})
            self._create_series(store_velocities, store_forces, store_stress)
            #: Optional per-frame quantities this file stores.
            self.stored = frozenset(k for k, on in (("velocities", store_velocities),
                                                    ("forces", store_forces),
                                                    ("stress", store_stress)) if on)
            self._file.swmr_mode = True  # no new datasets or attributes after this
        except BaseException:
            self._file.close()
            raise

    def _create_layout(self, numbers: np.ndarray, masses: np.ndarray, metadata: dict) -> None:
        from ssestudio.core.version import code_version

        f = self._file
        f.create_group("h5md").attrs["version"] = np.array([1, 1], dtype=np.int32)
        f.create_group("h5md/creator").attrs.update({"name": "ssestudio", "version": code_version()})
        f.create_group("h5md/author").attrs["name"] = str(metadata.get("author", "unknown"))
        particles = f.create_group("particles/all")
        particles.create_dataset("species", data=numbers)
        particles.create_dataset("mass", data=masses).attrs["unit"] = "amu"
        box = particles.create_group("box")
        box.attrs.update({"dimension": 3, "boundary": np.array([b"periodic"] * 3)})
        params = f.create_group("parameters")
        params.attrs["metadata_json"] = json.dumps(
            metadata, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
        if self.timestep_fs is not None:
            params.attrs["timestep_fs"] = float(self.timestep_fs)

    def _create_series(self, velocities: bool, forces: bool, stress: bool) -> None:
        n = len(self.symbols)
        self._values: dict[str, h5py.Dataset] = {}
        self._series(_POS, (n, 3), self._dtype, "angstrom")
        self._series(_BOX, (3, 3), np.float64, "angstrom")
        self._series(_ENE, (), np.float64, "eV")
        for flag, name, shape, dtype, unit in (
                (velocities, _VEL, (n, 3), self._dtype, "angstrom/fs"),
                (forces, _FRC, (n, 3), self._dtype, "eV/angstrom"),
                (stress, _STR, (6,), np.float64, "eV/angstrom^3")):
            if flag:
                self._series(name, shape, dtype, unit)

    def _series(self, name: str, shape: tuple[int, ...], dtype, unit: str) -> None:
        group = self._file.create_group(name)
        frame_bytes = math.prod(shape) * np.dtype(dtype).itemsize
        chunk = int(np.clip(_CHUNK_BYTES // frame_bytes, 1, min(4096, self._max_chunk)))
        ds = group.create_dataset("value", shape=(0, *shape), maxshape=(None, *shape),
                                  dtype=dtype, chunks=(chunk, *shape), fillvalue=np.nan)
        ds.attrs["unit"] = unit
        self._values[name] = ds
        if name == _POS:
            self._step = group.create_dataset("step", shape=(0,), maxshape=(None,),
                                              dtype=np.int64, chunks=(4096,))
            self._time = group.create_dataset("time", shape=(0,), maxshape=(None,),
                                              dtype=np.float64, chunks=(4096,))
            self._time.attrs["unit"] = "fs"
        else:
            group["step"], group["time"] = self._step, self._time  # H5MD shared hard links

    @property
    def n_frames(self) -> int:
        """Frames appended so far."""
        return self._n

    def append(self, positions: np.ndarray, cell: np.ndarray, *, time_fs: float | None = None,
               velocities: np.ndarray | None = None, energy: float | None = None,
               forces: np.ndarray | None = None, stress: np.ndarray | None = None) -> None:
        """Append one frame.

        Parameters
        ----------
        positions : ndarray, shape (n_atoms, 3)
            Cartesian positions, Å.
        cell : ndarray, shape (3, 3)
            Cell vectors as rows, Å.
        time_fs : float, optional
            Time of the frame, fs; ``frame_index * timestep_fs`` (or the index) if omitted.
        energy : float, optional
            Potential energy, eV.
        velocities, forces, stress : ndarray, optional
            Shapes (n_atoms, 3), (n_atoms, 3), (6,); Å per ASE time unit (stored as Å/fs),
            eV/Å, Voigt eV/Å^3. Each needs its ``store_*=True`` flag.
        """
        def one(x):
            return None if x is None else np.asarray(x, dtype=float)[None]

        self.extend(one(positions), one(cell), times_fs=one(time_fs), velocities=one(velocities),
                    energies=one(np.nan if energy is None else energy), forces=one(forces),
                    stresses=one(stress))

    def extend(self, positions: np.ndarray, cells: np.ndarray, *, times_fs: np.ndarray | None = None,
               velocities: np.ndarray | None = None, energies: np.ndarray | None = None,
               forces: np.ndarray | None = None, stresses: np.ndarray | None = None) -> None:
        """Append several frames at once; arguments as :meth:`append` with a leading
        frame axis (``cells`` may be one (3, 3) cell for all). Missing optional
        quantities of a stored kind are written as NaN."""
        positions = np.asarray(positions, dtype=float)
        n_atoms = len(self.symbols)
        if positions.ndim != 3 or positions.shape[1:] != (n_atoms, 3):
            raise UserInputError(f"positions must have shape (n_frames, {n_atoms}, 3), got "
                                 f"{positions.shape}")
        k, n0 = len(positions), self._n
        data = {_POS: positions, _BOX: np.broadcast_to(np.asarray(cells, dtype=float), (k, 3, 3)),
                _ENE: np.full(k, np.nan) if energies is None else energies,
                _VEL: None if velocities is None else np.asarray(velocities, dtype=float) * FS,
                _FRC: forces, _STR: stresses}
        for name, label in ((_VEL, "velocities"), (_FRC, "forces"), (_STR, "stress")):
            if data[name] is not None and name not in self._values:
                raise UserInputError(f"{label} given but the writer does not store them; "
                                     f"create it with store_{label}=True")
        if times_fs is None:
            times_fs = (n0 + np.arange(k)) * (self.timestep_fs or 1.0)
        for name, ds in self._values.items():
            ds.resize(n0 + k, axis=0)
            if data[name] is not None:
                ds[n0:n0 + k] = np.broadcast_to(data[name], (k, *ds.shape[1:]))
        for ds, values in ((self._step, n0 + np.arange(k)), (self._time, times_fs)):
            ds.resize(n0 + k, axis=0)
            ds[n0:n0 + k] = np.broadcast_to(values, (k,))
        self._n = n0 + k
        if self._n // self.flush_every > n0 // self.flush_every:
            self.flush()

    def append_atoms(self, atoms, *, time_fs: float | None = None) -> None:
        """Append an :class:`ase.Atoms`, with its velocities and its calculator's stored
        energy/forces/stress where this writer stores them (no calculation is run)."""
        if tuple(atoms.get_chemical_symbols()) != self.symbols:
            raise UserInputError(f"atoms {atoms.get_chemical_formula()} differ from the "
                                 "writer's symbols; a trajectory keeps the same atoms in order")
        results = atoms.calc.results if atoms.calc is not None else {}
        stress = results.get("stress") if _STR in self._values else None
        if stress is not None and np.size(stress) == 9:  # full tensor to Voigt xx yy zz yz xz xy
            stress = np.asarray(stress).reshape(3, 3)[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]
        self.append(atoms.positions, atoms.cell[:], time_fs=time_fs,
                    velocities=atoms.get_velocities() if _VEL in self._values else None,
                    energy=results.get("energy"), stress=stress,
                    forces=results.get("forces") if _FRC in self._values else None)

    def flush(self) -> None:
        """Write buffered frames to disk; after this they survive a crash."""
        if self._file.id.valid:
            self._file.flush()

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        if self._file.id.valid:
            self._file.flush()
            self._file.close()

    def __enter__(self) -> "TrajectoryWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _open_h5(path: Path) -> tuple[h5py.File, bool]:
    """Open for SWMR reading (our files, also while written or after a crashed writer),
    else normally; return the file and whether SWMR is on."""
    try:
        return h5py.File(path, "r", libver="latest", swmr=True, rdcc_nbytes=16 << 20), True
    except OSError:
        try:
            return h5py.File(path, "r", rdcc_nbytes=16 << 20), False
        except OSError as exc:
            raise TrajectoryFormatError(f"{path} cannot be opened as HDF5 ({exc}); it is corrupt, "
                                        "not HDF5, or open for writing without SWMR") from exc


def _take(ds: h5py.Dataset, indices: np.ndarray) -> np.ndarray:
    """``ds[indices]`` along axis 0 for any order and repeats, with few HDF5 reads."""
    indices = np.asarray(indices, dtype=np.int64)
    if not len(indices):
        return np.empty((0, *ds.shape[1:]), dtype=ds.dtype)
    lo, hi = int(indices.min()), int(indices.max()) + 1
    if hi - lo <= 4 * len(indices):
        return ds[lo:hi][indices - lo]
    unique, inverse = np.unique(indices, return_inverse=True)
    out = np.empty((len(unique), *ds.shape[1:]), dtype=ds.dtype)
    for k, i in enumerate(unique):
        ds.read_direct(out, np.s_[int(i)], np.s_[k])
    return out[inverse]


@register_reader("native", suffixes=(".h5", ".h5md", ".hdf5"),
                 sniff=lambda head: head.startswith(b"\x89HDF\r\n\x1a\n"))
class NativeTrajectory(Trajectory):
    """Reader of native (H5MD-style) trajectory files, also while they are written.

    Parameters
    ----------
    path : str or Path
        The ``.h5`` file.
    timestep_fs : float, optional
        Time between frames, fs, for a file written without one (its stored times are
        then frame indices); a file's own time step wins (with a warning if different).

    Raises
    ------
    TrajectoryFormatError
        Not HDF5, or not laid out as described in this module.
    """

    def __init__(self, path: str | Path, *, timestep_fs: float | None = None):
        from ase.data import chemical_symbols

        self._file, self._swmr = _open_h5(Path(path))
        f = self._file
        needed = ("particles/all/species", "particles/all/mass", _POS + "/time", _BOX + "/value")
        if not all(name in f for name in needed):
            f.close()
            raise TrajectoryFormatError(f"{path} is HDF5 but not an ssestudio trajectory: it "
                                        f"lacks one of /{', /'.join(needed)}")
        self.symbols = tuple(chemical_symbols[int(z)] for z in f["particles/all/species"][()])
        self.masses = f["particles/all/mass"][()].astype(float)
        self._ds = {name: f[name + "/value"] for name in (_POS, _BOX, _VEL, _FRC, _ENE, _STR)
                    if name + "/value" in f}
        self._per_frame = [*self._ds.values(), f[_POS + "/step"], f[_POS + "/time"]]
        params = f["parameters"].attrs
        file_dt = float(params["timestep_fs"]) if "timestep_fs" in params else None
        if None not in (file_dt, timestep_fs) and abs(file_dt - timestep_fs) > 1e-9 * file_dt:
            warnings.warn(f"{path} records timestep_fs={file_dt}; ignoring timestep_fs="
                          f"{timestep_fs}", stacklevel=2)
        self._index_dt = timestep_fs if file_dt is None else None
        self.info = TrajectoryInfo(
            format="native", sources=(str(path),), timestep_fs=file_dt or self._index_dt,
            has_velocities=_VEL in self._ds, has_forces=_FRC in self._ds,
            has_energies=bool(np.isfinite(self._ds[_ENE][()]).any()) if _ENE in self._ds else False,
            extra={"metadata": json.loads(params.get("metadata_json", "{}")),
                   "creator": dict(f["h5md/creator"].attrs) if "h5md/creator" in f else {},
                   "has_stress": _STR in self._ds, "swmr": self._swmr,
                   "precision": str(self._ds[_POS].dtype)})
        self._n = min(ds.shape[0] for ds in self._per_frame)

    def refresh(self) -> int:
        """Re-read the extent of a file being written; return the new ``n_frames``.

        Only files opened in SWMR mode (all files this package writes) can grow; for
        others the count is unchanged.
        """
        if self._swmr:
            for ds in self._per_frame:
                ds.refresh()
            self._n = min(ds.shape[0] for ds in self._per_frame)
        return self._n

    def _n_frames(self) -> int:
        return self._n

    def _read_positions(self, indices: np.ndarray) -> np.ndarray:
        return _take(self._ds[_POS], indices).astype(float, copy=False)

    def _read_cells(self, indices: np.ndarray) -> np.ndarray:
        return _take(self._ds[_BOX], indices).astype(float, copy=False)

    def _read_times_fs(self, indices: np.ndarray) -> np.ndarray:
        if self._index_dt is not None:
            return np.asarray(indices, dtype=float) * self._index_dt
        return _take(self._file[_POS + "/time"], indices).astype(float, copy=False)

    def _optional(self, name: str, index: int) -> np.ndarray | None:
        value = self._ds[name][index] if name in self._ds else np.nan
        return None if np.isnan(value).all() else np.asarray(value, dtype=float)

    def _read_frame(self, index: int) -> Frame:
        idx = np.array([index])
        energy, velocities = self._optional(_ENE, index), self._optional(_VEL, index)
        return Frame(index=index, positions=self._read_positions(idx)[0],
                     cell=self._read_cells(idx)[0], time_fs=float(self._read_times_fs(idx)[0]),
                     velocities=None if velocities is None else velocities / FS,
                     energy=None if energy is None else float(energy),
                     forces=self._optional(_FRC, index), stress=self._optional(_STR, index))

    def close(self) -> None:
        """Close the HDF5 file (idempotent)."""
        if self._file.id.valid:
            self._file.close()
