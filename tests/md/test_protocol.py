"""Schedules and protocols: targets that change as specified, stages that compose."""

import dataclasses
import json

import numpy as np
import pytest
from mdtest_helpers import copper

from ssestudio.calculators import get_calculator
from ssestudio.core.errors import UserInputError
from ssestudio.io import open_trajectory
from ssestudio.md import (MELT_QUENCH_PRESETS, MDConfig, MeltQuenchConfig, Output, Protocol,
                          Stage, equilibrate, md_stage, melt_quench_protocol,
                          melt_quench_schedule, open_md_writer, read_thermo, run_protocol,
                          temperature_ramp)


def test_ramp_targets_are_piecewise_constant_along_the_line():
    cfg = MDConfig(ensemble="nvt-bussi", temperature_K=300.0, end_temperature_K=600.0,
                   n_steps=100, schedule_interval=10)
    assert [cfg.targets_at(s)[0] for s in (0, 9, 10, 55, 99, 100)] == pytest.approx(
        [300.0, 300.0, 330.0, 450.0, 570.0, 600.0])
    npt = MDConfig(ensemble="npt-mtk-iso", pressure_GPa=0.0, end_pressure_GPa=2.0, n_steps=50,
                   schedule_interval=25)
    assert [npt.targets_at(s)[1] for s in (0, 24, 25, 50)] == pytest.approx([0, 0, 1, 2])


def test_schedule_changes_the_thermostat_target_as_specified(tmp_path):
    cfg = MDConfig(ensemble="nvt-langevin", temperature_K=200.0, end_temperature_K=900.0,
                   n_steps=400, write_interval=5, schedule_interval=20, timestep_fs=5.0,
                   friction_per_fs=0.1, seed=3, log_stress=False)
    protocol = Protocol((Stage("ramp", cfg),), seed=3)
    atoms = copper(1).repeat((2, 2, 1))
    run_protocol(atoms, get_calculator("emt"), protocol,
                 outputs={"main": Output(thermo_path=tmp_path / "t.csv")})
    th = read_thermo(tmp_path / "t.csv")
    expected = [cfg.targets_at(int(s))[0] for s in th["step"]]
    np.testing.assert_allclose(th["target_T_K"], expected)
    early, late = th["T_K"][th["step"] <= 100], th["T_K"][th["step"] >= 300]
    # a strongly coupled bath follows the target: ~300 K early, ~810 K late
    assert late.mean() - early.mean() > 300
    assert abs(late.mean() - np.mean(expected[-20:])) < 150


def test_protocols_compose_and_continue_the_dynamics():
    base = MDConfig(timestep_fs=2.0, write_interval=5)
    protocol = (equilibrate(300.0, 0.1, ensemble="npt-mtk-iso", pressure_GPa=0.5, base=base)
                + temperature_ramp(300.0, 500.0, rate_K_per_ps=1000.0, ensemble="nvt-bussi",
                                   base=base))
    eq, ramp = protocol.stages
    assert eq.config.init_velocities and not ramp.config.init_velocities
    assert eq.config.n_steps == 50 and ramp.config.n_steps == 100
    assert ramp.config.end_temperature_K == 500.0 and eq.config.pressure_GPa == 0.5
    assert protocol.outputs == ("main",) and protocol.duration_fs == 300.0
    schedule = protocol.schedule()
    np.testing.assert_allclose(schedule.time_fs, [0, 100, 100, 300])
    np.testing.assert_allclose(schedule.temperature_K, [300, 300, 300, 500])
    np.testing.assert_allclose(schedule.pressure_GPa[:2], [0.5, 0.5])
    assert np.isnan(schedule.pressure_GPa[2:]).all()
    assert schedule.temperature_at([50.0, 200.0, 300.0]) == pytest.approx([300.0, 400.0, 500.0])
    json.dumps(protocol.to_dict())


def test_stage_lengths_are_whole_write_intervals():
    stage = md_stage("x", 0.0123, ensemble="nve", temperature_K=10.0,
                     base=MDConfig(timestep_fs=1.0, write_interval=5))
    assert stage.config.n_steps == 10  # 12.3 steps -> 2 frames of 5 steps


