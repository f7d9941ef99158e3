"""Temperature sweeps: one md job per temperature, each trajectory carrying its temperature."""

import pytest
from ase.build import bulk

from ssestudio.core.errors import UserInputError
from ssestudio.jobs import JobManager, JobStatus, execute_job
from ssestudio.jobs.md import MDSpec, submit_sweep, sweep_specs


class InlineExecutor:
    """Runs each job in this process at submission, and records the submissions."""

    name = "inline"

    def __init__(self):
        self.submitted = []

    def submit(self, ws, job_id):
        self.submitted.append(job_id)
        execute_job(ws, job_id, executor=self.name)

    def cancel(self, ws, job_id):
        pass

    def poll(self, ws):
        pass

    def close(self):
        pass


@pytest.fixture
def cu_cif(tmp_path):
    import ase.io

    path = tmp_path / "cu.cif"
    ase.io.write(path, bulk("Cu", "fcc", a=3.61, cubic=True))
    return str(path)


def test_sweep_specs_vary_temperature_name_and_seed(cu_cif):
    base = MDSpec(structure=cu_cif, ensemble="nvt-bussi", n_steps=20, seed=10, name="cu")
    specs = sweep_specs(base, [600, 800.0, 1000])
    assert [s.temperature_K for s in specs] == [600.0, 800.0, 1000.0]
    assert [s.name for s in specs] == ["cu-600K", "cu-800K", "cu-1000K"]
    assert [s.seed for s in specs] == [10, 11, 12]
    unnamed = sweep_specs(MDSpec(structure=cu_cif), [500.0])
    assert unnamed[0].name is None and unnamed[0].seed is None


@pytest.mark.parametrize("temps, match", [([], "distinct temperatures"),
                                          ([500, 500], "distinct temperatures"),
                                          ([0.0, 300], "distinct temperatures")])
def test_sweep_rejects_bad_temperatures(cu_cif, temps, match):
    with pytest.raises(UserInputError, match=match):
        sweep_specs(MDSpec(structure=cu_cif), temps)
    with pytest.raises(UserInputError, match="constant target"):
        sweep_specs(MDSpec(structure=cu_cif, end_temperature_K=900.0), [500.0])


def test_sweep_submits_one_job_per_temperature_with_temperature_provenance(ws, cu_cif):
    from ssestudio.ui.conductivity_model import provenance_temperature_K

    executor = InlineExecutor()
    base = MDSpec(structure=cu_cif, supercell=(2, 1, 1), ensemble="nvt-bussi", n_steps=20,
                  write_interval=10, timestep_fs=2.0, seed=1)
    with JobManager(ws, executor) as manager:
        ids = submit_sweep(manager, base, [400.0, 700.0, 1000.0])
        records = [manager.get(i) for i in ids]
    assert executor.submitted == ids and len(set(ids)) == 3
    assert all(r.status is JobStatus.SUCCEEDED for r in records), [r.error for r in records]
    temps = []
    for rec in records:
        traj = ws.get_trajectory(rec.result["trajectory_id"])
        assert traj.job_id == rec.id and traj.n_frames == 3
        assert traj.provenance["parameters"]["temperature_K"] == rec.result["temperature_K"]
        temps.append(provenance_temperature_K(traj))  # what the Conductivity tab reads
    assert temps == [400.0, 700.0, 1000.0]
    assert [t.name for t in ws.list_trajectories()] == ["md-Cu8-400K", "md-Cu8-700K",
                                                        "md-Cu8-1000K"]


def test_sweep_checks_every_spec_before_submitting(ws, cu_cif):
    executor = InlineExecutor()
    with JobManager(ws, executor) as manager:
        with pytest.raises(UserInputError, match="unknown calculator"):
            submit_sweep(manager, MDSpec(structure=cu_cif, calculator="nope"), [300.0, 400.0])
    assert executor.submitted == []
