"""Tier 3: the Dataset tab in a real browser (Playwright driving Debian's Chromium).

A dataset labelled by an LJ teacher is in the workspace before the page opens: its
statistics, histograms and map must be drawn. Then a library structure is added, a strain
step composed, and *Preview* must show the configuration in the 3D viewer. The page must
request nothing but the app's own host. ``SSESTUDIO_DATASET_SCREENSHOT=assets/dataset.png``
refreshes the README's screenshot.
"""

from __future__ import annotations

import os

import pytest

from tests.ui.browser import assert_all_local, needs_chromium, recording_page
from tests.ui.test_conductivity_browser import BOKEH_CANVASES

pytestmark = [pytest.mark.ui, needs_chromium]

N_ATOMS = """
() => {
  const out = [];
  const walk = (root) => {
    for (const e of root.querySelectorAll('canvas.ssestudio-structure-canvas')) out.push(e.dataset.nAtoms);
    for (const e of root.querySelectorAll('*')) if (e.shadowRoot) walk(e.shadowRoot);
  };
  walk(document);
  return out;
}
"""


def test_dataset_tab_statistics_map_and_preview_offline(seeded_workspace, manager, browser,
                                                       tmp_path):
    from ssestudio.data.labelling import label_pending
    from ssestudio.data.sources import load_source
    from ssestudio.data.generators import apply_pipeline
    from ssestudio.data.teachers import get_teacher
    from ssestudio.jobs.dataset import create_dataset
    from ssestudio.ui.server import ServeOptions, start_server_thread

    ds = create_dataset(seeded_workspace, "lps")
    configs = apply_pipeline(load_source("library:gamma_li3ps4") + load_source(
        "glass:75Li2S-25P2S5:64"), [{"name": "rattle", "params": {"n_copies": 6}}])
    ds.add(configs)
    label_pending(ds, get_teacher("lj", options={"sigma": 1.5, "epsilon": 0.05}))
    thread, url = start_server_thread(seeded_workspace, manager, ServeOptions(port=0))
    try:
        with recording_page(browser, width=1500, height=1900) as page:
            page.goto(url)
            page.get_by_text("Dataset", exact=True).first.click(timeout=60_000)
            page.get_by_text("Version 1").first.wait_for(timeout=60_000)
            page.wait_for_function(f"() => ({BOKEH_CANVASES})('canvas') >= 3", timeout=60_000)
            page.get_by_role("button", name="Add", exact=True).first.click()
            page.get_by_text("library:").first.wait_for(timeout=30_000)
            page.get_by_role("button", name="Preview").click()
            page.get_by_text("Preview: 1 of 1 configurations").first.wait_for(timeout=60_000)
            page.wait_for_function(f"() => ({N_ATOMS})().some(n => +n > 0)", timeout=60_000)
            page.screenshot(path=os.environ.get("SSESTUDIO_DATASET_SCREENSHOT")
                            or str(tmp_path / "dataset.png"), full_page=True)
            assert_all_local(page.urls)
    finally:
        thread.stop()
