"""Thermostats and barostats against known answers (EMT copper).

NVT: the mean kinetic temperature is the target and its variance is canonical,
``var(T) / T^2 = 2 / N_dof`` (N_dof = 3N - 3 with the centre of mass fixed). NPT (MTK):
at zero pressure and low temperature the mean volume is the energy minimum's (plus a
little thermal expansion); negative pressure expands the cell, positive pressure
compresses it.
"""

import numpy as np
import pytest
from ase.build import bulk
from mdtest_helpers import copper

from ssestudio.calculators import get_calculator
from ssestudio.core.errors import UserInputError
from ssestudio.md import MDConfig, available_ensembles, get_integrator, read_thermo, run_md


def _cu16():
    return bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 2, 1))


def _run(tmp_path, config, atoms=None):
    atoms = _cu16() if atoms is None else atoms
    path = tmp_path / "thermo.csv"
    result = run_md(atoms, get_calculator("emt"), config, thermo_path=path)
    return read_thermo(path), result, atoms


def _block_sem(x, n_blocks=10):
    means = np.array([b.mean() for b in np.array_split(x, n_blocks)])
    return means.std(ddof=1) / np.sqrt(n_blocks)


@pytest.mark.parametrize("ensemble", ["nvt-langevin", "nvt-bussi", "nvt-nhc"])
def test_thermostat_gives_canonical_temperature_distribution(tmp_path, ensemble):
    target = 500.0
    config = MDConfig(ensemble=ensemble, temperature_K=target, timestep_fs=5.0, n_steps=1500,
                      write_interval=2, seed=11, friction_per_fs=0.05, thermostat_time_fs=40.0,
                      log_stress=False)
    th, result, atoms = _run(tmp_path, config)
    keep = th["step"] >= 200  # 1 ps of equilibration dropped
    temps = th["T_K"][keep]
    assert abs(temps.mean() - target) < 4 * _block_sem(temps) + 10.0, temps.mean()
    n_dof = 3 * len(atoms) - 3  # centre of mass fixed
    ratio = temps.var() / target**2 / (2.0 / n_dof)
    assert 0.6 < ratio < 1.5, ratio
    np.testing.assert_array_equal(th["target_T_K"], target)
    np.testing.assert_allclose(atoms.get_momenta().sum(axis=0), 0.0, atol=1e-9)
    assert result.mean_T_K == pytest.approx(th["T_K"][1:].mean(), rel=1e-9)


@pytest.mark.parametrize("ensemble", ["nvt-bussi", "nvt-nhc"])
def test_thermostat_conserved_energy_does_not_drift(tmp_path, ensemble):
    config = MDConfig(ensemble=ensemble, temperature_K=600.0, timestep_fs=2.0, n_steps=400,
                      write_interval=5, seed=2, thermostat_time_fs=50.0, log_stress=False)
    th, _, atoms = _run(tmp_path, config)
    econs, etot = th["Econs_eV"], th["Etot_eV"]
    assert np.isfinite(econs).all()
    assert np.ptp(econs) < 0.1 * np.ptp(etot)  # Etot exchanges energy with the bath
    drift = np.polyfit(th["time_fs"], econs, 1)[0] * 1000 / len(atoms)  # eV/atom/ps
    assert abs(drift) < 2e-4, drift


def _minimum_volume_per_atom():
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS

    atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
    atoms.calc = get_calculator("emt")
    BFGS(FrechetCellFilter(atoms), logfile=None).run(fmax=1e-6)
    return atoms.get_volume() / len(atoms)


def _npt(tmp_path, pressure_GPa, *, ensemble="npt-mtk-iso", n_steps=600):
    config = MDConfig(ensemble=ensemble, temperature_K=50.0, pressure_GPa=pressure_GPa,
                      timestep_fs=5.0, n_steps=n_steps, write_interval=5, seed=4,
                      thermostat_time_fs=100.0, barostat_time_fs=600.0)
    th, result, atoms = _run(tmp_path, config)
    keep = th["step"] >= 150
    return th["V_A3"][keep] / len(atoms), th["P_GPa"][keep], result


