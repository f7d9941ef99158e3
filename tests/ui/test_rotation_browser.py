"""Tier 3: the Paddle-wheel explorer in a real browser (Playwright driving Debian's Chromium).

A synthetic PS4 rotor run (rotations that trigger Li hops, 700 K in its provenance) is in
the seeded workspace. The test chooses it, clicks *Analyse*, waits for the verdict and the
figures, then clicks the first coincident pair: the viewer must jump to its frame with the
anion and the ion highlighted. The page must request nothing but the app's own host.
``SSESTUDIO_ROTATION_SCREENSHOT=assets/paddlewheel.png`` refreshes the README's screenshot.
"""

from __future__ import annotations

import os

import pytest

from tests.ui.browser import assert_all_local, needs_chromium, recording_page
from tests.ui.test_conductivity_browser import BOKEH_CANVASES
from tests.ui.test_ui_rotation import add_paddle

pytestmark = [pytest.mark.ui, needs_chromium]


def test_explorer_analyses_a_run_and_jumps_to_a_coincident_pair(seeded_workspace, manager,
                                                                browser, tmp_path):
    from ssestudio.ui.server import ServeOptions, start_server_thread

    _, traj = add_paddle(seeded_workspace, "rotor-700K", seed=4, temperature_K=700.0)
    thread, url = start_server_thread(seeded_workspace, manager, ServeOptions(port=0))
    try:
        with recording_page(browser, width=1500, height=2700) as page:
            page.goto(url)
            page.get_by_text("Paddle-wheel", exact=True).first.click(timeout=60_000)
            page.get_by_text("Rotation analysis", exact=True).first.wait_for(timeout=60_000)
            page.get_by_label("Trajectory", exact=True).first.select_option(
                label=f"rotor-700K · {traj.formula} · {traj.n_frames} frames")
            page.get_by_role("button", name="Analyse", exact=True).click()
            page.get_by_text("PS4 rotations coincide with Li hops").first.wait_for(
                timeout=120_000)
            (job,) = [r for r in manager.list() if r.kind == "rotation"]
            assert job.spec["params"]["temperature_K"] == 700.0
            # C1/C2, angles, enrichment, cross-correlation, raster
            page.wait_for_function(f"() => ({BOKEH_CANVASES})('canvas') >= 5", timeout=60_000)
            page.locator(".tabulator-row", has=page.locator('[tabulator-field="dt_ps"]')).first \
                .click()
            page.get_by_text("(highlighted)").first.wait_for(timeout=30_000)
            caption = page.get_by_text("(highlighted)").first.inner_text()
            assert "rotated" in caption and "hopped" in caption
            page.wait_for_timeout(1500)  # let bokeh and the viewer paint
            page.screenshot(path=os.environ.get("SSESTUDIO_ROTATION_SCREENSHOT")
                            or str(tmp_path / "paddlewheel.png"), full_page=True)
            assert_all_local(page.urls)
    finally:
        thread.stop()
