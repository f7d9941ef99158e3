"""The MD runner: physics (NVE conservation, NVT temperature), output files, checks."""

import sys

import numpy as np
import pytest
from ase import Atoms
from mdtest_helpers import copper

from ssestudio.calculators import get_calculator
from ssestudio.core.errors import UserInputError
from ssestudio.io import open_trajectory
from ssestudio.md import (THERMO_COLUMNS, MDConfig, MDExplodedError, available_ensembles,
                          check_state, open_md_writer, run_md)


def _thermo(path):
    return np.loadtxt(path, delimiter=",", skiprows=1)


def _nve_etot(tmp_path, timestep_fs, n_steps=200):
    atoms = copper(2)
    config = MDConfig(ensemble="nve", temperature_K=600.0, timestep_fs=timestep_fs,
                      n_steps=n_steps, write_interval=2, seed=1)
    path = tmp_path / f"nve{timestep_fs}.csv"
    result = run_md(atoms, get_calculator("emt"), config, thermo_path=path)
    return _thermo(path), result


def test_nve_conserves_energy_with_second_order_error(tmp_path):
    """Velocity Verlet: total energy fluctuates ~dt^2 around a constant, without drift."""
    rows2, result = _nve_etot(tmp_path, 2.0)
    rows1, _ = _nve_etot(tmp_path, 1.0, n_steps=400)  # the same 400 fs
    etot2, etot1 = rows2[:, 5], rows1[:, 5]
    n = len(copper(2))
    assert np.ptp(etot2) / n < 0.3e-3  # eV/atom; kinetic energy itself swings ~20 meV/atom
    assert np.ptp(rows2[:, 4]) / n > 20 * np.ptp(etot2) / n
    ratio = etot2.std() / etot1.std()
    assert 2.5 < ratio < 6.5, ratio  # 4 for a second-order integrator
    drift_meV_atom_ps = np.polyfit(rows2[:, 1], etot2, 1)[0] * 1e6 / n
    assert abs(drift_meV_atom_ps) < 0.1
    assert result.n_steps_done == 200 and result.n_frames == 101
    assert result.final_etot_eV == pytest.approx(etot2[-1], abs=1e-8)


def _block_sem(x, n_blocks=10):
    means = np.array([b.mean() for b in np.array_split(x, n_blocks)])
    return means.std(ddof=1) / np.sqrt(n_blocks)


def test_nvt_langevin_samples_target_temperature(tmp_path):
    target, n = 500.0, len(copper(2))
    config = MDConfig(ensemble="nvt-langevin", temperature_K=target, timestep_fs=2.0,
                      n_steps=600, write_interval=2, friction_per_fs=0.05, seed=7)
    path = tmp_path / "nvt.csv"
    result = run_md(copper(2), get_calculator("emt"), config, thermo_path=path)
    rows = _thermo(path)
    temps = rows[rows[:, 0] >= 100, 2]  # 200 fs of equilibration dropped (1/gamma = 20 fs)
    sem = _block_sem(temps)
    assert abs(temps.mean() - target) < 4 * sem + 5.0, (temps.mean(), sem)
    expected_std = target * np.sqrt(2.0 / (3 * n - 3))  # canonical kinetic-T fluctuation
    assert 0.7 < temps.std() / expected_std < 1.4
    assert result.mean_T_K == pytest.approx(rows[1:, 2].mean(), rel=1e-6)


def test_writer_output_is_readable_and_consistent(tmp_path):
    atoms = copper(2)
    config = MDConfig(temperature_K=300.0, timestep_fs=2.0, n_steps=25, write_interval=5, seed=3)
    progress = []
    with open_md_writer(tmp_path / "md.h5", atoms, config, metadata={"who": "test"}) as writer:
        result = run_md(atoms, get_calculator("emt"), config, writer=writer,
                        progress=lambda f, m: progress.append(f))
    assert result.trajectory_path == tmp_path / "md.h5"
    assert result.thermo_path == tmp_path / "md.thermo.csv" and result.n_frames == 6
    with open_trajectory(str(tmp_path / "md.h5")) as traj:
        assert traj.n_frames == 6 and traj.info.timestep_fs == 10.0
        np.testing.assert_allclose(traj.times_fs(), [0, 10, 20, 30, 40, 50])
        assert traj.info.has_velocities and traj.info.has_forces and traj.info.has_energies
        last = traj[-1]
        np.testing.assert_allclose(last.positions, atoms.positions)
        np.testing.assert_allclose(last.velocities, atoms.get_velocities(), rtol=1e-12)
        np.testing.assert_allclose(last.forces, atoms.get_forces(), atol=1e-12)
        assert last.energy == pytest.approx(result.final_epot_eV)
        assert traj.info.extra["metadata"]["who"] == "test"
        assert traj.info.extra["metadata"]["md_config"]["seed"] == 3
    header = (tmp_path / "md.thermo.csv").read_text().splitlines()[0]
    assert tuple(header.split(",")) == THERMO_COLUMNS
    rows = _thermo(tmp_path / "md.thermo.csv")
    np.testing.assert_allclose(rows[:, 0], [0, 5, 10, 15, 20, 25])
    np.testing.assert_allclose(rows[:, 5], rows[:, 3] + rows[:, 4])
    assert progress == sorted(progress) and progress[-1] == 1.0


