"""Tracer D* with known answers: random walks and lattice hops (orthogonal and triclinic,
wrapped into the box), coverage of the reported error over many seeds, fit-window logic."""

from __future__ import annotations

import json

import numpy as np
import pytest
from transport_walkers import (
    ORTHOGONAL,
    TRICLINIC,
    gaussian_walk,
    lattice_walk,
    write_wrapped,
)

from ssestudio.analysis import (
    choose_window,
    compute_msd,
    fit_diffusion,
    msd_from_array,
    random_walk_covariance,
    read_displacements,
)
from ssestudio.core.errors import UserInputError
from ssestudio.io import open_trajectory

A2PS = 1e-4  # cm^2/s per Å^2/ps


def _fit_file(tmp_path, positions, cell, **fit):
    path = write_wrapped(tmp_path / "walk.h5", positions, cell, ["Li"] * positions.shape[1],
                         timestep_fs=100.0)
    with open_trajectory(path) as traj:
        return fit_diffusion(compute_msd(read_displacements(traj, species="Li")), **fit)


def test_gaussian_walk_same_D_in_orthogonal_and_triclinic_box(tmp_path):
    x = gaussian_walk(np.random.default_rng(10), n_frames=300, n_atoms=24, D_A2_ps=0.4,
                      timestep_fs=100.0)
    ortho = _fit_file(tmp_path, x, ORTHOGONAL, hop_distance_A=1.0)
    tric = _fit_file(tmp_path, x, TRICLINIC, hop_distance_A=1.0)
    assert tric.D_cm2_s == pytest.approx(ortho.D_cm2_s, rel=1e-9)
    assert tric.D_err_cm2_s == pytest.approx(ortho.D_err_cm2_s, rel=1e-6)
    assert abs(ortho.D_cm2_s - 0.4 * A2PS) < 3 * ortho.D_err_cm2_s
    assert ortho.diffusive and ortho.fit_window_auto
    assert ortho.fit_window_ps[1] == pytest.approx(0.5 * 29.9, abs=0.11)  # half the span
    n_eff = 24 * 6 * ortho.D_cm2_s / A2PS * 29.9 / 1.0**2  # He et al.: N * MSD(t_total) / a^2
    assert ortho.n_eff_hops == pytest.approx(n_eff)
    assert ortho.D_hop_err_cm2_s == pytest.approx(ortho.D_cm2_s * (3.43 / np.sqrt(n_eff) + 0.04))
    json.dumps(ortho.to_dict())


def test_breathing_npt_cell(tmp_path):
    """A triclinic cell changing every frame (NPT-like): unwrapping follows it, D and the mean
    volume come out right."""
    x = gaussian_walk(np.random.default_rng(16), n_frames=300, n_atoms=24, D_A2_ps=0.4,
                      timestep_fs=100.0)
    scale = 1 + 0.01 * np.sin(2 * np.pi * np.arange(300) / 120)
    cells = scale[:, None, None] * TRICLINIC
    path = write_wrapped(tmp_path / "npt.h5", x, cells, ["Li"] * 24, timestep_fs=100.0)
    with open_trajectory(path) as traj:
        disp = read_displacements(traj, species="Li", chunk_frames=64)
    result = fit_diffusion(compute_msd(disp), hop_distance_A=1.0)
    assert abs(result.D_cm2_s - 0.4 * A2PS) < 3 * result.D_err_cm2_s
    assert disp.mean_volume_A3 == pytest.approx(np.mean(scale**3) * np.linalg.det(TRICLINIC))


def test_lattice_hops_with_vibrations_recovered_after_the_plateau():
    rng = np.random.default_rng(11)
    x = lattice_walk(rng, n_frames=600, n_atoms=48, hop_A=2.0, hop_probability=0.05, jitter_A=0.4)
    result = fit_diffusion(msd_from_array(x, timestep_fs=100.0), hop_distance_A=2.0)
    D_true = 0.05 * 2.0**2 / 6 / 0.1 * A2PS
    assert abs(result.D_cm2_s - D_true) < 3 * result.D_err_cm2_s
    assert result.D_err_cm2_s < 0.2 * D_true
    assert result.fit_window_ps[0] >= 0.5  # the vibrational offset is skipped
    assert result.diffusive and result.non_gaussian_max > 0.1


def test_reported_error_is_neither_over_nor_under_estimated():
    """Coverage over 60 seeds: |D - D_true| < D_err in 50-95 % of the runs."""
    D, errors = [], []
    for seed in range(60):
        x = gaussian_walk(np.random.default_rng(100 + seed), n_frames=200, n_atoms=16,
                          D_A2_ps=0.5, timestep_fs=100.0)
        r = fit_diffusion(msd_from_array(x, timestep_fs=100.0), hop_distance_A=1.0)
        D.append(r.D_cm2_s / A2PS)
        errors.append(r.D_err_cm2_s / A2PS)
    D, errors = np.array(D), np.array(errors)
    inside = np.mean(np.abs(D - 0.5) < errors)
    assert 0.5 <= inside <= 0.95, inside
    assert 0.6 < np.median(errors) / np.std(D) < 1.6
    assert abs(D.mean() - 0.5) < 3 * np.std(D) / np.sqrt(len(D))  # unbiased


