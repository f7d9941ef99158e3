"""The workspace database: schema, versioning, creation and migrations.

The schema is created at version 1 and brought to :data:`SCHEMA_VERSION` by the
registered migrations, so a new workspace and a migrated one always end identical.
A database is never modified before it has been recognised as an SSE Studio workspace;
before a migration a consistent copy is saved next to it as ``ssestudio.sqlite.bak-v<N>``.

Several processes (web server, CLI, job workers) use one database at once, so every
connection runs in WAL mode with a busy timeout and foreign keys on.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ssestudio.workspace.errors import NotAWorkspaceError, WorkspaceVersionError

#: Schema version this code reads and writes.
SCHEMA_VERSION = 1
#: Value of ``meta.app`` that marks a database as an SSE Studio workspace.
APP_ID = "ssestudio"
#: File name of the database inside a workspace folder.
DB_NAME = "ssestudio.sqlite"
#: How long a connection waits for another process's write lock, s.
BUSY_TIMEOUT_S = 30.0

Migration = Callable[[sqlite3.Connection], None]
#: Registered migrations, keyed by the schema version they upgrade *from* (to +1).
MIGRATIONS: dict[int, Migration] = {}

_SQLITE_MAGIC = b"SQLite format 3\x00"

_PROVENANCE_COLUMNS = """
    description TEXT NOT NULL DEFAULT '',
    inputs TEXT NOT NULL DEFAULT '[]',
    parameters TEXT NOT NULL DEFAULT '{}',
    code_version TEXT NOT NULL,
    created TEXT NOT NULL,
    job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL"""

_VERSIONED_ARTIFACT = """(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    path TEXT NOT NULL,""" + _PROVENANCE_COLUMNS + """,
    UNIQUE (name, version))"""

#: Version-1 schema, one statement per item (migrations build on it).
BASE_SCHEMA: tuple[str, ...] = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    progress REAL,
    message TEXT NOT NULL DEFAULT '',
    eta_s REAL,
    created TEXT NOT NULL,
    started TEXT,
    finished TEXT,
    pid INTEGER,
    host TEXT,
    executor TEXT NOT NULL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    cancel_requested_at TEXT,
    result TEXT,
    error TEXT,
    heartbeat TEXT,
    code_version TEXT NOT NULL)""",
    "CREATE INDEX jobs_by_status ON jobs (status)",
    """CREATE TABLE trajectories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    paths TEXT NOT NULL,
    format TEXT NOT NULL,
    n_frames INTEGER NOT NULL DEFAULT 0,
    n_atoms INTEGER,
    formula TEXT,
    timestep_fs REAL,
    updated TEXT NOT NULL,""" + _PROVENANCE_COLUMNS + ")",
    """CREATE TABLE structures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    formula TEXT NOT NULL,
    n_atoms INTEGER NOT NULL,""" + _PROVENANCE_COLUMNS + ")",
    "CREATE TABLE datasets " + _VERSIONED_ARTIFACT,
    "CREATE TABLE models " + _VERSIONED_ARTIFACT,
    "CREATE TABLE runs " + _VERSIONED_ARTIFACT,
)


