"""The ``rotation`` job: analysis of a workspace trajectory saved as ``rotation.json``."""

from __future__ import annotations

import json

import pytest

from ssestudio.core.errors import UserInputError
from ssestudio.jobs import (
    JobCancelled,
    JobContext,
    JobStatus,
    execute_job,
    job_kinds,
    store,
)
from ssestudio.jobs.rotation import RESULT_FILE, RotationSpec, load_rotation_result


@pytest.fixture
def paddle(ws):
    """A registered synthetic run: 27 PS4 jumping by 120°, each jump triggering a Li hop."""
    from ssestudio.analysis.rotation.synthetic import RotorModel, simulate

    run = simulate(RotorModel(n_frames=800, timestep_fs=10.0, jump_rate_per_ps=0.3,
                              trigger_probability=1.0, seed=6))
    path = ws.root / "uploads" / "paddle.h5"
    path.parent.mkdir(exist_ok=True)
    run.write(path)
    return run, ws.import_trajectory(path, name="paddle")


def run_in_process(ws, spec):
    job_id = store.insert_job(ws, spec.to_dict(), executor="test")
    status = execute_job(ws, job_id, executor="test")
    return status, store.get_job(ws, job_id)


def test_job_saves_the_analysis_and_returns_the_summary(ws, paddle):
    run, traj = paddle
    assert "rotation" in job_kinds()
    status, rec = run_in_process(ws, RotationSpec(trajectory=traj.name, temperature_K=500))
    assert status is JobStatus.SUCCEEDED, rec.error
    r = rec.result
    assert r["trajectory_id"] == traj.id and r["trajectory"] == "paddle"
    assert r["rotation_events"] == len(run.rotation_frame) and r["temperature_K"] == 500
    assert r["enrichment_ci"][0] > 1 and r["verdict"].startswith("PS4 rotations coincide")
    assert r["path"] == str(ws.job_dir(rec.id) / RESULT_FILE)
    saved = load_rotation_result(ws.job_dir(rec.id))
    assert saved == load_rotation_result(r["path"])
    assert saved["tau_C2_ps"] == r["tau_C2_ps"] and saved["trajectory"] == "paddle"
    assert {"curves", "events", "enrichment_grid", "units", "angle_distribution",
            "cross_correlation", "parameters"} <= set(saved)
    json.loads((ws.job_dir(rec.id) / RESULT_FILE).read_text())
    assert rec.progress == 1.0


def test_user_defined_anion_and_frame_selection(ws, paddle):
    _, traj = paddle
    spec = RotationSpec(trajectory=traj.id, centre="P", ligands="S", n_ligands=4, stop=400,
                        rotation_threshold_deg=90.0)
    status, rec = run_in_process(ws, spec)
    assert status is JobStatus.SUCCEEDED, rec.error
    assert rec.result["n_frames"] == 400 and rec.result["anion"] == "PS4"


def test_spec_validation_and_round_trip(ws, paddle):
    spec = RotationSpec(trajectory=3, anion="BH4", cation="Na", hop_threshold_A=2.0)
    again = RotationSpec.from_dict(spec.to_dict())
    assert again == spec and spec.to_dict()["kind"] == "rotation"
    for bad, match in (({"anion": "XY"}, "unknown anion"), ({"stride": 0}, "stride"),
                       ({"rotation_window_fs": 0}, "rotation_window_fs"),
                       ({"centre": "P"}, "both centre and ligands"),
                       ({"start": 1.5}, "integer")):
        with pytest.raises(UserInputError, match=match):
            RotationSpec(trajectory=1, **bad)
    with pytest.raises(UserInputError, match="trajectory"):
        RotationSpec(trajectory=" ")
    with pytest.raises(UserInputError, match="trajectory"):
        RotationSpec(trajectory="nope").preflight(ws)
    with pytest.raises(UserInputError, match="sites file"):
        RotationSpec(trajectory=paddle[1].id, sites_path="/no/such.cif").preflight(ws)


def test_failures_and_cancel(ws, paddle):
    _, traj = paddle
    status, rec = run_in_process(ws, RotationSpec(trajectory=traj.id, cation="Na"))
    assert status is JobStatus.FAILED and "Na" in rec.error
    spec = RotationSpec(trajectory=traj.id)
    job_id = store.insert_job(ws, spec.to_dict(), executor="test")
    assert store.claim_job(ws, job_id, executor="test")
    store.request_cancel(ws, job_id)
    with pytest.raises(JobCancelled):
        spec.run(JobContext(ws, job_id))
    with pytest.raises(UserInputError, match="no saved rotation analysis"):
        load_rotation_result(ws.job_dir(job_id))
