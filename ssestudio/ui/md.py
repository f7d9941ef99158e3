"""MD tab: choose a force field and a structure (or a glass composition), pick or edit a
protocol and see its temperature schedule before it runs, launch it as jobs, follow the
thermo log and the trajectory live, analyse the structure of a finished run, and send a
finished sweep to the Conductivity tab.

The state lives in two view models without widgets, driven directly by tests:
:class:`~ssestudio.ui.md_model.MDForm` (the form -> job specs and schedules) and
:class:`~ssestudio.ui.md_runs.MDRuns` (runs, thermo, analyses, hand-over). This module only
lays out widgets over them and refreshes every ``refresh_s`` seconds.
"""

from __future__ import annotations

import panel as pn

from ssestudio.core.errors import SSEStudioError
from ssestudio.ui.feedback import AlertFeedback, Polling, ticked_ids
from ssestudio.ui.md_model import MELT_FIELDS, PROTOCOLS, MDForm
from ssestudio.ui.md_runs import MDRuns

_HELP = (
    "Pick a force field (a model trained in the Training tab, the bundled sample model, or a "
    "pretrained teacher), a structure or a glass composition, and a protocol: its target "
    "temperature is drawn above before anything runs. **Launch** submits the jobs (see the "
    "Jobs panel). Tick a run to follow its thermo log and trajectory live; **Analyse "
    "structure** computes RDFs, S(q), XRD, speciation and lattice parameters of a finished "
    "output; tick finished sweep runs and **Send to Conductivity** for the Arrhenius plot.")

_RUN_TITLES = {"id": "job", "kind": "kind", "status": "status", "what": "run",
               "progress_pct": "progress", "eta": "ETA", "note": "note"}

#: Form field -> (widget class name, label, extra keyword arguments).
_FIELD_WIDGETS = {
    "structure": ("Select", "Structure", {}),
    "supercell": ("TextInput", "Supercell (a b c)", {}),
    "temperature_K": ("FloatInput", "Temperature (K)", {}),
    "temperatures": ("TextInput", "Temperatures (K)", {}),
    "end_temperature_K": ("FloatInput", "End temperature (K)", {}),
    "ensemble": ("Select", "Ensemble", {}),
    "timestep_fs": ("FloatInput", "Time step (fs)", {"step": 0.5}),
    "duration_ps": ("FloatInput", "Run length (ps)", {}),
    "write_interval": ("IntInput", "Steps between frames", {}),
    "equilibration_ps": ("FloatInput", "Equilibration (ps)", {}),
    "pressure_GPa": ("FloatInput", "Pressure (GPa, NPT)", {"step": 0.1}),
    "mq_source": ("RadioButtonGroup", "Start from", {}),
    "composition": ("TextInput", "Composition", {}),
    "n_atoms": ("IntInput", "Atoms", {}),
    "preset": ("Select", "Preset", {}),
    "melt_K": ("FloatInput", "Melt T (K)", {}),
    "hold_ps": ("FloatInput", "Melt hold (ps)", {}),
    "quench_rate_K_per_ps": ("FloatInput", "Quench rate (K/ps)", {}),
    "final_K": ("FloatInput", "Glass T (K)", {}),
    "anneal_ps": ("FloatInput", "Anneal (ps)", {}),
    "relax_ps": ("FloatInput", "NPT relaxation (ps)", {}),
    "production_ps": ("FloatInput", "Production (ps)", {}),
    "mq_timestep_fs": ("FloatInput", "Time step (fs)", {"step": 0.5}),
}


def _pane(fig):
    return pn.pane.Bokeh(fig, sizing_mode="stretch_width")


def speciation_rows(analysis: dict) -> list[dict]:
    """The analysis summary as table rows (quantity, value): density, coordination of the
    network former, network units, anion classes, Q^n."""
    rows = [{"quantity": "density (g/cm³)", "value": f"{analysis['density_g_cm3']:.4g}"
             if analysis.get("density_g_cm3") is not None else "—"},
            {"quantity": "frames analysed", "value": str(analysis.get("n_frames"))}]
    spec = analysis.get("speciation") or {}
    for group, key in (("unit", "unit_fraction_by_former"), ("anion", "anion_fraction"),
                       ("", "qn_fraction")):
        for name, value in (spec.get(key) or {}).items():
            if value:
                label = f"{name} (fraction of {spec.get('formers', ['formers'])[0]})" if \
                    group == "unit" else f"{name} {spec.get('anion', '')}" if group == "anion" \
                    else name
                rows.append({"quantity": label.replace("_", "-"), "value": f"{value:.3f}"})
    for pair, c in (analysis.get("coordination") or {}).items():
        if spec and pair.split("-")[0] in (spec.get("formers") or []) and c.get("n"):
            rows.append({"quantity": f"{pair} coordination (≤ {c['cutoff_A']:.2f} Å)",
                         "value": f"{c['n']:.2f}"})
    return rows


