"""Native HDF5 format: writer/reader round trips, conversion, crash safety, following."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from ssestudio.core.errors import TrajectoryFormatError, UserInputError
from ssestudio.io import (NativeTrajectory, TrajectoryWriter, convert_trajectory,
                          open_trajectory, write_trajectory)

SYMBOLS = ["Li", "Li", "P", "S"]
CELL = np.array([[6.0, 0.0, 0.0], [1.0, 6.5, 0.0], [0.0, 0.5, 7.0]])


def frames(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random per-frame quantities of ``n`` frames of the 4 atoms in SYMBOLS."""
    rng = np.random.default_rng(seed)
    cells = CELL * (1 + 0.01 * rng.random((n, 1, 1)))
    return dict(positions=rng.random((n, 4, 3)) * 6.0, cells=cells,
                velocities=rng.normal(size=(n, 4, 3)), energies=rng.normal(size=n),
                forces=rng.normal(size=(n, 4, 3)), stresses=rng.normal(size=(n, 6)))


def test_round_trip_all_quantities(tmp_path):
    data, path = frames(30), tmp_path / "md.h5"
    with TrajectoryWriter(path, SYMBOLS, timestep_fs=2.0, store_velocities=True, store_forces=True,
                          store_stress=True, metadata={"run": "nvt", "T_K": 600}) as w:
        for t in range(30):
            w.append(data["positions"][t], data["cells"][t], velocities=data["velocities"][t],
                     energy=data["energies"][t], forces=data["forces"][t], stress=data["stresses"][t])
        assert w.n_frames == 30
    traj = open_trajectory(path)
    assert isinstance(traj, NativeTrajectory) and traj.symbols == tuple(SYMBOLS)
    info = traj.info
    assert info.timestep_fs == 2.0
    assert info.has_velocities and info.has_energies and info.has_forces
    assert info.extra["metadata"] == {"run": "nvt", "T_K": 600}
    np.testing.assert_array_equal(traj.positions(), data["positions"])
    np.testing.assert_array_equal(traj.cells(), data["cells"])
    np.testing.assert_array_equal(traj.times_fs(), np.arange(30) * 2.0)
    f = traj[17]
    np.testing.assert_allclose(f.velocities, data["velocities"][17], rtol=1e-14)
    assert f.energy == data["energies"][17] and f.time_fs == 34.0
    np.testing.assert_array_equal(f.forces, data["forces"][17])
    np.testing.assert_array_equal(f.stress, data["stresses"][17])


def test_h5md_layout(tmp_path):
    path = tmp_path / "md.h5"
    with TrajectoryWriter(path, SYMBOLS, timestep_fs=1.0) as w:
        w.extend(frames(5)["positions"], CELL)
    with h5py.File(path, "r") as f:
        assert list(f["h5md"].attrs["version"]) == [1, 1]
        assert f["h5md/creator"].attrs["name"] == "ssestudio"
        assert f["particles/all/box"].attrs["dimension"] == 3
        assert f["particles/all/position/value"].shape == (5, 4, 3)
        assert f["particles/all/box/edges/value"].shape == (5, 3, 3)
        assert list(f["particles/all/species"][()]) == [3, 3, 15, 16]
        assert f["particles/all/position/time"].attrs["unit"] == "fs"
        assert f["particles/all/box/edges/step"] == f["particles/all/position/step"]  # hard link


def test_missing_quantities_and_unknown_time(tmp_path):
    path = tmp_path / "md.h5"
    with TrajectoryWriter(path, SYMBOLS, store_forces=True, precision="float32") as w:
        w.append(frames(1)["positions"][0], CELL)
        with pytest.raises(UserInputError, match="store_velocities=True"):
            w.append(frames(1)["positions"][0], CELL, velocities=np.zeros((4, 3)))
        with pytest.raises(UserInputError, match=r"\(n_frames, 4, 3\)"):
            w.append(np.zeros((3, 3)), CELL)
    traj = open_trajectory(path)
    assert traj.info.timestep_fs is None and not traj.info.has_energies
    assert traj[0].energy is None and traj[0].forces is None
    assert traj.info.extra["precision"] == "float32"
    np.testing.assert_array_equal(traj.times_fs(), [0.0])
    assert open_trajectory(path, timestep_fs=5.0).info.timestep_fs == 5.0


def test_refuses_to_overwrite(tmp_path):
    path = tmp_path / "md.h5"
    path.write_bytes(b"keep me")
    with pytest.raises(UserInputError, match="overwrite=True"):
        TrajectoryWriter(path, SYMBOLS)
    assert path.read_bytes() == b"keep me"


def test_random_access_any_order(tmp_path):
    data, path = frames(300), tmp_path / "md.h5"
    with TrajectoryWriter(path, SYMBOLS) as w:
        w.extend(data["positions"], data["cells"])
    traj = open_trajectory(path)
    for order in ([299, 3, 3, 150], [5, 6, 7, 4], [-1, 0]):
        np.testing.assert_array_equal(traj.positions(order), data["positions"][order])
        np.testing.assert_array_equal(traj.cells(order), data["cells"][order])