def utc_now() -> str:
    """Current time as a UTC ISO-8601 string with milliseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def register_migration(from_version: int) -> Callable[[Migration], Migration]:
    """Register a function that upgrades the schema from ``from_version`` to +1.

    The function receives a connection inside an open transaction and must use
    ``conn.execute`` only (``executescript`` would commit half-way).

    Raises
    ------
    ValueError
        If a migration from that version is already registered.
    """
    def decorator(func: Migration) -> Migration:
        if from_version in MIGRATIONS and MIGRATIONS[from_version] is not func:
            raise ValueError(f"a migration from schema {from_version} is already registered")
        MIGRATIONS[from_version] = func
        return func
    return decorator


def connect(db_path: Path) -> sqlite3.Connection:
    """Open a read-write connection: WAL, busy timeout, foreign keys, autocommit.

    Transactions are explicit (``BEGIN IMMEDIATE`` ... ``COMMIT``); rows are
    :class:`sqlite3.Row`. The connection may be shared between threads under a lock.
    """
    conn = sqlite3.connect(str(db_path), timeout=BUSY_TIMEOUT_S, isolation_level=None,
                           check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def read_schema_version(db_path: Path) -> int:
    """Schema version of a workspace database, read without modifying the file.

    The file is read through SQLite only: closing a plain ``open()`` of the database
    would release every SQLite lock this process holds on it (POSIX locks belong to the
    process), and another process's worker could then take it for the last connection,
    checkpoint and delete the WAL under this process's other connections.

    Raises
    ------
    NotAWorkspaceError
        If the file is not an SQLite database or has no SSE Studio ``meta`` table.
    """
    try:
        conn = sqlite3.connect(Path(db_path).resolve().as_uri() + "?mode=ro", uri=True,
                               timeout=BUSY_TIMEOUT_S)
        try:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        meta = {"error": str(exc)}
    if meta.get("app") != APP_ID or not str(meta.get("schema_version", "")).isdigit():
        with open(db_path, "rb") as fh:  # not a workspace: no connection of ours uses it
            head = fh.read(len(_SQLITE_MAGIC))
        if head != _SQLITE_MAGIC:
            raise NotAWorkspaceError(
                f"{db_path} is not an SQLite database, so it is not an SSE Studio workspace; "
                "it was left untouched: move it away or open another folder with --workspace")
        raise NotAWorkspaceError(
            f"{db_path} is an SQLite database but not an SSE Studio workspace (no 'meta' "
            f"table marked app={APP_ID!r}); it was left untouched: open another folder "
            "with --workspace")
    return int(meta["schema_version"])


def _write_meta(conn: sqlite3.Connection, values: dict[str, str]) -> None:
    conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                     sorted(values.items()))


def _apply_migrations(conn: sqlite3.Connection, from_version: int) -> None:
    for version in range(from_version, SCHEMA_VERSION):
        MIGRATIONS[version](conn)
    _write_meta(conn, {"schema_version": str(SCHEMA_VERSION)})


def _check_migration_path(from_version: int) -> None:
    missing = [v for v in range(from_version, SCHEMA_VERSION) if v not in MIGRATIONS]
    if missing:
        raise WorkspaceVersionError(
            f"this workspace has schema {from_version} and this SSE Studio needs schema "
            f"{SCHEMA_VERSION}, but no migration from schema {missing[0]} exists; the "
            "workspace was left untouched: open it with the SSE Studio version that created "
            "it, export what you need, or create a new workspace")


def create_database(db_path: Path, *, extra_meta: dict[str, str] | None = None) -> None:
    """Create a workspace database atomically at ``db_path`` (no-op if one appears).

    The database is built under a temporary name and hard-linked into place, so a
    concurrent creator or a crash never leaves a half-made ``ssestudio.sqlite``.
    """
    from ssestudio.core.version import code_version

    _check_migration_path(1)
    tmp = db_path.with_name(f"{db_path.name}.creating-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    conn = sqlite3.connect(str(tmp), isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        for statement in BASE_SCHEMA:
            conn.execute(statement)
        _write_meta(conn, {"app": APP_ID, "schema_version": "1", "created_at": utc_now(),
                           "created_by": code_version(), **(extra_meta or {})})
        _apply_migrations(conn, 1)
        conn.execute("COMMIT")
    finally:
        conn.close()
    try:
        os.link(tmp, db_path)
    except FileExistsError:
        pass
    except OSError:  # filesystems without hard links
        if not db_path.exists():
            os.replace(tmp, db_path)
    finally:
        tmp.unlink(missing_ok=True)


def _backup(db_path: Path, version: int) -> Path:
    backup = db_path.with_name(f"{db_path.name}.bak-v{version}")
    if backup.exists():
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        backup = backup.with_name(f"{backup.name}-{stamp}")
    src = sqlite3.connect(Path(db_path).resolve().as_uri() + "?mode=ro", uri=True,
                          timeout=BUSY_TIMEOUT_S)
    dst = sqlite3.connect(str(backup))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return backup


def migrate_database(db_path: Path, from_version: int) -> Path:
    """Upgrade a workspace database to :data:`SCHEMA_VERSION` in one transaction.

    Returns
    -------
    Path
        The backup copy made before migrating.

    Raises
    ------
    WorkspaceVersionError
        If no migration path exists or a migration fails (the database is then unchanged).
    """
    _check_migration_path(from_version)
    backup = _backup(db_path, from_version)
    conn = connect(db_path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        current = int(conn.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
        if current < SCHEMA_VERSION:  # another process may have migrated meanwhile
            _apply_migrations(conn, current)
            _write_meta(conn, {f"migrated_from_v{current}_at": utc_now()})
        conn.execute("COMMIT")
    except Exception as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise WorkspaceVersionError(
            f"migrating {db_path} from schema {from_version} to {SCHEMA_VERSION} failed "
            f"({exc}); the workspace is unchanged and a copy was saved as {backup.name}: "
            "report this bug, and keep using the version of SSE Studio that created it") from exc
    finally:
        conn.close()
    return backup


def ensure_current_schema(db_path: Path) -> int:
    """Check a workspace database and migrate it if it is older than this code.

    Returns
    -------
    int
        The schema version found before any migration.

    Raises
    ------
    NotAWorkspaceError
        If the file is not a workspace database.
    WorkspaceVersionError
        If the workspace is newer than this code or cannot be migrated.
    """
    version = read_schema_version(db_path)
    if version > SCHEMA_VERSION:
        raise WorkspaceVersionError(
            f"{db_path.parent} was created by a newer SSE Studio (schema {version}); this "
            f"version understands schema {SCHEMA_VERSION}: upgrade ssestudio, or open "
            "another --workspace")
    if version < SCHEMA_VERSION:
        migrate_database(db_path, version)
    return version
