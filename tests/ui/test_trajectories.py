"""Tier 1: the Trajectories tab's view model, driven without a server or browser."""

import pytest

from ssestudio.core.errors import UserInputError
from ssestudio.ui.trajectories import TrajectoryBrowser


def test_lists_the_seeded_sample_trajectories(seeded_workspace, manager):
    browser = TrajectoryBrowser(seeded_workspace, manager)
    names = [r["name"] for r in browser.rows]
    assert any("melt 800 K" in n for n in names)
    native = next(r for r in browser.rows if r["format"] == "native")
    assert native["n_atoms"] == 64 and native["n_frames"] == 151


def test_metadata_of_selected_trajectory(seeded_workspace, manager):
    browser = TrajectoryBrowser(seeded_workspace, manager)
    browser.selected_id = next(r["id"] for r in browser.rows if r["format"] == "native")
    with browser.open_selected() as traj:
        meta = browser.metadata(traj)
    assert meta["atoms"] == 64 and meta["frames"] == 151
    assert meta["species"] == "Li 24, P 8, S 32"
    assert meta["duration (ps)"] == pytest.approx(1.5)
    assert 1.7 < meta["density (g/cm³)"] < 2.1
    assert not browser.is_being_written(browser.record())


def test_import_by_path_runs_a_job_and_registers_the_result(seeded_workspace, manager,
                                                             sample_data_dir):
    browser = TrajectoryBrowser(seeded_workspace, manager)
    src = sample_data_dir / "trajectories" / "li3ps4_melt_800K_short.extxyz"
    job_id = browser.import_paths(str(src), timestep_fs=10.0, name="imported-short")
    record = manager.wait(job_id, timeout=60)
    assert str(record.status) == "succeeded", record.error
    browser.refresh()
    row = next(r for r in browser.rows if r["name"] == "imported-short")
    assert row["format"] == "native" and row["n_frames"] == 40 and row["timestep_fs"] == 10.0


def test_import_errors_are_clear(seeded_workspace, manager, tmp_path):
    browser = TrajectoryBrowser(seeded_workspace, manager)
    with pytest.raises(UserInputError, match="type the path"):
        browser.import_paths("  ")
    with pytest.raises(UserInputError, match="no such file: /nope/XDATCAR"):
        browser.import_paths("/nope/XDATCAR")


def test_upload_limit_and_saved_upload(seeded_workspace, manager, sample_data_dir):
    browser = TrajectoryBrowser(seeded_workspace, manager, max_upload_mb=0.1)
    with pytest.raises(UserInputError, match="above the upload limit"):
        browser.import_upload("big.extxyz", b"x" * 200_000)
    data = (sample_data_dir / "trajectories" / "li3ps4_melt_800K_short.extxyz").read_bytes()
    browser.max_upload_mb = 10
    job_id = browser.import_upload("short.extxyz", data, timestep_fs=10.0)
    assert (seeded_workspace.root / "uploads" / "short.extxyz").read_bytes() == data
    assert str(manager.wait(job_id, timeout=60).status) == "succeeded"
