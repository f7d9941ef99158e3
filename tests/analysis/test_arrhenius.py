"""Temperature dependence: known-answer fits, model choice, extrapolation, CSV reading."""

import json

import numpy as np
import pytest

from ssestudio.analysis.arrhenius import (
    fit_temperature_dependence,
    read_transport_table,
)
from ssestudio.analysis.temperature_models import (
    K_B_EV,
    MODELS,
    arrhenius,
    two_regime,
    vft,
)
from ssestudio.core.errors import UserInputError


def _noisy(y, seed, rel=0.05):
    rng = np.random.default_rng(seed)
    return y * (1 + rel * rng.standard_normal(y.size))


@pytest.mark.parametrize("seed", range(5))
def test_arrhenius_data_recover_Ea_and_are_not_flagged(seed):
    T = np.linspace(500, 1000, 8)
    D = _noisy(arrhenius(T, 0.3, 1e-3), seed)
    fit = fit_temperature_dependence(T, D, 0.05 * D)
    assert fit.model == "arrhenius" and fit.breakpoint_K is None
    assert abs(fit.Ea_eV - 0.3) < 2 * fit.Ea_err_eV
    assert 0.002 < fit.Ea_err_eV < 0.01
    assert not any("NON-ARRHENIUS" in w for w in fit.warnings)
    true_300 = arrhenius(300.0, 0.3, 1e-3)
    lo, hi = fit.fits["arrhenius"].extrapolated_interval
    assert lo < true_300 < hi
    lo_all, hi_all = fit.extrapolated_300K_interval
    assert lo_all <= lo and hi <= hi_all


def test_arrhenius_errors_match_scipy_curve_fit_absolute_sigma():
    from scipy.optimize import curve_fit

    T = np.linspace(500, 1000, 7)
    D = _noisy(arrhenius(T, 0.25, 2e-4), 3)
    err = 0.04 * D
    fit = fit_temperature_dependence(T, D, err, models=[])
    popt, pcov = curve_fit(lambda t, Ea, lnA: lnA - Ea / (K_B_EV * t), T, np.log(D),
                           p0=[0.2, -8.0], sigma=err / D, absolute_sigma=True)
    assert fit.Ea_eV == pytest.approx(popt[0], rel=1e-6)
    assert fit.Ea_err_eV == pytest.approx(np.sqrt(pcov[0, 0]), rel=1e-4)
    assert fit.prefactor == pytest.approx(np.exp(popt[1]), rel=1e-5)
    assert fit.prefactor_err == pytest.approx(np.exp(popt[1]) * np.sqrt(pcov[1, 1]), rel=1e-4)


def test_conductivity_is_fitted_as_sigma_times_T():
    T = np.repeat(np.linspace(500, 1000, 6), 2)        # two runs per temperature
    sigma = _noisy(arrhenius(T, 0.35, 5e5) / T, 1, rel=0.03)
    fit = fit_temperature_dependence(T, sigma, 0.03 * sigma, quantity="sigma", target_T_K=600)
    assert fit.unit == "mS/cm" and fit.prefactor_unit == "mS/cm*K"
    assert abs(fit.Ea_eV - 0.35) < 2 * fit.Ea_err_eV
    assert fit.n_points == 12 and fit.n_temperatures == 6
    assert fit.extrapolated_300K == pytest.approx(arrhenius(600, 0.35, 5e5) / 600, rel=0.05)


def test_two_regime_data_are_flagged_with_breakpoint_near_700K():
    T = np.linspace(400, 1000, 10)
    y = _noisy(two_regime(T, 0.2, 0.5, 1e-5, 700.0), 0)
    fit = fit_temperature_dependence(T, y, 0.05 * y)
    assert fit.model == "two_regime"
    assert abs(fit.breakpoint_K - 700) < 40 and fit.breakpoint_err_K < 40
    assert abs(fit.Ea_eV - 0.5) < 3 * fit.Ea_err_eV       # 300 K is in the low-T regime
    high = fit.fits["two_regime"].params[0]
    assert high == pytest.approx(0.2, abs=0.03)
    assert any("NON-ARRHENIUS" in w for w in fit.warnings)
    assert not fit.extrapolation_reliable
    lo, hi = fit.extrapolated_300K_interval
    for m in fit.fits.values():
        assert lo <= m.extrapolated_interval[0] and m.extrapolated_interval[1] <= hi
    Ea = dict(zip(fit.Ea_of_T.T_K, fit.Ea_of_T.Ea_eV))
    assert Ea[min(Ea)] == pytest.approx(fit.Ea_eV) and Ea[max(Ea)] == pytest.approx(high)


