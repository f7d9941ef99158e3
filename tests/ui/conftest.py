"""Fixtures for UI tests: a seeded workspace and a job manager with real workers."""

from __future__ import annotations

import pytest

from tests.ui.browser import CHROMIUM, CHROMIUM_ARGS, FIND_CANVAS


@pytest.fixture
def seeded_workspace(tmp_path, sample_data_dir):
    from ssestudio.workspace import Workspace

    ws = Workspace.open(tmp_path / "ws", sample_dir=sample_data_dir)
    yield ws
    ws.close()


@pytest.fixture
def manager(seeded_workspace):
    from ssestudio.jobs import JobManager, LocalExecutor

    mgr = JobManager(seeded_workspace, LocalExecutor(max_workers=1), poll_interval_s=0.2)
    yield mgr
    mgr.close()


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    assert CHROMIUM, "SSESTUDIO_REQUIRE_BROWSER is set but no `chromium` is on the PATH"
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture
def page(browser):
    """A page that records every URL it requests (HTTP and websockets)."""
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    pg = context.new_page()
    pg.urls = []
    pg.on("request", lambda r: pg.urls.append(r.url))
    pg.on("websocket", lambda ws: pg.urls.append(ws.url))
    pg.add_init_script(FIND_CANVAS)
    yield pg
    context.close()
