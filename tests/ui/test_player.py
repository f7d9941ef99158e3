"""TrajectoryPlayer view model (tier 1) and its layout (tier 2), no server, no browser."""

from __future__ import annotations

import numpy as np
import panel as pn
import pytest

from ssestudio.core.errors import UserInputError
from ssestudio.io.base import Frame, Trajectory, TrajectoryInfo
from ssestudio.ui import colors
from ssestudio.ui.player import (
    DISPLACEMENT, SPECIES, TrajectoryPlayer, UnwrappedFrames, parse_atom_selection, wrap_positions,
)
from ssestudio.ui.viewer import StructureViewer

L = 5.0  # cubic box edge, Å


class MemoryTrajectory(Trajectory):
    """In-memory trajectory that can grow (``append``), like a file still being written."""

    def __init__(self, symbols, positions, cells, *, dt_fs=2.0):
        self.symbols = tuple(symbols)
        self.masses = np.ones(len(self.symbols))
        self.info = TrajectoryInfo(format="memory", sources=())
        self._pos = [np.asarray(p, dtype=float) for p in positions]
        self._cells = [np.asarray(c, dtype=float) for c in cells]
        self._visible = len(self._pos)
        self._dt = dt_fs

    def append(self, positions, cell):
        """Write a frame; it becomes readable at the next :meth:`refresh`."""
        self._pos.append(np.asarray(positions, dtype=float))
        self._cells.append(np.asarray(cell, dtype=float))

    def refresh(self) -> int:
        self._visible = len(self._pos)
        return self._visible

    def _n_frames(self) -> int:
        return self._visible

    def _read_frame(self, index: int) -> Frame:
        return Frame(index=index, positions=self._pos[index].copy(), cell=self._cells[index].copy(),
                     time_fs=self._dt * index)


def reference_unwrap(positions, cells):
    """Minimum-image unwrapping in fractional coordinates, continuous from frame 0."""
    frac = np.einsum("tni,tij->tnj", positions, np.linalg.inv(cells))
    step = np.diff(frac, axis=0)
    step -= np.round(step)
    unwrapped = np.concatenate([frac[:1], frac[:1] + np.cumsum(step, axis=0)])
    return np.einsum("tnj,tjk->tnk", unwrapped, cells)


def drifting(n_frames=12, velocity=(0.45, 0.0, -0.3)):
    """Li atom 0 drifts (crossing the box faces), the others sit still; stored wrapped."""
    start = np.array([[4.0, 1.0, 1.0], [1.0, 1.0, 1.0], [2.5, 2.5, 2.5], [1.0, 4.0, 2.0]])
    true = np.array([start + np.array([velocity, [0] * 3, [0] * 3, [0] * 3]) * t for t in range(n_frames)])
    cells = np.repeat(np.eye(3)[None] * L, n_frames, axis=0)
    traj = MemoryTrajectory(["Li", "Li", "S", "P"], [wrap_positions(p, c) for p, c in zip(true, cells)], cells)
    return traj, true


@pytest.fixture
def player():
    traj, _ = drifting()
    return TrajectoryPlayer(traj, unwrap_fn=reference_unwrap)


# ---- frames, stride, looping -----------------------------------------------------------
def test_first_frame_is_sent_as_structure(player):
    msg = player.viewer.structure_message()
    assert msg["n_atoms"] == 4 and msg["frame"] == 0
    assert np.allclose(msg["cell"], np.eye(3) * L)
    assert player.param.frame.bounds == (0, 11)


def test_step_with_stride_loops_and_stops(player):
    player.stride = 4
    assert [player.step() for _ in range(3)] == [4, 8, 0]  # 12 % 12 loops to 0
    assert player.step(-1) == 8
    player.loop, player.stride = False, 5
    player.playing = True
    assert player.step() == 11 and player.playing is False
    assert player.viewer.frame == 11


def test_tick_advances_only_while_playing(player):
    player._tick()
    assert player.frame == 0
    player.playing = True
    player._tick()
    assert player.frame == 1
    player.close()
    assert player.playing is False and player._play_cb is None


def test_go_to_negative_and_out_of_range(player):
    player.go_to(-1)
    assert player.frame == 11
    with pytest.raises(UserInputError, match="out of range"):
        player.go_to(12)


