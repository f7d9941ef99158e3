"""The facade: result dict, progress and cancel, frame selection, site hops, errors, Arrhenius."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ssestudio.analysis.rotation import (
    AnalysisCancelled,
    RotationConfig,
    analyze_rotation,
    fit_reorientation_arrhenius,
)
from ssestudio.analysis.rotation.synthetic import RotorModel, simulate
from ssestudio.core.errors import UserInputError

FAST = {"n_bootstrap_fit": 10, "n_shuffles": 20, "n_bootstrap": 50}
K_B = 8.617333262e-5


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    run = simulate(RotorModel(n_per_side=2, n_frames=300, timestep_fs=10.0, D_r_per_ps=0.3,
                              jump_rate_per_ps=0.5, hop_rate_per_ps=0.5, seed=3))
    return run, run.write(tmp_path_factory.mktemp("rot") / "small.h5")


def test_result_dict_is_json_and_has_the_headline_keys(small):
    _, path = small
    r = analyze_rotation(path, RotationConfig(temperature_K=600.0, **FAST))
    out = r.to_dict()
    text = json.dumps(out, allow_nan=False)  # NaN became None
    assert json.loads(text) == out
    for key in ("tau_C1_ps", "tau_C2_ps", "tau_C1_err_ps", "mean_tau_C2_ps", "beta_C2",
                "rotation_events", "hop_events", "enrichment", "enrichment_ci", "verdict",
                "n_units", "parameters", "units", "curves", "angle_distribution", "events",
                "enrichment_grid", "cross_correlation", "warnings"):
        assert key in out, key
    assert out["n_units"] == 8 and out["n_cations"] == 16 and out["temperature_K"] == 600.0
    assert out["rotation_events"] == len(out["events"]["rotation"]["frame"]) > 0
    assert len(out["events"]["hop"]["position_A"][0]) == 3
    assert len(out["curves"]["C2"]["C"]) == len(out["curves"]["C2"]["time_ps"]) == 151
    grid = out["enrichment_grid"]
    assert len(grid["enrichment"]) == len(grid["dt_ps"]) and len(grid["r_A"]) == 4
    assert out["parameters"]["anion"] == "PS4"
    short = r.to_dict(detail=False)
    assert "events" not in short and short["tau_C2_ps"] == out["tau_C2_ps"]


def test_progress_rises_to_one_and_cancel_stops(small):
    _, path = small
    seen = []
    analyze_rotation(path, RotationConfig(**FAST), progress=lambda f, m: seen.append(f))
    assert seen[-1] == 1.0 and np.all(np.diff(seen) >= 0) and len(seen) > 5
    calls = []
    with pytest.raises(AnalysisCancelled, match="cancelled"):
        analyze_rotation(path, RotationConfig(**FAST), should_stop=lambda: calls.append(1) or
                         len(calls) > 2)


def test_stride_scales_the_time_between_frames(small):
    _, path = small
    r = analyze_rotation(path, RotationConfig(stride=2, start=10, **FAST))
    assert r.n_frames == 145 and r.timestep_fs == 20.0
    assert r.duration_ps == pytest.approx(144 * 0.02)
    ev = r.rotation_events
    assert len(ev) and (ev.trajectory_frame == 10 + 2 * ev.frame).all()
    assert ev.time_ps == pytest.approx(ev.frame * 0.02)


def test_site_to_site_hops(tmp_path):
    """Sites where each Li starts and where each of its hops ends: every hop is a change
    of site, dated at the middle of the hop."""
    model = RotorModel(n_per_side=2, spacing_A=9.0, cations_per_unit=1, n_frames=400,
                       timestep_fs=10.0, hop_rate_per_ps=0.6, seed=8)
    run = simulate(model)
    path = run.write(tmp_path / "sites.h5")
    li = run.positions_A[:, 40:]
    ends = [li[0, c] for c in range(8)] + [li[f + 3, c] for f, c in zip(run.hop_frame,
                                                                         run.hop_cation)]
    sites = np.mod(np.array(ends) / 18.0, 1.0)
    cfg = RotationConfig(hop_method="sites", sites_frac=tuple(map(tuple, sites)),
                         site_radius_A=0.8, **FAST)
    r = analyze_rotation(path, cfg)
    assert len(run.hop_frame) > 10
    found = sorted(zip(r.hop_events.index.tolist(), r.hop_events.frame.tolist()))
    truth = sorted(zip(run.hop_cation.tolist(), run.hop_frame.tolist()))
    assert len(found) == len(truth)
    assert all(c == c0 and abs(f - f0) <= 2 for (c, f), (c0, f0) in zip(found, truth))
    assert r.hop_events.value == pytest.approx(np.full(len(run.hop_frame), 3.67), abs=0.4)


def test_errors_say_what_to_do(small, tmp_path):
    from ase import Atoms

    _, path = small
    with pytest.raises(UserInputError, match="species Na not present"):
        analyze_rotation(path, RotationConfig(cation="Na"))
    with pytest.raises(UserInputError, match="too few for windows"):
        analyze_rotation(path, RotationConfig(stop=20))
    images = [Atoms("PS4Li", positions=np.r_[np.zeros((1, 3)), np.eye(4, 3) * 2.0 + 0.1,
                                             [[5.0, 5, 5]]], cell=np.eye(3) * 10, pbc=True)] * 60
    with pytest.raises(UserInputError, match="timestep_fs"):
        analyze_rotation(images, RotationConfig())
    with pytest.raises(UserInputError, match="rotation_threshold_deg"):
        RotationConfig(rotation_threshold_deg=200)
    with pytest.raises(UserInputError, match="hop_window_fs must be a positive"):
        RotationConfig(hop_window_fs=-1)
    with pytest.raises(UserInputError, match="needs sites_frac"):
        RotationConfig(hop_method="sites")
    with pytest.raises(UserInputError, match="unknown anion"):
        analyze_rotation(path, RotationConfig(anion="XY9"))


def test_arrhenius_of_reorientation_recovers_the_activation_energy():
    Ea, k0 = 0.25, 50.0  # eV, 1/ps
    T = np.array([500.0, 600.0, 700.0, 800.0])
    tau = 1.0 / (k0 * np.exp(-Ea / (K_B * T)))
    fit = fit_reorientation_arrhenius([(t, x, 0.05 * x) for t, x in zip(T, tau)])
    assert fit.Ea_eV == pytest.approx(Ea, rel=1e-6) and fit.weighted
    assert fit.prefactor_per_ps == pytest.approx(k0, rel=1e-6)
    assert 0 < fit.Ea_err_eV < 0.05
    assert fit.rate_at(650.0) == pytest.approx(k0 * math.exp(-Ea / (K_B * 650.0)), rel=1e-6)
    unweighted = fit_reorientation_arrhenius([(t, x, None) for t, x in zip(T, tau)])
    assert not unweighted.weighted and unweighted.Ea_eV == pytest.approx(Ea, rel=1e-6)
    with pytest.raises(UserInputError, match="2 or more temperatures"):
        fit_reorientation_arrhenius([(600.0, 1.0, 0.1), (600.0, 1.1, 0.1)])


def test_arrhenius_from_results(tmp_path):
    """Two runs whose rotational diffusion follows Arrhenius: D_r = 0.1 and 0.4 /ps."""
    results = []
    for T, D_r in ((400.0, 0.1), (600.0, 0.4)):
        run = simulate(RotorModel(n_per_side=3, cations_per_unit=1, n_frames=800,
                                  timestep_fs=20.0, D_r_per_ps=D_r, jitter_A=0.02, seed=int(T)))
        path = run.write(tmp_path / f"T{T:.0f}.h5")
        results.append(analyze_rotation(path, RotationConfig(temperature_K=T, **FAST)))
    fit = fit_reorientation_arrhenius(results, l=2)
    expected = K_B * math.log(4.0) / (1 / 400.0 - 1 / 600.0)  # 0.143 eV
    assert fit.Ea_eV == pytest.approx(expected, rel=0.1)
    assert fit.rate_per_ps[1] == pytest.approx(6 * 0.4, rel=0.1)
    assert json.dumps(fit.to_dict(), allow_nan=False)
