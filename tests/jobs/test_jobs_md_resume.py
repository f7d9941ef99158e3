"""A worker killed by SIGKILL mid-run: the md job resumes from its last checkpoint and the
trajectory continues without duplicated or missing frames."""

import os
import signal

import numpy as np
import pytest
from ase.build import bulk

from ssestudio.jobs import JobStatus
from ssestudio.jobs.md import MDSpec, resume_spec
from ssestudio.md import default_checkpoint_path, load_checkpoint, read_thermo
from tests.md.mdtest_helpers import wait_for as _wait_for


def _frames_beyond_checkpoint(ws, name):
    """True once the file holds frames written after the latest checkpoint."""
    try:
        rec = ws.get_trajectory(name)
        ckpt = load_checkpoint(default_checkpoint_path(rec.paths[0]))
        with ws.open_trajectory(rec.id) as traj:
            return traj.n_frames > ckpt.outputs["main"]["frames"] + 1
    except Exception:  # not registered or no checkpoint yet
        return False


@pytest.mark.slow
def test_sigkilled_worker_resumes_from_its_checkpoint(ws, make_manager, tmp_path):
    import ase.io

    cif = tmp_path / "cu.cif"
    ase.io.write(cif, bulk("Cu", "fcc", a=3.61, cubic=True))
    spec = MDSpec(structure=str(cif), supercell=(2, 1, 1), ensemble="nvt-bussi",
                  temperature_K=500.0, timestep_fs=4.0, n_steps=5000, write_interval=20,
                  checkpoint_interval=400, seed=3, name="killme")
    manager = make_manager()
    job_id = manager.submit(spec)
    _wait_for(lambda: _frames_beyond_checkpoint(ws, "killme"), 90, "frames after a checkpoint")
    pid = manager.get(job_id).pid
    os.killpg(pid, signal.SIGKILL)  # no cleanup, no final checkpoint
    job = manager.wait(job_id, timeout=60)
    assert job.status in (JobStatus.FAILED, JobStatus.INTERRUPTED)  # whoever notices first

    rec = ws.get_trajectory("killme")
    ckpt = load_checkpoint(default_checkpoint_path(rec.paths[0]))
    with ws.open_trajectory(rec.id) as traj:
        assert traj.n_frames > ckpt.outputs["main"]["frames"]  # some frames will be redone
    resumed = manager.submit(resume_spec(ws, "killme"))
    job = manager.wait(resumed, timeout=120)
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert job.result["trajectory_id"] == rec.id and job.result["n_frames"] == 251
    with ws.open_trajectory(rec.id) as traj:
        assert traj.n_frames == ws.get_trajectory(rec.id).n_frames == 251
        assert (np.diff(traj.times_fs()) == 80.0).all()
        assert np.isfinite(traj.positions()).all()
    rows = read_thermo(job.result["thermo_path"])
    np.testing.assert_array_equal(rows["step"], np.arange(0, 5001, 20))
