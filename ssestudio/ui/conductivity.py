"""Conductivity tab: transport analysis of workspace trajectories and the Arrhenius plot.

:class:`ConductivityModel` is the view model (no widgets; driven directly by tests): it
lists the trajectories with a temperature each, submits one ``transport`` job per chosen
trajectory, loads the finished jobs' results, re-fits a result over another fit window
from its saved MSD (in-process, milliseconds: no new job), builds the results table and
its CSV, and fits the temperature dependence. :class:`ConductivityTab` lays out widgets
and bokeh figures over it.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import panel as pn
import param

from ssestudio.core.errors import SSEStudioError, UserInputError
from ssestudio.ui.plots import fmt as _fmt

#: Columns of the results table and of its CSV (readable by ``ssestudio arrhenius``).
CSV_COLUMNS = ["trajectory", "species", "T_K", "D_cm2_s", "D_err_cm2_s", "D_hop_err_cm2_s",
               "sigma_mS_cm", "sigma_err_mS_cm", "haven_ratio", "haven_ratio_err", "n_eff_hops",
               "diffusive", "fit_t0_ps", "fit_t1_ps", "fit_window", "warnings", "job_id"]
#: How the Arrhenius fit weights the points: which one-sigma error of D (or sigma) it uses.
ERROR_SOURCES = {"larger": "larger of the fit and hop-count errors",
                 "fit": "fit error (GLS + fit-window)", "hops": "hop-count error (He et al.)"}
_VALUE_KEYS = {"D": ("D_cm2_s", "D_err_cm2_s"), "sigma": ("sigma_mS_cm", "sigma_err_mS_cm")}


def provenance_temperature_K(record) -> float | None:
    """The temperature recorded in a trajectory's provenance parameters (e.g. by an MD
    job), K, or None. An NVE run's ``temperature_K`` (its initial temperature) is ignored."""
    params = (record.provenance or {}).get("parameters") or {}
    value = params.get("temperature_K")
    if str(params.get("ensemble", "nvt")).lower().startswith("nve"):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


