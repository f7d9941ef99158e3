"""Trajectory player: a :class:`StructureViewer` driven by a :class:`Trajectory`.

The state logic (current frame, stride, wrap mode, follow, colour mode, highlight,
what to send for a frame) lives in plain methods of :class:`TrajectoryPlayer` that tests
drive without a server or a browser; ``__panel__`` only lays out widgets bound to its
parameters, and two periodic callbacks (playback, follow) call those methods.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import panel as pn
import param

from ssestudio.core.errors import UserInputError
from ssestudio.io.base import Trajectory
from ssestudio.ui import colors as _colors
from ssestudio.ui.viewer import StructureViewer

SPECIES = "species"
DISPLACEMENT = "displacement from frame 0 (Å)"

#: ``fn(trajectory, frame_index) -> (n_atoms,) float``: a per-atom scalar to colour by.
ScalarFn = Callable[[Trajectory, int], np.ndarray]
#: ``unwrap(positions (T, N, 3), cells (T, 3, 3)) -> (T, N, 3)``, continuous from frame 0.
UnwrapFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class FramePayload:
    """What the viewer is sent for one frame.

    Attributes
    ----------
    frame : int
        Frame index.
    positions : ndarray, shape (n_atoms, 3)
        Positions shown, Å: wrapped into the cell, or unwrapped (continuous from frame 0).
    cell : ndarray, shape (3, 3)
        Cell vectors as rows, Å.
    time_fs : float
        Simulation time, fs.
    colors : ndarray, shape (n_atoms, 3), uint8, or None
        Per-atom colours; ``None`` means species colours.
    scalar : ndarray, shape (n_atoms,), or None
        The per-atom scalar behind ``colors``.
    scalar_range : tuple of float or None
        ``(min, max)`` mapped onto the colormap.
    """

    frame: int
    positions: np.ndarray
    cell: np.ndarray
    time_fs: float
    colors: np.ndarray | None = None
    scalar: np.ndarray | None = None
    scalar_range: tuple[float, float] | None = None


def parse_atom_selection(text: str, symbols: Sequence[str]) -> np.ndarray:
    """Atom indices from text like ``"0-5, 17"``, ``"Li"`` or ``"Li S 3"``.

    Parameters
    ----------
    text : str
        Comma- or space-separated 0-based indices, inclusive ranges ``a-b`` and species.
    symbols : sequence of str, length n_atoms
        Chemical symbols of the atoms.

    Returns
    -------
    ndarray of int
        Sorted unique indices (empty for blank text).

    Raises
    ------
    UserInputError
        For an unreadable token, an index out of range, a backwards range or a species
        absent from the structure.
    """
    n = len(symbols)
    present = {s.lower(): s for s in symbols}
    species = np.asarray(symbols)
    chosen: list[np.ndarray] = []
    for token in re.sub(r"\s*-\s*", "-", text).replace(",", " ").split():
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", token)
        if m:
            lo = int(m.group(1))
            hi = int(m.group(2)) if m.group(2) is not None else lo
            if hi < lo:
                raise UserInputError(f"range {token!r} runs backwards; write {hi}-{lo}")
            if hi >= n:
                raise UserInputError(f"atom index {hi} is out of range: this structure has "
                                     f"{n} atoms (indices 0..{n - 1})")
            chosen.append(np.arange(lo, hi + 1))
        elif token.lower() in present:
            chosen.append(np.flatnonzero(species == present[token.lower()]))
        else:
            have = ", ".join(sorted(set(symbols)))
            raise UserInputError(
                f"cannot read {token!r}: give 0-based atom indices and ranges like '0-5, 17' "
                f"or species present in the structure ({have})")
    return np.unique(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=int)


def wrap_positions(positions: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Positions wrapped into the cell (fractional coordinates in [0, 1)); unchanged when
    the cell is singular (no periodicity)."""
    from ssestudio.io.unwrap import wrap_positions as wrap

    if abs(np.linalg.det(cell)) < 1e-9:
        return np.asarray(positions, dtype=float)
    return wrap(positions, cell)


def _default_unwrap(positions: np.ndarray, cells: np.ndarray) -> np.ndarray:
    from ssestudio.io.unwrap import unwrap_positions  # lazy: lives in the io layer

    return unwrap_positions(positions, cells)