@pytest.mark.parametrize("seed", range(3))
def test_clearly_curved_vft_data_prefer_vft(seed):
    T = np.linspace(400, 1000, 12)
    y = _noisy(vft(T, 1e-3, 800.0, 250.0), seed, rel=0.03)
    fit = fit_temperature_dependence(T, y, 0.03 * y)
    assert fit.model == "vft"
    _, B, T0 = fit.fits["vft"].params
    assert abs(T0 - 250) < 30 and fit.Ea_eV == pytest.approx(K_B_EV * B)
    local = np.array(fit.Ea_of_T.Ea_eV)
    assert np.all(np.diff(local[np.isfinite(local)]) < 0)   # Ea(T) falls as T rises


def test_extrapolation_outside_simulated_range_warns_and_spans_all_models():
    T = np.linspace(500, 1000, 8)
    D = _noisy(arrhenius(T, 0.3, 1e-3), 0)
    far = fit_temperature_dependence(T, D, 0.05 * D, target_T_K=300)
    assert not far.extrapolation_reliable
    assert any("EXTRAPOLATION UNRELIABLE" in w and "300 K" in w for w in far.warnings)
    inside = fit_temperature_dependence(T, D, 0.05 * D, target_T_K=750)
    assert inside.extrapolation_reliable and not inside.warnings
    assert inside.extrapolated_300K_interval == inside.fits["arrhenius"].extrapolated_interval
    assert inside.extrapolated_300K == pytest.approx(arrhenius(750, 0.3, 1e-3), rel=0.05)


def test_few_temperatures_cannot_prefer_a_curved_model():
    T = np.array([400.0, 600.0, 800.0, 1000.0])
    y = two_regime(T, 0.1, 0.6, 1e-5, 700.0)
    fit = fit_temperature_dependence(T, y, 0.01 * y)
    assert fit.model == "arrhenius"
    assert any("cannot be preferred" in w for w in fit.warnings)


def test_underestimated_errors_are_reported():
    T = np.linspace(500, 1000, 8)
    D = _noisy(arrhenius(T, 0.3, 1e-3), 2, rel=0.2)
    fit = fit_temperature_dependence(T, D, 0.01 * D, target_T_K=700, models=[])
    assert any("underestimated" in w for w in fit.warnings)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_local_activation_energy_is_minus_k_dlny_dinvT(name):
    params = {"arrhenius": [0.3, np.log(1e-3)], "two_regime": [0.2, 0.5, np.log(1e-5), 700.0],
              "vft": [np.log(1e-3), 800.0, 250.0]}[name]
    model, p = MODELS[name], np.array(params)
    T = np.array([450.0, 620.0, 810.0, 990.0])
    x, h = 1.0 / T, 1e-7
    numeric = -K_B_EV * (model.log_value(1 / (x + h), p) - model.log_value(1 / (x - h), p)) / (2 * h)
    assert model.local_Ea(T, p) == pytest.approx(numeric, rel=1e-5)


def test_model_functions_known_values():
    assert arrhenius(1000.0, K_B_EV * 1000.0, 2.0) == pytest.approx(2.0 / np.e)
    assert two_regime(np.array([700.0]), 0.2, 0.5, 3e-6, 700.0)[0] == pytest.approx(3e-6)
    assert vft(np.array([250.0, 1050.0]), 1.0, 800.0, 250.0) == pytest.approx([0.0, np.exp(-1)])