def test_mtk_isotropic_zero_pressure_volume_is_the_energy_minimum(tmp_path):
    v_min = _minimum_volume_per_atom()
    volumes, pressures, result = _npt(tmp_path, 0.0)
    assert abs(volumes.mean() / v_min - 1.0) < 0.008, volumes.mean() / v_min
    assert abs(pressures.mean()) < 0.3  # GPa
    assert result.mean_density_g_cm3 == pytest.approx(63.546 / v_min * 1.66054, rel=0.01)
    assert np.ptp(volumes) > 0  # the cell does fluctuate


def test_mtk_isotropic_volume_follows_pressure(tmp_path):
    v_min = _minimum_volume_per_atom()
    expanded, p_neg, _ = _npt(tmp_path, -2.0, n_steps=400)
    compressed, p_pos, _ = _npt(tmp_path, 2.0, n_steps=400)
    assert expanded.mean() > 1.008 * v_min and compressed.mean() < 0.997 * v_min
    assert p_neg.mean() == pytest.approx(-2.0, abs=0.4)
    assert p_pos.mean() == pytest.approx(2.0, abs=0.4)


@pytest.mark.parametrize("ensemble", ["npt-mtk-aniso", "npt-mtk-axes"])
def test_anisotropic_barostats_compress_under_pressure(tmp_path, ensemble):
    v_min = _minimum_volume_per_atom()
    volumes, pressures, _ = _npt(tmp_path, 3.0, ensemble=ensemble, n_steps=400)
    assert volumes.mean() < 0.995 * v_min
    assert pressures.mean() == pytest.approx(3.0, abs=0.6)


def test_axes_barostat_keeps_cell_angles():
    atoms = _cu16()
    run_md(atoms, get_calculator("emt"), MDConfig(ensemble="npt-mtk-axes", temperature_K=300.0,
                                                   pressure_GPa=1.0, timestep_fs=5.0, n_steps=60,
                                                   write_interval=10, seed=1,
                                                   barostat_time_fs=500.0))
    np.testing.assert_allclose(atoms.cell.angles(), 90.0, atol=1e-8)
    assert not np.allclose(atoms.cell.lengths(), [7.22, 7.22, 3.61])


def test_ensembles_registered_with_their_capabilities():
    names = set(available_ensembles())
    assert names >= {"nve", "nvt-langevin", "nvt-bussi", "nvt-nhc", "npt-mtk-iso",
                     "npt-mtk-aniso", "npt-mtk-axes"}
    assert not get_integrator("nve").thermostat and get_integrator("nvt-nhc").state
    assert all(get_integrator(n).barostat and not get_integrator(n).constraints
               for n in names if n.startswith("npt"))


@pytest.mark.parametrize("bad, match", [
    (dict(ensemble="nve", end_temperature_K=500.0), "needs a thermostat"),
    (dict(ensemble="nvt-bussi", pressure_GPa=1.0), "applies to NPT ensembles"),
    (dict(thermostat_time_fs=0.0), "thermostat_time_fs"),
    (dict(chain_length=0), "chain_length must be an integer"),
    (dict(max_uncertainty_eV_A=-1.0), "max_uncertainty_eV_A"),
    (dict(schedule_interval=2.5), "schedule_interval"),
])
def test_new_config_values_are_checked(bad, match):
    with pytest.raises(UserInputError, match=match):
        MDConfig(**bad)


def test_mtk_refuses_user_constraints():
    from ase.constraints import FixAtoms

    atoms = copper(1)
    atoms.set_constraint(FixAtoms([0]))
    with pytest.raises(UserInputError, match="does not support ASE constraints"):
        run_md(atoms, get_calculator("emt"), MDConfig(ensemble="npt-mtk-iso", n_steps=5))


def test_bussi_needs_kinetic_energy():
    atoms = copper(1)
    with pytest.raises(UserInputError, match="cannot start 'nvt-bussi'"):
        run_md(atoms, get_calculator("emt"), MDConfig(ensemble="nvt-bussi", temperature_K=0.0,
                                                       n_steps=5))
