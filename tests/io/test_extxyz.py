"""Extended XYZ reader: round trip with ASE, virial and velocity columns, damage handling."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from ssestudio.core.errors import TrajectoryFormatError
from ssestudio.core.units import FS
from ssestudio.io import open_trajectory
from ssestudio.io.extxyz import ExtxyzTrajectory

CELL = np.array([[7.0, 0.0, 0.0], [1.0, 7.5, 0.0], [0.5, 0.3, 8.0]])


def images(n: int = 8):
    rng = np.random.default_rng(2)
    out = []
    for k in range(n):
        atoms = Atoms("Li3PS2Cl", positions=rng.random((7, 3)) * 7.0, cell=CELL * (1 + 0.01 * k),
                      pbc=True)
        atoms.set_velocities(rng.normal(size=(7, 3)) * 0.01)
        atoms.calc = SinglePointCalculator(atoms, energy=-10.0 - k, forces=rng.normal(size=(7, 3)),
                                           stress=rng.normal(size=6) * 0.01)
        out.append(atoms)
    return out


@pytest.fixture
def xyz_file(tmp_path):
    path = tmp_path / "md.extxyz"
    write(path, images(), format="extxyz")
    return path


def test_round_trip(xyz_file):
    ref = images()
    traj = open_trajectory(xyz_file, timestep_fs=0.5)
    assert isinstance(traj, ExtxyzTrajectory) and traj.n_frames == 8
    assert traj.symbols == tuple(ref[0].get_chemical_symbols())
    info = traj.info
    assert (info.has_energies, info.has_forces, info.has_velocities) == (True, True, True)
    np.testing.assert_allclose(traj.positions(), [a.positions for a in ref], atol=1e-7)
    np.testing.assert_allclose(traj.cells(), [a.cell[:] for a in ref], atol=1e-12)
    np.testing.assert_allclose(traj.times_fs(), np.arange(8) * 0.5)
    frame = traj[5]
    assert frame.energy == pytest.approx(-15.0)
    np.testing.assert_allclose(frame.forces, ref[5].calc.results["forces"], atol=1e-7)
    np.testing.assert_allclose(frame.stress, ref[5].calc.results["stress"], atol=1e-9)
    np.testing.assert_allclose(frame.velocities, ref[5].get_velocities(), atol=1e-7)


def test_fast_bulk_positions_match_ase_parsing(xyz_file):
    traj = open_trajectory(xyz_file)
    order = [6, 1, 1, 3]
    np.testing.assert_array_equal(traj.positions(order), [traj[i].positions for i in order])


def test_virial_and_vel_columns(tmp_path):
    path = tmp_path / "gpumd.xyz"
    volume = 4.0 * 5.0 * 6.0
    frame = ('2\nLattice="4 0 0 0 5 0 0 0 6" Properties=species:S:1:pos:R:3:vel:R:3 '
             'energy=-1.5 virial="1 0 0 0 2 0 0 0 3" pbc="T T T"\n'
             "Li 0 0 0 0.01 0 0\nCl 1 1 1 0 0.02 0\n")
    path.write_text(frame * 3)
    f = open_trajectory(path)[1]
    np.testing.assert_allclose(f.stress, [-1 / volume, -2 / volume, -3 / volume, 0, 0, 0])
    np.testing.assert_allclose(f.velocities[0], [0.01 / FS, 0.0, 0.0])
    assert f.energy == -1.5


def test_truncated_last_frame_dropped(xyz_file):
    lines = xyz_file.read_text().splitlines(keepends=True)
    xyz_file.write_text("".join(lines[:-3]))
    with pytest.warns(UserWarning, match="frame 7 .* incomplete"):
        traj = open_trajectory(xyz_file)
    assert traj.n_frames == 7


def test_bad_atom_count_line_is_an_error(xyz_file):
    lines = xyz_file.read_text().splitlines(keepends=True)
    lines[9] = "seven\n"  # atom-count line of frame 1
    xyz_file.write_text("".join(lines))
    with pytest.raises(TrajectoryFormatError, match=r"md.extxyz, line 10: expected the atom count"):
        open_trajectory(xyz_file)


def test_unparseable_frame_is_an_error(xyz_file):
    lines = xyz_file.read_text().splitlines(keepends=True)
    lines[12] = "Li 0.0 zero 0.0\n"  # an atom line of frame 1
    xyz_file.write_text("".join(lines))
    traj = open_trajectory(xyz_file)
    with pytest.raises(TrajectoryFormatError, match=r"md.extxyz, line 10: frame 1 is not valid"):
        traj[1]
    with pytest.raises(TrajectoryFormatError, match="frame 1"):
        traj.positions()
