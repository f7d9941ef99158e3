"""Training tab: train force fields on workspace datasets and compare the runs live.

:class:`~ssestudio.ui.training_model.TrainingModel` is the view model; :class:`TrainingTab`
lays out widgets and bokeh figures over it and refreshes the ticked runs every
``refresh_s`` seconds (a periodic callback; files are re-read only when they changed).
"""

from __future__ import annotations

import panel as pn

from ssestudio.ui.feedback import AlertFeedback, Polling
from ssestudio.ui.plots import fmt as _fmt
from ssestudio.ui.training_model import (EVAL_SPLITS, PUBLISHED_RANGE, PUBLISHED_TEXT,
                                         TrainingModel)

__all__ = ["TrainingModel", "TrainingTab"]

_HELP = ("Choose a labelled dataset version and a model, then **Start** (a background job; "
         "see Jobs). Tick runs in the list to compare them (val E/F: errors of the best "
         "validation epoch; for an ensemble the members' mean): loss and validation errors "
         "per epoch (log scale, one curve per ensemble member), metrics, parity plots "
         "(validation and test sets of a finished model's best epoch, else the latest "
         "validation snapshot) and force errors per element. **Stop** ends a run gracefully "
         "and keeps its best model.")
_RUN_TITLES = {"id": "job", "status": "status", "name": "name", "dataset": "dataset",
               "model": "preset", "epochs": "epochs", "val_energy_rmse_meV_atom": "E meV/at",
               "val_force_rmse_eV_A": "F eV/Å", "progress_pct": "progress", "eta": "ETA",
               "note": "note"}
_METRIC_TITLES = {"run": ("run", None), "set": ("set", None), "epoch": ("epoch", None),
                  "energy_rmse_meV_atom": ("E RMSE meV/at", ".3g"),
                  "energy_mae_meV_atom": ("E MAE", ".3g"),
                  "force_rmse_eV_A": ("F RMSE eV/Å", ".3g"), "force_mae_eV_A": ("F MAE", ".3g"),
                  "force_rmse_per_element": ("F RMSE per element", None),
                  "stress_rmse_GPa": ("σ RMSE GPa", ".3g"), "stress_mae_GPa": ("σ MAE", ".3g"),
                  "n_structures": ("structures", None)}


def _pane(fig) -> pn.pane.Bokeh:
    return pn.pane.Bokeh(fig, sizing_mode="stretch_width")


def _metric_display(row: dict) -> dict:
    return {title: (row[key] if spec is None else _fmt(row[key], spec))
            for key, (title, spec) in _METRIC_TITLES.items()}


