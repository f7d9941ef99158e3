"""Checkpoints of an MD run, and reopening a trajectory to continue it.

A checkpoint holds everything the next step depends on: positions, momenta and cell
(float64, exact), the integrator's own variables (thermostat and barostat coordinates and
momenta, :attr:`~ssestudio.md.integrators.Integrator.state`), the state of the random
generator, where the run is (stage, step), how many frames and thermo lines each output
holds, and the statistics of the current stage. A resumed run therefore continues the
same trajectory as if it had not stopped (bit for bit with a deterministic calculator).

Files are ``.npz`` (arrays, plus one JSON string ``meta``; read without pickle), written
to a temporary name and renamed, so a run killed while saving keeps the previous one.

:func:`reopen_trajectory` cuts a native trajectory back to the frames a checkpoint
counts (a killed run may have written a few more) and returns a writer appending after
them: the frames are copied into a new file that replaces the old one, because HDF5
cannot reopen for writing a file whose SWMR writer was killed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ssestudio.core.errors import UserInputError

if TYPE_CHECKING:
    from ssestudio.io import TrajectoryWriter

#: Version of the checkpoint layout.
CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class Checkpoint:
    """The state of a protocol run after ``step`` steps of stage ``stage``.

    Attributes
    ----------
    stage, step : int
        Stage index and steps done in it.
    seed : int
        The protocol's seed.
    protocol : dict
        :meth:`~ssestudio.md.protocol.Protocol.to_dict` of the run (a resume checks it).
    numbers : ndarray, shape (n_atoms,)
        Atomic numbers.
    positions, momenta : ndarray, shape (n_atoms, 3)
        Å and amu Å / ASE time.
    cell : ndarray, shape (3, 3)
        Å, rows.
    pbc : ndarray of bool, shape (3,)
    integrator : dict of str to ndarray
        The integrator's variables (dotted attribute paths).
    rng_state : dict
        ``numpy.random.Generator.bit_generator.state``.
    outputs : dict
        Per output key: ``frames`` and ``rows`` written, ``step_offset`` and
        ``time_offset_fs`` of the current stage in that output.
    stats : dict of str to ndarray
        Per-frame statistics of the current stage so far.
    stage_results : tuple of dict
        :meth:`~ssestudio.md.runner.MDResult.to_dict` of the finished stages.
    extra : dict
        The caller's JSON data (e.g. a job's trajectory ids).
    """

    stage: int
    step: int
    seed: int
    protocol: dict
    numbers: np.ndarray
    positions: np.ndarray
    momenta: np.ndarray
    cell: np.ndarray
    pbc: np.ndarray
    integrator: dict[str, np.ndarray]
    rng_state: dict
    outputs: dict[str, dict]
    stats: dict[str, np.ndarray]
    stage_results: tuple[dict, ...] = ()
    extra: dict = field(default_factory=dict)

    def save(self, path: str | Path) -> Path:
        """Write atomically to ``path`` (``.npz``)."""
        path = Path(path)
        meta = {"version": CHECKPOINT_VERSION, "stage": self.stage, "step": self.step,
                "seed": self.seed, "protocol": self.protocol, "rng_state": self.rng_state,
                "outputs": self.outputs, "stage_results": list(self.stage_results),
                "extra": self.extra}
        arrays = {"numbers": self.numbers, "positions": self.positions,
                  "momenta": self.momenta, "cell": self.cell, "pbc": self.pbc,
                  "meta": np.array(json.dumps(meta))}
        arrays.update({f"integrator/{k}": v for k, v in self.integrator.items()})
        arrays.update({f"stats/{k}": v for k, v in self.stats.items()})
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
        return path


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint written by :meth:`Checkpoint.save`.

    Raises
    ------
    UserInputError
        Missing, unreadable or of another layout version.
    """
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"no checkpoint at {path}: the run saved none (it stopped before "
                             "its first checkpoint); start it again instead of resuming")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError) as exc:
        raise UserInputError(f"checkpoint {path} cannot be read ({exc}); start the run "
                             "again") from exc
    if meta.get("version") != CHECKPOINT_VERSION:
        raise UserInputError(f"checkpoint {path} has layout version {meta.get('version')}, "
                             f"this code reads {CHECKPOINT_VERSION}")

    def group(prefix: str) -> dict[str, np.ndarray]:
        return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}

    return Checkpoint(
        stage=int(meta["stage"]), step=int(meta["step"]), seed=int(meta["seed"]),
        protocol=meta["protocol"], numbers=arrays["numbers"], positions=arrays["positions"],
        momenta=arrays["momenta"], cell=arrays["cell"], pbc=arrays["pbc"].astype(bool),
        integrator=group("integrator/"), rng_state=meta["rng_state"], outputs=meta["outputs"],
        stats=group("stats/"), stage_results=tuple(meta["stage_results"]),
        extra=meta.get("extra", {}))


