"""Seed a new workspace with the sample data shipped with the package.

``sample_data/manifest.json`` lists what to import::

    {"structures": [{"file": "structures/x.cif", "name": "...", "description": "..."}],
     "trajectories": [{"file": "trajectories/y.h5", "name": "...", "format": "native",
                       "timestep_fs": 10.0, "description": "..."}],
     "models": [{"file": "models/z.pt", "name": "...", "description": "..."}]}

A model file is copied into ``models/<name>/`` of the workspace and registered there.

Without a manifest nothing is seeded.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssestudio.workspace.errors import WorkspaceError

if TYPE_CHECKING:
    from ssestudio.workspace.store import Workspace

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
_SECTIONS = {"structures": {"file", "name", "description"},
             "trajectories": {"file", "name", "format", "timestep_fs", "description"},
             "models": {"file", "name", "description"}}


def sample_data_dir() -> Path:
    """Sample data folder: ``ssestudio/_sample_data`` in a wheel, else ``<repo>/sample_data``."""
    import ssestudio

    package = Path(ssestudio.__file__).resolve().parent
    bundled = package / "_sample_data"
    return bundled if bundled.is_dir() else package.parent / "sample_data"


def load_manifest(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Read and validate a sample manifest.

    Raises
    ------
    WorkspaceError
        If it is not valid JSON of the documented shape.
    """
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise WorkspaceError(f"cannot read sample manifest {path}: {exc}") from exc
    if not isinstance(data, dict) or set(data) - set(_SECTIONS):
        raise WorkspaceError(f"sample manifest {path} must be an object with keys "
                             f"{sorted(_SECTIONS)}")
    out = {}
    for section, allowed in _SECTIONS.items():
        entries = data.get(section, [])
        for entry in entries if isinstance(entries, list) else [None]:
            if (not isinstance(entry, dict) or not isinstance(entry.get("file"), str)
                    or set(entry) - allowed or Path(entry["file"]).is_absolute()
                    or ".." in Path(entry["file"]).parts):
                raise WorkspaceError(f"bad {section} entry {entry!r} in {path}: give a dict with "
                                     f"a relative 'file' and optional keys {sorted(allowed)}")
        out[section] = entries
    return out


def seed_workspace(ws: "Workspace", *, sample_dir: str | os.PathLike | None = None) -> list[str]:
    """Import the structures and trajectories listed in ``<sample_dir>/manifest.json``.

    Entries whose name is already registered are skipped, so seeding can be repeated.

    Parameters
    ----------
    ws : Workspace
        Target workspace.
    sample_dir : path-like, optional
        Folder holding ``manifest.json``; default :func:`sample_data_dir`.

    Returns
    -------
    list of str
        Names of the items imported.
    """
    folder = Path(sample_dir) if sample_dir is not None else sample_data_dir()
    manifest = folder / MANIFEST_NAME
    if not manifest.is_file():
        logger.info("no sample manifest at %s: nothing to seed", manifest)
        return []
    sections = load_manifest(manifest)
    have = {"structures": {r.name for r in ws.list_structures()},
            "trajectories": {r.name for r in ws.list_trajectories()},
            "models": {r.name for r in ws.list_artifacts("models")}}
    added = []
    for section, entries in sections.items():
        for entry in entries:
            name = entry.get("name") or Path(entry["file"]).stem
            if name in have[section]:
                continue
            _import_entry(ws, section, folder, entry, name)
            added.append(name)
    return added


def _import_entry(ws: "Workspace", section: str, folder: Path, entry: dict, name: str) -> None:
    common = {"name": name, "description": entry.get("description", ""),
              "provenance": {"inputs": [f"sample_data/{entry['file']}"],
                             "parameters": {"seeded": True}}}
    if section == "structures":
        ws.import_structure(folder / entry["file"], **common)
    elif section == "models":
        source = folder / entry["file"]
        target = ws.new_artifact_dir("models", name) / source.name
        shutil.copyfile(source, target)
        ws.add_artifact("models", target, **common)
    else:
        ws.import_trajectory(folder / entry["file"], format=entry.get("format"),
                             timestep_fs=entry.get("timestep_fs"), **common)
