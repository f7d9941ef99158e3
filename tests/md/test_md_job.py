"""The ``md`` job: spec validation, in-process runs, and live following through a worker."""


import numpy as np
import pytest
from ase import Atoms

from ssestudio.calculators import CalculatorUnavailableError, clear_calculator_cache
from ssestudio.core.errors import UserInputError
from ssestudio.jobs import JobSpec, JobStatus, execute_job, store
from ssestudio.jobs.manager import serialise_spec
from ssestudio.jobs.md import MDSpec
from ssestudio.workspace import RecordNotFoundError
from tests.md.mdtest_helpers import wait_for as _wait_for


def _run_in_process(ws, spec):
    job_id = store.insert_job(ws, spec.to_dict(), executor="test")
    status = execute_job(ws, job_id, executor="test")
    return status, store.get_job(ws, job_id)


def test_spec_round_trips_through_json(cu_file):
    spec = MDSpec(structure=str(cu_file), calculator="lj",
                  calculator_options={"sigma": 2.3, "epsilon": 0.4, "nested": [1, 2]},
                  supercell=[2, 2, 1], seed=4)
    assert spec.calculator_options == (("epsilon", 0.4), ("nested", (1, 2)), ("sigma", 2.3))
    assert spec.options == {"epsilon": 0.4, "nested": [1, 2], "sigma": 2.3}
    assert spec.supercell == (2, 2, 1)
    data = serialise_spec(spec)  # what JobManager.submit checks
    assert JobSpec.from_dict(data) == spec and data["module"] == "ssestudio.jobs.md"


def test_relative_structure_path_is_made_absolute(cu_file, monkeypatch):
    monkeypatch.chdir(cu_file.parent)
    assert MDSpec(structure=cu_file.name).structure == str(cu_file)
    assert MDSpec(structure="my-structure").structure == "my-structure"


@pytest.mark.parametrize("bad, match", [
    (dict(timestep_fs=0.0), "timestep_fs must be > 0 and <= 10"),
    (dict(timestep_fs=12.0), "timestep_fs must be > 0 and <= 10"),
    (dict(n_steps=0), "n_steps must be an integer >= 1"),
    (dict(temperature_K=-5.0), "temperature_K"),
    (dict(ensemble="npt"), "unknown ensemble 'npt'"),
    (dict(supercell=(0, 1, 1)), "supercell must be three integers"),
    (dict(supercell=(2, 2)), "supercell must be three integers"),
    (dict(seed=-1), "seed must be a non-negative integer"),
    (dict(calculator_options={"f": object()}), "JSON-serialisable"),
])
def test_validate_rejects_bad_values(bad, match):
    with pytest.raises(UserInputError, match=match):
        MDSpec(structure="x", **bad)


def test_preflight_checks_structure_calculator_and_name(ws, cu_file):
    with pytest.raises(RecordNotFoundError, match="no structure with id or name 'nope'"):
        MDSpec(structure="nope").preflight(ws)
    with pytest.raises(UserInputError, match="unknown calculator 'nope'.*emt"):
        MDSpec(structure=str(cu_file), calculator="nope").preflight(ws)
    with pytest.raises(CalculatorUnavailableError, match="is not installed"):
        MDSpec(structure=str(cu_file), calculator="no_such_module_xyz:Calc").preflight(ws)
    ws.import_structure(cu_file, name="cu")
    MDSpec(structure="cu", supercell=(2, 2, 2)).preflight(ws)
    ws.register_trajectory(cu_file, name="taken", format="extxyz")
    with pytest.raises(UserInputError, match="already exists"):
        MDSpec(structure="cu", name="taken").preflight(ws)


