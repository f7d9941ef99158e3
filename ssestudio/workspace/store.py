"""The workspace: a folder holding ``ssestudio.sqlite`` and the files it indexes.

Layout::

    <root>/ssestudio.sqlite      the index (WAL mode; shared by server, CLI and workers)
    <root>/trajectories/<name>/  imported or produced trajectory files
    <root>/structures/<name>/    structure files
    <root>/jobs/<id>/            job logs and outputs
    <root>/datasets/, models/    later artifacts

Paths inside the workspace are stored relative to the root, so the folder can be moved.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ssestudio.workspace import schema
from ssestudio.workspace.artifacts import ArtifactMixin
from ssestudio.workspace.errors import (NameTakenError, NotAWorkspaceError, RecordNotFoundError,
                                        WorkspaceError, WorkspaceNotFoundError)
from ssestudio.workspace.records import check_name
from ssestudio.workspace.structures import StructureMixin
from ssestudio.workspace.trajectories import TrajectoryMixin

logger = logging.getLogger(__name__)

#: Environment variable naming the default workspace folder.
ENV_VAR = "SSESTUDIO_WORKSPACE"
#: Sub-folders every workspace has.
SUBDIRS = ("trajectories", "structures", "jobs", "datasets", "models")


def default_workspace_path() -> Path:
    """``$SSESTUDIO_WORKSPACE`` if set, else ``~/.ssestudio/workspace``."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".ssestudio" / "workspace"


