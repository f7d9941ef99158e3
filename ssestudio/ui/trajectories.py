"""Trajectories tab: browse the workspace's trajectories, import new ones, view them in 3D.

:class:`TrajectoryBrowser` is the view model (no widgets; driven directly by tests);
:class:`TrajectoriesTab` lays out widgets over it.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import param
import panel as pn

from ssestudio.core.errors import UserInputError
from ssestudio.ui.feedback import AlertFeedback

_TABLE_COLUMNS = ["id", "name", "formula", "n_atoms", "n_frames", "timestep_fs", "format", "source"]
_TABLE_WIDTHS = {"name": 190, "formula": 110, "n_atoms": 60, "n_frames": 65, "timestep_fs": 65,
                 "format": 70, "source": 70}


class TrajectoryBrowser(param.Parameterized):
    """View model: the list of workspace trajectories, the selection, imports.

    Parameters
    ----------
    workspace : ssestudio.workspace.Workspace
    manager : ssestudio.jobs.JobManager
    max_upload_mb : float
        Largest upload accepted, MB.
    """

    rows = param.List(default=[])
    selected_id = param.Integer(default=None, allow_None=True)
    message = param.String(default="")

    def __init__(self, workspace, manager, *, max_upload_mb: float = 200.0, **params) -> None:
        super().__init__(**params)
        self.workspace = workspace
        self.manager = manager
        self.max_upload_mb = max_upload_mb
        self.refresh()

    # ---- listing -------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the workspace's trajectory table."""
        rows = []
        for r in self.workspace.list_trajectories():
            rows.append({"id": r.id, "name": r.name, "formula": r.formula or "",
                         "n_atoms": r.n_atoms or 0, "n_frames": r.n_frames,
                         "timestep_fs": r.timestep_fs if r.timestep_fs is not None else np.nan,
                         "format": r.format,
                         "source": f"job {r.job_id}" if r.job_id else "import"})
        if rows != self.rows:
            self.rows = rows

    def record(self, trajectory_id: int | None = None):
        """The workspace record of the selected (or given) trajectory, or None."""
        tid = self.selected_id if trajectory_id is None else trajectory_id
        return None if tid is None else self.workspace.get_trajectory(tid)

    def is_being_written(self, record) -> bool:
        """True when the job that produces ``record`` is still running."""
        if record is None or record.job_id is None:
            return False
        return not self.manager.get(record.job_id).done

    def open_selected(self):
        """Open the selected trajectory for reading (caller closes it)."""
        if self.selected_id is None:
            raise UserInputError("select a trajectory in the table first")
        return self.workspace.open_trajectory(self.selected_id)

    def metadata(self, traj) -> dict:
        """Facts about an open trajectory, for the metadata card."""
        rec = self.record()
        counts: dict[str, int] = {}
        for s in traj.symbols:
            counts[s] = counts.get(s, 0) + 1
        t = traj.times_fs([0, -1]) if traj.n_frames else np.zeros(2)
        cell = traj.cells(0)[0] if traj.n_frames else np.zeros((3, 3))
        volume = abs(float(np.linalg.det(cell)))
        mass_g = float(np.sum(traj.masses)) / 6.02214076e23
        return {
            "name": rec.name if rec else "",
            "formula": traj.formula,
            "atoms": traj.n_atoms,
            "species": ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
            "frames": traj.n_frames,
            "time between frames (fs)": traj.info.timestep_fs,
            "duration (ps)": round(float(t[-1] - t[0]) / 1000, 4),
            "cell lengths (Å)": ", ".join(f"{x:.3f}" for x in np.linalg.norm(cell, axis=1)),
            "density (g/cm³)": round(mass_g / (volume * 1e-24), 4) if volume > 0 else None,
            "format": traj.info.format,
            "files": "; ".join(Path(s).name for s in traj.info.sources),
            "has velocities / energies / forces": f"{traj.info.has_velocities} / "
                                                  f"{traj.info.has_energies} / {traj.info.has_forces}",
            "produced by": f"job {rec.job_id}" if rec and rec.job_id else "import",
            "created": (rec.created or "")[:19].replace("T", " ") if rec else "",
        }

    # ---- import --------------------------------------------------------------------
    def import_paths(self, text: str, *, format: str | None = None,
                     timestep_fs: float | None = None, name: str | None = None) -> int:
        """Submit a job converting the file(s) named in ``text`` into the workspace.

        ``text`` holds one path per line (or comma separated); several paths are read as
        consecutive segments of one trajectory. Returns the job id.
        """
        from ssestudio.jobs.builtin import ConvertTrajectorySpec

        paths = [p.strip().strip('"') for p in re.split(r"[\n,]", text or "") if p.strip()]
        if not paths:
            raise UserInputError("type the path of a trajectory file (several, one per line, "
                                 "for consecutive segments)")
        missing = [p for p in paths if not Path(p).expanduser().is_file()]
        if missing:
            raise UserInputError(f"no such file: {', '.join(missing)} (paths are on the "
                                 "computer running the server; use Upload for local files)")
        spec = ConvertTrajectorySpec(source_paths=tuple(str(Path(p).expanduser()) for p in paths),
                                     format=format or None, timestep_fs=timestep_fs or None,
                                     name=name or None)
        job_id = self.manager.submit(spec)
        self.message = f"Importing {Path(paths[0]).name} as job {job_id}: see Jobs."
        return job_id

    def import_upload(self, filename: str, data: bytes, **kw) -> int:
        """Save an uploaded file into the workspace and submit its import job."""
        if not filename:
            raise UserInputError("choose a file to upload first")
        size_mb = len(data) / 2**20
        if size_mb > self.max_upload_mb:
            raise UserInputError(f"{filename} is {size_mb:.0f} MB, above the upload limit of "
                                 f"{self.max_upload_mb:.0f} MB: import it by path instead, or "
                                 "restart with `ssestudio serve --max-upload-mb N`")
        folder = self.workspace.root / "uploads"
        folder.mkdir(exist_ok=True)
        target = folder / Path(filename).name
        stem, k = target.name, 1
        while target.exists():
            target = folder / f"{k}_{stem}"
            k += 1
        target.write_bytes(data)
        return self.import_paths(str(target), **kw)