# ---- wrap / unwrap ---------------------------------------------------------------------
def test_unwrap_is_continuous_across_the_boundary():
    traj, true = drifting()
    player = TrajectoryPlayer(traj, unwrap_fn=reference_unwrap)
    wrapped = np.array([player.frame_payload(t).positions[0] for t in range(12)])
    assert np.abs(np.diff(wrapped, axis=0)).max() > L / 2  # jumps through the faces
    assert np.all((wrapped >= 0) & (wrapped < L))
    player.unwrap = True
    unwrapped = np.array([player.frame_payload(t).positions[0] for t in range(12)])
    assert np.allclose(np.diff(unwrapped, axis=0), [0.45, 0.0, -0.3])
    assert np.allclose(unwrapped, true[:, 0])
    player.go_to(7)  # the viewer got the unwrapped frame
    assert np.allclose(player.viewer.positions[0], true[7, 0], atol=1e-5)


def test_unwrapped_cache_random_access_matches_full_unwrap():
    rng = np.random.default_rng(1)
    n_frames = 50
    steps = rng.normal(scale=0.6, size=(n_frames, 6, 3))
    steps[0] = rng.random((6, 3)) * L
    true = np.cumsum(steps, axis=0)
    cells = np.repeat(np.diag([L, L + 1, L + 2])[None], n_frames, axis=0)
    traj = MemoryTrajectory(["Li"] * 6, [wrap_positions(p, c) for p, c in zip(true, cells)], cells)
    cache = UnwrappedFrames(traj, chunk=7, unwrap_fn=reference_unwrap)
    expected = reference_unwrap(traj.positions(), traj.cells())
    for t in [49, 3, 30, 0, 48, 14, 13, 21]:
        assert np.allclose(cache(t), expected[t])
    assert len(cache._anchors) == 8  # frames 0, 7, ..., 49: nothing beyond the last jump


def test_unwrapped_cache_follows_a_growing_trajectory():
    traj, true = drifting(n_frames=5)
    cache = UnwrappedFrames(traj, chunk=3, unwrap_fn=reference_unwrap)
    assert np.allclose(cache(4), true[4])
    for t in range(5, 9):
        shift = np.array([0.45, 0.0, -0.3]) * t
        traj.append(wrap_positions(true[0] + np.array([shift, 0 * shift, 0 * shift, 0 * shift]), np.eye(3) * L),
                    np.eye(3) * L)
    traj.refresh()
    assert np.allclose(cache(8)[0], true[0, 0] + np.array([0.45, 0.0, -0.3]) * 8)


def test_default_unwrap_comes_from_the_io_layer():
    traj, true = drifting()
    player = TrajectoryPlayer(traj, unwrap=True)
    assert np.allclose(player.frame_payload(11).positions, true[11], atol=1e-6)


def test_chunked_unwrap_is_exact_with_a_changing_cell():
    from ssestudio.io.unwrap import unwrap_positions

    rng = np.random.default_rng(2)
    n_frames = 40
    cells = np.array([np.diag([L, L, L]) * (1 + 0.05 * np.sin(t / 3)) + [[0, 0.3, 0], [0] * 3, [0] * 3]
                      for t in range(n_frames)])
    true = np.cumsum(np.concatenate([rng.random((1, 5, 3)) * L, rng.normal(scale=0.5, size=(n_frames - 1, 5, 3))]), axis=0)
    traj = MemoryTrajectory(["Li"] * 5, [wrap_positions(p, c) for p, c in zip(true, cells)], cells)
    expected = unwrap_positions(traj.positions(), traj.cells())
    cache = UnwrappedFrames(traj, chunk=6)
    for t in [39, 5, 17, 0, 38, 12, 6]:
        assert np.allclose(cache(t), expected[t], atol=1e-9)


# ---- colours -----------------------------------------------------------------------------
def test_colour_by_displacement_payload(player):
    player.go_to(6)
    player.color_by = DISPLACEMENT
    p = player.frame_payload()
    expected = np.linalg.norm(np.array([0.45, 0.0, -0.3]) * 6)
    assert np.allclose(p.scalar, [expected, 0, 0, 0])
    assert p.scalar_range == pytest.approx((0.0, expected))
    assert p.colors.shape == (4, 3) and p.colors.dtype == np.uint8
    assert tuple(p.colors[0]) == tuple(colors.VIRIDIS_ANCHORS[-1].astype(np.uint8))  # max -> yellow
    assert np.array_equal(player.viewer.structure_message()["colors"], p.colors)
    player.color_by = SPECIES
    assert np.array_equal(player.viewer.structure_message()["colors"],
                          colors.species_colors(player.trajectory.numbers))