class MDTab(AlertFeedback, Polling, pn.viewable.Viewer):
    """The MD tab (see the module docstring)."""

    def __init__(self, workspace, manager, *, max_upload_mb: float = 200.0, jobs_model=None,
                 refresh_s: float = 2.0, **params) -> None:
        super().__init__(**params)
        from ssestudio.ui.player import TrajectoryPlayer

        self.workspace, self.manager = workspace, manager
        self.form = MDForm(workspace)
        self.runs = MDRuns(workspace, manager)
        self.player = TrajectoryPlayer()
        self._traj = None
        self._shown_output = None
        self._refresh_s = refresh_s
        self._thermo_key = None
        self._source = None
        w = pn.widgets
        self._alert = pn.pane.Alert("", alert_type="info", visible=False, margin=(5, 10))
        self._engine = w.Select(label="Force field", options=self.form.engine_options,
                                value=self.form.engine or None, sizing_mode="stretch_width")
        self._engine.param.watch(lambda e: setattr(self.form, "engine", e.new or ""), "value")
        self._protocol = w.Select(label="Protocol", options={e.label: k for k, e in
                                                             PROTOCOLS.items()},
                                  value=self.form.protocol, sizing_mode="stretch_width")
        self._protocol.param.watch(lambda e: setattr(self.form, "protocol", e.new), "value")
        self._protocol_help = pn.pane.Markdown("", sizing_mode="stretch_width", margin=(0, 10))
        self._fields = {name: self._field_widget(name) for name in _FIELD_WIDGETS}
        self._seed = w.IntInput.from_param(self.form.param.seed, label="Seed (blank: random)",
                                           sizing_mode="stretch_width")
        self._name = w.TextInput.from_param(self.form.param.run_name, label="Name (optional)",
                                            placeholder="blank: automatic",
                                            sizing_mode="stretch_width")
        self._launch = w.Button(label="Launch", color="primary", width=120)
        self._launch.on_click(lambda *_e: self._guard(self._on_launch))
        self._summary = pn.pane.Markdown("", sizing_mode="stretch_width", margin=(0, 10))
        self._schedule = pn.Column(sizing_mode="stretch_width", name="md-schedule")
        # runs
        self._runs = w.Tabulator(
            self._runs_frame(), show_index=False, disabled=True, selectable="checkbox",
            sortable=False, sizing_mode="stretch_width", max_height=240, titles=_RUN_TITLES,
            formatters={"progress_pct": {"type": "progress", "max": 100, "legend": True}},
            layout="fit_columns", widths={"id": 50, "kind": 95, "status": 90,
                                          "progress_pct": 90, "eta": 60})
        self._runs.param.watch(self._on_tick, "selection")
        self._output = w.Select(label="Output", options={}, width=330)
        self._output.param.watch(lambda e: self._guard(self.runs.choose_output, e.new), "value")
        self._stop = w.Button(label="Stop", color="warning", disabled=True, align="end")
        self._stop.on_click(lambda *_e: self._guard(self._on_stop))
        self._resume = w.Button(label="Resume", disabled=True, align="end")
        self._resume.on_click(lambda *_e: self._guard(self.runs.resume))
        self._send = w.Button(label="Send to Conductivity", align="end")
        self._send.on_click(lambda *_e: self._guard(self.runs.send_to_conductivity))
        self._status = pn.pane.Markdown("", sizing_mode="stretch_width")
        self._thermo = pn.GridBox(ncols=4, sizing_mode="stretch_width", name="md-thermo")
        # analysis
        self._analyse = w.Button(label="Analyse structure", align="end")
        self._analyse.on_click(lambda *_e: self._guard(self.runs.analyse))
        self._analysis_note = pn.pane.Markdown("", sizing_mode="stretch_width")
        self._analysis_table = pn.pane.DataFrame(None, index=False, border=0, width=380,
                                                 styles={"font-size": "90%"})
        self._analysis_figs = pn.GridBox(ncols=2, sizing_mode="stretch_width",
                                         name="md-analysis")
        self._wire(jobs_model)
        self._on_protocol()
        self._on_runs()
        self._on_outputs()
        self._draw_schedule()

    # ---- wiring ------------------------------------------------------------------------
    def _field_widget(self, name: str):
        kind, label, extra = _FIELD_WIDGETS[name]
        p = self.form.param[name]
        if name == "structure":
            widget = pn.widgets.Select(label=label, options=self.form.structure_options,
                                       value=self.form.structure or None,
                                       sizing_mode="stretch_width")
            widget.param.watch(lambda e: setattr(self.form, "structure", e.new or ""), "value")
            return widget
        return getattr(pn.widgets, kind).from_param(p, label=label, sizing_mode="stretch_width",
                                                    **extra)

    def _wire(self, jobs_model) -> None:
        f, r = self.form, self.runs
        f.param.watch(lambda *_e: self._on_protocol(), ["protocol", "mq_source"])
        f.param.watch(lambda *_e: self._on_choices(),
                      ["engine_options", "structure_options", "engine", "structure"])
        f.param.watch(lambda *_e: self._draw_schedule(),
                      [n for n in f.param if n not in ("name", "run_name", "engine_options",
                                                       "structure_options")])
        r.param.watch(lambda *_e: self._on_runs(), ["runs", "selected"])
        r.param.watch(lambda *_e: self._on_outputs(), ["outputs", "output"])
        r.param.watch(lambda *_e: self._draw_thermo(), "thermo_version")
        r.param.watch(lambda *_e: self._draw_analysis(), "analysis_version")
        r.param.watch(lambda e: self._show(e.new, "info"), "message")
        if jobs_model is not None:
            jobs_model.param.watch(lambda *_e: self._guard(self._on_finished), "finished_version")

    def connect(self, tabs: dict, widget) -> None:
        """Send finished runs to the Conductivity tab (``tabs["Conductivity"].receive``)
        and show that tab (``widget``: the app's ``pn.Tabs``)."""
        target = tabs.get("Conductivity")
        if target is None:
            return
        titles = list(tabs)

        def send(event) -> None:
            if event.new and target.receive(event.new) is not None:
                widget.active = titles.index("Conductivity")

        self.runs.param.watch(send, "sent")

    def _on_finished(self) -> None:
        self.form.refresh()  # a melt-quench registers its glass as a structure
        self.runs.poll()

    def _tick(self) -> None:
        self._guard(self.runs.poll)

    # ---- form --------------------------------------------------------------------------
    def _on_choices(self) -> None:
        f = self.form
        self._engine.options = dict(f.engine_options)
        self._engine.value = f.engine or None
        structure = self._fields["structure"]
        structure.options = list(f.structure_options)
        structure.value = f.structure or None

    def _on_protocol(self) -> None:
        entry = self.form.entry
        self._protocol.value = self.form.protocol
        self._protocol_help.object = f"*{entry.help}*"
        used = set(entry.fields)
        if self.form.protocol == "meltquench":
            used -= ({"structure", "supercell"} if self.form.mq_source == "composition"
                     else {"composition", "n_atoms"})
        for name, widget in self._fields.items():
            widget.visible = name in used

    def _draw_schedule(self) -> None:
        from ssestudio.ui.md_plots import schedule_figure

        try:
            specs = self.form.specs()  # built once for the plot and the summary
            schedules = self.form.schedules(specs)
            self._summary.object = f"**{self.form.summary(specs)}**"
        except SSEStudioError as exc:
            self._summary.object = f"⚠ {exc}"
            return
        self._schedule.objects = [_pane(schedule_figure(schedules))]

    def _on_launch(self) -> None:
        ids = self.form.launch(self.manager)
        self._show(f"Started job{'s' if len(ids) > 1 else ''} {', '.join(map(str, ids))}: "
                   f"{self.form.entry.label.lower()} ({self.form.summary()}). Progress in the "
                   "Jobs panel; the thermo log and trajectory appear below as they are written.",
                   "info")
        self.runs.select([*ids[::-1]])

    # ---- runs --------------------------------------------------------------------------
    def _runs_frame(self):
        import pandas as pd

        return pd.DataFrame(self.runs.runs, columns=list(_RUN_TITLES))

    def _ticked(self) -> list[int]:
        ids = set(self.runs.selected)
        return [i for i, r in enumerate(self.runs.runs) if r["id"] in ids]

    def _on_tick(self, event) -> None:
        ids = ticked_ids(self.runs.runs, event.new, self.runs.selected)
        if ids is not None:
            self._guard(self.runs.select, ids)

    def _on_runs(self) -> None:
        frame = self._runs_frame()
        if not frame.equals(self._runs.value):
            self._runs.value = frame
        if sorted(self._runs.selection) != self._ticked():
            self._runs.selection = self._ticked()
        focus = self.runs.focus
        self._stop.disabled = not self.runs.running
        if self.player.follow and not self.runs.running:  # the run ended: last frames, stop
            self.player.poll_follow()
            self.player.follow = False
        self._resume.disabled = not self.runs.resumable
        lines = []
        if focus is not None:
            row = next((r for r in self.runs.runs if r["id"] == focus), None)
            if row:
                lines.append(f"job {focus} · {row['what']} · {row['status']}"
                             + (f" · {row['progress_pct']:.0f} %" if row["status"] == "running"
                                else "") + (f" · {row['note']}" if row["note"] else ""))
        lines += self.runs.thermo_summary()
        self._status.object = "\n".join(f"- {line}" for line in lines)

    def _on_outputs(self) -> None:
        r = self.runs
        self._output.options = dict(r.outputs)
        self._output.value = r.output
        self._analyse.disabled = r.output is None
        if r.output != self._shown_output:
            self._open_output()
        self._draw_thermo()
        self._draw_analysis()

    def _open_output(self) -> None:
        self._shown_output = self.runs.output
        if self._traj is not None:
            self._traj.close()
            self._traj = None
        if self.runs.output is not None:
            self._traj = self._guard(self.workspace.open_trajectory, self.runs.output)
        self.player.set_trajectory(self._traj)
        self.player.follow = self._traj is not None and self.runs.running

    def _on_stop(self) -> None:
        focus = self.runs.focus
        if focus is None or not self.runs.running:
            return
        self.manager.cancel(focus)
        self._show(f"Stopping job {focus}: it writes a checkpoint and keeps the frames so far "
                   "(**Resume** continues it).", "warning")

    # ---- live thermo -------------------------------------------------------------------
    def _draw_thermo(self) -> None:
        from bokeh.models import ColumnDataSource

        from ssestudio.ui.md_plots import thermo_columns, thermo_figures

        data = thermo_columns(self.runs.thermo())
        key = (self.runs.output, tuple(data))
        if key == self._thermo_key and self._source is not None:
            self._source.data = data  # same panels: update the curves in place
        else:
            self._thermo_key = key
            self._source = ColumnDataSource(data) if data else None
            self._thermo.objects = ([] if self._source is None else
                                    [_pane(f) for f in thermo_figures(self._source)])
        self._on_runs()

    # ---- analysis ----------------------------------------------------------------------
    def _draw_analysis(self) -> None:
        import pandas as pd

        from ssestudio.ui.md_plots import lattice_figure, rdf_figure, sq_figure, xrd_figure

        analysis = self.runs.analysis()
        if analysis is None:
            self._analysis_table.object = None
            self._analysis_figs.objects = []
            self._analysis_note.object = (
                "*analysis running…*" if self.runs.analysing else
                "*No analysis of this output yet: press **Analyse structure** (a background "
                "job; up to 100 evenly spaced frames).*" if self.runs.output is not None else "")
            return
        self._analysis_note.object = (
            f"**{analysis['trajectory']}** · {analysis['formula']} · {analysis['n_atoms']} atoms"
            f" · {analysis['n_frames']} frames" + "".join(
                f"<br>⚠ {w}" for w in analysis.get("warnings") or []))
        self._analysis_table.object = pd.DataFrame(speciation_rows(analysis))
        figures = [rdf_figure(analysis), sq_figure(analysis), xrd_figure(analysis),
                   lattice_figure(analysis)]
        self._analysis_figs.objects = [_pane(f) for f in figures if f is not None]

    # ---- layout ------------------------------------------------------------------------
    def __panel__(self):
        self.start_polling()
        f = self._fields

        def row(*names):
            return pn.Row(*(f[n] for n in names), sizing_mode="stretch_width")

        form = pn.Column(
            pn.pane.Markdown("### New MD run"), self._engine, self._protocol,
            self._protocol_help, f["mq_source"], row("composition", "n_atoms"),
            row("structure", "supercell"), row("temperature_K", "end_temperature_K"),
            f["temperatures"], row("ensemble", "pressure_GPa"),
            row("timestep_fs", "write_interval"), row("duration_ps", "equilibration_ps"),
            f["preset"], row(*MELT_FIELDS[:3]), row(*MELT_FIELDS[3:6]), row(*MELT_FIELDS[6:]),
            pn.Row(self._seed, self._name, sizing_mode="stretch_width"),
            self._summary, self._launch, self._alert,
            pn.pane.Markdown(_HELP, sizing_mode="stretch_width"), width=400)
        schedule = pn.Card(self._schedule, title="Protocol schedule",
                           sizing_mode="stretch_width")
        runs = pn.Card(self._runs, pn.Row(self._output, self._stop, self._resume, self._send),
                       self._status, title="Runs (tick to follow; tick a sweep's runs to send)",
                       sizing_mode="stretch_width")
        live = pn.Card(self._thermo, pn.Column(self.player, sizing_mode="stretch_width"),
                       title="Live thermo and trajectory", sizing_mode="stretch_width")
        analysis = pn.Card(pn.Row(self._analyse, self._analysis_note),
                           pn.Row(self._analysis_table, self._analysis_figs,
                                  sizing_mode="stretch_width"),
                           title="Structure analysis", sizing_mode="stretch_width")
        return pn.Row(form, pn.Column(schedule, runs, live, analysis,
                                      sizing_mode="stretch_width"),
                      sizing_mode="stretch_width", name="MD")
