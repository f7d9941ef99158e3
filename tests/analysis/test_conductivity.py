"""Nernst-Einstein conductivity, charges and Haven ratio against hand computations."""

from __future__ import annotations

import dataclasses
import math

import pytest

from ssestudio.analysis import (
    FORMAL_CHARGES,
    DiffusionResult,
    compute_conductivity,
    nernst_einstein_mS_cm,
    resolve_charges,
)
from ssestudio.core.errors import UserInputError


def _fit(D, err, *, collective=False) -> DiffusionResult:
    return DiffusionResult(
        D_cm2_s=D, D_err_cm2_s=err, D_gls_err_cm2_s=err, D_window_err_cm2_s=0.0,
        D_hop_err_cm2_s=None, intercept_A2=0.0, intercept_err_A2=0.0, fit_window_ps=(1.0, 10.0),
        fit_window_auto=True, n_dims=3, direction=None, n_eff_hops=None, hop_distance_A=None,
        diffusive=True, loglog_slope=1.0, non_gaussian_max=0.0, window_D_cm2_s=(),
        window_bounds_ps=(), collective=collective, warnings=())


def test_nernst_einstein_against_a_hand_computation():
    # 192 Li+ in 8380 Å^3 at 500 K with D = 1e-5 cm^2/s:
    # n = 192 / 8.38e-21 cm^3 = 2.2912e22 cm^-3; sigma = n e^2 D / (kB T)
    n = 192 / (8380e-24)
    by_hand = n * (1.602176634e-19) ** 2 * 1e-5 / (1.380649e-23 * 500) * 1000
    value = nernst_einstein_mS_cm(1e-5, n_ions=192, charge_e=1.0, volume_A3=8380.0,
                                  temperature_K=500.0)
    assert value == pytest.approx(by_hand, rel=1e-12)
    assert value == pytest.approx(851.9, rel=1e-3)  # written out once: ~0.85 S/cm
    assert nernst_einstein_mS_cm(1e-5, n_ions=10, charge_e=2.0, volume_A3=1000.0,
                                 temperature_K=300.0) == pytest.approx(
        4 * nernst_einstein_mS_cm(1e-5, n_ions=10, charge_e=1.0, volume_A3=1000.0, temperature_K=300.0))
    with pytest.raises(UserInputError, match="positive volume and temperature"):
        nernst_einstein_mS_cm(1e-5, n_ions=1, charge_e=1, volume_A3=100.0, temperature_K=0.0)


def test_charges_defaults_overrides_and_unknown_species():
    assert resolve_charges(["Li", "Mg", "Cl"]) == {"Li": 1.0, "Mg": 2.0, "Cl": -1.0}
    assert resolve_charges(["Li"], {"Li": 0.8}) == {"Li": 0.8}
    assert FORMAL_CHARGES["Ag"] == 1.0 and FORMAL_CHARGES["Zn"] == 2.0
    with pytest.raises(UserInputError, match=r"no formal charge is known for 'P'.*--charge P=1"):
        resolve_charges(["P"])
    with pytest.raises(UserInputError, match="finite"):
        resolve_charges(["Li"], {"Li": float("nan")})


def test_haven_ratio_and_error_propagation():
    n, q, V, T = 50, 1.0, 2000.0, 600.0
    tracer = _fit(2e-5, 2e-6)
    collective = _fit(n * q**2 * 4e-5, n * q**2 * 8e-6, collective=True)  # D_sigma = 4e-5
    result = compute_conductivity(tracer, collective, n_ions=n, charge_e=q, volume_A3=V,
                                  temperature_K=T)
    per_D = nernst_einstein_mS_cm(1.0, n_ions=n, charge_e=q, volume_A3=V, temperature_K=T)
    assert result.sigma_mS_cm == pytest.approx(per_D * 2e-5)
    assert result.sigma_err_mS_cm == pytest.approx(per_D * 2e-6)
    assert result.sigma_collective_mS_cm == pytest.approx(per_D * 4e-5)
    assert result.D_sigma_cm2_s == pytest.approx(4e-5)
    assert result.haven_ratio == pytest.approx(0.5)
    assert result.haven_ratio_err == pytest.approx(0.5 * math.hypot(0.1, 0.2))
    assert result.to_dict()["haven_ratio"] == pytest.approx(0.5)


def test_haven_ratio_undefined_without_a_positive_collective_slope():
    result = compute_conductivity(_fit(2e-5, 2e-6), _fit(-1e-4, 5e-4, collective=True), n_ions=10,
                                  charge_e=1.0, volume_A3=1000.0, temperature_K=500.0)
    assert result.haven_ratio is None and result.haven_ratio_err is None
    assert "undefined" in result.warnings[0]
    without = compute_conductivity(_fit(2e-5, 2e-6), None, n_ions=10, charge_e=1.0,
                                   volume_A3=1000.0, temperature_K=500.0)
    assert without.sigma_collective_mS_cm is None and without.haven_ratio is None
    assert dataclasses.is_dataclass(without)
