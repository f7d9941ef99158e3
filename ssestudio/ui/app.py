"""The app shell: one tab per area, the jobs panel underneath.

Each browser session calls :func:`create_app`; the workspace and the job manager are
shared by all sessions of one server, everything else is per session.
Only areas that work end to end get a tab.
"""

from __future__ import annotations

from ssestudio import __version__

#: Tabs in display order: (title, factory(workspace, manager, context) -> viewable).
TABS: list[tuple[str, str]] = [
    ("Trajectories", "ssestudio.ui.trajectories:TrajectoriesTab"),
    ("Dataset", "ssestudio.ui.dataset:DatasetTab"),
    ("Training", "ssestudio.ui.training:TrainingTab"),
    ("MD", "ssestudio.ui.md:MDTab"),
    ("Conductivity", "ssestudio.ui.conductivity:ConductivityTab"),
    ("Paddle-wheel", "ssestudio.ui.rotation:PaddleWheelTab"),
]


def _load(ref: str):
    import importlib

    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def create_app(workspace, manager, *, max_upload_mb: float = 200.0):
    """Build the app for one browser session.

    Parameters
    ----------
    workspace : ssestudio.workspace.Workspace
    manager : ssestudio.jobs.JobManager
    max_upload_mb : float
        Largest file accepted by upload widgets, MB.

    Returns
    -------
    panel.template.BootstrapTemplate
    """
    import panel as pn

    from ssestudio.ui.jobs_panel import JobsPanel

    pn.extension("tabulator", notifications=False)
    jobs = JobsPanel(manager)
    tabs = pn.Tabs(dynamic=False, sizing_mode="stretch_width", name="areas")
    built = {}
    for title, ref in TABS:
        tab = _load(ref)(workspace, manager, max_upload_mb=max_upload_mb, jobs_model=jobs.model)
        tabs.append((title, tab))
        built[title] = tab
    for tab in built.values():
        if hasattr(tab, "connect"):  # links between tabs (e.g. MD -> Conductivity)
            tab.connect(built, tabs)
    template = pn.template.BootstrapTemplate(
        title="SSE Studio", header_background="#1f4e79",
        sidebar_width=0, collapsed_sidebar=True)
    template.header.append(pn.pane.Markdown(
        f"<span style='color:#dde7f3'>workspace <code>{workspace.root}</code> · v{__version__}</span>",
        margin=(12, 10)))
    template.main.append(pn.Column(tabs, pn.Card(jobs, title="Jobs", collapsed=False,
                                                  sizing_mode="stretch_width"),
                                   sizing_mode="stretch_width"))
    return template
