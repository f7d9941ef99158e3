"""Code version recorded in provenance."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from ssestudio import __version__


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """Return the package version, with the git commit when run from a checkout.

    Returns
    -------
    str
        ``"0.1.0"`` or ``"0.1.0+g1a2b3c4"`` (``-dirty`` appended for uncommitted changes).
    """
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return __version__
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=7"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{out}" if out else __version__
