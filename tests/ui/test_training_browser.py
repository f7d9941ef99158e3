"""Tier 3: the Training tab in a real browser (Playwright driving Debian's Chromium).

An EMT-labelled Cu/Au dataset is in the workspace before the page opens. The test types a
short run into the form (4 epochs, one thread), clicks *Start training*, and waits for the
loss curves to be drawn live and the run to finish with its parity plots. The page must
request nothing but the app's own host. ``SSESTUDIO_TRAINING_SCREENSHOT=assets/training.png``
refreshes the README's screenshot.
"""

from __future__ import annotations

import os

import pytest

from tests.ui.browser import assert_all_local, needs_chromium, recording_page
from tests.ui.test_conductivity_browser import BOKEH_CANVASES
from tests.ui.test_ui_training import add_emt_dataset

pytestmark = [pytest.mark.ui, needs_chromium]


def _type(page, label: str, text: str) -> None:
    box = page.get_by_label(label, exact=True).first
    box.fill(text)
    box.press("Enter")


def test_training_tab_starts_a_run_and_draws_curves_offline(seeded_workspace, manager,
                                                            browser, tmp_path):
    from ssestudio.ui.server import ServeOptions, start_server_thread

    add_emt_dataset(seeded_workspace)
    thread, url = start_server_thread(seeded_workspace, manager, ServeOptions(port=0))
    try:
        with recording_page(browser, width=1500, height=1700) as page:
            page.goto(url)
            page.get_by_text("Training", exact=True).first.click(timeout=60_000)
            page.get_by_text("New training run").first.wait_for(timeout=60_000)
            page.get_by_text("cuau@1: train 33").first.wait_for(state="attached")
            _type(page, "Max epochs", "4")
            _type(page, "Threads", "1")
            page.get_by_role("button", name="Start training").click()
            page.get_by_text("Started job 1").first.wait_for(timeout=60_000)
            page.wait_for_function(f"() => ({BOKEH_CANVASES})('canvas') >= 3", timeout=60_000)
            page.get_by_text("reached max epochs").first.wait_for(timeout=90_000)
            page.wait_for_function(f"() => ({BOKEH_CANVASES})('canvas') >= 6", timeout=60_000)
            page.get_by_text("test (best model)").first.wait_for(timeout=120_000)
            assert str(manager.get(1).status) == "succeeded"
            assert manager.get(1).spec["params"]["config"]["max_epochs"] == 4
            page.wait_for_timeout(1000)  # let bokeh finish painting before the screenshot
            page.screenshot(path=os.environ.get("SSESTUDIO_TRAINING_SCREENSHOT")
                            or str(tmp_path / "training.png"), full_page=True)
            assert_all_local(page.urls)
    finally:
        thread.stop()
