"""Orientations, symmetric jumps, C1/C2 against rotational-diffusion theory, KWW fits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ssestudio.analysis.rotation import (
    RotationConfig,
    analyze_rotation,
    fit_quaternions,
    fit_relaxation,
    rotation_angle_deg,
)
from ssestudio.analysis.rotation.orientation import kww, mean_relaxation_time
from ssestudio.analysis.rotation.synthetic import (
    RotorModel,
    axis_angle_quaternion,
    quaternion_matrix,
    random_quaternions,
    simulate,
    tetrahedron,
)

FAST = {"n_shuffles": 20, "n_bootstrap": 20}


def test_horn_fit_recovers_known_rotations():
    rng = np.random.default_rng(4)
    ref = rng.normal(size=(6, 4, 3))
    q_true = random_quaternions(18, rng).reshape(3, 6, 4)
    current = np.einsum("tuab,ulb->tula", quaternion_matrix(q_true), ref)
    q, rmsd = fit_quaternions(ref, current)
    assert np.abs(np.einsum("tuk,tuk->tu", q, q_true)) == pytest.approx(1.0, abs=1e-10)
    assert rmsd.max() < 1e-6
    q1, _ = fit_quaternions(ref, current, chunk_frames=1)  # solved frame by frame
    assert np.abs(np.einsum("tuk,tuk->tu", q1, q)) == pytest.approx(1.0, abs=1e-10)
    noisy = current + rng.normal(scale=0.1, size=current.shape)
    assert 0.05 < fit_quaternions(ref, noisy)[1].mean() < 0.15


def test_c3_jump_of_a_tetrahedron_is_120_degrees_not_0():
    """A 120° turn about a P-S bond maps the S positions onto each other; with the S atoms
    tracked by index it is a 120° rotation."""
    tet = tetrahedron(2.05)
    turned = tet @ quaternion_matrix(axis_angle_quaternion(tet[0], math.radians(120))).T
    # the set of positions is unchanged (a symmetry operation) ...
    d = np.linalg.norm(turned[:, None] - tet[None], axis=-1)
    assert d.min(axis=1) == pytest.approx(np.zeros(4), abs=1e-12)
    assert not np.allclose(turned, tet)  # ... but the atoms moved
    q, _ = fit_quaternions(tet[None], np.stack([tet, turned])[:, None])
    assert rotation_angle_deg(q[0], q[1])[0] == pytest.approx(120.0, abs=1e-6)
    c2 = tet @ quaternion_matrix(axis_angle_quaternion(tet[0] + tet[1], math.pi)).T
    q, _ = fit_quaternions(tet[None], np.stack([tet, c2])[:, None])
    assert rotation_angle_deg(q[0], q[1])[0] == pytest.approx(180.0, abs=1e-6)


@pytest.fixture(scope="module")
def jumps(tmp_path_factory):
    run = simulate(RotorModel(n_frames=1200, timestep_fs=10.0, jump_rate_per_ps=0.3,
                              cations_per_unit=1, seed=5))
    return run, run.write(tmp_path_factory.mktemp("rot") / "jumps.h5")


def test_symmetric_jumps_are_counted_with_their_angle(jumps):
    run, path = jumps
    r = analyze_rotation(path, RotationConfig(n_bootstrap_fit=0, **FAST))
    ev = r.rotation_events
    assert len(run.rotation_frame) > 50
    def matched(units, frames, other_units, other_frames):
        return [np.any((other_units == u) & (np.abs(other_frames - f) <= 3))
                for u, f in zip(units, frames)]

    assert all(matched(ev.index, ev.frame, run.rotation_unit, run.rotation_frame))
    inner = (run.rotation_frame >= 30) & (run.rotation_frame < 1170)  # 25-frame half windows
    assert all(matched(run.rotation_unit[inner], run.rotation_frame[inner], ev.index, ev.frame))
    assert ev.value == pytest.approx(np.full(len(ev), 120.0), abs=4.0)
    assert ev.unit == "deg" and ev.position_A.shape == (len(ev), 3)
    # the angle distribution over the window has its jump peak at 120°
    a = r.angles
    centres = 0.5 * (a.bin_edges_deg[1:] + a.bin_edges_deg[:-1])
    jump_part = centres > 60
    assert centres[jump_part][np.argmax(a.density_per_deg[jump_part])] == pytest.approx(120, abs=3)
    assert a.uniform_density_per_deg.sum() * 2.0 == pytest.approx(1.0, abs=1e-3)


@pytest.fixture(scope="module")
def diffusing(tmp_path_factory):
    D_r = 0.25  # rad^2/ps: tau_1 = 2 ps, tau_2 = 2/3 ps
    run = simulate(RotorModel(n_per_side=4, cations_per_unit=1, n_frames=1200,
                              timestep_fs=20.0, D_r_per_ps=D_r, jitter_A=0.02, seed=1))
    return D_r, run.write(tmp_path_factory.mktemp("rot") / "diffusion.h5")


def test_c1_c2_of_rotational_diffusion_match_theory(diffusing):
    """C_l = exp(-l(l+1) D_r t): tau_1 = 1/(2 D_r), tau_2 = 1/(6 D_r), beta = 1."""
    D_r, path = diffusing
    r = analyze_rotation(path, RotationConfig(n_bootstrap_fit=40, **FAST))
    for fit, l in ((r.c1, 1), (r.c2, 2)):
        tau = 1.0 / (l * (l + 1) * D_r)
        assert fit.reliable and fit.n_units == 64
        assert fit.tau_ps == pytest.approx(tau, rel=0.06)
        assert abs(fit.tau_ps - tau) < 3 * fit.tau_err_ps
        assert fit.mean_tau_ps == pytest.approx(tau, rel=0.06)
        assert fit.beta == pytest.approx(1.0, abs=0.08)
        assert 0 < fit.tau_err_ps < 0.05 * tau
        t = fit.time_ps[fit.time_ps <= 2 * tau]
        assert fit.C[: len(t)] == pytest.approx(np.exp(-l * (l + 1) * D_r * t), abs=0.03)
    assert r.c2.tau_ps < r.c1.tau_ps / 2.5  # ratio 3 for diffusion (jumps would give ~1)


def test_kww_fit_recovers_a_stretched_exponential():
    rng = np.random.default_rng(0)
    t = np.arange(400) * 0.02
    tau, beta = 1.3, 0.6
    per_unit = 0.9 * kww(t, 1.0, tau, beta) + rng.normal(scale=0.02, size=(40, len(t)))
    fit = fit_relaxation(t, per_unit, l=2, n_bootstrap=50, rng=rng)
    assert fit.tau_ps == pytest.approx(tau, rel=0.05) and fit.beta == pytest.approx(beta, abs=0.03)
    assert fit.A == pytest.approx(0.9, abs=0.02)
    assert fit.mean_tau_ps == pytest.approx(tau / beta * math.gamma(1 / beta), rel=0.06)
    assert fit.mean_tau_ps > 1.4 * fit.tau_ps  # stretching lengthens the mean time
    assert np.isfinite(fit.beta_err) and fit.beta_err < 0.05
    assert mean_relaxation_time(2.0, 1.0) == pytest.approx(2.0)


def test_a_curve_that_barely_decays_is_flagged_not_quoted_as_known():
    t = np.arange(100) * 0.01
    per_unit = np.tile(np.exp(-t / 20.0), (5, 1))  # tau 20 ps seen over 1 ps
    fit = fit_relaxation(t, per_unit, l=1, n_bootstrap=0)
    assert not fit.reliable and "extrapolation" in fit.note and fit.beta == 1.0
    assert fit.tau_ps == pytest.approx(20.0, rel=0.05)
    fast = fit_relaxation(t, np.tile(np.exp(-t / 0.001), (5, 1)), l=1)
    assert math.isnan(fast.tau_ps) and "too fast" in fast.note