def test_in_process_run_registers_trajectory_with_provenance(ws, cu_file):
    ws.import_structure(cu_file, name="cu")
    spec = MDSpec(structure="cu", supercell=(2, 2, 2), n_steps=40, write_interval=10,
                  timestep_fs=2.0, temperature_K=400.0)
    status, job = _run_in_process(ws, spec)
    assert status is JobStatus.SUCCEEDED, job.error
    res = job.result
    rec = ws.get_trajectory(res["trajectory_id"])
    assert rec.name == res["trajectory"] == "md-Cu32-400K" and rec.job_id == job.id
    assert rec.n_frames == res["n_frames"] == 5 and rec.n_atoms == 32
    assert rec.format == "native" and rec.timestep_fs == 20.0
    assert rec.provenance["inputs"] == ["cu"]
    assert rec.provenance["parameters"]["seed"] == res["seed"]  # drawn, recorded
    assert res["atom_steps_per_s"] > 0 and res["mean_T_K"] > 0 and res["wall_s"] > 0
    with ws.open_trajectory(rec.id) as traj:
        assert traj.n_frames == 5 and traj.info.has_velocities
    assert "finished: 5 frames" in (ws.job_dir(job.id) / "log.txt").read_text()


def test_failure_keeps_frames_written(ws, cu_file):
    clear_calculator_cache()
    spec = MDSpec(structure=str(cu_file), calculator="mdtest_helpers:FailingEMT",
                  calculator_options={"good_calls": 3}, n_steps=50, write_interval=1, seed=1)
    status, job = _run_in_process(ws, spec)
    assert status is JobStatus.FAILED and "MD exploded at step" in job.message
    (rec,) = ws.list_trajectories()
    assert rec.job_id == job.id and rec.n_frames > 0
    with ws.open_trajectory(rec.id) as traj:
        assert traj.n_frames == rec.n_frames
    assert f"kept with the {rec.n_frames} frames" in (ws.job_dir(job.id) / "log.txt").read_text()


def test_explosion_at_step_zero_leaves_nothing(ws, tmp_path):
    import ase.io

    path = tmp_path / "overlap.xyz"
    ase.io.write(path, Atoms("Cu2", positions=[[0, 0, 0], [0.3, 0, 0]], cell=[8, 8, 8],
                             pbc=True))
    status, job = _run_in_process(ws, MDSpec(structure=str(path), n_steps=10))
    assert status is JobStatus.FAILED and "0.300 Å apart" in job.message
    assert ws.list_trajectories() == []
    assert list((ws.root / "trajectories").iterdir()) == []


def test_live_follow_then_cancel_keeps_frames(ws, make_manager, cu_file):
    manager = make_manager(cancel_grace_s=10.0, kill_grace_s=2.0)
    spec = MDSpec(structure=str(cu_file), supercell=(2, 2, 2), n_steps=10_000_000,
                  write_interval=2, timestep_fs=2.0, seed=5, name="live")
    job_id = manager.submit(spec)
    rec = _wait_for(lambda: next((t for t in ws.list_trajectories() if t.job_id == job_id), None),
                    60, "the trajectory to be registered")
    assert rec.name == "live"
    with ws.open_trajectory(rec.id) as traj:
        counts = [traj.refresh()]
        _wait_for(lambda: counts.append(traj.refresh()) or len(set(counts)) >= 4, 60,
                  "the trajectory to grow")
        assert counts == sorted(counts) and counts[-1] > counts[0]
        last = traj[counts[-1] - 1]  # the newest frame, read while the job writes
        assert np.isfinite(last.positions).all() and last.velocities is not None
        assert manager.get(job_id).status is JobStatus.RUNNING
    _wait_for(lambda: ws.get_trajectory(rec.id).n_frames > 0, 30,
              "the record's frame count to be updated")
    manager.cancel(job_id)
    job = manager.wait(job_id, timeout=60)
    assert job.status is JobStatus.CANCELLED
    final = ws.get_trajectory(rec.id)
    with ws.open_trajectory(rec.id) as traj:
        assert traj.n_frames == final.n_frames >= counts[-1]
    assert "MD cancelled: trajectory 'live'" in manager.log_text(job_id)
