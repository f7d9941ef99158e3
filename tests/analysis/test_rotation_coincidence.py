"""Hop-rotation coincidence: known counts, triggered vs independent runs, verdict, xcorr."""

from __future__ import annotations

import numpy as np
import pytest

from ssestudio.analysis.rotation import (
    RotationConfig,
    analyze_rotation,
    compute_enrichment,
    cross_correlation,
    enrichment_verdict,
)
from ssestudio.analysis.rotation.coincidence import local_mobility
from ssestudio.analysis.rotation.events import site_hops
from ssestudio.analysis.rotation.synthetic import RotorModel, simulate


def paddle_run(tmp_path_factory, name: str, **kw):
    """27 PS4 units jumping by 120° (0.25/ps), 2 Li each on 3.2 Å spheres, 15 ps."""
    model = RotorModel(n_frames=1500, timestep_fs=10.0, jump_rate_per_ps=0.25, seed=11, **kw)
    run = simulate(model)
    return run, run.write(tmp_path_factory.mktemp("rot") / f"{name}.h5")


@pytest.fixture(scope="module")
def triggered(tmp_path_factory):
    """Every rotation makes one Li of its unit hop 100 fs later; no other hops."""
    run, path = paddle_run(tmp_path_factory, "triggered", trigger_probability=1.0)
    return run, analyze_rotation(path, RotationConfig(n_bootstrap_fit=0))


@pytest.fixture(scope="module")
def independent(tmp_path_factory):
    """Li hop at Poisson times (0.25/ps each), independent of the rotations."""
    run, path = paddle_run(tmp_path_factory, "independent", hop_rate_per_ps=0.25)
    return run, analyze_rotation(path, RotationConfig(n_bootstrap_fit=0))


def test_hops_triggered_by_rotations_are_enriched(triggered):
    run, r = triggered
    s = r.summary()
    assert s["hop_events"] == len(run.hop_frame) > 40
    assert s["rotation_events"] == len(run.rotation_frame)
    lo, hi = s["enrichment_ci"]
    assert s["enrichment"] > 2.5 and lo > 1.5 and hi > s["enrichment"]
    assert s["p_value"] < 0.01
    assert s["coincidences_observed"] >= len(run.hop_frame)  # every hop has its rotation
    assert s["verdict"].startswith("PS4 rotations coincide with Li hops")
    assert f"{lo:.2f}-{hi:.2f}" in s["verdict"] and "not proof" in s["verdict"]
    g = r.enrichment
    i_dt, i_r = g.headline
    assert g.dt_ps[i_dt] == 0.5 and g.r_A[i_r] == 4.0
    assert g.enrichment[-1, i_r] < g.enrichment[i_dt, i_r]  # a 2 ps window dilutes it
    # mobility follows rotation by the trigger delay (100 fs)
    assert r.xcorr.peak_lag_ps == pytest.approx(0.1, abs=0.05) and r.xcorr.peak_value > 0.5


def test_coincident_pairs_are_the_counted_coincidences(triggered):
    run, r = triggered
    pairs = r.pairs
    assert len(pairs["rotation"]) == r.summary()["coincidences_observed"]
    assert np.all(np.abs(pairs["dt_ps"]) <= 0.5 + 1e-9) and np.all(pairs["distance_A"] <= 4.0)
    assert np.all(np.abs(np.diff(np.abs(pairs["dt_ps"]))) >= 0) and np.all(
        np.diff(np.abs(pairs["dt_ps"])) >= -1e-12)  # closest in time first
    # each triggered hop is paired with its own rotation 100 fs before it
    rot_t = r.rotation_events.time_ps[pairs["rotation"]]
    hop_t = r.hop_events.time_ps[pairs["hop"]]
    assert np.allclose(hop_t - rot_t, pairs["dt_ps"])
    assert np.mean(np.isclose(pairs["dt_ps"], 0.1, atol=0.06)) > 0.3
    assert r.to_dict()["pairs"]["hop"] == pairs["hop"].tolist()


def test_independent_hops_give_an_interval_containing_one(independent):
    run, r = independent
    s = r.summary()
    assert s["hop_events"] == len(run.hop_frame) > 80
    lo, hi = s["enrichment_ci"]
    assert lo <= 1.0 <= hi and 0.6 < s["enrichment"] < 1.6
    assert s["verdict"].startswith("No evidence that PS4 rotations coincide")
    assert "contains 1" in s["verdict"]
    assert abs(r.xcorr.peak_value) < 0.2


