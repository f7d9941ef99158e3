"""The transport facade: synthetic walkers in a framework, bad input, and the real
argyrodite AIMD trajectory."""

from __future__ import annotations

import json

import numpy as np
import pytest
from transport_walkers import TRICLINIC, gaussian_walk, with_framework, write_wrapped

from ssestudio.analysis import analyze_transport, nernst_einstein_mS_cm
from ssestudio.core.errors import UserInputError
from ssestudio.io import open_trajectory

A2PS = 1e-4
CLI_KEYS = {"D_cm2_s", "D_err_cm2_s", "D_hop_err_cm2_s", "sigma_mS_cm", "sigma_err_mS_cm",
            "haven_ratio", "haven_ratio_err", "n_eff_hops", "fit_window_ps", "diffusive", "warnings"}


@pytest.fixture(scope="module")
def li_in_sulfur(tmp_path_factory):
    """64 independent Li walkers (D = 0.3 Å^2/ps) in a drifting S framework, triclinic box."""
    rng = np.random.default_rng(20)
    li = gaussian_walk(rng, n_frames=1500, n_atoms=64, D_A2_ps=0.3, timestep_fs=100.0)
    atoms = with_framework(rng, li, n_framework=40, drift_A_per_frame=(0.01, 0.0, 0.0))
    folder = tmp_path_factory.mktemp("transport")
    return write_wrapped(folder / "li_s.h5", atoms, TRICLINIC, ["Li"] * 64 + ["S"] * 40,
                         timestep_fs=100.0)


def test_walkers_in_a_framework(li_in_sulfur):
    steps = []
    result = analyze_transport(li_in_sulfur, species="Li", temperature_K=600.0,
                               progress=lambda f, m="": steps.append(f))
    d, c = result.diffusion, result.conductivity
    assert abs(d.D_cm2_s - 0.3 * A2PS) < 3 * d.D_err_cm2_s and d.diffusive
    assert result.msd.drift_removed and result.collective.fit_window_ps == d.fit_window_ps
    expected = nernst_einstein_mS_cm(d.D_cm2_s, n_ions=64, charge_e=1.0,
                                     volume_A3=abs(np.linalg.det(TRICLINIC)), temperature_K=600.0)
    assert c.sigma_mS_cm == pytest.approx(expected)
    assert abs(c.haven_ratio - 1.0) < 3 * c.haven_ratio_err  # independent ions: H = 1
    out = result.to_dict()
    assert CLI_KEYS <= set(out) and out["charges"] == {"Li": 1.0}
    json.loads(json.dumps(out, allow_nan=False))
    assert steps[-1] == 1.0 and np.all(np.diff(steps) >= 0)


def test_open_trajectory_object_is_left_open_and_temperature_optional(li_in_sulfur):
    with open_trajectory(li_in_sulfur) as traj:
        result = analyze_transport(traj, species="Li")
        assert traj.n_frames == 1500  # still open
    assert result.conductivity is None and result.to_dict()["sigma_mS_cm"] is None
    assert any("no temperature" in w for w in result.warnings)


def test_temperature_read_from_an_nvt_native_file(tmp_path):
    rng = np.random.default_rng(21)
    x = gaussian_walk(rng, n_frames=100, n_atoms=8, D_A2_ps=0.3, timestep_fs=100.0)
    meta = {"md_config": {"ensemble": "nvt-langevin", "temperature_K": 450.0}}
    path = write_wrapped(tmp_path / "nvt.h5", x, TRICLINIC, ["Na"] * 8, timestep_fs=100.0,
                         metadata=meta)
    result = analyze_transport(path, species="Na")
    assert result.temperature_K == 450.0 and result.conductivity is not None


def test_bad_input_errors_name_the_problem(tmp_path, li_in_sulfur):
    with pytest.raises(UserInputError, match="species Na not present.*Li, S"):
        analyze_transport(li_in_sulfur, species="Na")
    with pytest.raises(UserInputError, match="no formal charge is known for 'S'"):
        analyze_transport(li_in_sulfur, species="S")
    with pytest.raises(UserInputError, match="temperature_K"):
        analyze_transport(li_in_sulfur, temperature_K=-5)
    with pytest.raises(UserInputError, match="does not exist"):
        analyze_transport(tmp_path / "missing.h5")
    rng = np.random.default_rng(22)
    one = write_wrapped(tmp_path / "one.h5", rng.random((1, 4, 3)), TRICLINIC, ["Li"] * 4,
                        timestep_fs=10.0)
    with pytest.raises(UserInputError, match="at least 2 frames"):
        analyze_transport(one)
    other = write_wrapped(tmp_path / "other.h5", rng.random((3, 5, 3)), TRICLINIC, ["Li"] * 5,
                          timestep_fs=10.0)
    with pytest.raises(UserInputError, match="only consecutive segments of one simulation"):
        analyze_transport([one, other])
    nan = rng.random((10, 4, 3))
    nan[6, 1] = np.nan
    with pytest.raises(UserInputError, match="frame 6 has a non-finite position"):
        analyze_transport(write_wrapped(tmp_path / "nan.h5", nan, TRICLINIC, ["Li"] * 4,
                                        timestep_fs=10.0))


def test_argyrodite_0p_reports_window_dependence_or_non_diffusive(argyrodite_dir):
    paths = [argyrodite_dir / "0p" / f"run{k}.XDATCAR.gz" for k in range(1, 6)]
    result = analyze_transport(paths, species="Li", timestep_fs=100.0, temperature_K=500.0)
    d = result.diffusion
    assert result.msd.n_frames == 700 and result.msd.n_atoms == 192
    assert np.isfinite(d.D_cm2_s) and d.D_cm2_s > 0 and d.D_err_cm2_s > 0
    spread = max(abs(v - d.D_cm2_s) for v in d.window_D_cm2_s)
    assert d.D_err_cm2_s >= 0.95 * spread or not d.diffusive
    if not d.diffusive:
        assert any("diffusive regime not reached" in w for w in result.warnings)
    assert d.n_eff_hops > 0 and d.D_hop_err_cm2_s > 0
    assert result.conductivity.sigma_mS_cm > 0
