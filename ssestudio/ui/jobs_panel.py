"""Jobs panel: every job of the workspace with progress, ETA, log and a cancel button.

All state lives in the workspace database, so a browser reload (or a server restart)
shows the same jobs; :class:`JobsModel` is the testable view model, :class:`JobsPanel`
the thin view.
"""

from __future__ import annotations

import param
import panel as pn

_COLUMNS = ["id", "kind", "status", "progress_pct", "message", "eta", "created"]


def format_eta(eta_s: float | None) -> str:
    """Human ETA: ``"12 s"``, ``"3 min"``, ``"1.5 h"`` or ``""`` when unknown."""
    if eta_s is None or eta_s != eta_s or eta_s < 0:
        return ""
    if eta_s < 90:
        return f"{eta_s:.0f} s"
    if eta_s < 5400:
        return f"{eta_s / 60:.0f} min"
    return f"{eta_s / 3600:.1f} h"


def _last_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[-1] if lines else ""


class JobsModel(param.Parameterized):
    """View model of the jobs list.

    Parameters
    ----------
    manager : ssestudio.jobs.JobManager
        The server's job manager (shared by all sessions).
    """

    rows = param.List(default=[], doc="One dict per job, newest first")
    selected = param.Integer(default=None, allow_None=True, doc="Selected job id")
    log = param.String(default="", doc="Log of the selected job")
    finished_version = param.Integer(default=0,
                                     doc="Bumped whenever a job finishes (others refresh)")

    def __init__(self, manager, *, limit: int = 50, **params) -> None:
        super().__init__(**params)
        self.manager = manager
        self.limit = limit
        self._statuses: dict[int, str] = {}
        self._listed_once = False
        self.refresh()

    def refresh(self) -> None:
        """Re-read the jobs table; bump ``finished_version`` when a job has just ended."""
        records = self.manager.list(limit=self.limit)
        rows, changed = [], False
        for r in records:
            status = str(r.status)
            seen = self._statuses.get(r.id)
            if r.done and seen != status and (seen is not None or self._listed_once):
                changed = True  # ended since the last look (or started and ended in between)
            self._statuses[r.id] = status
            rows.append({"id": r.id, "kind": r.kind, "status": status,
                         "progress_pct": round(100 * (r.progress or 0.0), 1),
                         "message": r.message or _last_line(r.error),
                         "eta": "" if r.done else format_eta(r.eta_s),
                         "created": (r.created or "")[:19].replace("T", " ")})
        if rows != self.rows:
            self.rows = rows
        self._listed_once = True
        if changed:
            self.finished_version += 1
        if self.selected is not None:
            self.log = self.manager.log_text(self.selected)[-20000:]

    def select(self, job_id: int | None) -> None:
        """Select a job (shows its log)."""
        self.selected = job_id
        self.log = self.manager.log_text(job_id)[-20000:] if job_id is not None else ""

    def cancel_selected(self) -> str:
        """Cancel the selected job; returns a message for the user."""
        if self.selected is None:
            return "Select a job in the table first."
        record = self.manager.cancel(self.selected)
        self.refresh()
        return f"Cancel requested for job {record.id} ({record.status})."


class JobsPanel(pn.viewable.Viewer):
    """Table of jobs with progress bars, a cancel button and the selected job's log."""

    def __init__(self, manager, *, refresh_s: float = 1.0, **params) -> None:
        super().__init__(**params)
        self.model = JobsModel(manager)
        self._table = pn.widgets.Tabulator(
            self._frame(), show_index=False, disabled=True, selectable=1, height=260,
            sizing_mode="stretch_width", formatters={"progress_pct": {"type": "progress", "max": 100, "legend": True}},
            titles={"progress_pct": "progress", "eta": "ETA"},
            widths={"id": 45, "status": 90, "progress_pct": 110, "eta": 60},
            css_classes=["ssestudio-jobs-table"])
        self._table.param.watch(self._on_select, "selection")
        self._cancel = pn.widgets.Button(label="Cancel job", color="warning",
                                         disabled=True)
        self._cancel.on_click(lambda _: self._say(self.model.cancel_selected()))
        self._note = pn.pane.Markdown("", margin=(0, 10))
        self._log = pn.widgets.TextAreaInput(value="", disabled=True, height=160,
                                             sizing_mode="stretch_width", label="Log")
        self.model.param.watch(self._update, ["rows", "log"])
        self._refresh_s = refresh_s
        self._callback = None

    def _frame(self):
        import pandas as pd

        return pd.DataFrame(self.model.rows, columns=_COLUMNS)

    def _on_select(self, event) -> None:
        rows = self.model.rows
        job_id = rows[event.new[0]]["id"] if event.new and event.new[0] < len(rows) else None
        self.model.select(job_id)
        self._cancel.disabled = job_id is None

    def _update(self, *_) -> None:
        self._table.value = self._frame()
        self._log.value = self.model.log

    def _say(self, text: str) -> None:
        self._note.object = text

    def start_polling(self) -> None:
        """Poll the database every ``refresh_s`` seconds while the page is open."""
        if self._callback is None and pn.state.curdoc is not None:
            self._callback = pn.state.add_periodic_callback(self.model.refresh,
                                                            period=int(1000 * self._refresh_s))

    def __panel__(self):
        self.start_polling()
        return pn.Column(
            self._table, pn.Row(self._cancel, self._note), self._log,
            sizing_mode="stretch_width", name="Jobs")
