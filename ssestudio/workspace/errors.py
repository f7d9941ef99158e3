"""Errors raised when a workspace cannot be opened, read or changed."""

from ssestudio.core.errors import SSEStudioError, UserInputError


class WorkspaceError(SSEStudioError):
    """A workspace folder or database cannot be used as it is."""


class NotAWorkspaceError(WorkspaceError, UserInputError):
    """The path holds something other than an SSE Studio workspace (left untouched)."""


class WorkspaceNotFoundError(WorkspaceError, UserInputError):
    """No workspace exists at the path and creating one was not allowed."""


class WorkspaceVersionError(WorkspaceError):
    """The workspace schema is newer than this code, or cannot be migrated."""


class RecordNotFoundError(UserInputError, LookupError):
    """No trajectory, structure, artifact or job has the given id or name."""


class NameTakenError(UserInputError):
    """An artifact with the requested name already exists."""