def test_registered_scalar_is_offered_and_used(player):
    player.add_scalar("uncertainty (eV/Å)", lambda traj, i: np.arange(traj.n_atoms) * (i + 1.0))
    assert "uncertainty (eV/Å)" in player.param.color_by.objects
    assert "uncertainty (eV/Å)" not in TrajectoryPlayer(drifting()[0]).param.color_by.objects
    player.color_by = "uncertainty (eV/Å)"
    player.go_to(2)
    p = player.frame_payload()
    assert np.allclose(p.scalar, [0, 3, 6, 9]) and p.scalar_range == (0.0, 9.0)
    with pytest.raises(UserInputError, match="built in"):
        player.add_scalar(SPECIES, lambda traj, i: 0)


def test_bad_scalar_shows_a_message_instead_of_failing(player):
    player.add_scalar("broken", lambda traj, i: np.zeros(3))
    player.color_by = "broken"
    assert "3 values for 4 atoms" in player.message


# ---- highlight ---------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("0-2, 5", [0, 1, 2, 5]), ("Li", [0, 1, 6]), ("li s", [0, 1, 2, 6]), (" 3 - 4 ,7", [3, 4, 7]),
    ("", []), ("5 5 5", [5]),
])
def test_parse_atom_selection(text, expected):
    symbols = ["Li", "Li", "S", "P", "P", "Cl", "Li", "P"]
    assert parse_atom_selection(text, symbols).tolist() == expected


@pytest.mark.parametrize("text, message", [
    ("foo", "cannot read 'foo'.*'0-5, 17'.*Li, P, S"), ("5-2", "backwards; write 2-5"),
    ("99", "out of range.*4 atoms"), ("Cl", "cannot read 'Cl'"), ("1.5", "cannot read '1.5'"),
])
def test_parse_atom_selection_errors_say_how_to_fix(text, message):
    with pytest.raises(UserInputError, match=message):
        parse_atom_selection(text, ["Li", "Li", "S", "P"])


def test_highlight_reaches_the_viewer_and_bad_input_is_reported(player):
    player.highlight = "S, 3"
    assert player.viewer.highlighted.tolist() == [2, 3] and player.message == ""
    player.highlight = "Zr"
    assert player.viewer.highlighted.tolist() == [] and "cannot read 'Zr'" in player.message
    player.highlight = ""
    assert player.message == ""


# ---- follow -------------------------------------------------------------------------------
def test_follow_picks_up_appended_frames():
    traj, true = drifting(n_frames=3)
    player = TrajectoryPlayer(traj, unwrap_fn=reference_unwrap)
    slider = player.__panel__().select(pn.widgets.IntSlider)[0]
    player.follow = True  # outside a server the periodic callback is created but idle
    assert player.frame == 2
    assert player.poll_follow() is False
    for t in (3, 4):
        moved = true[0] + np.array([[0.45 * t, 0, -0.3 * t], [0, 0, 0], [0, 0, 0], [0, 0, 0]])
        traj.append(wrap_positions(moved, np.eye(3) * L), np.eye(3) * L)
    assert player.poll_follow() is True
    assert player.frame == 4 and player.n_frames == 5 and player.viewer.frame == 4
    assert slider.end == 4
    player.follow = False
    traj.append(traj.positions(0)[0], np.eye(3) * L)
    assert player.poll_follow() is True and player.frame == 4 and slider.end == 5
    player.close()
    assert player._follow_cb is None


def test_follow_starts_from_an_empty_trajectory():
    traj = MemoryTrajectory(["Li", "S"], [], [])
    player = TrajectoryPlayer(traj, follow=True)
    assert player.viewer.n_atoms == 0
    traj.append([[0, 0, 0], [1, 1, 1]], np.eye(3) * L)
    assert player.poll_follow()
    assert player.viewer.n_atoms == 2 and player.viewer.frame == 0


