"""Conductivity tab: transport analysis of workspace trajectories and the Arrhenius plot.

:class:`~ssestudio.ui.conductivity_model.ConductivityModel` is the view model;
:class:`ConductivityTab` lays out widgets and bokeh figures over it.
"""

from __future__ import annotations

import io

import panel as pn

from ssestudio.ui.conductivity_model import (CSV_COLUMNS, ERROR_SOURCES, ConductivityModel,
                                             provenance_temperature_K)
from ssestudio.ui.feedback import AlertFeedback
from ssestudio.ui.plots import fmt as _fmt

__all__ = ["CSV_COLUMNS", "ConductivityModel", "ConductivityTab", "provenance_temperature_K"]

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


class ConductivityTab(AlertFeedback, pn.viewable.Viewer):
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

    def receive(self, trajectory_ids) -> list[int] | None:
        """Analyse these trajectories (sent by another tab, e.g. a finished MD sweep): tick
        exactly them and submit their transport jobs; returns the job ids (None when the
        input was refused: the reason is in this tab's alert)."""
        self.model.refresh()
        self.model.select(trajectory_ids)
        return self._guard(self.model.analyse)

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
