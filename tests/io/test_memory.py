"""The in-memory AtomsTrajectory (previews of generated configurations, dataset rows)."""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator

from ssestudio.core.errors import UserInputError
from ssestudio.io import AtomsTrajectory


def test_frames_follow_the_images_with_their_labels():
    images = [bulk("Cu", cubic=True) * 2 for _ in range(3)]
    images[1].positions[0] += 0.2
    images[2].calc = SinglePointCalculator(images[2], energy=-1.5, forces=np.ones((32, 3)))
    traj = AtomsTrajectory(images, timestep_fs=2.0)
    assert traj.n_frames == 3 and traj.n_atoms == 32 and traj.formula == "Cu32"
    np.testing.assert_allclose(traj[1].positions, images[1].positions)
    assert traj[2].energy == -1.5 and traj[2].forces.shape == (32, 3)
    assert traj.times_fs().tolist() == [0.0, 2.0, 4.0]


def test_different_atoms_and_no_images_are_refused():
    with pytest.raises(UserInputError, match="no structures"):
        AtomsTrajectory([])
    with pytest.raises(UserInputError, match="structure 1 has different atoms"):
        AtomsTrajectory([bulk("Cu"), bulk("Al")])
