"""``ssestudio arrhenius TABLE.csv``: JSON keys, text output, clear errors."""

import argparse
import json

import numpy as np
import pytest

from ssestudio.analysis.temperature_models import arrhenius, two_regime
from ssestudio.cli import arrhenius as cli
from ssestudio.core.errors import UserInputError

KEYS = ("Ea_eV", "Ea_err_eV", "prefactor", "model", "breakpoint_K", "extrapolated_300K",
        "extrapolated_300K_interval", "warnings")


def _run(argv):
    parser = argparse.ArgumentParser()
    cli.add_parser(parser)
    return cli.run(parser.parse_args(argv))


def _table(tmp_path, T, D, rel=0.05):
    path = tmp_path / "D.csv"
    rows = "".join(f"{t},{d:.6e},{rel * d:.6e}\n" for t, d in zip(T, D))
    path.write_text("T_K,D_cm2_s,D_err_cm2_s\n" + rows)
    return path


def test_json_output_has_the_documented_keys(tmp_path, capsys):
    T = np.linspace(500, 1000, 8)
    D = arrhenius(T, 0.3, 1e-3) * (1 + 0.05 * np.random.default_rng(0).standard_normal(8))
    assert _run([str(_table(tmp_path, T, D)), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert all(k in out for k in KEYS)
    assert out["model"] == "arrhenius" and out["breakpoint_K"] is None
    assert abs(out["Ea_eV"] - 0.3) < 2 * out["Ea_err_eV"]
    lo, hi = out["extrapolated_300K_interval"]
    assert lo < out["extrapolated_300K"] < hi
    assert any("EXTRAPOLATION UNRELIABLE" in w for w in out["warnings"])
    assert out["quantity"] == "D" and out["unit"] == "cm^2/s"
    assert set(out["bic"]) == {"arrhenius", "two_regime", "vft"}


def test_two_regime_table_and_target_temperature(tmp_path, capsys):
    T = np.linspace(400, 1000, 10)
    D = two_regime(T, 0.2, 0.5, 1e-5, 700.0)
    D = D * (1 + 0.03 * np.random.default_rng(1).standard_normal(10))
    assert _run([str(_table(tmp_path, T, D, rel=0.03)), "--target-T-K", "450", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "two_regime" and abs(out["breakpoint_K"] - 700) < 40
    assert out["target_T_K"] == 450 and not out["extrapolation_reliable"]


def test_text_output(tmp_path, capsys):
    T = np.linspace(500, 1000, 6)
    assert _run([str(_table(tmp_path, T, arrhenius(T, 0.3, 1e-3))), "--target-T-K", "800"]) == 0
    text = capsys.readouterr().out
    assert "preferred model: arrhenius" in text and "Ea = 0.3000" in text
    assert "D(800 K)" in text and "warning" not in text


def test_negative_D_names_the_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("T_K,D_cm2_s,D_err_cm2_s\n500,1e-6,1e-7\n600,2e-6,1e-7\n700,-3e-6,1e-7\n")
    with pytest.raises(UserInputError, match="row 4"):
        _run([str(path), "--json"])


def test_registered_in_main(tmp_path, capsys):
    from ssestudio.cli.main import main

    path = tmp_path / "bad.csv"
    path.write_text("T_K,D_cm2_s\n500,1e-6\n")
    assert main(["arrhenius", str(path), "--json"]) == 2
    assert "T_K,D_cm2_s,D_err_cm2_s" in capsys.readouterr().err
