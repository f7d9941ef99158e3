"""Dataset tab: build a training set from the structure library, glass packings or files,
compose generators, preview in 3D, label with an offline teacher, browse the statistics.

:class:`~ssestudio.ui.dataset_model.DatasetBuilder` is the view model; :class:`DatasetTab`
lays out widgets and bokeh figures over it.
"""

from __future__ import annotations

import panel as pn

from ssestudio.ui.dataset_model import DatasetBuilder
from ssestudio.ui.feedback import AlertFeedback

__all__ = ["DatasetBuilder", "DatasetTab"]

_HELP = ("**1** choose or create a dataset · **2** add starting structures · **3** compose "
         "generators (each step applies to every output of the previous one) and *Preview* · "
         "**4** *Generate* adds the configurations as pending rows (a job) · **5** *Label* "
         "runs the teacher on the pending rows (a job; cancel it in Jobs, run again to "
         "continue) · **6** statistics and the map of the latest version; click a point to "
         "see that structure.")
_MAP_COLORS = ("energy_per_atom_eV", "max_force_eV_A", "volume_per_atom_A3", "temperature_K",
               "n_atoms")


class DatasetTab(AlertFeedback, pn.viewable.Viewer):
    """The Dataset tab."""

    def __init__(self, workspace, manager, *, max_upload_mb: float = 200.0, jobs_model=None,
                 **params) -> None:
        from ssestudio.data.generators import describe_generators
        from ssestudio.data.library import list_structures
        from ssestudio.data.teachers import available_teachers
        from ssestudio.ui.player import TrajectoryPlayer

        super().__init__(**params)
        self.model = m = DatasetBuilder(workspace, manager)
        self.max_upload_mb = max_upload_mb
        w = pn.widgets
        self._alert = pn.pane.Alert("", visible=False, sizing_mode="stretch_width")
        self._dataset = w.Select(name="Dataset", options=m.datasets, value=m.dataset or None)
        self._new_name = w.TextInput(name="New dataset", placeholder="e.g. li-p-s")
        self._summary = pn.pane.Markdown("", sizing_mode="stretch_width")
        self._library = w.Select(name="Library structure",
                                 options=[e.name for e in list_structures()])
        self._supercell = w.TextInput(name="Supercell (blank: smallest ordered)",
                                      placeholder="2x2x1")
        self._glass = w.TextInput(name="Glass composition", value="75Li2S-25P2S5")
        self._glass_atoms = w.IntInput(name="Atoms (~)", value=128, start=8)
        self._glass_density = w.FloatInput(name="Density g/cm³ (blank: estimate)", value=None)
        self._structure = w.Select(name="Workspace structure",
                                   options=[s.name for s in workspace.list_structures()])
        self._upload = w.FileInput(name="Upload a structure file")
        self._sources = w.MultiSelect(name="Starting structures", options=[], size=5,
                                      sizing_mode="stretch_width")
        names = [g["name"] for g in describe_generators()]
        self._generator = w.Select(name="Generator", options=names, value="rattle")
        self._params = w.TextAreaInput(name="Parameters (JSON)", height=80,
                                       value=m.generator_defaults("rattle"),
                                       sizing_mode="stretch_width")
        self._steps = w.MultiSelect(name="Pipeline (in order)", options=[], size=5,
                                    sizing_mode="stretch_width")
        self._seed = w.IntInput(name="Seed", value=m.seed, start=0)
        self._preview_index = w.IntSlider(name="Preview configuration", start=0, end=1, value=0,
                                          disabled=True)
        self._player = TrajectoryPlayer()
        teachers = available_teachers()
        self._teacher = w.Select(name="Teacher", value="sevenn", options={
            f"{t['name']}{'' if t['installed'] else ' (not installed)'}": t["name"]
            for t in teachers})
        self._batch = w.IntInput(name="Batch size", value=8, start=1)
        self._import_paths = w.TextInput(name="Import files (comma-separated paths)",
                                         sizing_mode="stretch_width")
        self._import_level = w.TextInput(name="Level of theory", value="DFT")
        self._export_format = w.Select(name="Export format", options=["extxyz", "deepmd"])
        self._export_split = w.Select(name="Split", options=["all", "train", "validation", "test"])
        self._color_by = w.Select(name="Colour map by", options=list(_MAP_COLORS))
        self._stats_md = pn.pane.Markdown("", sizing_mode="stretch_width")
        self._figures = pn.Row(sizing_mode="stretch_width")
        self._map_pane = pn.Column(sizing_mode="stretch_width")
        self._download = pn.Column()
        self._wire(jobs_model)
        self._guard(m.load_stats)
        self._update_summary()
        self._draw_stats()

    # ---- wiring ------------------------------------------------------------------------
    def _button(self, label, fn, kind="default"):
        b = pn.widgets.Button(name=label, button_type=kind)
        b.on_click(lambda _e: self._act(fn))
        return b

    def _act(self, fn):
        self._show("")
        self.model.message = ""
        self._guard(fn)
        if not self._alert.visible and self.model.message:
            self._show(self.model.message, "info")

    def _wire(self, jobs_model) -> None:
        m = self.model
        self._dataset.param.watch(lambda e: self._choose(e.new), "value")
        self._generator.param.watch(
            lambda e: setattr(self._params, "value", m.generator_defaults(e.new)), "value")
        self._seed.param.watch(lambda e: setattr(m, "seed", int(e.new or 0)), "value")
        self._teacher.param.watch(lambda e: setattr(m, "teacher", e.new), "value")
        self._batch.param.watch(lambda e: setattr(m, "batch_size", int(e.new or 1)), "value")
        self._preview_index.param.watch(lambda e: self._view(m.configuration(e.new)), "value")
        self._color_by.param.watch(lambda e: self._draw_map(), "value")
        m.param.watch(lambda e: setattr(self._sources, "options", list(e.new)), "sources")
        m.param.watch(lambda e: setattr(self._steps, "options", [
            f"{i + 1}. {s['name']} {s['params']}" for i, s in enumerate(e.new)]), "steps")
        m.param.watch(lambda e: self._draw_stats(), ["stats", "map"])
        m.param.watch(lambda e: self._refresh_datasets(), ["datasets", "dataset"])
        if jobs_model is not None:
            jobs_model.param.watch(lambda _e: self._guard(self._poll), "finished_version")

    def _poll(self) -> None:
        if self.model.poll():
            self._update_summary()
            self._show(self.model.message, "info")

    def _choose(self, name) -> None:
        self.model.dataset = name or ""
        self._guard(self.model.load_stats)
        self._update_summary()

    def _refresh_datasets(self) -> None:
        self._dataset.options = list(self.model.datasets)
        self._dataset.value = self.model.dataset or None

    def _update_summary(self) -> None:
        s = self._guard(self.model.summary) or {}
        self._summary.object = ("" if not s else
                                f"**{s['name']}** · version {s['latest_version']} · rows "
                                + ", ".join(f"{k} {v}" for k, v in s["status"].items())
                                + "".join(f"\n\n⚠ {w}" for w in
                                          (s["versions"][-1].get("warnings", [])
                                           if s["versions"] else [])))

    # ---- actions -----------------------------------------------------------------------
    def _create(self):
        self.model.create(self._new_name.value)
        self._new_name.value = ""
        self._update_summary()

    def _add_upload(self):
        from ssestudio.core.errors import UserInputError

        if not self._upload.value:
            raise UserInputError("choose a file to upload first")
        if len(self._upload.value) > self.max_upload_mb * 1e6:
            raise UserInputError(f"the file is larger than {self.max_upload_mb:g} MB")
        self.model.add_source(self.model.save_upload(self._upload.filename, self._upload.value))

    def _remove(self, widget, fn):
        for item in sorted((widget.options.index(v) for v in widget.value), reverse=True):
            fn(item)

    def _preview(self):
        configs = self.model.preview()
        self._preview_index.param.update(end=max(1, len(configs) - 1), value=0,
                                         disabled=len(configs) < 2)
        self._view(configs[0])

    def _view(self, atoms) -> None:
        from ssestudio.io import AtomsTrajectory

        self._player.set_trajectory(AtomsTrajectory([atoms], label=atoms.get_chemical_formula()))

    def _export(self):
        split = None if self._export_split.value == "all" else self._export_split.value
        path = self.model.export(format=self._export_format.value, split=split)
        if path.is_file():
            self._download.objects = [pn.widgets.FileDownload(file=str(path), filename=path.name,
                                                              button_type="success")]

    # ---- statistics --------------------------------------------------------------------
    def _draw_stats(self) -> None:
        from ssestudio.ui.dataset_plots import histogram_figure, stats_markdown

        s = self.model.stats
        self._stats_md.object = stats_markdown(s)
        if not s:
            self._figures.objects, self._map_pane.objects = [], []
            return
        forces = {el: f.get("histogram") for el, f in s["force_components_eV_A"].items()}
        self._figures.objects = [
            pn.pane.Bokeh(histogram_figure({"all": s["energy_per_atom_eV"].get("histogram")},
                                           title="Energy per atom", x_label="eV/atom"),
                          sizing_mode="stretch_width"),
            pn.pane.Bokeh(histogram_figure(forces, title="Force components",
                                           x_label="eV/Å"), sizing_mode="stretch_width")]
        self._draw_map()

    def _draw_map(self) -> None:
        from ssestudio.ui.dataset_plots import map_figure

        if not self.model.map:
            self._map_pane.objects = []
            return
        fig, source = map_figure(self.model.map, color_by=self._color_by.value)
        source.selected.on_change("indices", lambda _a, _o, new: new and self._guard(
            self._view, self.model.map_configuration(int(new[0]))))
        self._map_pane.objects = [pn.pane.Bokeh(fig, sizing_mode="stretch_width")]

    # ---- layout ------------------------------------------------------------------------
    def __panel__(self):
        m, b = self.model, self._button
        dataset = pn.Row(self._dataset, self._new_name,
                         pn.Column(pn.Spacer(height=18), b("Create", self._create)),
                         self._summary, sizing_mode="stretch_width")
        sources = pn.Card(
            pn.Row(self._library, self._supercell, pn.Column(pn.Spacer(height=18), b(
                "Add", lambda: m.add_source(m.library_source(self._library.value,
                                                             self._supercell.value))))),
            pn.Row(self._glass, self._glass_atoms, self._glass_density,
                   pn.Column(pn.Spacer(height=18), b("Add glass", lambda: m.add_source(
                       m.glass_source(self._glass.value, self._glass_atoms.value,
                                      self._glass_density.value))))),
            pn.Row(self._structure, pn.Column(pn.Spacer(height=18), b(
                "Add", lambda: m.add_source(f"structure:{self._structure.value}"))),
                self._upload, b("Add upload", self._add_upload)),
            self._sources, b("Remove selected", lambda: self._remove(self._sources,
                                                                      m.remove_source)),
            title="Starting structures", sizing_mode="stretch_width")
        pipeline = pn.Card(
            pn.Row(self._generator, self._params, pn.Column(pn.Spacer(height=18), b(
                "Add step", lambda: m.add_step(self._generator.value, self._params.value)))),
            self._steps, pn.Row(b("Remove selected", lambda: self._remove(self._steps,
                                                                           m.remove_step)),
                                self._seed),
            pn.Row(b("Preview", self._preview), b("Generate → dataset", m.submit_add, "primary")),
            title="Generators", sizing_mode="stretch_width")
        label = pn.Card(
            pn.Row(self._teacher, self._batch, pn.Column(pn.Spacer(height=18), b(
                "Label pending rows", m.submit_label, "primary"))),
            pn.Row(self._import_paths, self._import_level, pn.Column(pn.Spacer(height=18), b(
                "Import", lambda: m.submit_import([p.strip() for p in
                                                   self._import_paths.value.split(",")
                                                   if p.strip()], level=self._import_level.value)))),
            title="Label / import", sizing_mode="stretch_width")
        stats = pn.Card(
            self._stats_md, self._figures, pn.Row(self._color_by), self._map_pane,
            pn.Row(self._export_format, self._export_split,
                   pn.Column(pn.Spacer(height=18), b("Export", self._export)), self._download),
            title="Statistics of the latest version", sizing_mode="stretch_width")
        left = pn.Column(dataset, self._alert, pn.pane.Markdown(_HELP), sources, pipeline, label,
                         sizing_mode="stretch_width")
        right = pn.Column(self._preview_index, self._player, width=520)
        return pn.Column(pn.Row(left, right, sizing_mode="stretch_width"), stats,
                         sizing_mode="stretch_width", name="Dataset")