class UnwrappedFrames:
    """Unwrapped positions of any frame, computed lazily in chunks and cached.

    Unwrapped positions at every ``chunk``-th frame ("anchors") are kept, and the last
    chunk computed; a random frame then costs at most one chunk of reading and
    unwrapping once the anchors before it exist (the first jump to a far frame computes
    them, reading every frame once). Appended frames (a growing file) extend the cache.
    A chunk is unwrapped from its wrapped first frame and shifted onto that frame's
    anchor, which continues the path exactly for schemes built from frame-to-frame
    displacements (the TOR scheme of :mod:`ssestudio.io.unwrap`, constant or NPT cells).

    Parameters
    ----------
    trajectory : Trajectory
    chunk : int
        Frames per cached chunk.
    unwrap_fn : callable, optional
        ``(positions (T, N, 3), cells (T, 3, 3)) -> (T, N, 3)``, continuous from frame 0;
        default :func:`ssestudio.io.unwrap.unwrap_positions`.
    """

    def __init__(self, trajectory: Trajectory, *, chunk: int = 128, unwrap_fn: UnwrapFn | None = None):
        self._traj = trajectory
        self._chunk = max(2, int(chunk))
        self._unwrap = unwrap_fn or _default_unwrap
        self._anchors: list[np.ndarray] = []
        self._block: tuple[int, np.ndarray] | None = None  # (first frame, (k, N, 3))

    def __call__(self, frame: int) -> np.ndarray:
        """Unwrapped positions of ``frame``, shape (n_atoms, 3), Å."""
        frame = int(frame)
        if not 0 <= frame < self._traj.n_frames:
            raise IndexError(f"frame {frame} is out of range 0..{self._traj.n_frames - 1}")
        j = frame // self._chunk
        while len(self._anchors) <= j:
            self._extend_anchors()
        start = j * self._chunk
        if self._block is None or self._block[0] != start or start + len(self._block[1]) <= frame:
            self._block = (start, self._unwrap_chunk(j))
        return self._block[1][frame - start]

    def _extend_anchors(self) -> None:
        if not self._anchors:
            self._anchors.append(np.asarray(self._traj.positions(0)[0], dtype=float))
            return
        j = len(self._anchors) - 1
        block = self._unwrap_chunk(j)
        self._block = (j * self._chunk, block)
        self._anchors.append(block[self._chunk])

    def _unwrap_chunk(self, j: int) -> np.ndarray:
        """Frames j*chunk .. j*chunk + chunk (inclusive, as far as they exist)."""
        start = j * self._chunk
        stop = min(start + self._chunk + 1, self._traj.n_frames)
        anchor = self._anchors[j]
        if stop - start == 1:
            return anchor[None]
        frames = slice(start, stop)
        out = np.asarray(self._unwrap(self._traj.positions(frames), self._traj.cells(frames)), dtype=float)
        return out - out[:1] + anchor  # continue from the anchor's unwrapped position


