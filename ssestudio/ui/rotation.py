"""Paddle-wheel explorer tab: is anion rotation correlated with cation hops?

Choose a trajectory, the anion (PS4, P2S7, SiS4, BH4, B12H12, AlCl4, NbOCl4 or a custom
centre/ligands unit) and the cation, set the event thresholds, and *Analyse* (a background
``rotation`` job, :mod:`ssestudio.analysis.rotation`). A finished analysis shows the verdict,
C1/C2 with their fits, the angle distribution, the enrichment heatmap over (dt, r), the
cross-correlation and the event raster; choosing an event or a coincident rotation-hop pair
(in the table, or by tapping the raster) shows that frame in the 3D viewer with the anion
and the hopping ion highlighted. Ticking several results at different temperatures draws
the Arrhenius plot of the reorientation rate.

State lives in :class:`~ssestudio.ui.rotation_model.RotationExplorer` (tests drive it).
"""

from __future__ import annotations

import panel as pn

from ssestudio.ui.feedback import AlertFeedback, ticked_ids
from ssestudio.ui.rotation_model import CUSTOM, RotationExplorer

_HELP = (
    "A rotation event is a unit turning by more than the threshold angle within the window; "
    "a hop is a cation moving farther than the threshold distance within its window. A "
    "rotation and a hop *coincide* when the unit's centre is within r of the cation and the "
    "events are at most dt apart. The enrichment compares the coincidences observed with "
    "those expected when each unit's rotations are shifted in time at random (the null "
    "model); its interval also resamples the cations. An enrichment above 1 with an "
    "interval above 1 is a correlation, not proof that rotations drive hops (Jun et al., "
    "PNAS 2024, doi:10.1073/pnas.2316493121, ask for exactly this kind of strict test).")

_RESULT_TITLES = {"id": "job", "trajectory": "trajectory", "anion": "anion", "cation": "ion",
                  "T_K": "T (K)", "tau_C2_ps": "<τ2> (ps)", "rotations": "rot.", "hops": "hops",
                  "enrichment": "enrich.", "ci": "CI"}


def _pane(fig):
    return pn.pane.Bokeh(fig, sizing_mode="stretch_width")


def summary_rows(d: dict) -> list[dict]:
    """The headline numbers of a result as (quantity, value) rows."""
    def pm(v, e, unit=""):
        if v is None:
            return "—"
        return f"{v:.3g}" + (f" ± {e:.2g}" if e is not None else "") + unit

    u = d.get("units") or {}
    lo, hi = (d.get("enrichment_ci") or [None, None])[:2]
    return [
        {"quantity": "units analysed / found", "value": f"{d['n_units_analysed']} / "
                                                        f"{d['n_units']}"},
        {"quantity": "units broken (re-formed)", "value": f"{d['n_units_broken']} "
                                                          f"({d['n_units_reformed']})"},
        {"quantity": "mean fit RMSD (distortion)",
         "value": pm(u.get("mean_fit_rmsd_A"), None, " Å")},
        {"quantity": "<τ1> (C1)", "value": pm(d.get("mean_tau_C1_ps"),
                                               d.get("mean_tau_C1_err_ps"), " ps")},
        {"quantity": "<τ2> (C2)", "value": pm(d.get("mean_tau_C2_ps"),
                                               d.get("mean_tau_C2_err_ps"), " ps")},
        {"quantity": "β (C2)", "value": pm(d.get("beta_C2"), d.get("beta_C2_err"))},
        {"quantity": "rotation events", "value": str(d["rotation_events"])},
        {"quantity": "hop events", "value": str(d["hop_events"])},
        {"quantity": f"coincidences (|dt| ≤ {d['coincidence_dt_ps']:g} ps, "
                     f"r ≤ {d['coincidence_r_A']:g} Å)",
         "value": f"{d.get('coincidences_observed')} observed vs "
                  f"{pm(d.get('coincidences_expected'), None)} expected"},
        {"quantity": "enrichment", "value": "—" if d.get("enrichment") is None else
         f"{d['enrichment']:.2f} (CI {lo:.2f}–{hi:.2f})" if lo is not None and hi is not None
         else f"{d['enrichment']:.2f}"},
        {"quantity": "p-value (null model)", "value": pm(d.get("p_value"), None)},
    ]


