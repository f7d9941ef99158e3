"""ASE .traj reader: round trip, random access, damaged files."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io.trajectory import Trajectory as AseTraj

from ssestudio.core.errors import TrajectoryFormatError
from ssestudio.io import open_trajectory
from ssestudio.io.asetraj import AseTrajectory


@pytest.fixture
def traj_file(tmp_path):
    path = tmp_path / "md.traj"
    rng = np.random.default_rng(4)
    with AseTraj(str(path), "w") as out:
        for k in range(6):
            atoms = Atoms("Li2S", positions=rng.random((3, 3)) * 5, cell=np.eye(3) * 5, pbc=True)
            atoms.set_velocities(np.full((3, 3), 0.01 * k))
            atoms.calc = SinglePointCalculator(atoms, energy=-float(k), forces=np.full((3, 3), k))
            out.write(atoms)
    return path


def test_round_trip_and_random_access(traj_file):
    ref = AseTraj(str(traj_file))
    traj = open_trajectory(traj_file, timestep_fs=5.0)
    assert isinstance(traj, AseTrajectory) and traj.n_frames == 6
    assert traj.info.has_energies and traj.info.has_forces and traj.info.has_velocities
    np.testing.assert_array_equal(traj.positions([4, 0, 4]), [ref[i].positions for i in (4, 0, 4)])
    frame = traj[3]
    assert frame.energy == -3.0 and frame.time_fs == 15.0
    np.testing.assert_allclose(frame.velocities, 0.03)
    np.testing.assert_array_equal(frame.forces, 3.0)


def test_unreadable_last_frame_is_dropped(traj_file):
    data = traj_file.read_bytes()
    traj_file.write_bytes(data[:-200])
    with pytest.warns(UserWarning, match="frame 5 .* incomplete"):
        traj = open_trajectory(traj_file)
    assert traj.n_frames == 5


def test_not_an_ase_trajectory(tmp_path):
    path = tmp_path / "x.traj"
    path.write_bytes(b"this is not ULM" * 10)
    with pytest.raises(TrajectoryFormatError, match="x.traj is not a readable ASE trajectory"):
        open_trajectory(path)
