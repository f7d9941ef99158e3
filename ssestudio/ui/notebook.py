"""Viewing trajectories in JupyterLab.

:func:`view` returns a :class:`~ssestudio.ui.player.TrajectoryPlayer`, which renders in
a notebook cell like any Panel object. Offline (no internet, as on most clusters) Panel's
JavaScript must be inlined into the notebook: run ``pn.extension(inline=True)`` once
before the first view; :func:`view` does it for you when called outside a Panel server.

:func:`to_nglview` hands the frames to nglview instead, for users whose nglview works
(it needs its own JavaScript from the internet or a local install; it is not a
dependency of ssestudio).
"""

from __future__ import annotations

import os
from typing import Sequence

from ssestudio.io.base import Trajectory


_extension_loaded = False  # per kernel: inlining Panel's JS once is enough


def _ensure_extension() -> None:
    global _extension_loaded
    import panel as pn

    doc = pn.state.curdoc
    in_server = doc is not None and doc.session_context is not None
    if not in_server and not _extension_loaded:
        pn.extension(inline=True)
        _inline_pane_updates()
        _extension_loaded = True


def _inline_pane_updates() -> None:
    """Keep a pane's stylesheets inline when its content changes in a notebook.

    Panel 1.9 sends a pane's stylesheets again with each new ``object`` (``_update`` of
    ``ModelPane`` and ``HTMLBasePane``), as links to cdn.holoviz.org even under
    ``pn.extension(inline=True)``: offline, the player's legend (an HTML pane) made the
    browser request three CDN stylesheets on the first frame change. This wraps those
    two methods (once per process) to inline the stylesheets again, from Panel's own
    files, before the change is sent; the document holds and combines the two changes,
    so only the inline ones reach the browser.
    """
    import panel as pn
    from panel.io.notebook import patch_inline_stylesheets
    from panel.pane.base import ModelPane
    from panel.pane.markup import HTMLBasePane

    for cls in (ModelPane, HTMLBasePane):
        original = cls.__dict__["_update"]
        if getattr(original, "_ssestudio_inline", False):
            continue

        def _update(self, ref, model, _original=original):
            _original(self, ref, model)
            if pn.config.inline:
                patch_inline_stylesheets(model)

        _update._ssestudio_inline = True
        cls._update = _update


def view(trajectory_or_path: Trajectory | str | os.PathLike, **kw):
    """Interactive 3D player of a trajectory, for a notebook cell or a Panel app.

    Call ``pn.extension(inline=True)`` first when offline; outside a Panel server this
    function calls it for you (once per kernel).

    Parameters
    ----------
    trajectory_or_path : Trajectory or path
        A trajectory, or a file opened with :func:`ssestudio.io.open_trajectory`.
    **kw
        Passed to :class:`~ssestudio.ui.player.TrajectoryPlayer`, e.g. ``unwrap=True``,
        ``color_by=...``, ``highlight="Li"``, ``follow=True``, ``fps=20``.

    Returns
    -------
    TrajectoryPlayer
        Display it (last expression of a cell) or put it in a layout.

    Examples
    --------
    >>> from ssestudio.ui.notebook import view
    >>> player = view("md.traj", highlight="Li")
    >>> player  # shows the viewer
    """
    from ssestudio.ui.player import TrajectoryPlayer

    if isinstance(trajectory_or_path, Trajectory):
        traj = trajectory_or_path
    else:
        from ssestudio.io import open_trajectory

        traj = open_trajectory(trajectory_or_path)
    _ensure_extension()
    return TrajectoryPlayer(traj, **kw)


def to_nglview(trajectory: Trajectory, frames: slice | Sequence[int] | None = None):
    """Show a trajectory with nglview (``nglview.show_asetraj``).

    Parameters
    ----------
    trajectory : Trajectory
    frames : slice or sequence of int, optional
        Frames to convert (all by default; each becomes an :class:`ase.Atoms`).

    Returns
    -------
    nglview.NGLWidget

    Raises
    ------
    ImportError
        When nglview is not installed.
    """
    try:
        import nglview
    except ImportError as err:
        raise ImportError(
            "to_nglview needs nglview, which ssestudio does not install: `pip install "
            "nglview` (its viewer loads JavaScript from the internet unless installed as a "
            "JupyterLab extension). ssestudio.ui.notebook.view() works offline without it."
        ) from err
    everything = range(trajectory.n_frames)
    indices = everything if frames is None else everything[frames] if isinstance(frames, slice) else frames
    return nglview.show_asetraj([trajectory.to_atoms(int(i)) for i in indices])