class ConductivityModel(param.Parameterized):
    """View model of the Conductivity tab.

    Parameters
    ----------
    workspace : ssestudio.workspace.Workspace
    manager : ssestudio.jobs.JobManager
    """

    rows = param.List(default=[], doc="Workspace trajectories (id, name, n_frames, "
                                      "timestep_fs, temperature_K, use: ticked)")
    species = param.String(default="Li", doc="Mobile species")
    charges = param.String(default="", doc="'Li=1'; blank = formal charge")
    timestep_fs = param.Number(default=None, allow_None=True, doc="Frame interval override, fs")
    fit_t0_ps = param.Number(default=None, allow_None=True, doc="Fit window start (None: auto)")
    fit_t1_ps = param.Number(default=None, allow_None=True, doc="Fit window end (None: auto)")
    results = param.List(default=[], doc="One dict per analysed (trajectory, species)")
    pending = param.Dict(default={}, doc="Running transport jobs: id -> trajectory name")
    message = param.String(default="")
    quantity = param.Selector(default="sigma", objects=["sigma", "D"])
    error_source = param.Selector(default="larger", objects=list(ERROR_SOURCES))
    target_T_K = param.Number(default=300.0, bounds=(1.0, None))

    def __init__(self, workspace, manager, **params) -> None:
        super().__init__(**params)
        self.workspace = workspace
        self.manager = manager
        self._saved: dict = {}  # job id -> SavedTransport
        self.refresh()

    # ---- trajectories ------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the workspace's trajectories, keeping the ticks and temperatures typed."""
        old = {r["id"]: r for r in self.rows}
        rows = []
        for rec in self.workspace.list_trajectories():
            prev = old.get(rec.id, {})
            rows.append({"id": rec.id, "name": rec.name, "n_frames": rec.n_frames,
                         "timestep_fs": rec.timestep_fs,
                         "temperature_K": prev.get("temperature_K", provenance_temperature_K(rec)),
                         "use": prev.get("use", False)})
        if rows != self.rows:
            self.rows = rows

    def _update_row(self, trajectory_id: int, **values) -> None:
        if not any(r["id"] == trajectory_id for r in self.rows):
            raise UserInputError(f"no trajectory with id {trajectory_id} in the workspace")
        self.rows = [{**r, **values} if r["id"] == trajectory_id else r for r in self.rows]

    def set_temperature(self, trajectory_id: int, temperature_K) -> None:
        """Set the temperature of a trajectory, K (None, blank, NaN or 0: unknown)."""
        try:
            value = None if temperature_K in (None, "") else float(temperature_K)
        except (TypeError, ValueError):
            raise UserInputError(f"a temperature is a number of kelvin, got {temperature_K!r}"
                                 ) from None
        if value is not None and (np.isnan(value) or value == 0):
            value = None
        if value is not None and not value > 0:
            raise UserInputError(f"a temperature must be > 0 K, got {temperature_K}")
        self._update_row(trajectory_id, temperature_K=value)

    def select(self, trajectory_ids) -> None:
        """Tick exactly these trajectories for analysis."""
        ids = set(trajectory_ids)
        rows = [{**r, "use": r["id"] in ids} for r in self.rows]
        if rows != self.rows:
            self.rows = rows

    # ---- jobs --------------------------------------------------------------------------
    def _window(self) -> tuple[float, float] | None:
        t0, t1 = self.fit_t0_ps, self.fit_t1_ps
        if t0 is None and t1 is None:
            return None
        if t0 is None or t1 is None:
            raise UserInputError("give both ends of the fit window (t0 and t1, ps) or neither "
                                 "(automatic window)")
        return (float(t0), float(t1))

    def analyse(self) -> list[int]:
        """Submit one transport job per ticked trajectory; returns the job ids."""
        from ssestudio.jobs.transport import TransportSpec, parse_charges

        chosen = [r for r in self.rows if r["use"]]
        if not chosen:
            raise UserInputError("tick one or more trajectories in the table to analyse")
        common = {"species": self.species, "charges": parse_charges(self.charges),
                  "fit_window_ps": self._window(), "timestep_fs": self.timestep_fs or None}
        specs = [TransportSpec(trajectory=r["id"], temperature_K=r["temperature_K"], **common)
                 for r in chosen]  # all validated before any is submitted
        for spec in specs:
            spec.preflight(self.workspace)
        ids = [self.manager.submit(spec) for spec in specs]
        self.pending = {**self.pending, **{i: r["name"] for i, r in zip(ids, chosen)}}
        no_T = [r["name"] for r in chosen if r["temperature_K"] is None]
        self.message = (f"Submitted {len(ids)} transport job(s) ({', '.join(map(str, ids))}): "
                        "progress in the Jobs panel; results appear here when they finish."
                        + (f" No temperature for {', '.join(no_T)}: the conductivity needs one "
                           "(unless the file records an NVT temperature)." if no_T else ""))
        return ids

    def collect(self) -> list[int]:
        """Load the results of pending jobs that have finished; returns the loaded job ids."""
        loaded, failed, pending = [], [], dict(self.pending)
        for job_id, name in self.pending.items():
            rec = self.manager.get(job_id)
            if not rec.done:
                continue
            del pending[job_id]
            if str(rec.status) == "succeeded":
                self.load_job(job_id)
                loaded.append(job_id)
            else:
                why = (rec.error or rec.message or "").strip().splitlines()
                failed.append(f"job {job_id} ({name}) {rec.status}: {why[-1] if why else ''}")
        if pending != self.pending:
            self.pending = pending
        if failed:
            self.message = " · ".join(failed)
        elif loaded:
            self.message = f"Loaded the results of job(s) {', '.join(map(str, loaded))}."
        return loaded

    def load_job(self, job_id: int) -> dict:
        """Add (or replace, per trajectory and species) the result of a finished transport job."""
        from ssestudio.jobs.transport import load_transport

        rec = self.manager.get(job_id)
        if rec.kind != "transport" or str(rec.status) != "succeeded" or not rec.result:
            raise UserInputError(f"job {job_id} is not a succeeded transport job "
                                 f"({rec.kind}, {rec.status})")
        saved = load_transport(self.workspace.job_dir(job_id))
        self._saved[job_id] = saved
        entry = {"job_id": job_id, "trajectory_id": rec.result["trajectory_id"],
                 "name": rec.result["trajectory"], "species": saved.summary["species"],
                 "summary": saved.summary, "diffusion": saved.diffusion, "refit": False}
        self._replace(entry)
        return entry

    def load_previous(self, *, limit: int = 500) -> int:
        """Show the latest succeeded transport job of each trajectory and species (so a
        reload loses nothing); returns how many results were loaded."""
        records = [r for r in self.manager.list(limit=limit, status="succeeded")
                   if r.kind == "transport"]
        latest = {}
        for rec in sorted(records, key=lambda r: r.id):
            latest[(rec.result or {}).get("trajectory_id"), (rec.result or {}).get("species")] = rec.id
        n = 0
        for job_id in sorted(latest.values()):
            try:
                self.load_job(job_id)
                n += 1
            except (SSEStudioError, OSError, KeyError, ValueError):
                continue  # a job folder deleted by hand: skip it
        return n

    def _replace(self, entry: dict) -> None:
        key = (entry["trajectory_id"], entry["species"])
        kept = [e for e in self.results if (e["trajectory_id"], e["species"]) != key]
        self.results = sorted(kept + [entry], key=lambda e: (
            e["summary"].get("temperature_K") or np.inf, e["name"]))

    def entry(self, job_id: int) -> dict:
        """The result entry of a job."""
        for e in self.results:
            if e["job_id"] == job_id:
                return e
        raise UserInputError(f"no result of job {job_id} is shown")

    def refit(self, job_id: int, fit_window_ps: tuple[float, float] | None) -> dict:
        """Re-fit a result over ``fit_window_ps`` (None: automatic) from its saved MSD.

        Returns the new flat summary; the table, plots and Arrhenius fit follow.
        """
        old = self.entry(job_id)
        result = self._saved[job_id].refit(fit_window_ps)
        entry = {**old, "summary": result.to_dict(), "diffusion": result.diffusion.to_dict(),
                 "refit": fit_window_ps is not None}
        self._replace(entry)
        w = entry["summary"]["fit_window_ps"]
        self.message = f"Re-fitted {old['name']} over {w[0]:g}–{w[1]:g} ps (job {job_id}'s MSD)."
        return entry["summary"]

    # ---- table -------------------------------------------------------------------------
    def table_rows(self) -> list[dict]:
        """One row per result with the columns of :data:`CSV_COLUMNS`."""
        rows = []
        for e in self.results:
            s = e["summary"]
            t0, t1 = s["fit_window_ps"]
            rows.append({
                "trajectory": e["name"], "species": e["species"], "T_K": s.get("temperature_K"),
                **{k: s.get(k) for k in CSV_COLUMNS[3:11]}, "diffusive": bool(s.get("diffusive")),
                "fit_t0_ps": t0, "fit_t1_ps": t1,
                "fit_window": "re-fitted" if e["refit"] else
                              ("automatic" if s.get("fit_window_auto") else "given"),
                "warnings": " | ".join(s.get("warnings") or []), "job_id": e["job_id"]})
        return rows

    def csv_text(self) -> str:
        """The results table as CSV (``ssestudio arrhenius`` reads it directly)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in self.table_rows():
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
        return out.getvalue()

    # ---- temperature dependence --------------------------------------------------------
    def arrhenius_points(self) -> tuple[dict, list[str]]:
        """Points of the Arrhenius fit for the current species and quantity, and notes on
        the results left out."""
        value_key, err_key = _VALUE_KEYS[self.quantity]
        points = {"T_K": [], "value": [], "error": [], "label": []}
        notes = []
        for e in self.results:
            if e["species"] != self.species:
                continue
            s = e["summary"]
            T, v, err = s.get("temperature_K"), s.get(value_key), s.get(err_key)
            hop = s.get("D_hop_err_cm2_s")
            if hop is not None and s.get("D_cm2_s"):
                hop = hop * (v / s["D_cm2_s"]) if v is not None else None
            err = {"fit": err, "hops": hop,
                   "larger": max((x for x in (err, hop) if x is not None), default=None)}[
                self.error_source]
            if T is None or v is None or err is None or not (v > 0 and err > 0):
                notes.append(f"{e['name']} left out (T = {T}, {value_key} = {v}, error = {err})")
                continue
            for key, x in zip(points, (T, v, err, e["name"])):
                points[key].append(x)
        return points, notes

    def arrhenius(self):
        """``(TemperatureFit or None, points, notes)``: the fit needs >= 3 temperatures."""
        from ssestudio.analysis.arrhenius import fit_temperature_dependence

        points, notes = self.arrhenius_points()
        n_T = len(set(points["T_K"]))
        if n_T < 3:
            notes.append(f"The Arrhenius fit needs results at >= 3 distinct temperatures of "
                         f"{self.species}; {n_T} so far. Analyse trajectories at more temperatures.")
            return None, points, notes
        try:
            fit = fit_temperature_dependence(points["T_K"], points["value"], points["error"],
                                             quantity=self.quantity, target_T_K=self.target_T_K)
        except UserInputError as exc:
            notes.append(str(exc))
            return None, points, notes
        return fit, points, notes

    def msd_curves(self) -> list[dict]:
        """Curves for :func:`ssestudio.ui.plots.msd_figure`, one per result."""
        from ssestudio.jobs.transport import fitted_msd_A2
        from ssestudio.ui.plots import color

        curves = []
        for i, e in enumerate(self.results):
            msd = self._saved[e["job_id"]].msd
            sem = np.asarray(msd.msd_sem_A2)
            t0, t1 = e["summary"]["fit_window_ps"]
            ft = np.linspace(t0, t1, 50)
            T = e["summary"].get("temperature_K")
            curves.append({"label": f"{e['name']}" + (f" ({T:g} K)" if T else ""),
                           "color": color(i), "time_ps": np.asarray(msd.time_ps),
                           "msd_A2": np.asarray(msd.msd_A2),
                           "sem_A2": sem if np.isfinite(sem[1:]).any() else None,
                           "fit_time_ps": ft, "fit_msd_A2": fitted_msd_A2(e["diffusion"], ft)})
        return curves


_TRAJ_TITLES = {"name": "trajectory", "n_frames": "frames", "timestep_fs": "Δt fs",
                "temperature_K": "T (K)"}
_HELP = ("Tick trajectories (one or more per temperature), type each one's temperature "
         "(prefilled from MD provenance), then **Analyse**: one transport job per trajectory "
         "(see Jobs). MSD bands: ± one standard error over atoms; dashed: fitted line; shaded: "
         "fit window. Figures: use the **save** tool of each plot's toolbar (PNG; choose SVG "
         "below for vector files).")


#: Shown columns of the results table: title -> (CSV column, format).
_SHOWN = {"trajectory": ("trajectory", None), "species": ("species", None), "T (K)": ("T_K", "g"),
          "D* (cm²/s)": ("D_cm2_s", ".3g"), "D err": ("D_err_cm2_s", ".2g"),
          "D hop err": ("D_hop_err_cm2_s", ".2g"), "σ (mS/cm)": ("sigma_mS_cm", ".3g"),
          "σ err": ("sigma_err_mS_cm", ".2g"), "Haven": ("haven_ratio", ".2f"),
          "Haven err": ("haven_ratio_err", ".2f"), "n_eff hops": ("n_eff_hops", ".0f"),
          "diffusive": ("diffusive", None), "fit window (ps)": (None, None),
          "warnings": ("warnings", None), "job": ("job_id", None)}


def _display_row(row: dict) -> dict:
    """A results-table row with numbers formatted for reading (the CSV keeps full precision)."""
    out = {title: (row[key] if spec is None else _fmt(row[key], spec))
           for title, (key, spec) in _SHOWN.items() if key}
    out["fit window (ps)"] = f"{row['fit_t0_ps']:.3g}–{row['fit_t1_ps']:.3g} ({row['fit_window']})"
    return out


class ConductivityTab(pn.viewable.Viewer):
    """The Conductivity tab: inputs, MSD plot with the fit window, table, Arrhenius plot."""

    def __init__(self, workspace, manager, *, max_upload_mb: float = 200.0,
                 jobs_model=None, **params) -> None:
        super().__init__(**params)
        self.model = m = ConductivityModel(workspace, manager)
        m.load_previous()
        self._traj = pn.widgets.Tabulator(
            self._traj_frame(), show_index=False, hidden_columns=["id"], max_height=260,
            sizing_mode="stretch_width", titles=_TRAJ_TITLES, selectable="checkbox",
            layout="fit_columns", selection=self._ticked(),
            editors={"name": None, "n_frames": None, "timestep_fs": None,
                     "temperature_K": {"type": "number", "min": 0}},
            widths={"n_frames": 70, "timestep_fs": 65, "temperature_K": 80})
        self._traj.on_edit(self._on_traj_edit)
        self._traj.param.watch(self._on_tick, "selection")
        self._analyse = pn.widgets.Button(label="Analyse", color="primary", width=110)
        self._analyse.on_click(lambda _: self._guard(m.analyse))
        self._alert = pn.pane.Alert("", alert_type="info", visible=False, margin=(5, 10))
        self._log = pn.widgets.Checkbox(label="log-log axes", value=True)
        self._svg = pn.widgets.RadioButtonGroup(options=["PNG", "SVG"], value="PNG", width=120)
        self._which = pn.widgets.Select(label="Fit window of", options={}, width=220)
        self._t0 = pn.widgets.FloatInput(label="t0 (ps)", start=0, width=90)
        self._t1 = pn.widgets.FloatInput(label="t1 (ps)", start=0, width=90)
        self._refit = pn.widgets.Button(label="Re-fit", width=80, align="end")
        self._refit.on_click(lambda _: self._on_refit(auto=False))
        self._auto = pn.widgets.Button(label="Automatic window", width=140, align="end")
        self._auto.on_click(lambda _: self._on_refit(auto=True))
        self._msd = pn.pane.Bokeh(None, sizing_mode="stretch_width", name="msd-plot")
        self._table = pn.widgets.Tabulator(
            None, show_index=False, disabled=True, sizing_mode="stretch_width", max_height=300,
            layout="fit_data_table")
        self._csv = pn.widgets.FileDownload(callback=lambda: io.StringIO(m.csv_text()),
                                            filename="transport.csv", label="Download table (CSV)",
                                            color="success", width=200)
        self._arr_warn = pn.pane.Alert("", alert_type="warning", visible=False, margin=(5, 10))
        self._arr_text = pn.pane.Markdown("", sizing_mode="stretch_width")
        self._arr = pn.pane.Bokeh(None, sizing_mode="stretch_width", name="arrhenius-plot")
        m.param.watch(lambda e: self._show(e.new), "message")
        m.param.watch(self._on_rows, "rows")
        m.param.watch(self._on_results, "results")
        m.param.watch(lambda _: self._draw_arrhenius(),
                      ["quantity", "error_source", "species", "target_T_K"])
        self._log.param.watch(lambda _: self._draw_msd(), "value")
        self._svg.param.watch(lambda _: (self._draw_msd(), self._draw_arrhenius()), "value")
        self._which.param.watch(self._on_which, "value")
        if jobs_model is not None:
            jobs_model.param.watch(lambda _: m.refresh(), ["rows", "finished_version"])
            jobs_model.param.watch(lambda _: m.collect(), "finished_version")
        self._on_results()

    # ---- helpers -----------------------------------------------------------------------
    def _traj_frame(self):
        import pandas as pd

        frame = pd.DataFrame(self.model.rows, columns=["id", *_TRAJ_TITLES])
        return frame.astype({"temperature_K": float, "timestep_fs": float})

    def _ticked(self) -> list[int]:
        return [i for i, r in enumerate(self.model.rows) if r["use"]]

    def _on_rows(self, *_) -> None:
        frame = self._traj_frame()
        if not frame.equals(self._traj.value):
            self._traj.value = frame
        if sorted(self._traj.selection) != self._ticked():
            self._traj.selection = self._ticked()

    def _on_tick(self, event) -> None:
        rows = self.model.rows
        self.model.select([rows[i]["id"] for i in event.new if i < len(rows)])

    def _show(self, text: str, kind: str = "info") -> None:
        self._alert.object, self._alert.alert_type, self._alert.visible = text, kind, bool(text)

    def _guard(self, fn, *args, **kw):
        try:
            return fn(*args, **kw)
        except (SSEStudioError, OSError) as exc:
            self._show(str(exc), "danger")
            return None

    def _on_traj_edit(self, event) -> None:
        row = self.model.rows[event.row]
        if event.column == "temperature_K":
            self._guard(self.model.set_temperature, row["id"], event.value)

    def _on_results(self, *_) -> None:
        import pandas as pd

        m = self.model
        self._table.value = pd.DataFrame([_display_row(r) for r in m.table_rows()],
                                         columns=list(_SHOWN))
        options = {f"{e['name']} ({e['species']}, job {e['job_id']})": e["job_id"]
                   for e in m.results}
        current = self._which.value
        self._which.options = options
        self._which.value = current if current in options.values() else (
            next(iter(options.values())) if options else None)
        self._on_which()
        self._draw_arrhenius()

    def _on_which(self, *_) -> None:
        if self._which.value is None:
            return
        t0, t1 = self.model.entry(self._which.value)["summary"]["fit_window_ps"]
        self._t0.value, self._t1.value = round(t0, 6), round(t1, 6)
        self._draw_msd()

    def _on_refit(self, *, auto: bool) -> None:
        if self._which.value is None:
            self._show("analyse a trajectory first", "danger")
            return
        window = None if auto else (self._t0.value, self._t1.value)
        if window is not None and None in window:
            self._show("type both t0 and t1 (ps)", "danger")
            return
        self._guard(self.model.refit, self._which.value, window)

    # ---- figures -----------------------------------------------------------------------
    def _draw_msd(self) -> None:
        from ssestudio.ui.plots import msd_figure

        if not self.model.results:
            self._msd.object = None
            return
        window = None
        if self._which.value is not None:
            window = tuple(self.model.entry(self._which.value)["summary"]["fit_window_ps"])
        self._msd.object = msd_figure(self.model.msd_curves(), log_axes=self._log.value,
                                      window_ps=window, svg=self._svg.value == "SVG")

    def _draw_arrhenius(self) -> None:
        from ssestudio.ui.plots import arrhenius_figure, fit_summary, model_curves

        m = self.model
        fit, points, notes = m.arrhenius()
        warnings = list(fit.warnings) if fit is not None else []
        self._arr_warn.object = "<br>".join(f"⚠ {w}" for w in warnings + notes)
        self._arr_warn.visible = bool(warnings or notes)
        curves = None
        if fit is not None:
            T = points["T_K"]
            curves = model_curves(fit, T, T_min_K=min(min(T), fit.target_T_K) * 0.97,
                                  T_max_K=max(T) * 1.03)
        self._arr_text.object = fit_summary(fit)
        self._arr.object = (arrhenius_figure(points, quantity=m.quantity, curves=curves, fit=fit,
                                             svg=self._svg.value == "SVG")
                            if points["T_K"] else None)

    def __panel__(self):
        m = self.model
        inputs = pn.Column(
            pn.pane.Markdown("### Trajectories"), self._traj,
            pn.Row(pn.widgets.TextInput.from_param(m.param.species, label="Species", width=80),
                   pn.widgets.TextInput.from_param(m.param.charges, label="Charges (blank: formal)",
                                                   placeholder="Li=1", width=150),
                   pn.widgets.FloatInput.from_param(m.param.timestep_fs, label="Δt override (fs)",
                                                    width=120)),
            pn.Row(pn.widgets.FloatInput.from_param(m.param.fit_t0_ps, label="Fit t0 (ps)", width=100),
                   pn.widgets.FloatInput.from_param(m.param.fit_t1_ps, label="Fit t1 (ps)", width=100),
                   self._analyse),
            pn.pane.Markdown("Fit window blank: automatic.", margin=(0, 10)),
            self._alert, pn.pane.Markdown(_HELP, sizing_mode="stretch_width"),
            pn.Row(pn.pane.Markdown("Figure format:", margin=(12, 5)), self._svg),
            width=520)
        msd_card = pn.Card(
            pn.Row(self._log, self._which, self._t0, self._t1, self._refit, self._auto),
            pn.pane.Markdown("Re-fitting uses the saved MSD of the job (no new job).",
                             margin=(0, 10)),
            self._msd, title="MSD and fit window", sizing_mode="stretch_width")
        table_card = pn.Card(self._table, self._csv, title="D*, σ and Haven ratio",
                             sizing_mode="stretch_width")
        arr_card = pn.Card(
            pn.Row(pn.widgets.RadioButtonGroup.from_param(m.param.quantity, width=120),
                   pn.widgets.Select.from_param(m.param.error_source, label="Point errors",
                                                options={v: k for k, v in ERROR_SOURCES.items()},
                                                width=300),
                   pn.widgets.FloatInput.from_param(m.param.target_T_K, label="Extrapolate to (K)",
                                                    width=130)),
            self._arr_warn, self._arr_text, self._arr,
            title="Temperature dependence (Arrhenius, two-regime, VFT)", sizing_mode="stretch_width")
        return pn.Row(inputs, pn.Column(msd_card, table_card, arr_card,
                                        sizing_mode="stretch_width"),
                      sizing_mode="stretch_width", name="Conductivity")
