"""Format registry, detection, open_trajectory options, segments, the text buffer."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from ssestudio.core.errors import UserInputError
from ssestudio.io import Frame, Trajectory, TrajectoryInfo, available_formats, open_trajectory
from ssestudio.io import registry
from ssestudio.io.registry import SegmentedTrajectory, TextBuffer, detect_format, register_reader

CELL = np.eye(3) * 5.0


def test_builtin_formats_registered():
    assert set(available_formats()) >= {"xdatcar", "extxyz", "ase-traj", "lammps-dump", "native"}


@pytest.mark.parametrize("name, fmt", [
    ("XDATCAR", "xdatcar"), ("XDATCAR_300K.gz", "xdatcar"), ("run1.XDATCAR.gz", "xdatcar"),
    ("md_XDATCAR", "xdatcar"), ("xdatcar_run1.h5", "native"),
    ("a.xdatcar", "xdatcar"), ("a.xyz", "extxyz"), ("a.extxyz.gz", "extxyz"),
    ("a.traj", "ase-traj"), ("a.lammpstrj", "lammps-dump"), ("a.dump", "lammps-dump"),
    ("dump.melt", "lammps-dump"), ("a.h5", "native"), ("a.h5md", "native")])
def test_detect_by_name(tmp_path, name, fmt):
    path = tmp_path / name
    path.write_bytes(b"")
    assert detect_format(path) == fmt


def test_detect_by_content(tmp_path):
    path = tmp_path / "trajectory.dat"
    path.write_text("ITEM: TIMESTEP\n0\n")
    assert detect_format(path) == "lammps-dump"
    path.write_text("no idea what this is\n")
    with pytest.raises(UserInputError, match="pass format="):
        detect_format(path)


def test_open_errors_say_how_to_fix(tmp_path, xdatcar_text, random_walk):
    with pytest.raises(UserInputError, match="does not exist"):
        open_trajectory(tmp_path / "missing.xyz")
    path = tmp_path / "XDATCAR"
    path.write_text(xdatcar_text({"Li": 2}, np.broadcast_to(CELL, (3, 3, 3)),
                                 random_walk(np.random.default_rng(0), 3, 2)))
    with pytest.raises(UserInputError, match="unknown trajectory format 'vasp'.*xdatcar"):
        open_trajectory(path, format="vasp")
    with pytest.raises(UserInputError, match="does not take option.*type_map.*accepts: timestep_fs"):
        open_trajectory(path, type_map={1: "Li"})
    with pytest.raises(UserInputError, match="positive"):
        open_trajectory(path, timestep_fs=0.0)


class ToyTrajectory(Trajectory):
    """Frames whose positions equal their index; times from a start offset."""

    def __init__(self, path, *, n_frames: int = 3, start_fs: float = 0.0, timestep_fs=None):
        self.symbols, self.masses = ("H", "H"), np.ones(2)
        self._n, self._start, self._dt = n_frames, start_fs, timestep_fs or 1.0
        self.info = TrajectoryInfo(format="toy", sources=(str(path),), timestep_fs=timestep_fs)

    def _n_frames(self):
        return self._n

    def _read_frame(self, index):
        return Frame(index=index, positions=np.full((2, 3), float(index)), cell=CELL,
                     time_fs=self._start + index * self._dt)


@pytest.fixture
def toy_format(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    register_reader("toy", suffixes=(".toy",),
                    sniff=lambda head: head.startswith(b"TOY"))(ToyTrajectory)
    return "toy"


def test_register_custom_reader(tmp_path, toy_format):
    path = tmp_path / "x.toy"
    path.write_text("TOY")
    assert "toy" in available_formats() and detect_format(path) == "toy"
    traj = open_trajectory(path, n_frames=5)
    assert traj.n_frames == 5 and traj.info.format == "toy"
    other = tmp_path / "x.bin"
    other.write_text("TOY file")
    assert detect_format(other) == "toy"


def test_segments_continue_restarted_times(tmp_path, toy_format):
    paths = [tmp_path / f"run{k}.toy" for k in range(3)]
    for p in paths:
        p.write_text("TOY")
    traj = open_trajectory(paths, timestep_fs=2.0, n_frames=4)
    assert isinstance(traj, SegmentedTrajectory) and traj.n_frames == 12
    np.testing.assert_allclose(traj.times_fs(), np.arange(12) * 2.0)
    assert [traj[k].time_fs for k in (3, 4, 11)] == [6.0, 8.0, 22.0]
    order = [11, 0, 5, 5, 4]
    np.testing.assert_array_equal(traj.positions(order)[:, 0, 0], [3, 0, 1, 1, 0])
    assert traj.info.sources == tuple(map(str, paths))
    assert traj.info.extra["segment_starts"] == [0, 4, 8]


def test_segments_with_absolute_times_are_kept(tmp_path):
    first = ToyTrajectory("a", n_frames=3, start_fs=0.0, timestep_fs=10.0)
    second = ToyTrajectory("b", n_frames=3, start_fs=100.0, timestep_fs=10.0)
    traj = SegmentedTrajectory([first, second])
    np.testing.assert_allclose(traj.times_fs(), [0, 10, 20, 100, 110, 120])


def test_text_buffer_lines(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"a\nbb\nccc")
    buf = TextBuffer(path)
    assert buf.line(2) == (b"bb", 5)
    assert buf.skip_lines(0, 2) == 5 and buf.skip_lines(0, 3) == 8 and buf.skip_lines(0, 4) is None
    assert buf.line_number(6) == 3 and not buf.last_line_cut()
    buf.close()


def test_truncated_gzip_gives_what_it_has(tmp_path):
    path = tmp_path / "t.txt.gz"
    raw = gzip.compress(b"line\n" * 20000)
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.warns(UserWarning, match="gzip stream ends early"):
        buf = TextBuffer(path)
    assert 0 < buf.size < 100000 and buf.data.startswith(b"line\nline\n")