def test_player_can_start_empty():
    player = TrajectoryPlayer()
    assert player.trajectory is None and player.n_frames == 0 and player.viewer.n_atoms == 0
    assert player.step() == 0 and player.poll_follow() is False
    player.highlight = "Li"
    assert player.message == ""  # nothing to highlight yet
    player.__panel__()
    traj, _ = drifting()
    player.set_trajectory(traj)
    assert player.viewer.n_atoms == 4 and player.viewer.highlighted.tolist() == [0, 1]


def test_bad_scalar_message_clears_when_colouring_works_again(player):
    player.add_scalar("broken", lambda traj, i: np.zeros(3))
    player.color_by = "broken"
    player.highlight = "Zr"
    assert "3 values" in player.message and "Zr" in player.message
    player.color_by = SPECIES
    assert "3 values" not in player.message and "Zr" in player.message


def test_set_trajectory_switches_structure(player):
    player.go_to(5)
    player.playing = True
    other = MemoryTrajectory(["Na", "Cl"], [[[0, 0, 0], [2, 2, 2]]], [np.eye(3) * 4])
    player.set_trajectory(other)
    assert player.playing is False and player.frame == 0 and player.n_frames == 1
    assert player.viewer.n_atoms == 2 and player.viewer.structure_id == 2
    assert set(player.viewer.species_style()) == {"Na", "Cl"}


# ---- layout (tier 2) -------------------------------------------------------------------------
def test_panel_layout_has_the_controls(player):
    layout = player.__panel__()
    assert layout.select(StructureViewer) == [player.viewer]
    names = {w.label for w in layout.select(pn.widgets.Widget)}
    assert {"▶ Play", "Frame", "fps", "Stride", "Colour by", "Highlight",
            "Unwrap (continuous paths)", "Follow (live file)"} <= names
    select = layout.select(pn.widgets.Select)[0]
    player.add_scalar("q", lambda traj, i: np.zeros(traj.n_atoms))
    assert "q" in select.options
    slider = layout.select(pn.widgets.IntSlider)[0]
    slider.value = 3
    assert player.frame == 3 and player.viewer.frame == 3
    play = layout.select(pn.widgets.Toggle)[0]
    play.value = True
    assert player.playing and play.label == "⏸ Pause"
    player.close()


def test_legend_lists_species_and_colourbar(player):
    html = player._legend.object
    assert "Li" in html and "&times;2" in html and "frame 0" in html
    player.color_by = DISPLACEMENT
    assert "linear-gradient" in player._legend.object


# ---- notebook helpers ----------------------------------------------------------------------
def test_notebook_view_opens_paths_and_loads_the_extension_once(monkeypatch, sample_data_dir):
    from ssestudio.ui import notebook

    calls = []
    monkeypatch.setattr(pn, "extension", lambda *a, **kw: calls.append(kw))
    monkeypatch.setattr(notebook, "_extension_loaded", False)
    player = notebook.view(sample_data_dir / "trajectories" / "li3ps4_melt_800K_short.extxyz", unwrap=True)
    assert isinstance(player, TrajectoryPlayer) and player.n_frames == 40 and player.unwrap
    traj, _ = drifting()
    assert notebook.view(traj, highlight="Li").viewer.highlighted.tolist() == [0, 1]
    assert calls == [{"inline": True}]


def test_to_nglview_explains_the_missing_dependency():
    from ssestudio.ui.notebook import to_nglview

    try:
        import nglview  # noqa: F401
    except ImportError:
        traj, _ = drifting()
        with pytest.raises(ImportError, match="pip install nglview"):
            to_nglview(traj)
    else:
        pytest.skip("nglview is installed here")


def test_panel_has_the_display_controls(player):
    layout = player.__panel__()
    labels = {w.label for w in layout.select(pn.widgets.Widget) if hasattr(w, "label")}
    for label in ("Frame", "fps", "Stride", "Colour by", "Highlight", "Atom size", "Unit cell",
                  "Unwrap (continuous paths)", "Follow (live file)", "Loop"):
        assert label in labels, label
    size = next(w for w in layout.select(pn.widgets.FloatSlider) if w.label == "Atom size")
    size.value = 0.5
    assert player.viewer.atom_scale == 0.5
