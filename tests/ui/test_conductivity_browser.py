"""Tier 3: the app's Conductivity tab in a real browser (Playwright driving Debian's Chromium).

Three transport jobs on synthetic walkers finish in the seeded workspace before the page
opens; the tab loads finished jobs, so its MSD and Arrhenius figures must be drawn. Then a
fourth trajectory is ticked, its temperature typed and Analyse clicked: its job runs in a
worker and its row joins the table; with SVG chosen, the plot toolbar's save tool
downloads an SVG file. The page must request nothing but the app's own host.

Set ``SSESTUDIO_CONDUCTIVITY_SCREENSHOT=assets/conductivity.png`` to refresh the README's
screenshot of the tab.
"""

from __future__ import annotations

import os

import pytest

from tests.jobs.test_jobs_transport import add_walker_trajectory, run_in_process
from tests.ui.browser import assert_all_local, needs_chromium, recording_page

pytestmark = [pytest.mark.ui, needs_chromium]

#: Bokeh plot canvases (not the structure viewer's), searched through shadow roots.
BOKEH_CANVASES = """
(tag) => {
  const out = [];
  const walk = (root) => {
    for (const e of root.querySelectorAll('*')) {
      const box = e.getBoundingClientRect();
      if (e.tagName.toLowerCase() === tag && !e.classList.contains('ssestudio-structure-canvas')
          && box.width > 200 && box.height > 150) out.push(e);
      if (e.shadowRoot) walk(e.shadowRoot);
    }
  };
  walk(document);
  return out.length;
}
"""


def test_conductivity_tab_draws_msd_and_arrhenius_offline(seeded_workspace, manager, browser,
                                                          tmp_path):
    from ssestudio.jobs.transport import TransportSpec
    from ssestudio.ui.server import ServeOptions, start_server_thread

    for i, T in enumerate((400.0, 500.0, 600.0)):
        rec = add_walker_trajectory(seeded_workspace, f"walk-{T:.0f}K", temperature_K=T, seed=i)
        status, job = run_in_process(seeded_workspace, TransportSpec(trajectory=rec.id,
                                                                     temperature_K=T))
        assert str(status) == "succeeded", job.error
    add_walker_trajectory(seeded_workspace, "walk-450K", temperature_K=450.0, seed=9,
                          record_temperature=False)
    thread, url = start_server_thread(seeded_workspace, manager, ServeOptions(port=0))
    try:
        with recording_page(browser, width=1500, height=1900) as page:
            page.goto(url)
            page.get_by_text("Conductivity", exact=True).first.click(timeout=60_000)
            page.get_by_text("Preferred model: arrhenius").first.wait_for(timeout=60_000)
            page.wait_for_function(f"() => ({BOKEH_CANVASES})('canvas') >= 2", timeout=60_000)
            page.get_by_text("Download table (CSV)").first.wait_for()
            row = page.locator(".tabulator-row", has=page.locator("[tabulator-field=temperature_K]"),
                               has_text="walk-450K")
            row.locator("input[type=checkbox]").click()
            row.locator("[tabulator-field=temperature_K]").click()
            page.keyboard.type("450")
            page.keyboard.press("Enter")
            page.get_by_role("button", name="Analyse").click()
            page.get_by_text("Submitted 1 transport job").first.wait_for(timeout=30_000)
            page.get_by_text("Loaded the results of job(s) 4").first.wait_for(timeout=60_000)
            results = page.locator(".tabulator-row", has=page.locator('[tabulator-field="σ (mS/cm)"]'))
            assert results.count() == 4 and "450" in results.nth(1).inner_text()
            page.wait_for_timeout(1500)
            page.screenshot(path=os.environ.get("SSESTUDIO_CONDUCTIVITY_SCREENSHOT")
                            or str(tmp_path / "conductivity.png"), full_page=True)
            page.get_by_role("button", name="SVG").click()  # the toolbar's save tool: SVG
            page.wait_for_function(f"() => ({BOKEH_CANVASES})('svg') >= 2", timeout=30_000)
            with page.expect_download(timeout=30_000) as download:
                page.locator("[title=Save] >> visible=true").first.click()
            assert download.value.suggested_filename == "msd.svg"
            download.value.save_as(tmp_path / "msd.svg")
            assert (tmp_path / "msd.svg").read_text().startswith("<svg")
            assert_all_local(page.urls)
    finally:
        thread.stop()
