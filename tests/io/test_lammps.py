"""LAMMPS text dump reader: boxes, coordinate styles, units, species, damage handling."""

from __future__ import annotations

import numpy as np
import pytest

from ssestudio.core.errors import TrajectoryFormatError, UserInputError
from ssestudio.core.units import PS
from ssestudio.io import open_trajectory
from ssestudio.io.lammps import LammpsDumpTrajectory

ORTHO_BOX = ("pp pp pp", ["-1.0 9.0", "-2.0 10.0", "0.5 11.5"])
TRI_BOX = ("xy xz yz pp pp pp", ["-1.5 11.0 1.0", "-2.0 9.0 -0.5", "0.5 10.5 0.8"])


def dump_frame(step: int, box: tuple[str, list[str]], columns: str, rows: list[str]) -> str:
    return (f"ITEM: TIMESTEP\n{step}\nITEM: NUMBER OF ATOMS\n{len(rows)}\n"
            f"ITEM: BOX BOUNDS {box[0]}\n" + "".join(f"{b}\n" for b in box[1]) +
            f"ITEM: ATOMS {columns}\n" + "".join(f"{r}\n" for r in rows))


def ortho_table(rng, n_frames=4):
    """(ids shuffled per frame, elements, wrapped x, image flags, velocities, forces) frames."""
    out = []
    for _ in range(n_frames):
        x = rng.random((3, 3)) * [10.0, 12.0, 11.0] + [-1.0, -2.0, 0.5]
        img = rng.integers(-2, 3, size=(3, 3))
        v, f = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
        out.append((x, img, v, f))
    return out


@pytest.fixture
def ortho_dump(tmp_path):
    rng = np.random.default_rng(5)
    data, text = ortho_table(rng), []
    elements = ["Li", "Li", "S"]
    for t, (x, img, v, f) in enumerate(data):
        order = rng.permutation(3)
        rows = [f"{i + 1} {elements[i]} {' '.join(map(str, x[i]))} {' '.join(map(str, img[i]))} "
                f"{' '.join(map(str, v[i]))} {' '.join(map(str, f[i]))}" for i in order]
        columns = "id element x y z ix iy iz vx vy vz fx fy fz"
        text.append(dump_frame(100 * t, ORTHO_BOX, columns, rows))
    path = tmp_path / "md.lammpstrj"
    path.write_text("".join(text))
    return path, data


def test_orthogonal_box_images_units_and_sorting(ortho_dump):
    path, data = ortho_dump
    traj = open_trajectory(path, md_timestep_fs=2.0)
    assert isinstance(traj, LammpsDumpTrajectory) and traj.symbols == ("Li", "Li", "S")
    cell = np.diag([10.0, 12.0, 11.0])
    assert traj.info.extra["unwrapped"] and traj.info.has_velocities and traj.info.has_forces
    for t, (x, img, v, f) in enumerate(data):
        frame = traj[t]
        np.testing.assert_allclose(frame.cell, cell)
        np.testing.assert_allclose(frame.positions, x - [-1.0, -2.0, 0.5] + img @ cell, atol=1e-12)
        np.testing.assert_allclose(frame.velocities * PS, v, rtol=1e-12)  # Å/ps in the dump
        np.testing.assert_allclose(frame.forces, f)
    np.testing.assert_allclose(traj.times_fs(), [0.0, 200.0, 400.0, 600.0])
    assert traj.info.timestep_fs == 200.0
    np.testing.assert_array_equal(traj.steps, [0, 100, 200, 300])


def test_times_without_md_timestep(ortho_dump):
    path, _ = ortho_dump
    assert open_trajectory(path, timestep_fs=50.0).times_fs()[-1] == 150.0
    traj = open_trajectory(path)
    assert traj.info.timestep_fs is None and traj.times_fs()[-1] == 3.0
    with pytest.raises(UserInputError, match="not both"):
        open_trajectory(path, timestep_fs=1.0, md_timestep_fs=1.0)