def _number_or_none(value) -> float | None:
    return None if value in (None, 0, 0.0) else float(value)


class TrajectoriesTab(AlertFeedback, pn.viewable.Viewer):
    """The Trajectories tab: table, import card, metadata and the 3D player."""

    def __init__(self, workspace, manager, *, max_upload_mb: float = 200.0,
                 jobs_model=None, **params) -> None:
        super().__init__(**params)
        from ssestudio.io import available_formats
        from ssestudio.ui.player import TrajectoryPlayer

        self.model = TrajectoryBrowser(workspace, manager, max_upload_mb=max_upload_mb)
        self.player = TrajectoryPlayer()
        self._traj = None
        self._table = pn.widgets.Tabulator(
            self._frame(), show_index=False, disabled=True, selectable=1, max_height=240,
            sizing_mode="stretch_width", hidden_columns=["id"], widths=_TABLE_WIDTHS,
            layout="fit_data_stretch",
            titles={"n_atoms": "atoms", "n_frames": "frames", "timestep_fs": "Δt (fs)"})
        self._table.param.watch(self._on_select, "selection")
        self._meta = pn.pane.DataFrame(None, sizing_mode="stretch_width", index=True, header=False)
        self._paths = pn.widgets.TextAreaInput(
            label="File path(s) on the server (one per line = consecutive segments)",
            placeholder="/data/run1/XDATCAR.gz\n/data/run2/XDATCAR.gz", height=80,
            sizing_mode="stretch_width")
        self._format = pn.widgets.Select(label="Format", options=["auto"] + list(available_formats()),
                                         value="auto", width=140)
        self._dt = pn.widgets.FloatInput(label="Δt between frames (fs), if the file lacks it",
                                         value=None, start=0, width=220)
        self._name = pn.widgets.TextInput(label="Name (optional)", width=200)
        self._import = pn.widgets.Button(label="Import", color="primary", width=100,
                                         align="end")
        self._import.on_click(self._on_import)
        self._upload = pn.widgets.FileInput(sizing_mode="stretch_width")
        self._upload_btn = pn.widgets.Button(label=f"Upload (≤ {max_upload_mb:.0f} MB)", width=160)
        self._upload_btn.on_click(self._on_upload)
        self._alert = pn.pane.Alert("", alert_type="info", visible=False, margin=(5, 10))
        self.model.param.watch(lambda e: self._show(e.new, "info"), "message")
        self.model.param.watch(lambda _: setattr(self._table, "value", self._frame()), "rows")
        if jobs_model is not None:
            # a running job (MD) registers its trajectory when it starts: list it at once
            jobs_model.param.watch(lambda _: self.model.refresh(), ["rows", "finished_version"])
        if self.model.rows:
            self._table.selection = [0]

    def _frame(self):
        import pandas as pd

        return pd.DataFrame(self.model.rows, columns=_TABLE_COLUMNS)

    def _read_kw(self) -> dict:
        return {"format": None if self._format.value == "auto" else self._format.value,
                "timestep_fs": _number_or_none(self._dt.value), "name": self._name.value or None}

    def _on_import(self, _event) -> None:
        self._guard(self.model.import_paths, self._paths.value, **self._read_kw())

    def _on_upload(self, _event) -> None:
        data = self._upload.value or b""
        self._guard(self.model.import_upload, self._upload.filename or "", data, **self._read_kw())

    def _on_select(self, event) -> None:
        rows = self.model.rows
        if not event.new or event.new[0] >= len(rows):
            return
        self.model.selected_id = rows[event.new[0]]["id"]
        traj = self._guard(self.model.open_selected)
        if traj is None:
            return
        if self._traj is not None:
            self._traj.close()
        self._traj = traj
        self.player.set_trajectory(traj)
        self.player.follow = self.model.is_being_written(self.model.record())
        self._meta.object = _meta_frame(self.model.metadata(traj))
        self._show("")

    def __panel__(self):
        import_card = pn.Card(
            self._paths, pn.Row(self._format, self._dt), pn.Row(self._name, self._import),
            pn.pane.Markdown("… or upload a file from this computer:"),
            self._upload, self._upload_btn,
            title="Import a trajectory", collapsed=bool(self.model.rows),
            sizing_mode="stretch_width")
        left = pn.Column(pn.pane.Markdown("### Workspace trajectories"), self._table,
                         self._alert,
                         pn.Card(self._meta, title="Metadata", sizing_mode="stretch_width"),
                         import_card,
                         width=500)
        return pn.Row(left, pn.Column(self.player, sizing_mode="stretch_width"),
                      sizing_mode="stretch_width", name="Trajectories")


def _meta_frame(meta: dict):
    import pandas as pd

    return pd.DataFrame({"value": [("" if v is None else str(v)) for v in meta.values()]},
                        index=list(meta.keys()))