class PaddleWheelTab(AlertFeedback, pn.viewable.Viewer):
    """The Paddle-wheel explorer tab (see the module docstring)."""

    def __init__(self, workspace, manager, *, max_upload_mb: float = 200.0, jobs_model=None,
                 **params) -> None:
        super().__init__(**params)
        from ssestudio.ui.player import TrajectoryPlayer

        self.workspace = workspace
        self.model = m = RotationExplorer(workspace, manager)
        self.player = TrajectoryPlayer()
        self._traj_id = None
        self._traj = None
        w = pn.widgets
        number = dict(sizing_mode="stretch_width")
        self._alert = pn.pane.Alert("", alert_type="info", visible=False, margin=(5, 10))
        self._trajectory = w.Select(label="Trajectory", options=m.trajectory_options,
                                    value=m.trajectory, **number)
        self._trajectory.param.watch(lambda e: setattr(m, "trajectory", e.new), "value")
        self._custom = pn.Row(w.TextInput.from_param(m.param.centre, label="Centre", **number),
                              w.TextInput.from_param(m.param.ligands, label="Ligands", **number),
                              w.IntInput.from_param(m.param.n_ligands, label="Ligands per unit",
                                                    **number), **number)
        self._form = [
            pn.Row(w.Select.from_param(m.param.anion, label="Anion", **number),
                   w.TextInput.from_param(m.param.cation, label="Cation", **number), **number),
            self._custom,
            pn.Row(w.IntInput.from_param(m.param.stride, label="Frame stride", **number),
                   w.FloatInput.from_param(m.param.temperature_K, label="T (K)", **number),
                   **number),
            pn.Row(w.FloatInput.from_param(m.param.rotation_window_fs,
                                           label="Rotation window (fs)", **number),
                   w.FloatInput.from_param(m.param.rotation_threshold_deg,
                                           label="Rotation threshold (°)", **number), **number),
            pn.Row(w.FloatInput.from_param(m.param.hop_window_fs, label="Hop window (fs)",
                                           **number),
                   w.FloatInput.from_param(m.param.hop_threshold_A, label="Hop threshold (Å)",
                                           **number), **number),
            pn.Row(w.FloatInput.from_param(m.param.coincidence_dt_ps, label="Coincidence dt (ps)",
                                           **number),
                   w.FloatInput.from_param(m.param.coincidence_r_A, label="Coincidence r (Å)",
                                           **number), **number)]
        self._analyse = w.Button(label="Analyse", color="primary", width=120)
        self._analyse.on_click(lambda *_e: self._guard(m.analyse))
        self._results = w.Tabulator(
            self._results_frame(), show_index=False, disabled=True, selectable="checkbox",
            sortable=False, sizing_mode="stretch_width", max_height=200, titles=_RESULT_TITLES,
            layout="fit_columns", widths={"id": 50, "anion": 60, "cation": 45, "T_K": 60,
                                          "rotations": 55, "hops": 55})
        self._results.param.watch(self._on_tick, "selection")
        self._verdict = pn.pane.Markdown("", sizing_mode="stretch_width")
        self._summary = pn.pane.DataFrame(None, index=False, border=0, width=520,
                                          styles={"font-size": "90%"})
        self._figures = pn.GridBox(ncols=2, sizing_mode="stretch_width", name="rotation-figures")
        self._raster = pn.Column(sizing_mode="stretch_width")
        self._which = w.RadioButtonGroup(options=["pairs", "events"], value="pairs", width=180)
        self._which.param.watch(lambda *_e: self._fill_events(), "value")
        self._events = w.Tabulator(None, show_index=False, disabled=True, selectable=1,
                                   pagination="local", page_size=8, sizing_mode="stretch_width",
                                   layout="fit_data_table")
        self._events.param.watch(self._on_event_row, "selection")
        self._caption = pn.pane.Markdown("", sizing_mode="stretch_width")
        m.param.watch(lambda e: self._show(e.new, "info"), "message")
        m.param.watch(lambda *_e: self._on_options(), ["trajectory_options", "trajectory"])
        m.param.watch(lambda *_e: self._on_anion(), "anion")
        m.param.watch(lambda *_e: self._on_results(), ["results", "selected"])
        m.param.watch(lambda *_e: self._guard(self._draw), "data_version")
        if jobs_model is not None:
            jobs_model.param.watch(lambda *_e: self._guard(m.refresh), "finished_version")
        self._on_anion()
        self._on_results()
        self._guard(self._draw)

    # ---- form and results --------------------------------------------------------------
    def _on_options(self) -> None:
        self._trajectory.options = dict(self.model.trajectory_options)
        self._trajectory.value = self.model.trajectory

    def _on_anion(self) -> None:
        self._custom.visible = self.model.anion == CUSTOM

    def _results_frame(self):
        import pandas as pd

        return pd.DataFrame(self.model.results, columns=list(_RESULT_TITLES))

    def _on_results(self) -> None:
        frame = self._results_frame()
        if not frame.equals(self._results.value):
            self._results.value = frame
        ticked = [i for i, r in enumerate(self.model.results) if r["id"] in self.model.selected]
        if sorted(self._results.selection) != ticked:
            self._results.selection = ticked

    def _on_tick(self, event) -> None:
        ids = ticked_ids(self.model.results, event.new, self.model.selected)
        if ids is not None:
            self._guard(self.model.select, ids)

    # ---- figures -----------------------------------------------------------------------
    def _draw(self) -> None:
        import pandas as pd

        from ssestudio.ui.rotation_plots import (angle_figure, correlation_figure,
                                                 enrichment_figure, raster_figure,
                                                 reorientation_figure, xcorr_figure)

        d = self.model.data()
        if d is None:
            self._verdict.object = "*Analyse a trajectory, or tick a finished analysis.*"
            self._summary.object = None
            self._figures.objects, self._raster.objects = [], []
            self._events.value = None
            return
        warnings = "".join(f"<br>⚠ {w}" for w in d.get("warnings") or [])
        self._verdict.object = (f"**{d['verdict']}**\n\n{d['trajectory']} · {d['anion']} / "
                                f"{d['cation']} · {d['n_frames']} frames, "
                                f"{d['duration_ps']:.3g} ps" + (
                                    f" · {d['temperature_K']:g} K" if d.get("temperature_K")
                                    else "") + warnings)
        self._summary.object = pd.DataFrame(summary_rows(d))
        figures = [correlation_figure(d), angle_figure(d), enrichment_figure(d), xcorr_figure(d)]
        fit, points = self.model.reorientation_arrhenius()
        if len(points["T_K"]) >= 2:
            figures.append(reorientation_figure(fit, points))
        self._figures.objects = [_pane(f) for f in figures if f is not None]
        raster, sources = raster_figure(d)
        for kind, source in sources.items():
            source.selected.on_change("indices", self._tapper(kind))
        self._raster.objects = [_pane(raster)]
        self._open_trajectory(d["trajectory_id"])
        self._fill_events()

    def _tapper(self, kind: str):
        def on_tap(_attr, _old, new) -> None:
            if new:
                self._guard(self.show_event, kind, int(new[0]))
        return on_tap

    def _fill_events(self) -> None:
        import pandas as pd

        rows = self.model.pair_rows() if self._which.value == "pairs" else self.model.event_rows()
        self._events.value = pd.DataFrame(rows).round(3) if rows else None

    def _on_event_row(self, event) -> None:
        if not event.new or self._events.value is None:
            return
        row = self._events.value.iloc[event.new[0]]
        if self._which.value == "pairs":
            self._guard(self.show_event, "pair", int(row["i"]))
        else:
            self._guard(self.show_event, str(row["kind"]), int(row["i"]))

    # ---- viewer ------------------------------------------------------------------------
    def _open_trajectory(self, trajectory_id: int) -> None:
        if trajectory_id == self._traj_id:
            return
        if self._traj is not None:
            self._traj.close()
        self._traj = self.workspace.open_trajectory(trajectory_id)
        self._traj_id = trajectory_id
        self.player.set_trajectory(self._traj)

    def show_event(self, kind: str, i: int) -> None:
        """Show an event (``"rotation"``/``"hop"``) or a coincident ``"pair"`` in the
        viewer: its frame, with the anion's atoms and the cation highlighted."""
        frame, atoms, caption = self.model.view_of(kind, i)
        self.player.go_to(frame)
        self.player.highlight = ", ".join(map(str, atoms))
        self._caption.object = f"**Frame {frame}**: {caption} (highlighted)."

    # ---- layout ------------------------------------------------------------------------
    def __panel__(self):
        form = pn.Column(pn.pane.Markdown("### Rotation analysis"), self._trajectory,
                         *self._form, self._analyse, self._alert,
                         pn.pane.Markdown(_HELP, sizing_mode="stretch_width"), width=400)
        results = pn.Card(self._results, self._verdict, title="Analyses (tick to show; tick "
                          "several temperatures for the reorientation Arrhenius plot)",
                          sizing_mode="stretch_width")
        figures = pn.Card(self._summary, self._figures, self._raster,
                          title="Correlation functions, angles, enrichment",
                          sizing_mode="stretch_width")
        viewer = pn.Card(pn.Row(self._which, self._caption, sizing_mode="stretch_width"),
                         self._events, self.player,
                         title="Events and coincident pairs in 3D (click a row)",
                         sizing_mode="stretch_width")
        return pn.Row(form, pn.Column(results, figures, viewer, sizing_mode="stretch_width"),
                      sizing_mode="stretch_width", name="Paddle-wheel")
