"""Exception hierarchy.

Every error raised because of bad user input says what is wrong and how to fix it.
"""


class SSEStudioError(Exception):
    """Base class of all errors raised by ssestudio on purpose."""


class UserInputError(SSEStudioError, ValueError):
    """Input given by the user (file, parameter, name) cannot be used as it is."""


class TrajectoryFormatError(UserInputError):
    """A trajectory file is truncated, corrupt or not in the format it claims."""
