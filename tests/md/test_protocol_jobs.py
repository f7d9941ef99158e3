"""MD and melt-quench jobs in-process: equilibration, NPT, provenance, cancel and resume,
melt-quench outputs."""

import json

import numpy as np
import pytest

from ssestudio.calculators import clear_calculator_cache
from ssestudio.core.errors import UserInputError
from ssestudio.jobs import JobSpec, JobStatus, execute_job, store
from ssestudio.jobs.md import MDSpec, resume_spec
from ssestudio.jobs.meltquench import MeltQuenchSpec
from ssestudio.jobs.manager import serialise_spec
from ssestudio.md import read_thermo


def _run_in_process(ws, spec):
    job_id = store.insert_job(ws, serialise_spec(spec), executor="test")
    status = execute_job(ws, job_id, executor="test")
    return status, store.get_job(ws, job_id)


def _log(ws, job):
    return (ws.job_dir(job.id) / "log.txt").read_text()


def test_md_spec_new_fields_round_trip_and_are_checked(cu_file):
    spec = MDSpec(structure=str(cu_file), ensemble="npt-mtk-iso", pressure_GPa=1.5,
                  equilibration_steps=20, equilibration_ensemble="nvt-bussi",
                  end_temperature_K=500.0, resume=None)
    assert JobSpec.from_dict(serialise_spec(spec)) == spec
    stages = spec.protocol(seed=1).stages
    assert [s.name for s in stages] == ["equilibrate", "md"] and stages[0].output is None
    assert stages[0].config.pressure_GPa == 0.0 and stages[1].config.pressure_GPa == 1.5
    with pytest.raises(UserInputError, match="applies to NPT ensembles"):
        MDSpec(structure=str(cu_file), ensemble="nvt-bussi", pressure_GPa=1.0)
    with pytest.raises(UserInputError, match="equilibration_steps must be an integer"):
        MDSpec(structure=str(cu_file), equilibration_steps=-1)
    with pytest.raises(UserInputError, match="checkpoint_interval"):
        MDSpec(structure=str(cu_file), checkpoint_interval=1.5)


def test_npt_equilibration_then_nvt_run_records_its_temperature(ws, cu_file):
    spec = MDSpec(structure=str(cu_file), supercell=(2, 1, 1), ensemble="nvt-bussi",
                  temperature_K=400.0, timestep_fs=5.0, n_steps=30, write_interval=10,
                  equilibration_steps=60, equilibration_ensemble="npt-mtk-iso",
                  pressure_GPa=-2.0, barostat_time_fs=400.0, seed=3)
    status, job = _run_in_process(ws, spec)
    assert status is JobStatus.SUCCEEDED, job.error
    res = job.result
    rec = ws.get_trajectory(res["trajectory_id"])
    assert rec.n_frames == res["n_frames"] == 4  # the equilibration is not written
    params = rec.provenance["parameters"]
    assert params["temperature_K"] == 400.0 and params["ensemble"] == "nvt-bussi"
    assert params["seed"] == 3
    th = read_thermo(res["thermo_path"])
    np.testing.assert_allclose(th["time_fs"], [0, 50, 100, 150])
    assert np.ptp(th["V_A3"]) == 0 and th["V_A3"][0] > 8 * 11.76 * 1.005  # expanded cell
    assert res["mean_density_g_cm3"] < 8.9 and res["mean_P_GPa"] is not None
    with ws.open_trajectory(rec.id) as traj:
        assert traj.info.extra["metadata"]["md_config"]["temperature_K"] == 400.0


def test_ramp_records_no_single_temperature(ws, cu_file):
    from ssestudio.ui.conductivity_model import provenance_temperature_K

    spec = MDSpec(structure=str(cu_file), ensemble="nvt-langevin", temperature_K=300.0,
                  end_temperature_K=600.0, n_steps=20, write_interval=10, seed=1)
    status, job = _run_in_process(ws, spec)
    assert status is JobStatus.SUCCEEDED, job.error
    rec = ws.get_trajectory(job.result["trajectory_id"])
    assert rec.provenance["parameters"]["start_temperature_K"] == 300.0
    assert provenance_temperature_K(rec) is None
    with ws.open_trajectory(rec.id) as traj:
        assert "md_config" not in traj.info.extra["metadata"]  # no single target to read


