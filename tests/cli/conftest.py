"""Fixtures shared by the CLI tests."""

import pytest


@pytest.fixture
def setup(tmp_path):
    """An empty workspace and a Cu crystal file: ``(workspace_dir, cif_path)`` as strings."""
    import ase.io
    from ase.build import bulk

    from ssestudio.workspace import Workspace

    Workspace.open(tmp_path / "ws", seed=False).close()
    path = tmp_path / "cu.cif"
    ase.io.write(path, bulk("Cu", "fcc", a=3.61, cubic=True))
    return str(tmp_path / "ws"), str(path)
