"""Fixtures for UI tests: a seeded workspace and a job manager with real workers."""

from __future__ import annotations

import pytest

from tests.ui.browser import CHROMIUM, CHROMIUM_ARGS, recording_page


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
    with recording_page(browser, width=1000, height=700) as pg:
        yield pg