def test_counts_of_a_hand_made_case():
    """Unit 0 rotates at frames 100 and 400; cation 0 hops at 105 beside it (3 Å), cation 1
    at 402 far from it (10 Å): at r = 4 Å only the first pair coincides."""
    T, cells = 600, np.broadcast_to(np.eye(3) * 30.0, (600, 3, 3))
    centres = np.broadcast_to(np.array([[5.0, 5, 5], [20.0, 20, 20]]), (T, 2, 3))
    g = compute_enrichment(
        np.array([100, 400]), np.array([0, 0]), np.array([105, 402]), np.array([0, 1]),
        np.array([[8.0, 5, 5], [15.0, 5, 5]]), centres_A=centres, cells=cells, n_cations=2,
        domain=(0, T), dt_frames=np.array([2, 10]), dt_ps=np.array([0.02, 0.1]),
        r_A=np.array([4.0, 12.0]), headline=(1, 0), n_shuffles=4000, n_bootstrap=50)
    assert g.observed.tolist() == [[0, 1], [1, 2]]
    # chance: each hop sees 2 rotations of 600 frames through a (2 dt + 1)-frame window
    assert g.expected[1, 0] == pytest.approx(2 * 21 / 600, rel=0.2)
    assert g.cell("observed") == 1
    assert "Too few chance coincidences" in enrichment_verdict(
        g, n_rotations=2, n_hops=2, anion="PS4", cation="Li")
    assert "No PS4 rotation events" in enrichment_verdict(
        None, n_rotations=0, n_hops=2, anion="PS4", cation="Li")


def test_periodic_distance_counts_for_coincidence():
    T, cells = 200, np.broadcast_to(np.eye(3) * 10.0, (200, 3, 3))
    centres = np.broadcast_to(np.array([[0.5, 5.0, 5.0]]), (T, 1, 3))
    g = compute_enrichment(np.array([50]), np.array([0]), np.array([52]), np.array([0]),
                           np.array([[9.5, 5.0, 5.0]]), centres_A=centres, cells=cells,
                           n_cations=1, domain=(0, T), dt_frames=np.array([5]),
                           dt_ps=np.array([0.05]), r_A=np.array([1.5]), headline=(0, 0),
                           n_shuffles=20, n_bootstrap=20)
    assert g.observed[0, 0] == 1  # 1 Å apart through the boundary, 9 Å directly


def test_cross_correlation_finds_a_known_delay():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 5))
    y = np.roll(x, 7, axis=0) + 0.1 * rng.normal(size=x.shape)
    lags, value = cross_correlation(x, y, 20)
    assert lags[np.argmax(value)] == 7 and value.max() > 0.95
    assert np.abs(value[lags == 0]) < 0.15
    lags, flat = cross_correlation(x, np.ones_like(x), 5)
    assert np.isnan(flat).all()


def test_local_mobility_averages_the_neighbours():
    cells = np.broadcast_to(np.eye(3) * 20.0, (4, 3, 3))
    centres = np.broadcast_to(np.array([[1.0, 1, 1]]), (4, 1, 3))
    cations = np.broadcast_to(np.array([[2.0, 1, 1], [19.5, 1, 1], [10.0, 10, 10]]), (4, 3, 3))
    mobility = np.array([[1.0, 3.0, 100.0]] * 4)
    m = local_mobility(mobility, cations, centres, cells, r_A=2.0, stride=2)
    assert m[:, 0] == pytest.approx([2.0] * 4)  # the two within 2 Å (one across the boundary)


def test_site_hops_ignore_recrossings():
    """A cation goes A -> B, wanders back towards A without reaching its core, then B -> A."""
    cell = np.broadcast_to(np.eye(3) * 10.0, (9, 3, 3))
    x = np.array([1.0, 1.2, 3.0, 5.0, 3.5, 5.0, 4.8, 3.0, 1.0])  # sites at x = 1 and 5
    pos = np.stack([x, np.full(9, 5.0), np.full(9, 5.0)], axis=-1)[:, None]
    sites = np.array([[0.1, 0.5, 0.5], [0.5, 0.5, 0.5]])
    frame, cation, dist = site_hops(pos, cell, sites, radius_A=1.0)
    assert frame.tolist() == [2, 7] and cation.tolist() == [0, 0]  # halfway from core to core
    assert dist == pytest.approx([4.0, 4.0])
