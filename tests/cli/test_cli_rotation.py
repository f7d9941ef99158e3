"""``ssestudio rotation``: JSON keys on a synthetic run, a workspace trajectory, errors."""

from __future__ import annotations

import json

import pytest

KEYS = {"tau_C1_ps", "tau_C2_ps", "rotation_events", "hop_events", "enrichment",
        "enrichment_ci", "verdict", "tau_C1_err_ps", "tau_C2_err_ps", "mean_tau_C2_ps",
        "beta_C2", "p_value", "n_units", "warnings", "parameters"}
FAST = ["--shuffles", "20", "--bootstrap", "50"]


@pytest.fixture
def rotation(monkeypatch):
    """``rotation(argv) -> exit code`` through ``ssestudio.cli.main``."""
    from ssestudio.cli import main as cli_main

    monkeypatch.setitem(cli_main.COMMANDS, "rotation",
                        ("ssestudio.cli.rotation", "anion rotation analysis"))
    return lambda argv: cli_main.main(["rotation", *map(str, argv)])


@pytest.fixture(scope="module")
def paddle(tmp_path_factory):
    """27 PS4 jumping by 120°; each jump makes a Li of the unit hop 100 fs later."""
    from ssestudio.analysis.rotation.synthetic import RotorModel, simulate

    run = simulate(RotorModel(n_frames=1000, timestep_fs=10.0, jump_rate_per_ps=0.3,
                              trigger_probability=1.0, seed=4))
    return run, run.write(tmp_path_factory.mktemp("rot") / "paddle.h5")


def test_json_keys_and_values(rotation, paddle, capsys):
    run, path = paddle
    assert rotation([path, "--anion", "PS4", "--cation", "Li", "--json", *FAST]) == 0
    out = json.loads(capsys.readouterr().out)
    assert KEYS <= set(out)
    assert out["n_units"] == 27 and out["rotation_events"] == len(run.rotation_frame)
    assert out["hop_events"] == len(run.hop_frame)
    lo, hi = out["enrichment_ci"]
    assert out["enrichment"] > 2 and lo > 1 < hi
    assert out["tau_C2_ps"] > 0 and isinstance(out["verdict"], str)
    assert "events" not in out  # curves and event lists only with --full


def test_full_json_and_options(rotation, paddle, capsys):
    _, path = paddle
    argv = [path, "--json", "--full", "--start", "100", "--stride", "2", "--dt-ps", "0.25",
            "--r-A", "5", "--r-grid-A", "3", "6", "--rotation-threshold-deg", "90",
            "--max-lag-fs", "2000", *FAST]
    assert rotation(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_frames"] == 450 and out["timestep_fs"] == 20.0
    assert out["coincidence_dt_ps"] == 0.25 and out["enrichment_grid"]["r_A"] == [3.0, 5.0, 6.0]
    assert out["parameters"]["rotation_threshold_deg"] == 90.0
    assert len(out["curves"]["C1"]["time_ps"]) == 101
    assert set(out["events"]) == {"rotation", "hop"}


def test_user_defined_anion_and_text_output(rotation, paddle, capsys):
    _, path = paddle
    assert rotation([path, "--centre", "P", "--ligand", "S", "--n-ligands", "4", *FAST]) == 0
    text = capsys.readouterr().out
    assert text.startswith("PS4 / Li: 27 units") and "C2   tau" in text
    assert "coincide with Li hops" in text


def test_workspace_trajectory_by_name(rotation, ws, paddle, capsys):
    _, path = paddle
    ws.import_trajectory([str(path)], name="paddle")
    assert rotation(["paddle", "--workspace", ws.root, "--stop", "300", "--json", *FAST]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_frames"] == 300 and KEYS <= set(out)


def test_sample_melt_is_analysed_and_flagged(rotation, sample_data_dir, capsys):
    melt = sample_data_dir / "trajectories" / "li3ps4_melt_800K.h5"
    assert rotation([melt, "--json", *FAST]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_units"] == 8 and out["hop_events"] > 0
    assert out["C1_reliable"] is False and any("extrapolation" in w for w in out["warnings"])


def test_errors_reach_the_user(rotation, paddle, tmp_path, capsys):
    _, path = paddle
    assert rotation([path, "--anion", "PO9"]) == 2
    assert "unknown anion 'PO9'" in capsys.readouterr().err
    assert rotation([path, "--centre", "P"]) == 2
    assert "both --centre and --ligand" in capsys.readouterr().err
    assert rotation([path, "--cation", "Na"]) == 2
    assert "species Na not present" in capsys.readouterr().err
    assert rotation(["nothing-here", "--workspace", tmp_path / "none"]) == 2
    assert "nothing-here is not a file" in capsys.readouterr().err
