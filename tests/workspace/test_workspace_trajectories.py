"""Importing, registering, opening and deleting trajectories (reads via ssestudio.io)."""

import pytest

from ssestudio.core.errors import UserInputError
from ssestudio.workspace import NameTakenError, RecordNotFoundError, Workspace
from ssestudio.workspace.trajectories import copy_into


def test_import_copies_and_registers(ws, xyz_file):
    rec = ws.import_trajectory(xyz_file, timestep_fs=2.0, description="tiny")
    assert (rec.name, rec.format, rec.n_frames, rec.n_atoms) == ("md", "extxyz", 3, 4)
    assert rec.formula == "Li2S2" and rec.timestep_fs == 2.0 and rec.job_id is None
    (path,) = rec.paths
    assert path == ws.root / "trajectories" / "md" / "md.extxyz" and path.exists()
    assert rec.provenance["inputs"] == [str(xyz_file)]
    assert rec.provenance["parameters"]["timestep_fs"] == 2.0
    assert ws.get_trajectory("md") == ws.get_trajectory(rec.id) == rec
    with ws.open_trajectory("md") as traj:
        assert traj.n_frames == 3 and traj.info.timestep_fs == 2.0


def test_names_are_unique(ws, xyz_file):
    assert ws.import_trajectory(xyz_file).name == "md"
    second = ws.import_trajectory(xyz_file)
    assert second.name == "md-2" and second.paths[0].parent.name == "md-2"
    with pytest.raises(NameTakenError, match="already exists"):
        ws.import_trajectory(xyz_file, name="md")
    assert [t.name for t in ws.list_trajectories()] == ["md", "md-2"]


def test_import_in_place(ws, xyz_file):
    rec = ws.import_trajectory(xyz_file, copy=False, name="outside")
    assert rec.paths == (xyz_file,)
    ws.delete_trajectory("outside", delete_files=True)
    assert xyz_file.exists() and ws.list_trajectories() == []


def test_unreadable_or_missing_file_registers_nothing(ws, tmp_path):
    bad = tmp_path / "bad.extxyz"
    bad.write_text("garbage\n")
    with pytest.raises(UserInputError, match="atom count"):
        ws.import_trajectory(bad, format="extxyz")
    with pytest.raises(UserInputError, match="not found"):
        ws.import_trajectory(tmp_path / "missing.extxyz")
    assert ws.list_trajectories() == [] and list((ws.root / "trajectories").iterdir()) == []


def test_register_update_and_delete(ws, tmp_path):
    path = ws.root / "jobs" / "7" / "md.h5"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    rec = ws.register_trajectory(path, name="growing", format="native", n_frames=0,
                                 n_atoms=4, provenance={"parameters": {"T_K": 600}})
    assert rec.paths == (path,) and rec.n_frames == 0
    assert ws.query("SELECT paths FROM trajectories")[0][0] == '["jobs/7/md.h5"]'
    with Workspace.open(ws.root) as other:  # another process follows the growth
        assert other.update_trajectory_stats("growing", n_frames=50).n_frames == 50
    assert ws.get_trajectory("growing").n_frames == 50
    with pytest.raises(UserInputError, match="n_frames must be >= 0"):
        ws.update_trajectory_stats(rec.id, n_frames=-1)
    with pytest.raises(NameTakenError):
        ws.register_trajectory(path, name="growing", format="native")
    ws.delete_trajectory(rec.id, delete_files=True)
    assert not path.exists() and not path.parent.exists() and (ws.root / "jobs").is_dir()
    with pytest.raises(RecordNotFoundError):
        ws.get_trajectory(rec.id)


def test_delete_removes_copied_files(ws, xyz_file):
    rec = ws.import_trajectory(xyz_file)
    ws.delete_trajectory("md", delete_files=True)
    assert not rec.paths[0].exists() and not rec.paths[0].parent.exists()


def test_copy_into_keeps_clashing_segments_apart(tmp_path):
    a, b = tmp_path / "run1" / "XDATCAR", tmp_path / "run2" / "XDATCAR"
    for k, p in enumerate((a, b)):
        p.parent.mkdir()
        p.write_text(str(k))
    dest = tmp_path / "dest"
    dest.mkdir()
    out = copy_into(dest, [a, b])
    assert [p.relative_to(dest).as_posix() for p in out] == ["seg000/XDATCAR", "seg001/XDATCAR"]
    assert [p.read_text() for p in out] == ["0", "1"]
