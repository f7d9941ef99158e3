"""Tier 1: the jobs panel's view model over real background jobs."""

from ssestudio.ui.jobs_panel import JobsModel, format_eta


def test_format_eta():
    assert format_eta(None) == ""
    assert format_eta(12.3) == "12 s"
    assert format_eta(600) == "10 min"
    assert format_eta(3 * 3600) == "3.0 h"


def test_rows_progress_cancel_and_finished_signal(seeded_workspace, manager, sample_data_dir):
    from ssestudio.jobs.builtin import ConvertTrajectorySpec

    model = JobsModel(manager)
    assert model.rows == []
    src = sample_data_dir / "trajectories" / "li3ps4_melt_800K_short.extxyz"
    job_id = manager.submit(ConvertTrajectorySpec(source_paths=(str(src),), timestep_fs=10.0))
    manager.wait(job_id, timeout=60)
    model.refresh()
    row = model.rows[0]
    assert row["id"] == job_id and row["status"] == "succeeded" and row["progress_pct"] == 100.0
    model.select(job_id)
    assert model.log  # the worker logged something
    assert "Select a job" in JobsModel(manager).cancel_selected()


def test_finished_version_bumps_when_a_running_job_ends(seeded_workspace, manager, sample_data_dir):
    from ssestudio.jobs.builtin import ConvertTrajectorySpec

    model = JobsModel(manager)
    src = sample_data_dir / "trajectories" / "li3ps4_melt_800K_short.extxyz"
    job_id = manager.submit(ConvertTrajectorySpec(source_paths=(str(src),), timestep_fs=10.0))
    model.refresh()  # seen while queued or running
    before = model.finished_version
    manager.wait(job_id, timeout=60)
    model.refresh()
    assert model.finished_version == before + 1
