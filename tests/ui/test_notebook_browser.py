"""Tier 3: ``ssestudio.ui.notebook.view`` in a real JupyterLab, offline.

Starts ``jupyter lab`` on a free local port (with temporary Jupyter config, data and
runtime directories and IPython directory, so nothing touches the user's home; news,
update checks and the PyPI extension manager turned off), opens a notebook that calls
:func:`view` in Playwright-driven Chromium, runs it from the Run menu, and checks that
the viewer draws the 64 atoms of the sample trajectory, that a frame set in the kernel
(``player.frame = 10``) reaches the canvas (kernel -> browser comms), that the player's
Play button plays (browser -> kernel -> browser), and that the page requested nothing but
the local server.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.ui.browser import (PIXELS, assert_all_local, free_port, needs_chromium,
                              recording_page, wait_drawn, wait_frame)

pytestmark = [
    pytest.mark.ui, pytest.mark.slow, needs_chromium,
    pytest.mark.skipif(importlib.util.find_spec("jupyterlab") is None,
                       reason="JupyterLab is not installed (pip install jupyterlab)"),
]

KERNEL = "ssestudio-test"  # a kernelspec running this interpreter, written per test
SAMPLE = "trajectories/li3ps4_melt_800K.h5"
CANVAS_FRAME = "() => +window.__canvas().dataset.frame"

#: Keeps JupyterLab off the network: no news feed, no PyPI update check, no PyPI
#: extension manager (the announcements plugin, which asks about news, is disabled too).
OFFLINE_FLAGS = [
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    "--LabApp.extension_manager=readonly",
]


def _isolated_env(tmp_path: Path) -> dict[str, str]:
    """Environment whose Jupyter and IPython state lives under ``tmp_path``."""
    env = dict(os.environ)
    for var, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")]:
        env[var] = str(tmp_path / "jupyter" / sub)
        Path(env[var]).mkdir(parents=True, exist_ok=True)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    labconfig = Path(env["JUPYTER_CONFIG_DIR"]) / "labconfig"
    labconfig.mkdir()
    (labconfig / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    kernel_dir = Path(env["JUPYTER_DATA_DIR"]) / "kernels" / KERNEL
    kernel_dir.mkdir(parents=True)
    (kernel_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "ssestudio test", "language": "python"}))
    return env


def _write_notebook(path: Path, cells: list[str]) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "ssestudio test", "language": "python"}
    nbformat.write(nb, path)


@contextlib.contextmanager
def jupyter_lab(root: Path, env: dict[str, str], log: Path):
    """Run ``jupyter lab`` serving ``root``; yield ``(base_url, token)``; stop it after."""
    token, port = secrets.token_hex(16), free_port()
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", "--ServerApp.disable_check_xsrf=True", *OFFLINE_FLAGS]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    base = f"http://127.0.0.1:{port}"
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:  # wait until the server answers
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            assert proc.poll() is None, f"jupyter lab exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"jupyter lab did not start:\n{log.read_text()[-3000:]}"
            time.sleep(0.2)
        yield base, token
    finally:
        # SIGTERM: the server shuts its kernels down (they also exit when their parent dies)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _outputs_text(page) -> str:
    """Text of every output area (for failure messages)."""
    return "\n---\n".join(page.locator(".jp-OutputArea-output").all_inner_texts())


def test_view_plays_in_jupyterlab_offline(browser, tmp_path, sample_data_dir):
    root = tmp_path / "notebooks"
    root.mkdir()
    sample = (sample_data_dir / SAMPLE).resolve()
    _write_notebook(root / "view.ipynb", [
        "from ssestudio.ui.notebook import view",
        f"player = view({str(sample)!r})",
        "player",
    ])
    env = _isolated_env(tmp_path)
    errors: list[str] = []
    with jupyter_lab(root, env, tmp_path / "jupyter.log") as (base, token), \
            recording_page(browser, width=1400, height=1000) as page:
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(f"{base}/lab/tree/view.ipynb?token={token}")
        page.locator(".jp-Notebook .jp-Cell").nth(2).wait_for(timeout=90_000)
        page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\|\s*Idle")).wait_for(timeout=90_000)

        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.locator('li[data-command="runmenu:run-all"]').click()  # "Run All Cells"
        try:
            wait_drawn(page, timeout_ms=120_000)
            page.wait_for_function("() => window.__canvas().dataset.nAtoms === '64'", timeout=60_000)
        except Exception as err:
            raise AssertionError(f"viewer not drawn; outputs:\n{_outputs_text(page)}\n"
                                 f"page errors: {errors}") from err
        px = page.evaluate(PIXELS)
        assert px["width"] > 300 and px["height"] > 200
        assert px["distinct"] > 50 and px["foreground"] > 0.02 * px["width"] * px["height"]
        assert page.evaluate(CANVAS_FRAME) == 0

        # kernel -> browser: set the frame in a new cell
        page.get_by_role("toolbar", name="main area toolbar").get_by_title("Insert a cell below (B)").click()
        new_cell = page.locator(".jp-Notebook .jp-Cell").nth(3)
        new_cell.locator(".cm-content").click()
        page.keyboard.type("player.frame = 10")
        page.keyboard.press("Shift+Enter")
        wait_frame(page, 10)
        page.get_by_text("frame 10", exact=True).wait_for()  # the legend (an HTML pane) too

        # browser -> kernel -> browser: the Play button runs the kernel's periodic callback
        before = page.evaluate("() => window.__canvas().toDataURL()")
        page.get_by_role("button", name="▶ Play").click()
        page.wait_for_function(f"() => {CANVAS_FRAME[6:]} >= 15", timeout=60_000)
        page.get_by_role("button", name="⏸ Pause").click()
        assert page.evaluate("() => window.__canvas().toDataURL()") != before

        assert not errors, errors
        assert_all_local(page.urls)
