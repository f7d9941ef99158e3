"""Fixtures for workspace tests: tiny structure, trajectory and sample folder in tmp_path."""

import json

import numpy as np
import pytest


@pytest.fixture
def cif_file(tmp_path):
    """A 2-atom NaCl primitive cell written by ASE."""
    import ase.io
    from ase.build import bulk

    path = tmp_path / "inputs" / "nacl.cif"
    path.parent.mkdir(exist_ok=True)
    ase.io.write(path, bulk("NaCl", "rocksalt", a=5.64))
    return path


@pytest.fixture
def xyz_file(tmp_path):
    """A 3-frame, 4-atom extxyz trajectory written by ASE."""
    import ase.io
    from ase import Atoms

    rng = np.random.default_rng(0)
    frames = [Atoms("Li2S2", positions=rng.random((4, 3)) * 4.0, cell=[4.0, 4.0, 4.0], pbc=True)
              for _ in range(3)]
    path = tmp_path / "inputs" / "md.extxyz"
    path.parent.mkdir(exist_ok=True)
    ase.io.write(path, frames, format="extxyz")
    return path


@pytest.fixture
def sample_dir(tmp_path, cif_file, xyz_file):
    """A sample-data folder with a manifest listing one structure and one trajectory."""
    folder = tmp_path / "sample"
    (folder / "structures").mkdir(parents=True)
    (folder / "trajectories").mkdir()
    (folder / "structures" / "nacl.cif").write_bytes(cif_file.read_bytes())
    (folder / "trajectories" / "md.extxyz").write_bytes(xyz_file.read_bytes())
    (folder / "manifest.json").write_text(json.dumps({
        "structures": [{"file": "structures/nacl.cif", "name": "NaCl rocksalt",
                        "description": "test structure"}],
        "trajectories": [{"file": "trajectories/md.extxyz", "name": "tiny md",
                          "format": "extxyz", "timestep_fs": 2.0, "description": "3 frames"}],
    }))
    return folder


@pytest.fixture
def empty_sample_dir(tmp_path):
    """A sample-data folder without a manifest."""
    folder = tmp_path / "no-samples"
    folder.mkdir()
    return folder


@pytest.fixture
def ws(tmp_path, empty_sample_dir):
    """A fresh, unseeded workspace."""
    from ssestudio.workspace import Workspace

    with Workspace.open(tmp_path / "ws", sample_dir=empty_sample_dir) as workspace:
        yield workspace
