"""Explosion checks: a run that goes unphysical stops with a message saying what and why."""

import numpy as np
import pytest
from mdtest_helpers import ARGON_LJ, UncertainEMT, argon, copper

from ssestudio.calculators import get_calculator
from ssestudio.io import open_trajectory
from ssestudio.md import MDConfig, MDExplodedError, check_state, open_md_writer, read_thermo, run_md


def test_lennard_jones_with_a_huge_timestep_explodes(tmp_path):
    atoms = argon()
    config = MDConfig(ensemble="nvt-bussi", temperature_K=300.0, timestep_fs=80.0, n_steps=400,
                      write_interval=2, seed=1)
    with open_md_writer(tmp_path / "boom.h5", atoms, config) as writer:
        with pytest.raises(MDExplodedError, match=r"MD exploded at step \d+: .*reduce "
                                                  r"timestep_fs") as info:
            run_md(atoms, get_calculator("lj", **ARGON_LJ), config, writer=writer)
        assert info.value.step > 0 and writer.n_frames == info.value.step // 2
    with open_trajectory(str(tmp_path / "boom.h5")) as traj:  # only sane frames were written
        assert np.isfinite(traj.positions()).all()


def test_the_same_lennard_jones_system_is_stable_at_a_sane_timestep():
    result = run_md(argon(), get_calculator("lj", **ARGON_LJ),
                    MDConfig(ensemble="nvt-bussi", temperature_K=80.0, timestep_fs=5.0,
                             n_steps=100, write_interval=10, seed=1))
    assert result.n_steps_done == 100 and 40 < result.mean_T_K < 140


def test_ensemble_uncertainty_beyond_the_limit_stops_the_run(tmp_path):
    config = MDConfig(ensemble="nvt-langevin", n_steps=200, write_interval=5, seed=1,
                      max_uncertainty_eV_A=0.5, log_stress=False)
    with pytest.raises(MDExplodedError, match=r"ensemble force deviation 0.5\d* eV/Å exceeds "
                                              r"max_uncertainty_eV_A = 0.5 eV/Å.*extrapolating"):
        run_md(copper(1), UncertainEMT(rate=0.01), config, thermo_path=tmp_path / "t.csv")
    th = read_thermo(tmp_path / "t.csv")
    deviation = th["max_force_dev_eV_A"]
    assert 0 < deviation.max() <= 0.5 and np.all(np.diff(deviation) > 0)


def test_uncertainty_below_the_limit_is_reported_not_fatal():
    result = run_md(copper(1), UncertainEMT(rate=1e-4),
                    MDConfig(n_steps=50, write_interval=10, seed=1, log_stress=False))
    assert 0 < result.max_force_deviation_eV_A < 0.01
    result = run_md(copper(1), UncertainEMT(rate=1.0),
                    MDConfig(n_steps=20, write_interval=10, seed=1, max_uncertainty_eV_A=None))
    assert result.max_force_deviation_eV_A > 1.0  # the check can be switched off


def test_runaway_cell_volume_stops_an_npt_run():
    config = MDConfig(ensemble="npt-mtk-iso", temperature_K=300.0, pressure_GPa=-40.0,
                      timestep_fs=5.0, n_steps=2000, write_interval=5, seed=1,
                      barostat_time_fs=300.0, max_volume_factor=1.3)
    with pytest.raises(MDExplodedError, match="cell volume changed by a factor"):
        run_md(copper(1).repeat((2, 1, 1)), get_calculator("emt"), config)


def test_check_state_catches_a_non_finite_temperature():
    with pytest.raises(MDExplodedError, match="non-finite positions, energy or temperature"):
        check_state(copper(1), step=3, epot_eV=-1.0, temperature_K=float("inf"), target_K=300.0,
                    max_temperature_factor=10.0, min_distance_A=0.5)
