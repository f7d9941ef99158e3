"""The workspace: one folder with ``ssestudio.sqlite`` and the files it indexes.

Shared by the browser app, the CLI, notebooks and job workers. Open it with
:meth:`Workspace.open`; see :mod:`ssestudio.workspace.store` for the layout and
:mod:`ssestudio.workspace.schema` for versioning and migrations.
"""

from ssestudio.workspace.errors import (NameTakenError, NotAWorkspaceError, RecordNotFoundError,
                                        WorkspaceError, WorkspaceNotFoundError,
                                        WorkspaceVersionError)
from ssestudio.workspace.records import ArtifactRecord, StructureRecord, TrajectoryRecord
from ssestudio.workspace.schema import SCHEMA_VERSION, register_migration
from ssestudio.workspace.seed import sample_data_dir, seed_workspace
from ssestudio.workspace.store import Workspace, default_workspace_path

__all__ = [
    "ArtifactRecord", "NameTakenError", "NotAWorkspaceError", "RecordNotFoundError",
    "SCHEMA_VERSION", "StructureRecord", "TrajectoryRecord", "Workspace", "WorkspaceError",
    "WorkspaceNotFoundError", "WorkspaceVersionError", "default_workspace_path",
    "register_migration", "sample_data_dir", "seed_workspace",
]