def test_write_atoms_list(tmp_path):
    images = []
    for k in range(4):
        atoms = Atoms(SYMBOLS, positions=frames(1, k)["positions"][0], cell=CELL, pbc=True)
        atoms.set_velocities(np.full((4, 3), 0.1 * k))
        atoms.calc = SinglePointCalculator(atoms, energy=-k, forces=np.full((4, 3), k),
                                           stress=np.arange(6.0) * k)
        images.append(atoms)
    path = write_trajectory(tmp_path / "a.h5", images, timestep_fs=10.0)
    traj = open_trajectory(path)
    again = traj.to_atoms(3)
    np.testing.assert_allclose(again.get_velocities(), images[3].get_velocities(), rtol=1e-12)
    assert again.get_potential_energy() == -3.0
    np.testing.assert_array_equal(again.get_stress(), np.arange(6.0) * 3)
    assert traj.times_fs()[-1] == 30.0


def test_convert_with_progress_and_cancel(tmp_path):
    data, src_path = frames(50), tmp_path / "src.h5"
    with TrajectoryWriter(src_path, SYMBOLS, timestep_fs=4.0, store_forces=True) as w:
        w.extend(data["positions"], data["cells"], energies=data["energies"], forces=data["forces"])
    src = open_trajectory(src_path)
    calls = []
    out = convert_trajectory(src, tmp_path / "dst.h5", chunk=16,
                             progress=lambda frac, msg: calls.append((frac, msg)))
    assert [c[0] for c in calls] == [16 / 50, 32 / 50, 48 / 50, 1.0]
    assert calls[-1][1] == "converted 50 of 50 frames"
    dst = open_trajectory(out)
    np.testing.assert_array_equal(dst.positions(), data["positions"])
    np.testing.assert_array_equal(dst[7].forces, data["forces"][7])
    assert dst.info.extra["metadata"]["source_format"] == "native"

    def cancel(frac, msg):
        if frac > 0.5:
            raise KeyboardInterrupt("user pressed cancel")

    with pytest.raises(KeyboardInterrupt):
        convert_trajectory(src, tmp_path / "cancelled.h5", chunk=10, progress=cancel)
    assert not list(tmp_path.glob("cancelled*"))


def test_not_a_trajectory(tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(os.urandom(2048))
    with pytest.raises(TrajectoryFormatError, match="junk.h5"):
        open_trajectory(junk)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(TrajectoryFormatError, match="other.h5 is HDF5 but not"):
        open_trajectory(other)


WRITER = """
import sys, time
import numpy as np
from ssestudio.io import TrajectoryWriter
path, n_max, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
with TrajectoryWriter(path, ["Li", "Cl"], timestep_fs=2.0, flush_every=1) as w:
    for i in range(n_max):
        w.append(np.full((2, 3), float(i)), np.eye(3) * 5.0, energy=-float(i))
        print(i + 1, flush=True)
        time.sleep(pause)
"""


def start_writer(path, env, n_max, pause):
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(n_max), str(pause)],
                            stdout=subprocess.PIPE, text=True, env=env)


def check_frames(traj, n):
    np.testing.assert_array_equal(traj.positions(slice(0, n))[:, 0, 0], np.arange(n, dtype=float))
    np.testing.assert_array_equal(traj.times_fs(slice(0, n)), np.arange(n) * 2.0)
    assert traj[n - 1].energy == -(n - 1)


def test_writer_killed_keeps_flushed_frames(tmp_path, subprocess_env):
    path = tmp_path / "killed.h5"
    proc = start_writer(path, subprocess_env, 100_000, 0.002)
    try:
        flushed = 0
        while flushed < 25:
            line = proc.stdout.readline()
            assert line, "writer exited early"
            flushed = int(line)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    traj = open_trajectory(path)
    assert traj.n_frames >= flushed
    check_frames(traj, traj.n_frames)


def test_reader_follows_growing_file(tmp_path, subprocess_env):
    path = tmp_path / "growing.h5"
    proc = start_writer(path, subprocess_env, 400, 0.02)
    try:
        assert int(proc.stdout.readline()) == 1
        traj = NativeTrajectory(path)
        seen = [traj.n_frames]
        deadline = time.monotonic() + 20.0
        while seen[-1] < seen[0] + 10 and time.monotonic() < deadline:
            time.sleep(0.05)
            seen.append(traj.refresh())
        assert seen[-1] >= seen[0] + 10, f"refresh() never saw new frames: {seen}"
        assert seen == sorted(seen)
        check_frames(traj, traj.n_frames)
        traj.close()
    finally:
        proc.kill()
        proc.wait(timeout=30)