def default_checkpoint_path(trajectory_path: str | Path) -> Path:
    """``<trajectory stem>.checkpoint.npz`` next to the trajectory."""
    path = Path(trajectory_path)
    return path.with_name(f"{path.stem}.checkpoint.npz")


def reopen_trajectory(path: str | Path, n_frames: int, *, chunk: int = 256) -> "TrajectoryWriter":
    """A writer appending to the native trajectory ``path`` after its first ``n_frames``.

    Frames beyond ``n_frames`` (written after the checkpoint a run resumes from) are
    dropped. The kept frames are copied into ``<path>.resume``, which then replaces
    ``path``; the writer's ``path`` is ``path``. Metadata, time step, stored quantities and
    precision are kept.

    Parameters
    ----------
    path : str or Path
        A native ``.h5`` trajectory (possibly left by a killed writer).
    n_frames : int
        Frames to keep (<= the frames in the file).
    chunk : int
        Frames copied at once.

    Raises
    ------
    UserInputError
        The file holds fewer than ``n_frames`` frames (it was changed after the
        checkpoint).
    """
    from ssestudio.io import TrajectoryWriter
    from ssestudio.io.native import NativeTrajectory

    path = Path(path)
    tmp = path.with_name(path.name + ".resume")
    with NativeTrajectory(path) as src:
        if src.n_frames < n_frames:
            raise UserInputError(f"{path} holds {src.n_frames} frames but its checkpoint "
                                 f"counts {n_frames}: the file was changed; start the run "
                                 "again")
        info = src.info
        writer = TrajectoryWriter(
            tmp, src.symbols, src.masses, timestep_fs=info.timestep_fs,
            store_velocities=info.has_velocities, store_forces=info.has_forces,
            store_stress=bool(info.extra.get("has_stress")),
            metadata=info.extra.get("metadata", {}), precision=info.extra.get("precision",
                                                                              "float64"),
            overwrite=True, flush_every=1)
        try:
            for start in range(0, n_frames, chunk):
                _copy_frames(src, writer, range(start, min(n_frames, start + chunk)))
            writer.flush()
        except BaseException:
            writer.close()
            tmp.unlink(missing_ok=True)
            raise
    os.replace(tmp, path)
    writer.path = path
    return writer


def _copy_frames(src, writer: "TrajectoryWriter", indices: range) -> None:
    frames = [src[i] for i in indices]

    def stack(name: str) -> Any:
        values = [getattr(f, name) for f in frames]
        if any(v is None for v in values):
            return None
        return np.stack(values)

    energies = np.array([np.nan if f.energy is None else f.energy for f in frames])
    writer.extend(np.stack([f.positions for f in frames]), np.stack([f.cell for f in frames]),
                  times_fs=np.array([f.time_fs for f in frames]), energies=energies,
                  velocities=stack("velocities") if "velocities" in writer.stored else None,
                  forces=stack("forces") if "forces" in writer.stored else None,
                  stresses=stack("stress") if "stress" in writer.stored else None)