def test_random_walk_covariance_matches_brute_force_and_monte_carlo():
    T, lags = 30, np.array([1, 5, 12, 20])
    brute = np.zeros((4, 4))
    for p, m in enumerate(lags):
        for q, mp in enumerate(lags):
            s = sum(max(0, min(k + m, kp + mp) - max(k, kp)) ** 2
                    for k in range(T - m) for kp in range(T - mp))
            brute[p, q] = s / ((T - m) * (T - mp))
    G = random_walk_covariance(lags, T)
    np.testing.assert_allclose(G, brute, rtol=1e-12)
    steps = np.random.default_rng(12).normal(size=(20000, T - 1))  # sigma = 1, 1D
    x = np.concatenate([np.zeros((20000, 1)), np.cumsum(steps, axis=1)], axis=1)
    samples = np.stack([((x[:, m:] - x[:, :-m]) ** 2).mean(axis=1) for m in lags], axis=1)
    np.testing.assert_allclose(np.cov(samples.T), 2 * G, rtol=0.1)


def test_direction_fit_of_an_anisotropic_walk():
    x = gaussian_walk(np.random.default_rng(13), n_frames=400, n_atoms=32, D_A2_ps=0.5,
                      timestep_fs=100.0, scale_xyz=(1.0, 1.0, 0.2))
    msd = msd_from_array(x, timestep_fs=100.0)
    z = fit_diffusion(msd, direction="z", hop_distance_A=1.0)
    x_fit = fit_diffusion(msd, direction=(1, 0, 0), hop_distance_A=1.0)
    assert z.n_dims == 1 and z.direction == (0.0, 0.0, 1.0)
    assert abs(z.D_cm2_s - 0.1 * A2PS) < 3 * z.D_err_cm2_s
    assert abs(x_fit.D_cm2_s - 0.5 * A2PS) < 3 * x_fit.D_err_cm2_s


def _caged(seed: int, *, n_frames=400, n_atoms=32, tau_frames=150.0):
    """Ornstein-Uhlenbeck walkers: MSD bends over on the scale of tau (sub-diffusive)."""
    rng = np.random.default_rng(seed)
    decay = np.exp(-1.0 / tau_frames)
    x = np.zeros((n_frames, n_atoms, 3))
    for t in range(1, n_frames):
        x[t] = decay * x[t - 1] + rng.normal(scale=0.3, size=(n_atoms, 3))
    return x


def test_bending_msd_is_flagged_and_its_error_covers_the_window_dependence():
    result = fit_diffusion(msd_from_array(_caged(14), timestep_fs=100.0), hop_distance_A=1.0)
    assert not result.diffusive
    assert any("diffusive regime not reached" in w for w in result.warnings)
    assert result.D_window_err_cm2_s > result.D_gls_err_cm2_s
    low, high = min(result.window_D_cm2_s), max(result.window_D_cm2_s)
    assert result.D_cm2_s - result.D_err_cm2_s <= low * 1.02
    assert result.D_cm2_s + result.D_err_cm2_s >= high * 0.98


def test_user_fit_window_and_bad_windows():
    x = gaussian_walk(np.random.default_rng(15), n_frames=200, n_atoms=16, D_A2_ps=0.5,
                      timestep_fs=100.0)
    msd = msd_from_array(x, timestep_fs=100.0)
    result = fit_diffusion(msd, fit_window_ps=(2.0, 8.0), hop_distance_A=1.0)
    assert result.fit_window_ps == pytest.approx((2.0, 8.0)) and not result.fit_window_auto
    for bad in [(5.0, 2.0), (0.0, 100.0), (3.0, 3.1)]:
        with pytest.raises(UserInputError, match="fit window"):
            fit_diffusion(msd, fit_window_ps=bad)
    with pytest.raises(UserInputError, match="at least 8 frames"):
        fit_diffusion(msd_from_array(x[:5], timestep_fs=100.0))


def test_choose_window_skips_ballistic_and_plateau():
    t = np.arange(1000.0)
    msd = np.where(t < 5, t**2, 25.0) + 0.5 * np.maximum(t - 30, 0)  # ballistic, plateau, diffusive
    window = choose_window(msd)  # local slope 0.5 t / (10 + 0.5 t) reaches 0.8 at t = 80
    assert window.diffusive_start and window.end == 500 and 80 <= window.start <= 110
    flat = choose_window(np.concatenate([[0.0], np.full(99, 4.0)]))  # caged forever
    assert not flat.diffusive_start