def test_cancelled_job_resumes_and_matches_an_uninterrupted_run(ws, cu_file):
    clear_calculator_cache()
    common = dict(structure=str(cu_file), supercell=(2, 1, 1), ensemble="nvt-nhc",
                  temperature_K=500.0, timestep_fs=4.0, n_steps=1000, write_interval=10,
                  checkpoint_interval=50, seed=7, name="cut")
    spec = MDSpec(calculator="mdtest_helpers:CancelAfterEMT",
                  calculator_options={"workspace": str(ws.root), "cancel_at": 150}, **common)
    status, job = _run_in_process(ws, spec)
    assert status is JobStatus.CANCELLED
    rec = ws.get_trajectory("cut")
    assert 15 <= rec.n_frames < 101 and "resume with resume='cut'" in _log(ws, job)

    again = resume_spec(ws, "cut")
    assert again.resume == rec.id and again.n_steps == 1000
    status, job2 = _run_in_process(ws, again)  # the calculator cancels only once
    assert status is JobStatus.SUCCEEDED, job2.error
    assert job2.result["trajectory_id"] == rec.id and job2.result["n_frames"] == 101
    assert job2.result["resumed_from_step"].startswith("md:")

    status, ref = _run_in_process(ws, MDSpec(**{**common, "name": "reference"}))
    assert status is JobStatus.SUCCEEDED
    with ws.open_trajectory("cut") as a, ws.open_trajectory("reference") as b:
        assert a.n_frames == b.n_frames == 101
        np.testing.assert_array_equal(a.times_fs(), b.times_fs())
        # equal up to rounding: a calculator's neighbour-list history changes the order of
        # its sums (1e-13 Å at the resume), which MD then amplifies slowly
        np.testing.assert_allclose(a.positions(), b.positions(), rtol=0, atol=1e-6)
    rows = read_thermo(job2.result["thermo_path"])
    np.testing.assert_array_equal(rows["step"], np.arange(0, 1001, 10))


def test_resume_refuses_a_trajectory_without_job_or_checkpoint(ws, cu_file):
    ws.register_trajectory(cu_file, name="imported", format="extxyz")
    with pytest.raises(UserInputError, match="was not written by a job"):
        resume_spec(ws, "imported")


def _melt_quench_overrides(**extra):
    return {"heat_ps": 0.05, "hold_ps": 0.1, "melt_K": 1400.0, "quench_rate_K_per_ps": 10000.0,
            "anneal_ps": 0.05, "relax_ps": 0.2, "production_ps": 0.1, "timestep_fs": 5.0,
            "write_interval": 5, "barostat_time_fs": 400.0, **extra}


def test_melt_quench_job_from_a_crystal(ws, cu_file):
    spec = MeltQuenchSpec(calculator="emt", structure=str(cu_file), supercell=(2, 2, 1),
                          overrides=_melt_quench_overrides(), seed=2, name="cu-glass")
    assert JobSpec.from_dict(serialise_spec(spec)) == spec
    status, job = _run_in_process(ws, spec)
    assert status is JobStatus.SUCCEEDED, job.error
    res = job.result
    assert 7.0 < res["density_g_cm3"] < 9.5 and res["speciation"] is None  # no former in Cu
    assert [s["name"] for s in res["stages"]] == ["heat", "melt", "quench", "anneal", "relax",
                                                  "production"]
    main, prod = ws.get_trajectory("cu-glass"), ws.get_trajectory("cu-glass-300K")
    assert res["trajectory"] == main.name and res["production_trajectory"] == prod.name
    assert main.provenance["parameters"]["temperature_K"] is None
    assert prod.provenance["parameters"]["temperature_K"] == 300.0
    assert prod.provenance["parameters"]["ensemble"] == "nvt-bussi"
    assert prod.n_frames == 5 and main.n_frames == 3 + 4 + 4 + 2 + 8  # 1 + frames per stage
    glass = ws.read_structure(res["glass_structure"])
    assert len(glass) == 16 and glass.get_volume() == pytest.approx(
        16 * 63.546 * 1.66054 / res["density_g_cm3"], rel=1e-3)
    json.dumps(res)


def test_melt_quench_spec_checks(cu_file):
    with pytest.raises(UserInputError, match="either a composition"):
        MeltQuenchSpec(calculator="emt")
    with pytest.raises(UserInputError, match="either a composition"):
        MeltQuenchSpec(calculator="emt", composition="75Li2S-25P2S5", structure=str(cu_file))
    with pytest.raises(UserInputError, match="unknown melt-quench settings"):
        MeltQuenchSpec(calculator="emt", composition="75Li2S-25P2S5", overrides={"melt": 1})
    with pytest.raises(UserInputError, match="unknown melt-quench preset"):
        MeltQuenchSpec(calculator="emt", composition="75Li2S-25P2S5", preset="slow")
    spec = MeltQuenchSpec(calculator="emt", composition="75 Li2S - 25 P2S5")
    assert spec.composition == "75Li2S-25P2S5" and spec.config().melt_K == 1500.0


def test_melt_quench_cancelled_in_the_melt_resumes_to_the_end(ws, cu_file):
    clear_calculator_cache()
    spec = MeltQuenchSpec(calculator="mdtest_helpers:CancelAfterEMT",
                          calculator_options={"workspace": str(ws.root), "cancel_at": 25},
                          structure=str(cu_file), supercell=(1, 1, 1),
                          overrides=_melt_quench_overrides(), seed=3, name="mq",
                          checkpoint_interval=10)
    status, job = _run_in_process(ws, spec)
    assert status is JobStatus.CANCELLED
    names = [t.name for t in ws.list_trajectories()]
    assert names == ["mq"]  # the empty production output was removed
    status, job2 = _run_in_process(ws, resume_spec(ws, "mq"))
    assert status is JobStatus.SUCCEEDED, job2.error
    assert ws.get_trajectory("mq").n_frames == 21 and job2.result["production_trajectory"]
    with ws.open_trajectory("mq") as traj:
        assert (np.diff(traj.times_fs()) == 25.0).all()