@pytest.mark.parametrize("stages, match", [
    ((Stage("a", MDConfig()), Stage("a", MDConfig())), "unique"),
    ((Stage("a", MDConfig(), start_cell="mean"),), "first stage"),
    ((Stage("a", MDConfig(timestep_fs=1.0)), Stage("b", MDConfig(timestep_fs=2.0))),
     "must share timestep_fs"),
    ((), "at least one Stage"),
])
def test_protocol_checks(stages, match):
    with pytest.raises(UserInputError, match=match):
        Protocol(stages)


def test_melt_quench_schedule_has_the_documented_segments():
    schedule = melt_quench_schedule("quick")
    assert schedule.stage_names == ("heat", "melt", "quench", "anneal", "relax", "production")
    assert schedule.ensembles == ("nvt-bussi",) * 4 + ("npt-mtk-iso", "nvt-bussi")
    np.testing.assert_allclose(schedule.time_ps,
                               [0, 2, 2, 6, 6, 12, 12, 14, 14, 20, 20, 26])
    np.testing.assert_allclose(schedule.temperature_K,
                               [300, 1500, 1500, 1500, 1500, 300] + [300] * 6)
    relax = schedule.stage == 4
    np.testing.assert_allclose(schedule.pressure_GPa[relax], 0.0)
    assert np.isnan(schedule.pressure_GPa[~relax]).all()
    # a quench at 200 K/ps from 1500 K: 1200 K in 6 ps
    assert schedule.temperature_at(9000.0) == pytest.approx(1500.0 - 200.0 * 3.0)


def test_melt_quench_protocol_options():
    config = dataclasses.replace(MELT_QUENCH_PRESETS["quick"].config, anneal_K=500.0,
                                 heat_ps=0.0, production_ps=0.0)
    protocol = melt_quench_protocol(config, seed=4)
    assert [s.name for s in protocol.stages] == ["melt", "quench", "anneal", "cool", "relax"]
    melt, quench, _, cool, relax = protocol.stages
    assert melt.config.init_velocities and melt.config.temperature_K == 1500.0
    assert quench.config.end_temperature_K == 500.0 and cool.config.end_temperature_K == 300.0
    assert relax.config.ensemble == "npt-mtk-iso" and protocol.outputs == ("protocol",)
    full = melt_quench_protocol(MeltQuenchConfig())
    assert full.stages[-1].output == "production" and full.stages[-1].start_cell == "mean"
    with pytest.raises(UserInputError, match="final_K <= anneal_K < melt_K"):
        MeltQuenchConfig(anneal_K=2000.0)
    with pytest.raises(UserInputError, match="barostat must be an NPT ensemble"):
        MeltQuenchConfig(barostat="nvt-bussi")


def test_npt_then_nvt_at_the_mean_cell_with_separate_outputs(tmp_path):
    base = MDConfig(timestep_fs=5.0, write_interval=5, barostat_time_fs=500.0,
                    log_stress=True)
    relax = md_stage("relax", 0.5, ensemble="npt-mtk-iso", temperature_K=300.0,
                     pressure_GPa=-3.0, base=base, output=None, init_velocities=True)
    prod = md_stage("production", 0.1, ensemble="nvt-bussi", temperature_K=300.0, base=base,
                    output="production", start_cell="mean")
    atoms = copper(1).repeat((2, 1, 1))
    with open_md_writer(tmp_path / "p.h5", atoms, prod.config) as writer:
        result = run_protocol(atoms, get_calculator("emt"), Protocol((relax, prod), seed=2),
                              outputs={"production": Output(writer, tmp_path / "p.csv")})
    assert result.stage_names == ("relax", "production") and not result.stopped
    assert result.n_frames == {"production": 5}  # steps 0, 5, ..., 20
    th = read_thermo(tmp_path / "p.csv")
    np.testing.assert_allclose(th["time_fs"], [0, 25, 50, 75, 100])
    assert np.ptp(th["V_A3"]) == 0  # NVT
    assert th["V_A3"][0] > 1.008 * copper(1).get_volume() * 2  # expanded at -3 GPa
    assert result.final_volume_A3 == pytest.approx(th["V_A3"][0])
    assert result.stage("relax").mean_P_GPa == pytest.approx(-3.0, abs=1.0)
    with open_trajectory(str(tmp_path / "p.h5")) as traj:
        assert traj.n_frames == 5 and traj[0].stress is not None
        meta = traj.info.extra["metadata"]["md_config"]
        assert meta["ensemble"] == "nvt-bussi"
    json.dumps(result.to_dict())