def test_same_seed_same_trajectory_and_com_fixed():
    runs = []
    for _ in range(2):
        atoms = copper(1)
        atoms.set_constraint()
        run_md(atoms, get_calculator("emt"), MDConfig(n_steps=20, write_interval=5, seed=11))
        runs.append(atoms)
    np.testing.assert_array_equal(runs[0].positions, runs[1].positions)
    assert runs[0].constraints == []  # the run's FixCom was removed again
    np.testing.assert_allclose(runs[0].get_momenta().sum(axis=0), 0.0, atol=1e-10)


def test_should_stop_ends_early_and_exceptions_propagate(tmp_path):
    atoms = copper(1)
    calls = []

    def stop_on_third():
        calls.append(1)
        return len(calls) == 3

    config = MDConfig(n_steps=100, write_interval=5, seed=0)
    result = run_md(atoms, get_calculator("emt"), config, should_stop=stop_on_third)
    assert result.stopped and result.n_steps_done == 10 and result.n_frames == 3

    class Cancelled(Exception):
        pass

    def cancel():
        raise Cancelled

    with open_md_writer(tmp_path / "c.h5", atoms, config) as writer:
        with pytest.raises(Cancelled):
            run_md(atoms, get_calculator("emt"), config, writer=writer, should_stop=cancel)
        assert writer.n_frames == 1
    with open_trajectory(str(tmp_path / "c.h5")) as traj:
        assert traj.n_frames == 1


def test_overlapping_atoms_explode_at_step_zero():
    atoms = Atoms("Cu2", positions=[[0, 0, 0], [0.3, 0, 0]], cell=[8, 8, 8], pbc=True)
    with pytest.raises(MDExplodedError, match=r"step 0: atoms 0 \(Cu\) and 1 \(Cu\) are "
                                              r"0.300 Å apart") as info:
        run_md(atoms, get_calculator("emt"), MDConfig(n_steps=10, seed=0))
    assert info.value.step == 0


def test_huge_timestep_explodes_and_keeps_earlier_frames(tmp_path):
    atoms = copper(2)
    config = MDConfig(ensemble="nve", timestep_fs=40.0, n_steps=200, write_interval=1, seed=0)
    with open_md_writer(tmp_path / "boom.h5", atoms, config) as writer:
        with pytest.raises(MDExplodedError, match="MD exploded at step") as info:
            run_md(atoms, get_calculator("emt"), config, writer=writer)
        assert 0 < info.value.step == writer.n_frames
    with open_trajectory(str(tmp_path / "boom.h5")) as traj:
        assert np.isfinite(traj.positions()).all()


def test_check_state_catches_non_finite_and_hot_states():
    atoms = copper(1)
    kwargs = dict(step=7, temperature_K=300.0, target_K=300.0, max_temperature_factor=10.0,
                  min_distance_A=0.5)
    check_state(atoms, epot_eV=-1.0, **kwargs)
    with pytest.raises(MDExplodedError, match="step 7: non-finite"):
        check_state(atoms, epot_eV=float("nan"), **kwargs)
    with pytest.raises(MDExplodedError, match="temperature 4000 K exceeds 10 x"):
        check_state(atoms, epot_eV=-1.0, **{**kwargs, "temperature_K": 4000.0})


@pytest.mark.parametrize("bad", [dict(ensemble="npt"), dict(timestep_fs=0.0),
                                 dict(n_steps=0), dict(write_interval=2.5),
                                 dict(temperature_K=-1.0), dict(friction_per_fs=0.0),
                                 dict(temperature_K="hot")])
def test_config_rejects_bad_values(bad):
    with pytest.raises(UserInputError):
        MDConfig(**bad)


def test_ensembles_registered():
    assert set(available_ensembles()) >= {"nve", "nvt-langevin"}
    assert MDConfig(timestep_fs=2.0, write_interval=5).frame_interval_fs == 10.0


def test_close_pair_fallback_matches_vesin(monkeypatch):
    from ssestudio.md import checks

    atoms = copper(2)
    atoms.positions[5] = atoms.positions[9] + [0.2, 0.1, 0.0]
    d_expected = float(np.hypot(0.2, 0.1))
    pytest.importorskip("vesin")
    assert sorted(checks.closest_pair(atoms, 0.5)[:2]) == [5, 9]

    monkeypatch.setitem(sys.modules, "vesin", None)  # import vesin now raises ImportError
    i, j, d = checks.closest_pair(atoms, 0.5)
    assert sorted((i, j)) == [5, 9] and d == pytest.approx(d_expected)
    assert checks.closest_pair(copper(2), 0.5) is None
