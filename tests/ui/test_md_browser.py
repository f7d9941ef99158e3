"""Tier 3: the MD tab in a real browser (Playwright driving Debian's Chromium).

In the seeded workspace (sample Li-P-S model and structures) the test picks a temperature
sweep of the 64-atom Li3PS4 start at 600, 750 and 900 K, types short runs, sees the schedule,
clicks *Launch*, waits for the live thermo curves, analyses the structure of a finished
run, and sends the three runs to the Conductivity tab, whose transport jobs then draw the
Arrhenius plot. The page must request nothing but the app's own host.
``SSESTUDIO_MD_SCREENSHOT=assets/md.png`` refreshes the README's screenshot.
"""

from __future__ import annotations

import os
import time

import pytest

from tests.ui.browser import assert_all_local, needs_chromium, recording_page
from tests.ui.test_conductivity_browser import BOKEH_CANVASES

pytestmark = [pytest.mark.ui, needs_chromium]


def _type(page, label: str, text: str) -> None:
    box = page.get_by_label(label, exact=True).first
    box.fill(text)
    box.press("Enter")


def _wait_jobs(manager, ids, timeout=120):
    deadline = time.monotonic() + timeout
    while not all(manager.get(i).done for i in ids):
        assert time.monotonic() < deadline, f"jobs {ids} did not finish"
        time.sleep(0.3)
    return [manager.get(i) for i in ids]


def test_md_tab_runs_a_sweep_analyses_it_and_sends_it_to_conductivity(
        seeded_workspace, manager, browser, tmp_path):
    from ssestudio.ui.server import ServeOptions, start_server_thread

    thread, url = start_server_thread(seeded_workspace, manager, ServeOptions(port=0))
    try:
        with recording_page(browser, width=1500, height=2200) as page:
            page.goto(url)
            page.get_by_text("MD", exact=True).first.click(timeout=60_000)
            page.get_by_text("New MD run").first.wait_for(timeout=60_000)
            page.get_by_label("Protocol", exact=True).first.select_option(
                label="Temperature sweep")
            page.get_by_label("Structure", exact=True).first.select_option(
                label="Li3PS4 random start (64 atoms)")
            _type(page, "Temperatures (K)", "600 750 900")
            _type(page, "Run length (ps)", "0.4")
            _type(page, "Equilibration (ps)", "0.1")
            _type(page, "Steps between frames", "5")
            page.get_by_text("3 jobs, 750 steps, 1.5 ps simulated in all").first.wait_for(
                timeout=30_000)
            page.wait_for_function(f"() => ({BOKEH_CANVASES})('canvas') >= 1", timeout=60_000)
            page.get_by_role("button", name="Launch").click()
            page.get_by_text("Started jobs 1, 2, 3").first.wait_for(timeout=60_000)
            # schedule + T, energy, pressure, density of the run shown
            page.wait_for_function(f"() => ({BOKEH_CANVASES})('canvas') >= 5", timeout=90_000)
            jobs = _wait_jobs(manager, [1, 2, 3])
            assert [str(j.status) for j in jobs] == ["succeeded"] * 3, jobs[0].error
            assert [j.spec["params"]["temperature_K"] for j in jobs] == [600.0, 750.0, 900.0]
            page.get_by_role("button", name="Analyse structure").click()
            page.get_by_text("PS4 (fraction of P)").first.wait_for(timeout=90_000)
            # + RDF, S(q), XRD, lattice
            page.wait_for_function(f"() => ({BOKEH_CANVASES})('canvas') >= 9", timeout=60_000)
            page.wait_for_timeout(1000)  # let bokeh finish painting before the screenshot
            page.screenshot(path=os.environ.get("SSESTUDIO_MD_SCREENSHOT")
                            or str(tmp_path / "md.png"), full_page=True)
            page.get_by_role("button", name="Send to Conductivity").click()
            page.get_by_text("Submitted 3 transport job(s)").first.wait_for(timeout=60_000)
            transport = [r for r in manager.list() if r.kind == "transport"]
            assert sorted(r.spec["params"]["temperature_K"] for r in transport) == [600.0, 750.0, 900.0]
            page.get_by_text("Preferred model").first.wait_for(timeout=120_000)
            assert_all_local(page.urls)
    finally:
        thread.stop()
