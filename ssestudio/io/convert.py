"""Convert any trajectory to the native HDF5 format, and write lists of frames.

Conversion runs in chunks, reports progress and can be cancelled by the progress
callback raising; it writes ``<name>.partial`` and renames at the end, so an interrupted
conversion leaves no file that looks complete.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Literal

import numpy as np

from ssestudio.core.errors import UserInputError
from ssestudio.io.base import Frame, Trajectory
from ssestudio.io.native import TrajectoryWriter, _check_target

#: ``progress(fraction, message)``; raising from it cancels the conversion.
ProgressCallback = Callable[[float, str], None]

def _stack(frames: list[Frame], attr: str, shape: tuple[int, ...]) -> np.ndarray:
    """Stack an optional frame attribute, NaN where a frame lacks it."""
    return np.array([np.full(shape, np.nan) if getattr(f, attr) is None else getattr(f, attr)
                     for f in frames], dtype=float).reshape(len(frames), *shape)


def _copy_frames(src: Trajectory, writer: TrajectoryWriter, a: int, b: int, per_frame: bool) -> None:
    if not per_frame:  # bulk reads: the fast path for position-only formats
        sel = slice(a, b)
        writer.extend(src.positions(sel), src.cells(sel), times_fs=src.times_fs(sel))
        return
    frames = [src[i] for i in range(a, b)]
    n = src.n_atoms
    writer.extend(
        np.stack([f.positions for f in frames]), np.stack([f.cell for f in frames]),
        times_fs=np.array([f.time_fs for f in frames]),
        energies=_stack(frames, "energy", ()),
        velocities=_stack(frames, "velocities", (n, 3)) if "velocities" in writer.stored else None,
        forces=_stack(frames, "forces", (n, 3)) if "forces" in writer.stored else None,
        stresses=_stack(frames, "stress", (6,)) if "stress" in writer.stored else None)


def convert_trajectory(src: Trajectory, dst_path: str | Path, *,
                       progress: ProgressCallback | None = None, chunk: int = 256,
                       precision: Literal["float64", "float32"] = "float64",
                       metadata: dict | None = None, overwrite: bool = False) -> Path:
    """Convert any trajectory to a native file, in chunks, with progress and cancellation.

    Parameters
    ----------
    src : Trajectory
        Any opened trajectory (e.g. from :func:`open_trajectory`).
    dst_path : str or Path
        Target ``.h5`` file. Written as ``<name>.partial`` and renamed when complete, so
        a cancelled or failed conversion leaves no half file behind.
    progress : callable, optional
        ``progress(fraction, message)`` after every chunk, fraction in [0, 1]. Raising
        any exception from it cancels the conversion; the exception propagates.
    chunk : int
        Frames read and written per step.
    precision : {"float64", "float32"}
        See :class:`TrajectoryWriter`.
    metadata : dict, optional
        Extra provenance, merged over the source description.
    overwrite : bool
        Replace an existing target.

    Returns
    -------
    Path
        The written file.
    """
    dst, n, chunk, info = Path(dst_path), src.n_frames, max(1, int(chunk)), src.info
    _check_target(dst, overwrite)
    has_stress = n > 0 and src[0].stress is not None
    per_frame = has_stress or info.has_velocities or info.has_energies or info.has_forces
    meta = {"source_format": info.format, "sources": list(info.sources),
            "source_extra": info.extra, **(metadata or {})}
    tmp = dst.with_name(dst.name + ".partial")
    try:
        with TrajectoryWriter(tmp, src.symbols, src.masses, timestep_fs=info.timestep_fs,
                              store_velocities=info.has_velocities, store_forces=info.has_forces,
                              store_stress=has_stress, metadata=meta, flush_every=chunk,
                              precision=precision, overwrite=True, expected_frames=n) as writer:
            for a in range(0, n, chunk):
                b = min(n, a + chunk)
                _copy_frames(src, writer, a, b, per_frame)
                if progress is not None:
                    progress(b / n, f"converted {b} of {n} frames")
        tmp.replace(dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dst


def write_trajectory(path: str | Path, trajectory, *, timestep_fs: float | None = None,
                     metadata: dict | None = None,
                     precision: Literal["float64", "float32"] = "float64",
                     overwrite: bool = False, progress: ProgressCallback | None = None) -> Path:
    """Write a :class:`Trajectory` or a sequence of :class:`ase.Atoms` as a native file.

    Parameters
    ----------
    path : str or Path
        Target ``.h5`` file.
    trajectory : Trajectory or sequence of ase.Atoms
        What to write. Atoms keep velocities (when they have momenta) and their
        calculators' stored energy, forces and stress.
    timestep_fs : float, optional
        Time between the given Atoms, fs (a Trajectory brings its own).
    metadata, precision, overwrite, progress
        See :func:`convert_trajectory`.

    Returns
    -------
    Path
        The written file.
    """
    if isinstance(trajectory, Trajectory):
        return convert_trajectory(trajectory, path, progress=progress, precision=precision,
                                  metadata=metadata, overwrite=overwrite)
    images = list(trajectory)
    if not images:
        raise UserInputError("no frames to write: the list of Atoms is empty")
    first = images[0]
    results = first.calc.results if first.calc is not None else {}
    with TrajectoryWriter(path, first.get_chemical_symbols(), first.get_masses(),
                          timestep_fs=timestep_fs, store_velocities="momenta" in first.arrays,
                          store_forces="forces" in results, store_stress="stress" in results,
                          metadata=metadata, flush_every=256, precision=precision,
                          overwrite=overwrite) as writer:
        for k, atoms in enumerate(images):
            writer.append_atoms(atoms)
            if progress is not None and (k % 256 == 255 or k == len(images) - 1):
                progress((k + 1) / len(images), f"wrote {k + 1} of {len(images)} frames")
    return Path(path)
