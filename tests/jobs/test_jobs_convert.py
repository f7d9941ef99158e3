"""The built-in convert-trajectory job (in process, and once through a worker process)."""

import numpy as np
import pytest

from ssestudio.core.errors import UserInputError
from ssestudio.jobs import JobCancelled, JobContext, JobStatus, execute_job
from ssestudio.jobs import store
from ssestudio.jobs.builtin import ConvertTrajectorySpec


@pytest.fixture
def xyz_file(tmp_path):
    """A 5-frame, 4-atom extxyz trajectory written by ASE."""
    import ase.io
    from ase import Atoms

    rng = np.random.default_rng(1)
    frames = [Atoms("Li2S2", positions=rng.random((4, 3)) * 4.0, cell=[4.0, 4.0, 4.0], pbc=True)
              for _ in range(5)]
    path = tmp_path / "md.extxyz"
    ase.io.write(path, frames, format="extxyz")
    return path


def test_convert_in_process(ws, xyz_file):
    spec = ConvertTrajectorySpec(source_paths=(str(xyz_file),), timestep_fs=2.0, name="lps")
    job_id = store.insert_job(ws, spec.to_dict(), executor="test")
    assert execute_job(ws, job_id, executor="test") is JobStatus.SUCCEEDED
    rec = store.get_job(ws, job_id)
    traj = ws.get_trajectory("lps")
    assert rec.result == {"trajectory_id": traj.id, "name": "lps", "path": str(traj.paths[0]),
                          "n_frames": 5, "n_atoms": 4}
    assert traj.format == "native" and traj.job_id == job_id and traj.timestep_fs == 2.0
    assert traj.provenance["inputs"] == [str(xyz_file)]
    assert traj.paths[0].parent.parent == ws.root / "trajectories"
    with ws.open_trajectory("lps") as native:
        np.testing.assert_allclose(native.times_fs(), [0.0, 2.0, 4.0, 6.0, 8.0])


def test_failed_conversion_registers_nothing(ws, tmp_path):
    bad = tmp_path / "bad.extxyz"
    bad.write_text("garbage\n")
    job_id = store.insert_job(ws, ConvertTrajectorySpec(source_paths=(str(bad),),
                                                        format="extxyz").to_dict(),
                              executor="test")
    assert execute_job(ws, job_id, executor="test") is JobStatus.FAILED
    assert store.get_job(ws, job_id).error
    assert ws.list_trajectories() == [] and list((ws.root / "trajectories").iterdir()) == []


def test_cancelled_conversion_removes_partial_output(ws, xyz_file):
    spec = ConvertTrajectorySpec(source_paths=(str(xyz_file),))
    job_id = store.insert_job(ws, spec.to_dict(), executor="test")
    assert store.claim_job(ws, job_id, executor="test")
    store.request_cancel(ws, job_id)
    with pytest.raises(JobCancelled):
        spec.run(JobContext(ws, job_id))
    assert ws.list_trajectories() == [] and list((ws.root / "trajectories").iterdir()) == []


def test_preflight_and_worker_process(ws, make_manager, xyz_file, tmp_path):
    manager = make_manager()
    with pytest.raises(UserInputError, match="not found"):
        manager.submit(ConvertTrajectorySpec(source_paths=(str(tmp_path / "none.xyz"),)))
    ws.import_trajectory(xyz_file, name="taken")
    with pytest.raises(UserInputError, match="already exists"):
        manager.submit(ConvertTrajectorySpec(source_paths=(str(xyz_file),), name="taken"))
    rec = manager.wait(manager.submit(ConvertTrajectorySpec(source_paths=(str(xyz_file),))),
                       timeout=60)
    assert rec.status is JobStatus.SUCCEEDED, rec.error
    assert ws.get_trajectory(rec.result["trajectory_id"]).name == "md"
    assert manager.list(status="running") == []
