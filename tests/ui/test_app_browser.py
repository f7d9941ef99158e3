"""Tier 3: the whole app in a real browser (Playwright driving Debian's Chromium).

Serves ``ssestudio serve``'s app on a workspace seeded from ``sample_data``, plays the
sample trajectory, follows an MD job's trajectory while it is written, cancels the job from
the Jobs panel, and checks that the page never requested anything but the app's own host.
Set ``SSESTUDIO_SCREENSHOT=assets/screenshot.png`` to refresh the README's screenshot.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.ui.browser import (PIXELS, assert_all_local, needs_chromium, recording_page,
                              wait_drawn)

pytestmark = [pytest.mark.ui, needs_chromium]

CANVAS_FRAME = "() => +window.__canvas().dataset.frame"


@pytest.fixture
def app_url(seeded_workspace, manager):
    from ssestudio.ui.server import ServeOptions, start_server_thread

    thread, url = start_server_thread(seeded_workspace, manager, ServeOptions(port=0))
    yield url
    thread.stop()


@pytest.fixture
def app_page(browser, app_url):
    with recording_page(browser, width=1500, height=1000) as page:
        page.goto(app_url)
        yield page


def test_trajectories_tab_plays_the_sample_offline(app_page, tmp_path):
    page = app_page
    page.get_by_text("Trajectories", exact=True).first.wait_for()
    wait_drawn(page)  # the first workspace trajectory is selected and drawn
    page.wait_for_function("() => window.__canvas().dataset.nAtoms === '64'", timeout=60_000)
    px = page.evaluate(PIXELS)
    assert px["width"] > 300 and px["height"] > 200
    assert px["distinct"] > 50 and px["foreground"] > 0.02 * px["width"] * px["height"]
    assert page.evaluate(CANVAS_FRAME) == 0
    before = page.evaluate("() => window.__canvas().toDataURL()")
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_function(f"() => {CANVAS_FRAME[6:]} >= 5", timeout=60_000)
    page.get_by_role("button", name="⏸ Pause").click()
    assert page.evaluate("() => window.__canvas().toDataURL()") != before  # new frame drawn
    page.get_by_text("Li3PS4 melt 800 K (SevenNet-0)").first.wait_for()
    page.get_by_text("Jobs", exact=True).first.wait_for()
    shot = os.environ.get("SSESTUDIO_SCREENSHOT") or str(tmp_path / "screenshot.png")
    page.wait_for_timeout(300)
    page.screenshot(path=shot)
    assert Path(shot).stat().st_size > 10_000
    assert_all_local(page.urls)


def select_and_cancel(page, *, kind: str, within_s: float = 90.0) -> None:
    """Select the job row of ``kind`` and press Cancel. The jobs table re-renders while a job
    streams progress, which can drop the selection (and disable the button) between the two
    clicks; like a user, select again and retry until the click lands."""
    import time

    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    deadline = time.monotonic() + within_s
    while True:
        page.locator('.ssestudio-jobs-table .tabulator-cell[tabulator-field="kind"]',
                     has_text=kind).first.click()
        try:
            page.get_by_role("button", name="Cancel job").click(timeout=5_000)
            return
        except PlaywrightTimeoutError:
            if time.monotonic() > deadline:
                raise


def test_follows_a_running_md_job_and_cancels_it(app_page, manager, seeded_workspace, tmp_path):
    import ase.io
    from ase.build import bulk

    from ssestudio.jobs.md import MDSpec

    page = app_page
    wait_drawn(page)
    cu = tmp_path / "cu.cif"
    ase.io.write(cu, bulk("Cu", cubic=True).repeat(3))
    job_id = manager.submit(MDSpec(structure=str(cu), calculator="emt", temperature_K=300,
                                   timestep_fs=2, n_steps=200_000, write_interval=5,
                                   name="cu-live"))
    page.get_by_text("cu-live").first.click(timeout=60_000)  # appears while the job runs
    page.wait_for_function("() => window.__canvas().dataset.nAtoms === '108'", timeout=60_000)
    first = page.evaluate(CANVAS_FRAME)
    page.wait_for_function(f"() => {CANVAS_FRAME[6:]} > {first}", timeout=60_000)  # live frames
    select_and_cancel(page, kind="md")
    record = manager.wait(job_id, timeout=60)
    assert str(record.status) == "cancelled"
    traj = seeded_workspace.get_trajectory("cu-live")
    assert traj.n_frames > 1  # frames written before the cancel are kept
    page.reload()  # all job state lives in the workspace: a reload shows the same jobs
    status = page.locator('.ssestudio-jobs-table .tabulator-cell[tabulator-field="status"]', has_text="cancelled")
    status.first.wait_for(timeout=60_000)
    assert_all_local(page.urls)
