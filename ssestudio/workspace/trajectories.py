"""Trajectory artifacts of a workspace (mixed into :class:`~ssestudio.workspace.Workspace`)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ssestudio.core.errors import UserInputError
from ssestudio.workspace.errors import NameTakenError
from ssestudio.workspace.records import (TrajectoryRecord, provenance_columns, stored_path,
                                         to_json, trajectory_from_row)
from ssestudio.workspace.schema import utc_now

if TYPE_CHECKING:
    from ssestudio.io.base import Trajectory

PathLike = str | os.PathLike
Paths = PathLike | Sequence[PathLike]


def as_path_list(path_or_paths: Paths) -> list[Path]:
    """One path or a sequence of paths as a non-empty list of absolute paths."""
    items = [path_or_paths] if isinstance(path_or_paths, (str, os.PathLike)) else list(path_or_paths)
    if not items:
        raise UserInputError("no trajectory file given: pass a path or a list of paths")
    return [Path(p).expanduser().absolute() for p in items]


def read_trajectory_metadata(sources: list[Path], *, format: str | None,
                             timestep_fs: float | None) -> dict[str, Any]:
    """Open ``sources`` with :func:`ssestudio.io.open_trajectory` and return its metadata.

    Raises
    ------
    UserInputError
        If a file is missing or the reader fails (its message is kept).
    """
    from ssestudio.io import open_trajectory

    missing = [str(p) for p in sources if not p.is_file()]
    if missing:
        raise UserInputError(f"trajectory file not found: {', '.join(missing)}; check the path")
    arg = [str(p) for p in sources] if len(sources) > 1 else str(sources[0])
    try:
        with open_trajectory(arg, format=format, timestep_fs=timestep_fs) as traj:
            if traj.n_frames == 0:
                raise UserInputError(f"{', '.join(p.name for p in sources)} holds no complete "
                                     "frame: check that the file is a finished trajectory")
            return {"format": traj.info.format, "n_frames": traj.n_frames,
                    "n_atoms": traj.n_atoms, "formula": traj.formula,
                    "timestep_fs": traj.info.timestep_fs}
    except UserInputError:
        raise
    except Exception as exc:
        raise UserInputError(
            f"could not read {', '.join(p.name for p in sources)} as a trajectory "
            f"({type(exc).__name__}: {exc}); check the file, or pass format=... "
            "explicitly") from exc


def copy_into(folder: Path, sources: list[Path]) -> list[Path]:
    """Copy files into ``folder``, keeping base names (``segNNN/`` sub-folders if they clash)."""
    clash = len({p.name for p in sources}) < len(sources)
    out = []
    for k, src in enumerate(sources):
        dst = folder / f"seg{k:03d}" / src.name if clash else folder / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        out.append(dst)
    return out


class TrajectoryMixin:
    """Import, register, list, open and delete trajectories."""

    def import_trajectory(self, path_or_paths: Paths, *, name: str | None = None,
                          format: str | None = None, timestep_fs: float | None = None,
                          copy: bool = True, provenance: Mapping[str, Any] | None = None,
                          description: str = "") -> TrajectoryRecord:
        """Read a trajectory's metadata, copy its file(s) in and register it.

        Parameters
        ----------
        path_or_paths : path-like or sequence of path-like
            File, or files of a multi-segment trajectory in order.
        name : str, optional
            Unique name; default the first file's stem made unique (``-2``, ``-3``...).
        format, timestep_fs
            Passed to :func:`ssestudio.io.open_trajectory` (``timestep_fs`` in fs).
        copy : bool
            Copy into ``trajectories/<name>/`` (default) or register the files in place.
        provenance : dict, optional
            ``{"inputs": [...], "parameters": {...}}`` merged over the defaults.
        description : str
            Free text.

        Raises
        ------
        UserInputError
            Missing or unreadable file; nothing is registered or left behind.
        NameTakenError
            ``name`` is already used.
        """
        sources = as_path_list(path_or_paths)
        info = read_trajectory_metadata(sources, format=format, timestep_fs=timestep_fs)
        cols = provenance_columns(provenance, inputs=[str(p) for p in sources], parameters={
            "format": format, "timestep_fs": timestep_fs, "copy": copy})
        name = self.available_name("trajectories", name, default=sources[0].stem)
        folder = self.new_artifact_dir("trajectories", name) if copy else None
        try:
            paths = copy_into(folder, sources) if folder else sources
            return self._insert_trajectory(paths, name=name, cols=cols, job_id=None,
                                           description=description, **info)
        except BaseException:
            if folder:
                shutil.rmtree(folder, ignore_errors=True)
            raise

    def register_trajectory(self, path: Paths, *, name: str, format: str,
                            job_id: int | None = None,
                            provenance: Mapping[str, Any] | None = None, n_frames: int = 0,
                            n_atoms: int | None = None, formula: str | None = None,
                            timestep_fs: float | None = None,
                            description: str = "") -> TrajectoryRecord:
        """Register trajectory file(s) already in place, e.g. written by a job.

        Nothing is read: the caller gives the metadata (and keeps ``n_frames`` current
        with :meth:`update_trajectory_stats` while the file grows).

        Raises
        ------
        NameTakenError
            ``name`` is already used.
        """
        return self._insert_trajectory(
            as_path_list(path), name=self.available_name("trajectories", name, default=""),
            format=format, job_id=job_id, n_frames=n_frames, n_atoms=n_atoms, formula=formula,
            timestep_fs=timestep_fs, description=description,
            cols=provenance_columns(provenance, inputs=[], parameters={}))

    def _insert_trajectory(self, paths: list[Path], *, name: str, format: str,
                           cols: dict[str, str], job_id: int | None, n_frames: int,
                           n_atoms: int | None, formula: str | None,
                           timestep_fs: float | None, description: str) -> TrajectoryRecord:
        now = utc_now()
        try:
            with self.transaction() as conn:
                cur = conn.execute(
                    "INSERT INTO trajectories (name, paths, format, n_frames, n_atoms, formula,"
                    " timestep_fs, description, inputs, parameters, code_version, created,"
                    " updated, job_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (name, to_json([stored_path(p, self.root) for p in paths], what="paths"),
                     str(format), int(n_frames), n_atoms, formula, timestep_fs, description,
                     cols["inputs"], cols["parameters"], cols["code_version"], now, now, job_id))
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" not in str(exc):
                raise
            raise NameTakenError(f"a trajectory named {name!r} was registered meanwhile: "
                                 "choose another name") from exc
        return self.get_trajectory(cur.lastrowid)

    def list_trajectories(self) -> list[TrajectoryRecord]:
        """All trajectories, oldest first."""
        rows = self.query("SELECT * FROM trajectories ORDER BY id")
        return [trajectory_from_row(r, self.root) for r in rows]

    def get_trajectory(self, id_or_name: int | str) -> TrajectoryRecord:
        """The trajectory with this id or name (:class:`RecordNotFoundError` if none)."""
        return trajectory_from_row(self._find_row("trajectories", id_or_name, "trajectory"),
                                   self.root)

    def open_trajectory(self, id_or_name: int | str) -> "Trajectory":
        """Open a registered trajectory for reading with :func:`ssestudio.io.open_trajectory`."""
        from ssestudio.io import open_trajectory

        rec = self.get_trajectory(id_or_name)
        paths = [str(p) for p in rec.paths]
        return open_trajectory(paths if len(paths) > 1 else paths[0], format=rec.format,
                               timestep_fs=rec.timestep_fs)

    def update_trajectory_stats(self, id_or_name: int | str, *, n_frames: int | None = None,
                                n_atoms: int | None = None, formula: str | None = None,
                                timestep_fs: float | None = None) -> TrajectoryRecord:
        """Update stored metadata (e.g. the frame count of a growing file)."""
        rec = self.get_trajectory(id_or_name)
        values = {k: v for k, v in (("n_frames", n_frames), ("n_atoms", n_atoms),
                                    ("formula", formula), ("timestep_fs", timestep_fs))
                  if v is not None}
        if n_frames is not None and n_frames < 0:
            raise UserInputError(f"n_frames must be >= 0, got {n_frames}")
        sets = ", ".join(f"{k} = ?" for k in values)
        with self.transaction() as conn:
            conn.execute(f"UPDATE trajectories SET {sets + ', ' if sets else ''}updated = ? "
                         "WHERE id = ?", (*values.values(), utc_now(), rec.id))
        return self.get_trajectory(rec.id)

    def delete_trajectory(self, id_or_name: int | str, *, delete_files: bool = False) -> None:
        """Unregister a trajectory; with ``delete_files`` also remove its files that lie
        inside the workspace (files registered in place elsewhere are never deleted)."""
        rec = self.get_trajectory(id_or_name)
        with self.transaction() as conn:
            conn.execute("DELETE FROM trajectories WHERE id = ?", (rec.id,))
        if delete_files:
            self._delete_files(rec.paths)

    def _delete_files(self, paths: Sequence[Path]) -> None:
        """Delete files inside the workspace (others are left alone) and the folders they
        leave empty, keeping the top-level ones (``trajectories/``, ``jobs/``, ...)."""
        root = self.root.resolve()
        for path in paths:
            path = path.resolve()
            if root not in path.parents or path == self.db_path.resolve():
                continue
            path.unlink(missing_ok=True)
            parent = path.parent
            while parent.parent != root and parent != root and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
