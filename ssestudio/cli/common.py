"""Helpers shared by CLI commands: the ``--workspace`` option, JSON output, errors."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

WORKSPACE_ENV = "SSESTUDIO_WORKSPACE"


def add_workspace_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--workspace DIR`` (default: ``$SSESTUDIO_WORKSPACE`` or ``~/.ssestudio/workspace``)."""
    parser.add_argument(
        "--workspace", metavar="DIR", type=Path, default=None,
        help=f"workspace folder (default: ${WORKSPACE_ENV} or ~/.ssestudio/workspace); "
             "the app, the CLI and notebooks share it",
    )


def add_json_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--json``: print one JSON object instead of text."""
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def workspace_path(args: argparse.Namespace) -> Path:
    """The workspace folder chosen by ``--workspace`` or the environment default."""
    from ssestudio.workspace import default_workspace_path

    return Path(args.workspace) if args.workspace else default_workspace_path()


def open_workspace(args: argparse.Namespace, *, create: bool = True):
    """Open (and on first use create and seed) the workspace named by ``args``."""
    from ssestudio.workspace import Workspace

    return Workspace.open(workspace_path(args), create=create)


def print_json(obj: Any) -> None:
    """Print ``obj`` as indented JSON (paths and numpy scalars converted)."""
    print(json.dumps(obj, indent=2, default=_json_default))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


def fail(message: str, code: int = 2) -> int:
    """Print ``error: message`` to stderr and return ``code``."""
    print(f"error: {message}", file=sys.stderr)
    return code


def env_flag(name: str) -> str | None:
    """Value of an environment variable, or None when unset/empty."""
    value = os.environ.get(name, "").strip()
    return value or None
