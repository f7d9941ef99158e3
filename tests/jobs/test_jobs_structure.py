"""The ``structure`` job: structure analysis of a workspace trajectory, saved as JSON."""

from __future__ import annotations

import numpy as np
import pytest

from ssestudio.core.errors import UserInputError
from ssestudio.jobs import JobStatus
from ssestudio.jobs.structure import (StructureSpec, auto_stride, frame_temperatures_K,
                                      load_structure_result)
from tests.jobs.test_jobs_transport import run_in_process

MELT = "Li3PS4 melt 800 K (SevenNet-0)"


@pytest.fixture
def seeded(tmp_path, sample_data_dir):
    from ssestudio.workspace import Workspace

    with Workspace.open(tmp_path / "ws", sample_dir=sample_data_dir) as workspace:
        yield workspace


def test_auto_stride_keeps_about_100_frames():
    assert auto_stride(50) == 1 and auto_stride(100) == 1 and auto_stride(101) == 2
    assert auto_stride(1000) == 10 and auto_stride(0) == 1


def test_job_analyses_a_trajectory_and_saves_json(seeded):
    rec = seeded.get_trajectory(MELT)
    status, job = run_in_process(seeded, StructureSpec(trajectory=rec.name, stop=40))
    assert status is JobStatus.SUCCEEDED, job.error
    result = job.result
    assert result["trajectory_id"] == rec.id and result["n_frames"] == 40
    data = load_structure_result(result["path"])
    assert data["frames"]["first"] == 0 and data["frames"]["last"] == 39
    assert 1.5 < data["density_g_cm3"] < 2.2
    assert data["rdf_peaks"]["P-S"]["first_peak_A"] == pytest.approx(2.05, abs=0.1)
    assert data["speciation"]["unit_fraction_by_former"]["PS4"] > 0.5
    assert len(data["rdf"]["r_A"]) == len(data["rdf"]["partials"]["P-S"])
    assert data["per_frame"]["temperature_K"] is None  # an imported file has no thermo log


def test_frame_temperatures_come_from_the_thermo_log(tmp_path):
    traj = tmp_path / "run.h5"
    thermo = tmp_path / "run.thermo.csv"
    thermo.write_text("step,time_fs,T_K,target_T_K\n0,0,310,300\n1,1,420,nan\n", "utf-8")
    assert frame_temperatures_K(traj, 2).tolist() == [300.0, 420.0]
    assert frame_temperatures_K(traj, 3) is None  # length mismatch: not used
    assert frame_temperatures_K(tmp_path / "other.h5", 2) is None
    assert isinstance(frame_temperatures_K(traj, 2), np.ndarray)


@pytest.mark.parametrize("kw, match", [
    ({"trajectory": ""}, "give a trajectory"),
    ({"trajectory": 1, "stride": 0}, "stride must be"),
    ({"trajectory": 1, "start": "a"}, "start must be"),
    ({"trajectory": 1, "rmax_A": -1.0}, "rmax_A"),
])
def test_bad_input_is_refused(kw, match):
    with pytest.raises(UserInputError, match=match):
        StructureSpec(**kw)


def test_preflight_needs_a_known_trajectory(seeded):
    with pytest.raises(UserInputError):
        StructureSpec(trajectory="no such").preflight(seeded)