def test_triclinic_scaled_coordinates_match_ase(tmp_path):
    from ase.io import read

    rows = ["2 2 0.5 0.5 0.5", "1 1 0.1 0.2 0.3", "3 1 0.9 0.05 0.7"]
    path = tmp_path / "dump.tri"
    path.write_text(dump_frame(0, TRI_BOX, "id type xs ys zs", rows) * 2)
    ref = read(path, format="lammps-dump-text", index=0)
    traj = open_trajectory(path, type_map={1: "Li", 2: "Cl"})
    assert traj.symbols == ("Li", "Cl", "Li")
    np.testing.assert_allclose(traj[0].cell, ref.cell[:], atol=1e-12)
    np.testing.assert_allclose(traj[0].positions, ref.positions, atol=1e-12)
    assert not traj.info.extra["unwrapped"]


def test_unwrapped_and_general_triclinic(tmp_path):
    box = ("abc origin pp pp pp", ["10 0 0 1", "2 9 0 2", "1 1 8 3"])
    rows = ["1 Li 11.0 2.0 3.0", "2 P 0.0 -5.0 4.0"]
    path = tmp_path / "u.dump"
    path.write_text(dump_frame(0, box, "id element xu yu zu", rows))
    traj = open_trajectory(path)
    np.testing.assert_allclose(traj[0].cell, [[10, 0, 0], [2, 9, 0], [1, 1, 8]])
    np.testing.assert_allclose(traj[0].positions, [[10.0, 0.0, 0.0], [-1.0, -7.0, 1.0]])
    assert traj.info.extra["unwrapped"]


def test_species_needed(tmp_path):
    path = tmp_path / "dump.1"
    path.write_text(dump_frame(0, ORTHO_BOX, "id type x y z", ["1 1 0 0 0", "2 3 1 1 1"]))
    with pytest.raises(UserInputError, match=r"pass type_map=.*types \[1, 3\]"):
        open_trajectory(path)
    with pytest.raises(UserInputError, match=r"no symbol for LAMMPS atom type\(s\) \[3\]"):
        open_trajectory(path, type_map={1: "Li"})
    assert open_trajectory(path, symbols=["Na", "K"]).symbols == ("Na", "K")


def test_truncated_last_frame_dropped(ortho_dump):
    path, _ = ortho_dump
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))
    with pytest.warns(UserWarning, match="frame 3 .* incomplete"):
        traj = open_trajectory(path)
    assert traj.n_frames == 3


def test_extra_line_in_the_middle_is_an_error(ortho_dump):
    path, _ = ortho_dump
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(11, lines[11])  # frame 0 gets a fourth atom line
    path.write_text("".join(lines))
    with pytest.raises(TrajectoryFormatError, match=r"md.lammpstrj, line 13: expected an 'ITEM:'"):
        open_trajectory(path)


def test_non_numeric_atom_line_is_an_error(ortho_dump):
    path, _ = ortho_dump
    lines = path.read_text().splitlines(keepends=True)
    lines[21] = "2 Li 1.0 oops 1.0 0 0 0 0 0 0 0 0 0\n"  # an atom line of frame 1
    path.write_text("".join(lines))
    traj = open_trajectory(path)
    with pytest.raises(TrajectoryFormatError, match=r"md.lammpstrj, line 22: frame 1: bad atom line"):
        traj.positions()


def test_dump_time_and_real_units(tmp_path):
    from ase import units

    text = "".join(f"ITEM: UNITS\nreal\nITEM: TIME\n{2.5 * t}\n" + dump_frame(
        10 * t, ORTHO_BOX, "id element x y z vx vy vz fx fy fz",
        ["1 Li 0 0 0 0.01 0 0 1.0 0 0"]) for t in range(3))
    path = tmp_path / "real.lammpstrj"
    path.write_text(text)
    traj = open_trajectory(path)
    np.testing.assert_allclose(traj.times_fs(), [0.0, 2.5, 5.0])  # real units: fs
    assert traj.info.timestep_fs == 2.5 and traj.info.extra["units"] == "real"
    frame = traj[1]
    np.testing.assert_allclose(frame.velocities[0, 0] * units.fs, 0.01)  # Å/fs in the dump
    np.testing.assert_allclose(frame.forces[0, 0], units.kcal / units.mol)
