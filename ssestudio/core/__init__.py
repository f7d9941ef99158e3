"""Core: units, errors and versioning shared by every other module.

The core imports nothing from the rest of ``ssestudio``.
"""

from ssestudio.core.errors import SSEStudioError, TrajectoryFormatError, UserInputError

__all__ = ["SSEStudioError", "TrajectoryFormatError", "UserInputError"]
