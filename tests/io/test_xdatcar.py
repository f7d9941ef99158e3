"""VASP XDATCAR reader: round trips, random access, damage handling, real AIMD data."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from ssestudio.core.errors import TrajectoryFormatError, UserInputError
from ssestudio.io import open_trajectory, unwrap_positions
from ssestudio.io.xdatcar import XdatcarTrajectory

SPECIES = {"Li": 3, "P": 1, "S": 2}
CELL = np.array([[8.0, 0.0, 0.0], [0.5, 9.0, 0.0], [0.2, -0.3, 10.0]])


@pytest.fixture
def walk(random_walk):
    return random_walk(np.random.default_rng(0), 12, 6)


@pytest.fixture
def constant_file(tmp_path, xdatcar_text, walk):
    path = tmp_path / "XDATCAR"
    path.write_text(xdatcar_text(SPECIES, np.broadcast_to(CELL, (12, 3, 3)), walk))
    return path


def test_constant_cell_round_trip(constant_file, walk):
    traj = open_trajectory(constant_file, timestep_fs=2.5)
    assert isinstance(traj, XdatcarTrajectory) and traj.info.format == "xdatcar"
    assert traj.symbols == ("Li",) * 3 + ("P",) + ("S",) * 2
    assert traj.n_frames == 12
    np.testing.assert_allclose(traj.positions(), walk @ CELL, atol=1e-12)
    np.testing.assert_allclose(traj.cells(), np.broadcast_to(CELL, (12, 3, 3)))
    np.testing.assert_allclose(traj.times_fs(), np.arange(12) * 2.5)
    assert traj.info.timestep_fs == 2.5 and traj[4].time_fs == 10.0
    assert traj.masses[0] == pytest.approx(6.94, abs=0.01)


def test_without_timestep_times_are_frame_indices(constant_file):
    traj = open_trajectory(constant_file)
    assert traj.info.timestep_fs is None
    np.testing.assert_array_equal(traj.times_fs(), np.arange(12.0))


def test_matches_ase(constant_file):
    from ase.io import read

    ref = read(constant_file, index=":", format="vasp-xdatcar")
    traj = open_trajectory(constant_file)
    np.testing.assert_allclose(traj.positions(), [a.positions for a in ref], atol=1e-10)
    assert traj.symbols == tuple(ref[0].get_chemical_symbols())


def test_random_access_matches_sequential(constant_file):
    traj = open_trajectory(constant_file)
    order = [7, 2, 11, 2, 0]
    bulk = traj.positions(order)
    for k, i in enumerate(order):
        np.testing.assert_array_equal(bulk[k], traj[i].positions)
    np.testing.assert_array_equal(traj[-1].positions, traj.positions([11])[0])
    with pytest.raises(IndexError, match="12 frames"):
        traj[12]


def test_variable_cell_and_gzip(tmp_path, xdatcar_text, walk):
    cells = CELL * (1.0 + 0.01 * np.arange(12))[:, None, None]
    path = tmp_path / "run.xdatcar.gz"
    path.write_bytes(gzip.compress(xdatcar_text(SPECIES, cells, walk, variable_cell=True).encode()))
    traj = open_trajectory(path)
    assert traj.info.extra["variable_cell"]
    np.testing.assert_allclose(traj.cells(), cells)
    np.testing.assert_allclose(traj.positions(), np.einsum("tni,tij->tnj", walk, cells), atol=1e-12)


def test_symbols_override_per_species(constant_file):
    traj = open_trajectory(constant_file, symbols=["Na", "As", "Se"])
    assert traj.symbols[:4] == ("Na", "Na", "Na", "As")
    with pytest.raises(UserInputError, match="3 species and 6 atoms"):
        open_trajectory(constant_file, symbols=["Na", "As"])


def test_truncated_last_frame_is_dropped_with_warning(constant_file):
    lines = constant_file.read_text().splitlines(keepends=True)
    constant_file.write_text("".join(lines[:-2]))  # last frame lacks two atoms
    with pytest.warns(UserWarning, match="frame 11 .* incomplete"):
        traj = open_trajectory(constant_file)
    assert traj.n_frames == 11


def test_line_cut_short_is_dropped_with_warning(constant_file):
    text = constant_file.read_text()
    constant_file.write_text(text[:-12])  # cut inside the last coordinate line
    with pytest.warns(UserWarning, match="cut short"):
        traj = open_trajectory(constant_file)
    assert traj.n_frames == 11


def test_garbage_in_the_middle_is_an_error(constant_file):
    lines = constant_file.read_text().splitlines(keepends=True)
    lines[20] = "  0.1  oops  0.3\n"
    constant_file.write_text("".join(lines))
    traj = open_trajectory(constant_file)  # the index does not parse numbers
    with pytest.raises(TrajectoryFormatError, match=r"XDATCAR, line 21: frame 1: expected 3"):
        traj.positions()


def test_extra_line_in_the_middle_is_an_error(constant_file):
    lines = constant_file.read_text().splitlines(keepends=True)
    lines.insert(20, "  0.1  0.2  0.3\n")
    constant_file.write_text("".join(lines))
    with pytest.raises(TrajectoryFormatError, match=r"XDATCAR, line \d+: expected 'Direct"):
        open_trajectory(constant_file)


def test_missing_header_is_an_error(constant_file):
    lines = constant_file.read_text().splitlines(keepends=True)
    constant_file.write_text("".join(lines[2:]))
    with pytest.raises(TrajectoryFormatError, match=r"XDATCAR, line \d+: expected"):
        open_trajectory(constant_file)


def test_segments_with_other_atoms_are_refused(tmp_path, xdatcar_text, walk):
    a, b = tmp_path / "a.xdatcar", tmp_path / "b.xdatcar"
    a.write_text(xdatcar_text(SPECIES, np.broadcast_to(CELL, (12, 3, 3)), walk))
    b.write_text(xdatcar_text({"Li": 4, "P": 1, "S": 1}, np.broadcast_to(CELL, (12, 3, 3)), walk))
    with pytest.raises(UserInputError, match="b.xdatcar"):
        open_trajectory([a, b])


def test_real_segments_read_as_one_trajectory(argyrodite_0p):
    traj = open_trajectory(argyrodite_0p, timestep_fs=100.0)
    assert (traj.n_frames, traj.n_atoms) == (700, 416)
    assert traj.formula == "Cl32Li192P32S160"
    np.testing.assert_allclose(traj.times_fs(), np.arange(700) * 100.0)
    positions, cells = traj.positions(), traj.cells()
    np.testing.assert_array_equal(positions[140], traj.segments[1][0].positions)
    unwrapped = unwrap_positions(positions, cells)
    steps = np.linalg.norm(np.diff(unwrapped, axis=0), axis=-1).max(axis=1)  # (699,)
    half_box = 0.5 * np.linalg.norm(cells[0], axis=1).min()
    assert steps.max() < half_box
    boundary = steps[[139, 279, 419, 559]]  # frame 139 -> 140 crosses run1 -> run2, ...
    assert boundary.max() < 3.0 and boundary.max() < 2.0 * np.median(steps)


def test_real_file_matches_ase(argyrodite_0p):
    from ase.io import read

    first = read(argyrodite_0p[0], index=0, format="vasp-xdatcar")
    traj = open_trajectory(argyrodite_0p[0])
    np.testing.assert_allclose(traj[0].positions, first.positions, atol=1e-10)
    np.testing.assert_allclose(traj[0].cell, first.cell[:], atol=1e-12)


def test_old_header_cartesian_and_volume_scale(tmp_path):
    cell = np.diag([2.0, 2.0, 4.0])  # volume 16, scaled to 128 by a negative scale: x2
    text = ("no species line\n -128.0\n" + "".join(f" {a} {b} {c}\n" for a, b, c in cell) +
            " 1 1\nCartesian configuration=     1\n 0.5 0.5 0.5\n 1.0 0.0 0.25\n")
    path = tmp_path / "XDATCAR"
    path.write_text(text)
    with pytest.raises(UserInputError, match=r"no species line; pass symbols="):
        open_trajectory(path)
    traj = open_trajectory(path, symbols=["Li", "Cl"])
    np.testing.assert_allclose(traj[0].cell, cell * 2.0)
    np.testing.assert_allclose(traj[0].positions, [[1.0, 1.0, 1.0], [2.0, 0.0, 0.5]])