class TrainingTab(AlertFeedback, Polling, pn.viewable.Viewer):
    """The Training tab: form, runs list, live curves, metrics, parity plots, evaluation."""

    def __init__(self, workspace, manager, *, max_upload_mb: float = 200.0, jobs_model=None,
                 refresh_s: float = 2.0, **params) -> None:
        super().__init__(**params)
        self.model = m = TrainingModel(workspace, manager)
        self._refresh_s = refresh_s
        w = pn.widgets
        self._alert = pn.pane.Alert("", visible=False, sizing_mode="stretch_width")
        self._dataset = w.Select(label="Dataset and version", options=m.dataset_options,
                                 value=m.dataset or None, sizing_mode="stretch_width")
        self._model = w.Select(label="Model", value=m.model, sizing_mode="stretch_width")
        self._preset_note = pn.pane.Markdown("", sizing_mode="stretch_width", margin=(0, 10))
        self._start = w.Button(label="Start training", color="primary")
        self._start.on_click(lambda _e: self._guard(m.start))
        self._runs = w.Tabulator(
            self._runs_frame(), show_index=False, disabled=True, selectable="checkbox",
            sortable=False, sizing_mode="stretch_width", max_height=260, titles=_RUN_TITLES,
            formatters={"progress_pct": {"type": "progress", "max": 100, "legend": True}},
            layout="fit_columns", widths={"id": 50, "epochs": 70, "progress_pct": 90, "eta": 55})
        self._runs.param.watch(self._on_tick, "selection")
        self._run = w.Select(label="Run", options={}, width=220)
        self._stop = w.Button(label="Stop", color="warning", disabled=True, align="end")
        self._stop.on_click(lambda _e: self._guard(m.stop, self._run.value))
        self._eval_dataset = w.Select(label="Evaluate on", options=m.dataset_options, width=330)
        self._eval_split = w.Select(label="Split", options=list(EVAL_SPLITS), width=110)
        self._evaluate = w.Button(label="Evaluate", disabled=True, align="end")
        self._evaluate.on_click(lambda _e: self._guard(
            m.evaluate, self._run.value, self._eval_dataset.value, self._eval_split.value))
        self._status = pn.pane.Markdown("", sizing_mode="stretch_width")
        self._curves = pn.Row(sizing_mode="stretch_width", name="training-curves")
        # a plain HTML table: a Tabulator here sometimes kept showing an older frame in the
        # browser when its value was replaced while the previous update was rendering
        self._metrics = pn.pane.DataFrame(None, index=False, na_rep="", border=0,
                                          sizing_mode="stretch_width", max_height=300,
                                          styles={"overflow": "auto", "font-size": "90%"})
        self._parity = pn.Row(sizing_mode="stretch_width", name="training-parity")
        self._wire(jobs_model)
        self._on_presets()
        self._on_runs()
        self._draw()

    # ---- wiring ------------------------------------------------------------------------
    def _wire(self, jobs_model) -> None:
        m = self.model
        m.param.watch(lambda e: self._show(e.new), "message")
        self._dataset.param.watch(lambda e: setattr(m, "dataset", e.new or ""), "value")
        self._model.param.watch(lambda e: setattr(m, "model", e.new or "default"), "value")
        m.param.watch(lambda e: self._on_datasets(), ["dataset_options", "dataset"])
        m.param.watch(lambda e: self._on_presets(), ["presets", "model"])
        m.param.watch(lambda e: self._on_runs(), ["runs", "selected"])
        m.param.watch(lambda e: self._draw(), ["data_version", "evaluations"])
        self._run.param.watch(lambda e: self._on_run_choice(), "value")
        if jobs_model is not None:
            jobs_model.param.watch(lambda _e: self._guard(self._on_finished), "finished_version")

    def _on_finished(self) -> None:
        self.model.refresh_datasets()
        self.model.poll()

    def _tick(self) -> None:
        """The periodic refresh: cheap (a jobs query, file stats of the ticked runs)."""
        self._guard(self.model.poll)


    # ---- form and runs -----------------------------------------------------------------
    def _on_datasets(self) -> None:
        m = self.model
        for select in (self._dataset, self._eval_dataset):
            current = select.value
            select.options = dict(m.dataset_options)
            if select is self._dataset:
                select.value = m.dataset or None
            elif current not in m.dataset_options.values():
                select.value = next(iter(m.dataset_options.values()), None)

    def _on_presets(self) -> None:
        m = self.model
        self._model.options = {f"{name}" + (" (not installed)" if p["missing"] else ""): name
                               for name, p in m.presets.items()}
        self._model.disabled_options = [n for n, p in m.presets.items() if p["missing"]]
        self._model.value = m.model
        p = m.presets.get(m.model, {})
        notes = [p.get("description", "")] + [f"⚠ {name}: {q['missing']}"
                                              for name, q in m.presets.items() if q["missing"]]
        self._preset_note.object = "<br>".join(n for n in notes if n)

    def _runs_frame(self):
        import pandas as pd

        return pd.DataFrame(self.model.runs, columns=list(_RUN_TITLES)).astype(
            {"val_energy_rmse_meV_atom": float, "val_force_rmse_eV_A": float}).round(
            {"val_energy_rmse_meV_atom": 2, "val_force_rmse_eV_A": 4})

    def _ticked(self) -> list[int]:
        ids = set(self.model.selected)
        return [i for i, r in enumerate(self.model.runs) if r["id"] in ids]

    def _on_tick(self, event) -> None:
        rows = self.model.runs
        ids = [rows[i]["id"] for i in event.new if i < len(rows)]
        if sorted(ids) != sorted(self.model.selected):
            self._guard(self.model.select, ids)

    def _on_runs(self) -> None:
        m = self.model
        frame = self._runs_frame()
        if not frame.equals(self._runs.value):
            self._runs.value = frame
        if sorted(self._runs.selection) != self._ticked():
            self._runs.selection = self._ticked()
        options = {f"job {r['id']} · {r['name'] or r['dataset']} ({r['status']})": r["id"]
                   for r in m.runs if r["id"] in m.selected}
        current = self._run.value
        self._run.options = options
        self._run.value = current if current in options.values() else next(
            iter(options.values()), None)
        self._on_run_choice()
        lines = m.status_lines()
        self._status.object = "\n".join(f"- {line}" for line in lines)

    def _on_run_choice(self) -> None:
        status = None
        if self._run.value is not None:
            status = next((r["status"] for r in self.model.runs if r["id"] == self._run.value),
                          None)
        self._stop.disabled = status not in ("running", "queued")
        self._evaluate.disabled = status != "succeeded"

    # ---- figures -----------------------------------------------------------------------
    def _draw(self) -> None:
        import pandas as pd

        from ssestudio.ui.training_plots import (element_error_figure, error_figure,
                                                 loss_figure, parity_figure)

        m = self.model
        curves = m.curves()
        self._curves.objects = [] if not curves else [
            _pane(loss_figure(curves)),
            _pane(error_figure(curves, key="energy_rmse_meV_atom", title="Validation energy RMSE",
                               y_label="energy RMSE (meV/atom)",
                               band=PUBLISHED_RANGE["energy_rmse_meV_atom"])),
            _pane(error_figure(curves, key="force_rmse_eV_A", title="Validation force RMSE",
                               y_label="force RMSE (eV/Å)",
                               band=PUBLISHED_RANGE["force_rmse_eV_A"]))]
        parity, elements = m.parity(), m.element_errors()
        self._parity.objects = ([] if not parity else [
            _pane(parity_figure(parity, key="energy_per_atom_eV", title="Energy per atom",
                                unit="eV/atom")),
            _pane(parity_figure(parity, key="forces_eV_A", title="Force components",
                                unit="eV/Å"))]) + (
            [_pane(element_error_figure(elements))] if elements else [])
        self._metrics.object = pd.DataFrame(
            [_metric_display(r) for r in m.metrics_rows()],
            columns=[title for title, _ in _METRIC_TITLES.values()])
        self._on_runs()

    # ---- layout ------------------------------------------------------------------------
    def __panel__(self):
        self.start_polling()
        m, fp = self.model, pn.widgets
        number = dict(sizing_mode="stretch_width")
        form = pn.Column(
            pn.pane.Markdown("### New training run"), self._dataset, self._model,
            self._preset_note,
            pn.Row(fp.IntInput.from_param(m.param.ensemble_size, label="Ensemble size", **number),
                   fp.IntInput.from_param(m.param.max_epochs, label="Max epochs", **number)),
            pn.Row(fp.FloatInput.from_param(m.param.max_time_min, label="Wall time (min)",
                                            **number),
                   fp.IntInput.from_param(m.param.batch_size, label="Batch size", **number)),
            pn.Row(fp.FloatInput.from_param(m.param.lr, label="Learning rate", step=1e-4,
                                            **number),
                   fp.Select.from_param(m.param.schedule, label="Schedule", **number)),
            pn.Row(fp.FloatInput.from_param(m.param.energy_weight, label="Energy weight", **number),
                   fp.FloatInput.from_param(m.param.force_weight, label="Force weight", **number),
                   fp.FloatInput.from_param(m.param.stress_weight, label="Stress weight",
                                            **number)),
            pn.Row(fp.IntInput.from_param(m.param.seed, label="Seed", **number),
                   fp.Select.from_param(m.param.dtype, label="Precision", **number),
                   fp.IntInput.from_param(m.param.threads, label="Threads", **number)),
            fp.TextInput.from_param(m.param.model_name, label="Model name",
                                    placeholder="blank: <dataset>-<model>", **number),
            fp.TextInput.from_param(m.param.model_options, label="Model options (JSON)",
                                    placeholder='{"cutoff_A": 5.5}', **number),
            self._start, self._alert, pn.pane.Markdown(_HELP, sizing_mode="stretch_width"),
            width=430)
        runs = pn.Card(
            self._runs,
            pn.Row(self._run, self._stop, self._eval_dataset, self._eval_split, self._evaluate),
            self._status, title="Runs (tick to compare)", sizing_mode="stretch_width")
        curves = pn.Card(pn.pane.Markdown(PUBLISHED_TEXT, margin=(0, 10)), self._curves,
                         title="Learning curves", sizing_mode="stretch_width")
        metrics = pn.Card(self._metrics, title="Metrics", sizing_mode="stretch_width")
        parity = pn.Card(self._parity, title="Parity and per-element force errors",
                         sizing_mode="stretch_width")
        return pn.Row(form, pn.Column(runs, curves, parity, metrics,
                                      sizing_mode="stretch_width"),
                      sizing_mode="stretch_width", name="Training")
