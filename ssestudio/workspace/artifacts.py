"""Versioned datasets, models and runs: store and list only (later issues add behaviour)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from ssestudio.core.errors import UserInputError
from ssestudio.workspace.errors import RecordNotFoundError
from ssestudio.workspace.records import (ArtifactRecord, artifact_from_row, check_name,
                                         provenance_columns, stored_path)
from ssestudio.workspace.schema import utc_now

#: Tables of versioned artifacts.
ARTIFACT_KINDS = ("datasets", "models", "runs")


def _check_kind(kind: str) -> str:
    if kind not in ARTIFACT_KINDS:
        raise UserInputError(f"unknown artifact kind {kind!r}: use one of {', '.join(ARTIFACT_KINDS)}")
    return kind


class ArtifactMixin:
    """Generic store/list for ``datasets``, ``models`` and ``runs``."""

    def add_artifact(self, kind: str, path: str | os.PathLike, *, name: str,
                     job_id: int | None = None, provenance: Mapping[str, Any] | None = None,
                     description: str = "") -> ArtifactRecord:
        """Register a file or folder as the next version of artifact ``name``.

        Parameters
        ----------
        kind : {"datasets", "models", "runs"}
            Artifact table.
        path : path-like
            File or folder (usually inside the workspace; stored relative when it is).
        name : str
            Artifact name; the version is 1 + the highest stored version of that name.
        job_id, provenance, description
            As for trajectories.
        """
        table = _check_kind(kind)
        name = check_name(name)
        cols = provenance_columns(provenance, inputs=[], parameters={})
        with self.transaction() as conn:
            version = conn.execute(f"SELECT COALESCE(MAX(version), 0) + 1 FROM {table} "
                                   "WHERE name = ?", (name,)).fetchone()[0]
            cur = conn.execute(
                f"INSERT INTO {table} (name, version, path, description, inputs, parameters,"
                " code_version, created, job_id) VALUES (?,?,?,?,?,?,?,?,?)",
                (name, version, stored_path(Path(path), self.root), description, cols["inputs"],
                 cols["parameters"], cols["code_version"], utc_now(), job_id))
        row = self.query(f"SELECT * FROM {table} WHERE id = ?", (cur.lastrowid,))[0]
        return artifact_from_row(table, row, self.root)

    def list_artifacts(self, kind: str, *, name: str | None = None) -> list[ArtifactRecord]:
        """All artifacts of ``kind`` (all versions, oldest first), optionally of one name."""
        table = _check_kind(kind)
        rows = (self.query(f"SELECT * FROM {table} WHERE name = ? ORDER BY id", (name,))
                if name is not None else self.query(f"SELECT * FROM {table} ORDER BY id"))
        return [artifact_from_row(table, r, self.root) for r in rows]

    def get_artifact(self, kind: str, id_or_name: int | str, *,
                     version: int | None = None) -> ArtifactRecord:
        """An artifact by id, or by name (latest version unless ``version`` is given)."""
        table = _check_kind(kind)
        if version is None:
            return artifact_from_row(table, self._find_row(table, id_or_name, table[:-1]),
                                     self.root)
        rows = self.query(f"SELECT * FROM {table} WHERE name = ? AND version = ?",
                          (str(id_or_name), int(version)))
        if not rows:
            raise RecordNotFoundError(f"no {table[:-1]} {id_or_name!r} version {version} in "
                                      f"workspace {self.root}; list them with list_artifacts")
        return artifact_from_row(table, rows[0], self.root)

