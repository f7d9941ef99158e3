"""Frozen records of workspace artifacts, and the provenance stored with each row.

Every artifact row carries its provenance: ``inputs`` (files or artifacts it was made
from), ``parameters`` (JSON object), the ``code_version`` that wrote it, a UTC ISO
``created`` time and the ``job_id`` of the job that produced it, if any.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ssestudio.core.errors import UserInputError

_PROVENANCE_KEYS = frozenset({"inputs", "parameters"})


@dataclass(frozen=True)
class TrajectoryRecord:
    """A trajectory registered in a workspace.

    Attributes
    ----------
    id : int
        Database id.
    name : str
        Unique name.
    paths : tuple of Path
        Absolute paths of the file(s), in reading order.
    format : str
        Reader registry name (``"native"``, ``"extxyz"``, ...).
    n_frames, n_atoms : int
        Frame count when last updated (a running MD job keeps it current) and atom count.
    formula : str or None
        Hill formula of the whole cell.
    timestep_fs : float or None
        Time between stored frames, fs.
    created : str
        UTC ISO time of registration.
    job_id : int or None
        Job that produced it.
    provenance : dict
        ``{"inputs": [...], "parameters": {...}, "code_version": str}``.
    description : str
        Free text.
    """

    id: int
    name: str
    paths: tuple[Path, ...]
    format: str
    n_frames: int
    n_atoms: int | None
    formula: str | None
    timestep_fs: float | None
    created: str
    job_id: int | None
    provenance: dict
    description: str


@dataclass(frozen=True)
class StructureRecord:
    """A structure file registered in a workspace (fields as :class:`TrajectoryRecord`)."""

    id: int
    name: str
    path: Path
    formula: str
    n_atoms: int
    created: str
    job_id: int | None
    provenance: dict
    description: str


@dataclass(frozen=True)
class ArtifactRecord:
    """A versioned dataset, model or run registered in a workspace.

    Attributes
    ----------
    kind : str
        ``"datasets"``, ``"models"`` or ``"runs"``.
    version : int
        1, 2, ... for successive artifacts of the same name.
    path : Path
        Absolute path of the file or folder.
    """

    kind: str
    id: int
    name: str
    version: int
    path: Path
    created: str
    job_id: int | None
    provenance: dict
    description: str


def check_name(name: str) -> str:
    """Validate an artifact name (non-empty, one line, <= 200 chars); return it stripped."""
    if not isinstance(name, str) or not name.strip() or len(name) > 200 or "\n" in name:
        raise UserInputError(f"invalid name {name!r}: use a non-empty single-line name of at "
                             "most 200 characters")
    return name.strip()


def to_json(value: Any, *, what: str) -> str:
    """Serialise ``value``; raise :class:`UserInputError` naming ``what`` if impossible."""
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise UserInputError(
            f"{what} must be JSON-serialisable (str, numbers, bools, None, lists, dicts): "
            f"{exc}") from exc


def provenance_columns(provenance: Mapping[str, Any] | None, *, inputs: list[str],
                       parameters: Mapping[str, Any]) -> dict[str, str]:
    """Column values ``inputs``, ``parameters``, ``code_version`` for an artifact row.

    Parameters
    ----------
    provenance : mapping or None
        Caller's ``{"inputs": [...], "parameters": {...}}``; its inputs replace the
        defaults and its parameters are merged over them.
    inputs, parameters
        Defaults recorded by the registering function.
    """
    from ssestudio.core.version import code_version

    given = dict(provenance or {})
    unknown = sorted(set(given) - _PROVENANCE_KEYS)
    if unknown:
        raise UserInputError(f"unknown provenance keys {unknown}: give only 'inputs' "
                             "(list of files or artifact names) and 'parameters' (dict)")
    if not isinstance(given.get("parameters", {}), Mapping):
        raise UserInputError("provenance['parameters'] must be a dict")
    if isinstance(given.get("inputs", []), (str, Path)):
        raise UserInputError("provenance['inputs'] must be a list of strings, not one string")
    merged = {**dict(parameters), **dict(given.get("parameters", {}))}
    return {"inputs": to_json([str(x) for x in given.get("inputs", inputs)], what="inputs"),
            "parameters": to_json(merged, what="parameters"),
            "code_version": code_version()}


def provenance_of(row: sqlite3.Row) -> dict:
    """The provenance dict of an artifact row."""
    return {"inputs": json.loads(row["inputs"]), "parameters": json.loads(row["parameters"]),
            "code_version": row["code_version"]}


def stored_path(path: Path | str, root: Path) -> str:
    """Path as stored: relative to the workspace root when inside it, else absolute."""
    p = Path(path).expanduser().resolve()
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return str(p)


def absolute_path(stored: str, root: Path) -> Path:
    """Inverse of :func:`stored_path`."""
    p = Path(stored)
    return p if p.is_absolute() else root / p


def trajectory_from_row(row: sqlite3.Row, root: Path) -> TrajectoryRecord:
    """Build a :class:`TrajectoryRecord` from a ``trajectories`` row."""
    return TrajectoryRecord(
        id=row["id"], name=row["name"],
        paths=tuple(absolute_path(p, root) for p in json.loads(row["paths"])),
        format=row["format"], n_frames=row["n_frames"], n_atoms=row["n_atoms"],
        formula=row["formula"], timestep_fs=row["timestep_fs"], created=row["created"],
        job_id=row["job_id"], provenance=provenance_of(row), description=row["description"])


def structure_from_row(row: sqlite3.Row, root: Path) -> StructureRecord:
    """Build a :class:`StructureRecord` from a ``structures`` row."""
    return StructureRecord(
        id=row["id"], name=row["name"], path=absolute_path(row["path"], root),
        formula=row["formula"], n_atoms=row["n_atoms"], created=row["created"],
        job_id=row["job_id"], provenance=provenance_of(row), description=row["description"])


def artifact_from_row(kind: str, row: sqlite3.Row, root: Path) -> ArtifactRecord:
    """Build an :class:`ArtifactRecord` from a ``datasets``/``models``/``runs`` row."""
    return ArtifactRecord(
        kind=kind, id=row["id"], name=row["name"], version=row["version"],
        path=absolute_path(row["path"], root), created=row["created"], job_id=row["job_id"],
        provenance=provenance_of(row), description=row["description"])