class TrajectoryPlayer(pn.viewable.Viewer):
    """Play a trajectory in a :class:`StructureViewer`, following it live if it grows.

    Parameters
    ----------
    trajectory : Trajectory, optional
        Frames to show; ``None`` starts empty (see :meth:`set_trajectory`).
    viewer : StructureViewer, optional
        Viewer to drive (a new one by default).
    unwrap_fn : callable, optional
        Unwrapping function, see :class:`UnwrappedFrames`.
    **params
        Values of the parameters below.
    """

    frame = param.Integer(default=0, bounds=(0, 1), doc="Frame shown.")
    playing = param.Boolean(default=False, doc="Playing.")
    fps = param.Number(default=10.0, bounds=(0.5, 60.0), step=0.5, doc="Frames per second.")
    stride = param.Integer(default=1, bounds=(1, None), doc="Frames advanced per step.")
    loop = param.Boolean(default=True, doc="Start again after the last frame.")
    unwrap = param.Boolean(default=False, doc="Unwrapped (continuous) instead of wrapped positions.")
    follow = param.Boolean(default=False, doc="Poll the file for new frames and show the newest.")
    follow_period_s = param.Number(default=1.0, bounds=(0.1, None), doc="Polling period, s.")
    color_by = param.Selector(default=SPECIES, objects=[SPECIES, DISPLACEMENT], doc="Colour atoms by.")
    highlight = param.String(default="", doc="Atoms to emphasise: '0-5, 17' or 'Li'.")
    message = param.String(default="", doc="Last problem to show the user ('' when none).")

    def __init__(self, trajectory: Trajectory | None = None, *, viewer: StructureViewer | None = None,
                 unwrap_fn: UnwrapFn | None = None, **params):
        super().__init__(**params)
        self.viewer = viewer if viewer is not None else StructureViewer()
        self._unwrap_fn = unwrap_fn
        self._scalars: dict[str, ScalarFn] = {}
        self._problems: dict[str, str] = {}
        self._play_cb = None
        self._follow_cb = None
        self._sessions: set[int] = set()
        self._legend = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 10))
        self.set_trajectory(trajectory)
        self.param.watch(self._on_playing, ["playing", "fps"])
        self.param.watch(self._on_follow, ["follow", "follow_period_s"])
        if self.follow:
            self._on_follow()

    # ---- view model: trajectory and frames ----------------------------------------------
    @property
    def trajectory(self) -> Trajectory | None:
        """The trajectory played (``None`` before :meth:`set_trajectory`)."""
        return self._traj

    @property
    def n_frames(self) -> int:
        """Frames known to the player (grows with :meth:`poll_follow`)."""
        return self._n_frames

    def set_trajectory(self, trajectory: Trajectory | None) -> None:
        """Play another trajectory (stops playback, resets caches, shows frame 0, or the
        newest frame when following); ``None`` empties the view."""
        self.playing = False
        self._traj = trajectory
        self._n_frames = 0 if trajectory is None else trajectory.n_frames
        self._unwrapped = None if trajectory is None else UnwrappedFrames(trajectory, unwrap_fn=self._unwrap_fn)
        self._shown_structure = False
        self._custom_colored = False
        self._set_bounds()
        with param.discard_events(self):
            self.frame = self._n_frames - 1 if self.follow and self._n_frames else 0
        self._show()

    def step(self, n: int = 1) -> int:
        """Move ``n`` strides (negative: back); at either end loop or stop (see ``loop``).

        Returns
        -------
        int
            The new frame.
        """
        last = self._n_frames - 1
        if last < 0:
            return 0
        new = self.frame + int(n) * self.stride
        if new > last or new < 0:
            if self.loop:
                new = new % (last + 1)
            else:
                new = min(max(new, 0), last)
                self.playing = False
        self.frame = new
        return new

    def go_to(self, frame: int) -> None:
        """Show ``frame`` (negative counts from the end)."""
        n = self._n_frames
        f = int(frame) + (n if frame < 0 else 0)
        if not 0 <= f < n:
            raise UserInputError(f"frame {frame} is out of range: {n} frames (0..{n - 1})")
        self.frame = f

    def poll_follow(self) -> bool:
        """Look for appended frames; extend the range and, when following, show the newest.

        Returns
        -------
        bool
            Whether new frames appeared.
        """
        if self._traj is None:
            return False
        n = int(self._traj.refresh())
        grew = n > self._n_frames
        if grew:
            self._n_frames = n
            self._set_bounds()
            if self.follow or not self._shown_structure:
                self.frame = n - 1 if self.follow else 0
                if not self._shown_structure:
                    self._show()
        return grew

    # ---- view model: colours and highlight ----------------------------------------------
    def add_scalar(self, name: str, fn: ScalarFn) -> None:
        """Offer ``fn(trajectory, frame_index) -> (n_atoms,) float`` under "colour by"."""
        if name in (SPECIES, DISPLACEMENT):
            raise UserInputError(f"{name!r} is built in; choose another name")
        self._scalars[name] = fn
        objects = [SPECIES, DISPLACEMENT, *self._scalars]
        self.param.color_by.objects = objects
        if self.color_by == name:
            self._show()

    def scalar_values(self, frame: int, name: str | None = None) -> np.ndarray | None:
        """Per-atom scalar coloured for ``frame`` (``None`` for species colours)."""
        name = self.color_by if name is None else name
        if name == SPECIES:
            return None
        if name == DISPLACEMENT:
            disp = self._unwrapped(frame) - self._unwrapped(0)
            return np.linalg.norm(disp, axis=1)
        values = np.asarray(self._scalars[name](self._traj, frame), dtype=float).ravel()
        if values.shape != (self._traj.n_atoms,):
            raise UserInputError(f"colour-by {name!r} gave {values.shape[0]} values for "
                                 f"{self._traj.n_atoms} atoms")
        return values

    def highlight_indices(self) -> np.ndarray:
        """Indices named by ``highlight`` (raises :class:`UserInputError` if unreadable)."""
        return parse_atom_selection(self.highlight, () if self._traj is None else self._traj.symbols)

    def frame_payload(self, frame: int | None = None) -> FramePayload:
        """Positions, cell, time and colours to show for ``frame`` (default: current)."""
        if self._traj is None:
            raise UserInputError("no trajectory to show yet: choose one first")
        frame = self.frame if frame is None else int(frame)
        cell = np.asarray(self._traj.cells(frame)[0], dtype=float)
        if self.unwrap:
            positions = self._unwrapped(frame)
        else:
            positions = wrap_positions(self._traj.positions(frame)[0], cell)
        scalar = self.scalar_values(frame)
        colors = rng = None
        if scalar is not None:
            rng = _colors.scalar_range(scalar)
            colors = _colors.colormap(scalar, vmin=rng[0], vmax=rng[1])
        return FramePayload(frame=frame, positions=positions, cell=cell,
                            time_fs=float(self._traj.times_fs(frame)[0]),
                            colors=colors, scalar=scalar, scalar_range=rng)

    # ---- pushing state to the viewer ----------------------------------------------------
    def _set_bounds(self) -> None:
        # a slider needs start < end, so a 1-frame trajectory still gets (0, 1)
        self.param.frame.bounds = (0, max(1, self._n_frames - 1))

    @param.depends("frame", "unwrap", "color_by", watch=True)
    def _show(self) -> None:
        if self._n_frames == 0:
            if self.viewer.n_atoms or not self.viewer.structure_id:
                self.viewer.set_structure([], np.zeros((0, 3)), None)
            self._legend.object = "<i>no frames yet</i>" if self._traj is not None else ""
            return
        if self.frame >= self._n_frames:  # only on a 1-frame trajectory's slider
            with param.discard_events(self):
                self.frame = self._n_frames - 1
        try:
            p = self.frame_payload()
        except (UserInputError, ImportError) as err:
            self._report("show", str(err))
            return
        self._report("show", "")
        if not self._shown_structure:
            self.viewer.set_structure(self._traj.numbers, p.positions, p.cell, frame=p.frame)
            self._shown_structure = True
            self._apply_highlight()
        else:
            self.viewer.set_positions(p.positions, cell=p.cell, frame=p.frame)
        if p.colors is not None or self._custom_colored:
            self.viewer.set_atom_colors(p.colors)
            self._custom_colored = p.colors is not None
        self._legend.object = self._legend_html(p)

    @param.depends("highlight", watch=True)
    def _apply_highlight(self) -> None:
        if not self._shown_structure:
            return  # applied when the first frame is shown
        try:
            self.viewer.set_highlight(self.highlight_indices())
            self._report("highlight", "")
        except UserInputError as err:
            self.viewer.set_highlight(None)
            self._report("highlight", str(err))

    def _report(self, source: str, text: str) -> None:
        self._problems[source] = text
        self.message = "\n\n".join(t for t in self._problems.values() if t)

    def _legend_html(self, p: FramePayload) -> str:
        counts = dict(zip(*np.unique(np.asarray(self._traj.symbols), return_counts=True)))
        items = "".join(
            f"<span style='margin-right:1em;white-space:nowrap'>"
            f"<span style='display:inline-block;width:.9em;height:.9em;border-radius:50%;"
            f"background:{s['color']};border:1px solid #0003;vertical-align:middle'></span> "
            f"<b>{sym}</b> &times;{counts.get(sym, 0)} <small>r={s['radius']:.2f}&nbsp;Å</small></span>"
            for sym, s in self.viewer.species_style().items())
        time = f"t = {p.time_fs / 1000:.3f} ps" if p.time_fs >= 1000 else f"t = {p.time_fs:.1f} fs"
        head = f"<div><b>frame {p.frame}</b> / {self._n_frames - 1} &nbsp; {time}</div>"
        bar = ""
        if p.scalar_range is not None and self.color_by != SPECIES:
            lo, hi = p.scalar_range
            bar = (f"<div style='margin-top:4px'>{self.color_by}: <span>{lo:.3g}</span> "
                   f"<span style='display:inline-block;width:160px;height:.8em;vertical-align:middle;"
                   f"background:{_colors.colormap_css_gradient()}'></span> <span>{hi:.3g}</span></div>")
        return head + f"<div>{items}</div>" + bar

    # ---- periodic callbacks -------------------------------------------------------------
    def _tick(self) -> None:
        if self.playing:
            self.step(1)

    def _on_playing(self, *_events) -> None:
        self._stop_play()
        if self.playing:
            self._watch_session()
            self._play_cb = pn.state.add_periodic_callback(self._tick, period=max(16, int(1000 / self.fps)))

    def _on_follow(self, *_events) -> None:
        self._stop_follow()
        if self.follow:
            self._watch_session()
            self.poll_follow()
            self.frame = max(self._n_frames - 1, 0)
            self._follow_cb = pn.state.add_periodic_callback(
                self.poll_follow, period=int(1000 * self.follow_period_s))

    def _stop_play(self) -> None:
        if self._play_cb is not None:
            self._play_cb.stop()
            self._play_cb = None

    def _stop_follow(self) -> None:
        if self._follow_cb is not None:
            self._follow_cb.stop()
            self._follow_cb = None

    def _watch_session(self) -> None:
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None and id(doc) not in self._sessions:
            self._sessions.add(id(doc))
            pn.state.on_session_destroyed(lambda _ctx: self.close())

    def close(self) -> None:
        """Stop playback and following (call when the player is discarded)."""
        with param.discard_events(self):
            self.playing = False
            self.follow = False
        self._stop_play()
        self._stop_follow()

    # ---- the view -----------------------------------------------------------------------
    def __panel__(self) -> pn.viewable.Viewable:
        self._watch_session()
        play = pn.widgets.Toggle.from_param(self.param.playing, label="▶ Play", color="primary", width=90)
        play.param.watch(lambda e: play.param.update(label="⏸ Pause" if e.new else "▶ Play"), "value")
        back = pn.widgets.Button(label="◀", width=40, description="previous frame")
        fwd = pn.widgets.Button(label="▶", width=40, description="next frame")
        back.on_click(lambda _e: self.step(-1))
        fwd.on_click(lambda _e: self.step(1))
        slider = pn.widgets.IntSlider.from_param(self.param.frame, label="Frame", sizing_mode="stretch_width")
        controls = pn.Row(
            pn.widgets.FloatSlider.from_param(self.param.fps, label="fps", width=140),
            pn.widgets.IntInput.from_param(self.param.stride, label="Stride", width=80),
            pn.widgets.Select.from_param(self.param.color_by, label="Colour by", width=220),
            pn.widgets.TextInput.from_param(self.param.highlight, label="Highlight",
                                            placeholder="e.g. 0-5, 17 or Li", width=180),
            pn.Column(pn.widgets.FloatSlider.from_param(self.viewer.param.atom_scale, label="Atom size",
                                                        step=0.05, width=140),
                      pn.widgets.Checkbox.from_param(self.viewer.param.show_cell, label="Unit cell")),
            pn.Column(pn.widgets.Checkbox.from_param(self.param.unwrap, label="Unwrap (continuous paths)"),
                      pn.widgets.Checkbox.from_param(self.param.follow, label="Follow (live file)"),
                      pn.widgets.Checkbox.from_param(self.param.loop, label="Loop")),
            sizing_mode="stretch_width",
        )
        alert = pn.pane.Alert(self.param.message, alert_type="warning",
                              visible=self.param.message.rx.bool(), sizing_mode="stretch_width")
        return pn.Column(self.viewer, pn.Row(play, back, fwd, slider, sizing_mode="stretch_width"),
                         controls, self._legend, alert, sizing_mode="stretch_width")
