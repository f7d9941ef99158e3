"""``ssestudio transport``: JSON keys, text output, errors reaching the user."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ssestudio.io import TrajectoryWriter, wrap_positions

KEYS = {"D_cm2_s", "D_err_cm2_s", "D_hop_err_cm2_s", "sigma_mS_cm", "sigma_err_mS_cm",
        "haven_ratio", "haven_ratio_err", "n_eff_hops", "fit_window_ps", "diffusive", "warnings"}
CELL = np.diag([10.0, 10.0, 12.0])


@pytest.fixture
def transport(monkeypatch):
    """``transport(argv) -> exit code`` through ``ssestudio.cli.main`` (registered if needed)."""
    from ssestudio.cli import main as cli_main

    monkeypatch.setitem(cli_main.COMMANDS, "transport",
                        ("ssestudio.cli.transport", "tracer diffusion, conductivity, Haven ratio"))
    return lambda argv: cli_main.main(["transport", *map(str, argv)])


@pytest.fixture
def segments(tmp_path):
    """Two consecutive native segments: 16 Li walkers (D = 0.5 Å^2/ps) and 8 vibrating Cl."""
    rng = np.random.default_rng(30)
    li = np.cumsum(rng.normal(scale=np.sqrt(2 * 0.5 * 0.1), size=(400, 16, 3)), axis=0)
    cl = rng.random((1, 8, 3)) * 10 + rng.normal(scale=0.05, size=(400, 8, 3))
    atoms = wrap_positions(np.concatenate([li, cl], axis=1), CELL)
    paths = []
    for k, frames in enumerate((slice(0, 200), slice(200, 400))):
        paths.append(tmp_path / f"seg{k}.h5")
        with TrajectoryWriter(paths[-1], ["Li"] * 16 + ["Cl"] * 8, overwrite=True) as writer:
            writer.extend(atoms[frames], CELL)
    return paths


def test_json_output_has_the_documented_keys(transport, segments, capsys):
    code = transport([*segments, "--species", "Li", "--timestep-fs", "100", "--temperature-K",
                      "500", "--charge", "Li=1", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert KEYS <= set(out)
    assert out["n_frames"] == 400 and out["n_ions"] == 16 and isinstance(out["diffusive"], bool)
    assert abs(out["D_cm2_s"] - 0.5e-4) < 3 * out["D_err_cm2_s"]
    assert out["sigma_mS_cm"] > 0 and len(out["fit_window_ps"]) == 2


def test_fit_window_option_and_text_output(transport, segments, capsys):
    assert transport([*segments, "--timestep-fs", "100", "--fit-window-ps", "1", "10"]) == 0
    captured = capsys.readouterr()
    assert "D*" in captured.out and "window    1-10 ps" in captured.out
    assert "no temperature" in captured.err


def test_errors_reach_the_user(transport, segments, capsys):
    assert transport([*segments, "--species", "Na", "--timestep-fs", "100"]) == 2
    assert "species Na not present in this trajectory; it holds: Li, Cl" in capsys.readouterr().err
    assert transport([*segments, "--charge", "Li:1", "--timestep-fs", "100"]) == 2
    assert "--charge 'Li:1' is not of the form EL=Q" in capsys.readouterr().err
    assert transport([*segments]) == 2
    assert "--timestep-fs" in capsys.readouterr().err


def test_argyrodite_0p_json(transport, argyrodite_dir, capsys):
    files = [argyrodite_dir / "0p" / f"run{k}.XDATCAR.gz" for k in range(1, 6)]
    assert transport([*files, "--timestep-fs", "100", "--temperature-K", "500", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_frames"] == 700 and out["D_cm2_s"] > 0 and out["D_err_cm2_s"] > 0
    assert out["diffusive"] is False and out["warnings"]
