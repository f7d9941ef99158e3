"""View model of the MD tab's runs: the list of MD and melt-quench jobs, the live thermo
log and trajectory of the run in focus, structure analyses of finished outputs, and the
hand-over of a finished sweep to the Conductivity tab.

Nothing here draws; :class:`~ssestudio.ui.md.MDTab` lays widgets and figures over it and
calls :meth:`MDRuns.poll` periodically (a jobs query and file stats: files are re-read
only when they changed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import param

from ssestudio.core.errors import UserInputError
from ssestudio.md.thermo import parse_thermo as parse_thermo_text
from ssestudio.ui.training_model import RunFiles

__all__ = ["MD_KINDS", "MDRuns", "parse_thermo_text"]

#: Job kinds listed in the MD tab.
MD_KINDS = ("md", "meltquench")


def _what(rec) -> str:
    p = rec.spec.get("params") or {}
    if rec.kind == "meltquench":
        start = p.get("composition") or Path(str(p.get("structure", ""))).name
        return f"melt-quench {start} ({p.get('preset')})"
    t = f"{p.get('temperature_K', 0):g}"
    if p.get("end_temperature_K") is not None:
        t += f"→{p['end_temperature_K']:g}"
    return f"{p.get('ensemble', '')} {t} K · {Path(str(p.get('structure', ''))).name}"


class MDRuns(param.Parameterized):
    """Runs of the MD tab.

    Parameters
    ----------
    workspace : ssestudio.workspace.Workspace
    manager : ssestudio.jobs.JobManager
    """

    runs = param.List(default=[], doc="One row per MD / melt-quench job, newest first")
    selected = param.List(default=[], doc="Ticked job ids (the last one is in focus)")
    outputs = param.Dict(default={}, doc="Label -> trajectory id of the focused job's outputs")
    output = param.Integer(default=None, allow_None=True, doc="Trajectory shown")
    thermo_version = param.Integer(default=0, doc="Bumped when the shown thermo data changed")
    analysis_version = param.Integer(default=0, doc="Bumped when an analysis was loaded")
    sent = param.List(default=[], doc="Trajectory ids last sent to the Conductivity tab")
    message = param.String(default="")

    def __init__(self, workspace, manager, **params) -> None:
        super().__init__(**params)
        self.workspace, self.manager = workspace, manager
        self.files = RunFiles()
        self._records: dict[int, Any] = {}
        self._thermo: dict[str, np.ndarray] | None = None
        self._thermo_key: tuple = ()
        self._analyses: dict[int, dict] = {}  # trajectory id -> structure.json
        self._pending: dict[int, int] = {}  # structure job id -> trajectory id
        self._searched: set[int] = set()
        self.poll()

    # ---- runs --------------------------------------------------------------------------
    def refresh_runs(self, *, limit: int = 500) -> None:
        """Re-list the workspace's MD and melt-quench jobs."""
        from ssestudio.ui.jobs_panel import format_eta

        records = [r for r in self.manager.list(limit=limit) if r.kind in MD_KINDS]
        self._records = {r.id: r for r in records}
        rows = []
        for rec in records:
            result = rec.result or {}
            status = "stopping" if rec.cancel_requested and not rec.done else str(rec.status)
            lines = (rec.message or "").strip().splitlines()
            if result.get("density_g_cm3"):
                note = f"glass {result['density_g_cm3']:.3g} g/cm³"
            elif result.get("mean_T_K"):
                note = f"<T> {result['mean_T_K']:.0f} K, {result.get('n_frames', 0)} frames"
            else:
                note = lines[-1] if lines else ""
            rows.append({"id": rec.id, "kind": rec.kind, "status": status, "what": _what(rec),
                         "progress_pct": round(100 * (rec.progress or 0.0), 1),
                         "eta": "" if rec.done else format_eta(rec.eta_s), "note": note})
        if rows != self.runs:
            self.runs = rows
        if any(i not in self._records for i in self.selected):
            self.selected = [i for i in self.selected if i in self._records]

    def record(self, job_id: int):
        """The job record of a listed run."""
        if job_id not in self._records:
            raise UserInputError(f"no MD or melt-quench job with id {job_id} in this workspace")
        return self._records[job_id]

    @property
    def focus(self) -> int | None:
        """The job whose outputs are shown (the last ticked)."""
        return self.selected[-1] if self.selected else None

    def select(self, job_ids) -> None:
        """Tick these runs (the last one is shown)."""
        self.refresh_runs()
        ids = [int(i) for i in dict.fromkeys(job_ids) if int(i) in self._records]
        if ids != self.selected:
            self.selected = ids
        self._refresh_outputs()
        self._load_thermo()
        self._collect_analyses()

    def _refresh_outputs(self) -> None:
        focus = self.focus
        options = {}
        if focus is not None:
            trajectories = self.workspace.list_trajectories()
            jobs, job = {focus}, self._records.get(focus)
            while job is not None:  # a resumed run appends to its original's trajectories
                resumed = (job.spec.get("params") or {}).get("resume")
                origin = next((t.job_id for t in trajectories if resumed is not None and
                               (t.id == resumed or t.name == resumed)), None)
                if origin is None or origin in jobs:
                    break
                jobs.add(origin)
                job = self._records.get(origin)
            for rec in trajectories:
                if rec.job_id in jobs:
                    options[f"{rec.name} ({rec.n_frames} frames)"] = rec.id
        if options != self.outputs:
            self.outputs = options
        if self.output not in options.values():
            # the production run of a melt-quench (the last output) once it has frames
            ids = list(options.values())
            self.output = ids[-1] if ids else None

    def choose_output(self, trajectory_id: int | None) -> None:
        """Show another output of the focused job."""
        if trajectory_id is not None and trajectory_id not in self.outputs.values():
            raise UserInputError(f"trajectory {trajectory_id} is not an output of the run shown")
        self.output = trajectory_id
        self._load_thermo()
        self._collect_analyses()

    def poll(self) -> bool:
        """The periodic refresh; True when the shown thermo data or an analysis changed."""
        self.refresh_runs()
        self._refresh_outputs()
        changed = self._load_thermo()
        return self._collect_analyses() or changed

    @property
    def running(self) -> bool:
        """Whether the focused job is still queued or running."""
        focus = self.focus
        return focus is not None and focus in self._records and not self._records[focus].done

    @property
    def resumable(self) -> bool:
        """Whether the focused job was cancelled or failed after writing a trajectory."""
        rec = self._records.get(self.focus) if self.focus is not None else None
        return (rec is not None and str(rec.status) in ("cancelled", "failed", "interrupted")
                and bool(self.outputs))

    def resume(self) -> int:
        """Continue the focused (cancelled, failed or interrupted) run from its last
        checkpoint as a new job (:func:`ssestudio.jobs.md.resume_spec`); it is ticked and
        shown. Returns the new job id."""
        from ssestudio.jobs.md import resume_spec

        if not self.resumable:
            raise UserInputError("tick a cancelled, failed or interrupted MD run that wrote a "
                                 "trajectory to resume it")
        first = next(iter(self.outputs.values()))  # the protocol output holds the checkpoint
        spec = resume_spec(self.workspace, first)
        spec.preflight(self.workspace)
        job_id = self.manager.submit(spec)
        self.message = (f"Resuming job {self.focus} as job {job_id} from its last checkpoint; "
                        "frames are appended to the same trajectories.")
        self.select([job_id])
        return job_id

    # ---- thermo ------------------------------------------------------------------------
    def trajectory_record(self):
        """The workspace record of the shown output (None when there is none)."""
        return None if self.output is None else self.workspace.get_trajectory(self.output)

    def thermo_path(self) -> Path | None:
        """The thermo log of the shown output."""
        from ssestudio.md import default_thermo_path

        rec = self.trajectory_record()
        return None if rec is None else default_thermo_path(rec.paths[0])

    def _load_thermo(self) -> bool:
        path = self.thermo_path()
        data = None if path is None else self.files.read(path, parse_thermo_text)
        key = (self.output, id(data))
        if key == self._thermo_key:
            return False
        self._thermo_key, self._thermo = key, data
        self.thermo_version += 1
        return True

    def thermo(self) -> dict[str, np.ndarray]:
        """The shown output's thermo log (``time_ps`` added); empty when none yet."""
        if not self._thermo or not len(self._thermo.get("time_fs", ())):
            return {}
        return {**self._thermo, "time_ps": self._thermo["time_fs"] / 1000.0}

    def thermo_summary(self) -> list[str]:
        """Lines for the status box: frames, time, mean T/P/density of the last half."""
        t = self.thermo()
        if not t:
            return []
        half = slice(len(t["time_ps"]) // 2, None)

        def mean(key):
            v = t.get(key, np.empty(0))[half]
            v = v[np.isfinite(v)]
            return float(v.mean()) if v.size else None

        parts = [f"{len(t['time_ps'])} frames, {t['time_ps'][-1]:.3g} ps"]
        for key, unit, fmt in (("T_K", "K", ".0f"), ("P_GPa", "GPa", ".2f"),
                               ("density_g_cm3", "g/cm³", ".3f"),
                               ("max_force_dev_eV_A", "eV/Å max force deviation", ".3f")):
            if (m := mean(key)) is not None:
                parts.append(f"{m:{fmt}} {unit}")
        return ["; ".join(parts) + " (means of the second half)"]

    # ---- structure analysis ------------------------------------------------------------
    def analyse(self, *, start: int | None = None, stride: int | None = None) -> int:
        """Submit a ``structure`` job for the shown output; returns its id."""
        from ssestudio.jobs.structure import StructureSpec

        rec = self.trajectory_record()
        if rec is None:
            raise UserInputError("tick a run with a trajectory first")
        spec = StructureSpec(trajectory=rec.id, start=start, stride=stride)
        spec.preflight(self.workspace)
        job_id = self.manager.submit(spec)
        self._pending[job_id] = rec.id
        self.message = (f"Structure analysis of {rec.name!r} submitted (job {job_id}); the "
                        "panels fill when it finishes.")
        return job_id

    def _collect_analyses(self) -> bool:
        """Load finished analyses: pending ones, and the newest earlier one of the shown
        output (so that re-opening the tab shows it)."""
        from ssestudio.jobs.structure import load_structure_result

        changed = False
        for job_id, tid in list(self._pending.items()):
            rec = self.manager.get(job_id)
            if not rec.done:
                continue
            del self._pending[job_id]
            if str(rec.status) != "succeeded":
                why = (rec.error or rec.message or "").strip().splitlines()
                self.message = f"structure analysis job {job_id} {rec.status}: " + (
                    why[-1] if why else "")
                continue
            self._analyses[tid] = load_structure_result(rec.result["path"])
            self.message = f"Structure analysis (job {job_id}) loaded."
            changed = True
        if self.output is not None and self.output not in self._analyses \
                and self.output not in self._searched:
            self._searched.add(self.output)  # earlier analyses: looked up once per output
            for rec in self.manager.list(limit=500, status="succeeded"):
                if rec.kind == "structure" and (rec.result or {}).get(
                        "trajectory_id") == self.output:
                    try:
                        self._analyses[self.output] = load_structure_result(rec.result["path"])
                        changed = True
                    except (OSError, ValueError):
                        pass
                    break
        if changed:
            self.analysis_version += 1
        return changed

    def analysis(self) -> dict | None:
        """The structure analysis (``structure.json``) of the shown output, if any."""
        return None if self.output is None else self._analyses.get(self.output)

    @property
    def analysing(self) -> bool:
        """Whether an analysis of the shown output is pending."""
        return self.output in self._pending.values()

    # ---- hand-over ---------------------------------------------------------------------
    def sweep_trajectories(self) -> list[int]:
        """Trajectory ids of the ticked, finished runs at constant temperature: an MD
        run's trajectory, a melt-quench's production run.

        Raises
        ------
        UserInputError
            Nothing ticked is finished with such a trajectory.
        """
        ids = []
        for job_id in self.selected:
            rec = self._records.get(job_id)
            if rec is None or str(rec.status) != "succeeded":
                continue
            result = rec.result or {}
            tid = (result.get("production_trajectory_id") if rec.kind == "meltquench"
                   else None if (rec.spec.get("params") or {}).get("end_temperature_K")
                   is not None else result.get("trajectory_id"))
            if tid is not None:
                ids.append(int(tid))
        if not ids:
            raise UserInputError("tick one or more finished runs at constant temperature (a "
                                 "sweep's runs, or a melt-quench with a production stage) to "
                                 "send them to the Conductivity tab")
        return ids

    def send_to_conductivity(self) -> list[int]:
        """Hand the ticked finished runs to the Conductivity tab (``sent``); returns the
        trajectory ids."""
        ids = self.sweep_trajectories()
        if ids == self.sent:
            self.param.trigger("sent")  # the same runs sent again
        else:
            self.sent = list(ids)
        self.message = (f"Sent {len(ids)} trajectorie{'s' if len(ids) > 1 else ''} to the "
                        "Conductivity tab: its transport jobs are running.")
        return ids