def safe_folder_name(name: str) -> str:
    """File-system-safe version of an artifact name (``[A-Za-z0-9._-]``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "item"


def _resolve_root(path: str | os.PathLike | None) -> Path:
    root = Path(path if path is not None else default_workspace_path()).expanduser()
    if root.name == schema.DB_NAME and root.is_file():
        root = root.parent
    return root.resolve()


def _check_can_create(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise NotAWorkspaceError(f"{root} is a file, not a workspace folder: give a folder "
                                 "path (new or empty) with --workspace")
    if root.is_dir():
        foreign = sorted(p.name for p in root.iterdir()
                         if p.name not in SUBDIRS and not p.name.startswith(schema.DB_NAME))
        if foreign:
            raise NotAWorkspaceError(
                f"{root} is not empty and holds no {schema.DB_NAME}, so it is not an SSE Studio "
                f"workspace (it contains {', '.join(foreign[:3])}...); it was left untouched: "
                "create the workspace in a new or empty folder")


class Workspace(TrajectoryMixin, StructureMixin, ArtifactMixin):
    """An open workspace. Create with :meth:`Workspace.open`, never directly.

    One connection is shared by the threads of a process under a lock; other processes
    open their own. Use it as a context manager or call :meth:`close`.
    """

    def __init__(self, root: Path, conn: sqlite3.Connection) -> None:
        self._root = root
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: str | os.PathLike | None = None, *, create: bool = True,
             seed: bool = True, sample_dir: str | os.PathLike | None = None) -> "Workspace":
        """Open (and if needed create, seed or migrate) the workspace at ``path``.

        Parameters
        ----------
        path : path-like, optional
            Workspace folder (or its ``ssestudio.sqlite``); default
            :func:`default_workspace_path`.
        create : bool
            Create the workspace if the folder has none (the folder must be new or empty).
        seed : bool
            On first creation, import the sample data listed in the sample manifest.
        sample_dir : path-like, optional
            Sample data folder; default :func:`~ssestudio.workspace.seed.sample_data_dir`.

        Raises
        ------
        WorkspaceNotFoundError
            No workspace there and ``create`` is false.
        NotAWorkspaceError
            The folder or database belongs to something else (nothing is modified).
        WorkspaceVersionError
            The workspace is newer than this code or cannot be migrated.
        """
        root = _resolve_root(path)
        db_path = root / schema.DB_NAME
        if db_path.is_dir():
            raise NotAWorkspaceError(f"{db_path} is a folder, not a workspace database; "
                                     "open another folder with --workspace")
        if not db_path.exists():
            if not create:
                raise WorkspaceNotFoundError(
                    f"no SSE Studio workspace at {root}: create one (ssestudio --workspace "
                    f"{root} ..., or Workspace.open(path, create=True)) or check the path")
            _check_can_create(root)
            root.mkdir(parents=True, exist_ok=True)
            schema.create_database(db_path, extra_meta={
                "seed_state": "pending" if seed else "skipped"})
        schema.ensure_current_schema(db_path)
        ws = cls(root, schema.connect(db_path))
        for name in SUBDIRS:
            (root / name).mkdir(exist_ok=True)
        if seed:
            ws._seed_once(sample_dir)
        return ws

    # ---- basics ------------------------------------------------------------------
    @property
    def root(self) -> Path:
        """Absolute path of the workspace folder."""
        return self._root

    @property
    def db_path(self) -> Path:
        """Path of ``ssestudio.sqlite``."""
        return self._root / schema.DB_NAME

    def close(self) -> None:
        """Close the database connection (idempotent)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Workspace {self._root}>"

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise WorkspaceError(f"workspace {self._root} is closed: open it again with "
                                 "Workspace.open(path)")
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the write lock: ``BEGIN IMMEDIATE`` ... ``COMMIT`` (rollback on error).

        Nested use joins the outer transaction.
        """
        with self._lock:
            conn = self._connection()
            if conn.in_transaction:
                yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        """Run a read statement and return all rows."""
        with self._lock:
            return self._connection().execute(sql, params).fetchall()

    def execute(self, sql: str, params: tuple | dict = ()) -> int:
        """Run one write statement in its own transaction; return the changed row count."""
        with self._lock:
            return self._connection().execute(sql, params).rowcount

    def meta(self) -> dict[str, str]:
        """The ``meta`` table: schema_version, created_at, created_by, ..."""
        return {r["key"]: r["value"] for r in self.query("SELECT key, value FROM meta")}

    def summary(self) -> dict:
        """Location, schema version, creation and row counts per table.

        Returns
        -------
        dict
            ``{"root", "schema_version", "created_at", "created_by", "counts": {table: n}}``
        """
        meta = self.meta()
        counts = {t: self.query(f"SELECT COUNT(*) FROM {t}")[0][0] for t in
                  ("trajectories", "structures", "datasets", "models", "runs", "jobs")}
        return {"root": str(self._root), "schema_version": int(meta["schema_version"]),
                "created_at": meta.get("created_at"), "created_by": meta.get("created_by"),
                "counts": counts}

    # ---- folders -----------------------------------------------------------------
    def job_dir(self, job_id: int) -> Path:
        """Folder of job ``job_id`` (``jobs/<id>``), created if missing."""
        path = self._root / "jobs" / str(int(job_id))
        path.mkdir(parents=True, exist_ok=True)
        return path

    def new_artifact_dir(self, kind: str, name: str) -> Path:
        """Create and return a new, empty folder ``<kind>/<safe name>[-n]``."""
        parent = self._root / kind
        parent.mkdir(parents=True, exist_ok=True)
        base = safe_folder_name(name)
        for n in range(1, 10_000):
            path = parent / (base if n == 1 else f"{base}-{n}")
            try:
                path.mkdir()
                return path
            except FileExistsError:
                continue
        raise WorkspaceError(f"cannot find a free folder name for {name!r} in {parent}")

    # ---- rows shared by the artifact mixins ----------------------------------------
    def _find_row(self, table: str, id_or_name: int | str, what: str) -> sqlite3.Row:
        rows = []
        if isinstance(id_or_name, str):
            rows = self.query(f"SELECT * FROM {table} WHERE name = ? ORDER BY id DESC",
                              (id_or_name,))
        if not rows and str(id_or_name).isdigit():
            rows = self.query(f"SELECT * FROM {table} WHERE id = ?", (int(id_or_name),))
        if not rows:
            names = [r["name"] for r in self.query(
                f"SELECT DISTINCT name FROM {table} ORDER BY id LIMIT 10")]
            raise RecordNotFoundError(
                f"no {what} with id or name {id_or_name!r} in workspace {self._root}; "
                f"known: {', '.join(names) or 'none'}")
        return rows[0]

    def available_name(self, table: str, name: str | None, *, default: str) -> str:
        """A name to register a new artifact under.

        Parameters
        ----------
        table : str
            ``"trajectories"``, ``"structures"``, ...
        name : str or None
            Requested name: returned if free, else :class:`NameTakenError`.
        default : str
            Used when ``name`` is None, made unique with ``-2``, ``-3``, ...
        """
        if name is not None:
            name = check_name(name)
            if self.query(f"SELECT 1 FROM {table} WHERE name = ?", (name,)):
                raise NameTakenError(f"a {table[:-1]} named {name!r} already exists in "
                                     f"{self._root}: choose another name or delete it first")
            return name
        base = check_name(default or table[:-1])
        taken = {r["name"] for r in self.query(f"SELECT name FROM {table}")}
        n = 1
        while (candidate := base if n == 1 else f"{base}-{n}") in taken:
            n += 1
        return candidate

    def _seed_once(self, sample_dir: str | os.PathLike | None) -> None:
        from ssestudio.workspace.seed import seed_workspace

        if self.execute("UPDATE meta SET value = 'seeding' WHERE key = 'seed_state' "
                        "AND value = 'pending'") != 1:
            return
        try:
            added = seed_workspace(self, sample_dir=sample_dir)
        except Exception as exc:  # sample data must never lock the user out of a workspace
            logger.warning("seeding workspace %s from sample data failed: %s", self._root, exc)
            self.execute("UPDATE meta SET value = ? WHERE key = 'seed_state'", (f"failed: {exc}",))
            return
        self.execute("UPDATE meta SET value = 'done' WHERE key = 'seed_state'")
        logger.info("seeded workspace %s with %d sample items", self._root, len(added))