def test_to_dict_is_strict_json():
    T = np.linspace(400, 1000, 10)
    y = _noisy(vft(T, 1e-3, 800.0, 250.0), 0, rel=0.03)
    out = fit_temperature_dependence(T, y, 0.03 * y).to_dict()
    text = json.dumps(out, allow_nan=False)
    back = json.loads(text)
    for key in ("Ea_eV", "Ea_err_eV", "prefactor", "model", "breakpoint_K",
                "extrapolated_300K", "extrapolated_300K_interval", "warnings", "bic"):
        assert key in back
    assert set(back["models"]) == {"arrhenius", "two_regime", "vft"}


@pytest.mark.parametrize("kwargs, match", [
    ({"values": [1e-5, -1e-5, 1e-5]}, r"values\[1\]"),
    ({"errors": [1e-6, 0.0, 1e-6]}, r"errors\[1\]"),
    ({"T_K": [500.0, 600.0]}, "same length"),
    ({"T_K": [500.0, 500.0, 600.0]}, "3 distinct temperatures"),
    ({"models": ["arrhenius", "nope"]}, "unknown model"),
    ({"quantity": "kappa"}, "quantity"),
])
def test_bad_input_names_the_problem(kwargs, match):
    args = {"T_K": [500.0, 600.0, 700.0], "values": [1e-6, 2e-6, 3e-6],
            "errors": [1e-7, 1e-7, 1e-7]}
    args.update({k: v for k, v in kwargs.items() if k in args})
    extra = {k: v for k, v in kwargs.items() if k not in args}
    with pytest.raises(UserInputError, match=match):
        fit_temperature_dependence(args["T_K"], args["values"], args["errors"], **extra)


def _write(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_table_D_with_repeated_temperatures(tmp_path):
    path = _write(tmp_path, "# runs\nT_K,D_cm2_s,D_err_cm2_s,note\n500,1e-6,1e-7,a\n"
                            "500,1.1e-6,1e-7,b\n600, 2e-6 ,2e-7,c\n\n700,4e-6,3e-7,d\n")
    table = read_transport_table(path)
    assert table.quantity == "D" and table.T_K.tolist() == [500, 500, 600, 700]
    assert table.values[2] == 2e-6 and table.errors[3] == 3e-7


def test_read_table_sigma(tmp_path):
    path = _write(tmp_path, "sigma_mS_cm,T_K,sigma_err_mS_cm\n1,500,0.1\n2,600,0.1\n3,700,0.2\n")
    table = read_transport_table(path)
    assert table.quantity == "sigma" and table.T_K.tolist() == [500, 600, 700]


@pytest.mark.parametrize("text, match", [
    ("T_K,D_cm2_s\n500,1e-6\n", "T_K,D_cm2_s,D_err_cm2_s or T_K,sigma_mS_cm,sigma_err_mS_cm"),
    ("T_K,D_cm2_s,D_err_cm2_s\n500,1e-6,1e-7\n600,-2e-6,1e-7\n700,3e-6,1e-7\n",
     r"row 3 \(T_K = 600\): D_cm2_s = -2e-06 must be > 0"),
    ("T_K,D_cm2_s,D_err_cm2_s\n500,1e-6,1e-7\n600,0,1e-7\n700,3e-6,1e-7\n", "row 3"),
    ("T_K,D_cm2_s,D_err_cm2_s\n500,1e-6,1e-7\n600,abc,1e-7\n700,3e-6,1e-7\n",
     "row 3, column D_cm2_s: 'abc' is not a number"),
    ("T_K,D_cm2_s,D_err_cm2_s\n500,1e-6,1e-7\n500,2e-6,1e-7\n600,3e-6,1e-7\n",
     "2 distinct temperature"),
    ("", "empty"),
])
def test_read_table_errors_name_the_problem(tmp_path, text, match):
    with pytest.raises(UserInputError, match=match):
        read_transport_table(_write(tmp_path, text))


def test_read_table_missing_file(tmp_path):
    with pytest.raises(UserInputError, match="not found"):
        read_transport_table(tmp_path / "absent.csv")
