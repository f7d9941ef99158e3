"""SSE Studio as a plain Panel app script.

``ssestudio serve`` is the usual way to start the app. This script is for people who
deploy with ``panel serve`` directly (e.g. behind their own proxy and authentication):

    SSESTUDIO_WORKSPACE=~/my-workspace panel serve apps/studio.py

The workspace comes from ``$SSESTUDIO_WORKSPACE`` (default ``~/.ssestudio/workspace``).
``panel serve`` runs this script once per browser session; the workspace and the job
manager are created once per server process and shared through ``pn.state.cache``.
"""

import panel as pn

from ssestudio.jobs import JobManager
from ssestudio.ui.app import create_app
from ssestudio.workspace import Workspace, default_workspace_path


def _shared():
    if "ssestudio" not in pn.state.cache:
        workspace = Workspace.open(default_workspace_path())
        manager = JobManager(workspace)
        manager.recover()
        pn.state.cache["ssestudio"] = (workspace, manager)
    return pn.state.cache["ssestudio"]


create_app(*_shared()).servable()
