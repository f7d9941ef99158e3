"""``ssestudio meltquench``: schedule preview, model resolution, and a tiny run end to end."""

import argparse
import json

import pytest

from ssestudio.cli import meltquench
from ssestudio.cli.main import main

TINY = ["--set", "heat_ps=0.05", "--set", "hold_ps=0.1", "--set", "melt_K=1200",
        "--set", "quench_rate_K_per_ps=10000", "--set", "anneal_ps=0.05",
        "--set", "relax_ps=0.2", "--set", "production_ps=0.1", "--set", "timestep_fs=2",
        "--set", "write_interval=10", "--set", "barostat_time_fs=300"]


@pytest.fixture
def workspace(tmp_path):
    from ssestudio.workspace import Workspace

    Workspace.open(tmp_path / "ws", seed=False).close()
    return str(tmp_path / "ws")


def _parse(argv):
    parser = argparse.ArgumentParser(prog="ssestudio meltquench")
    meltquench.add_parser(parser)
    return parser.parse_args(argv)


def test_schedule_is_printed_without_running(capsys):
    assert main(["meltquench", "--preset", "quick", "--schedule", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["stage_names"] == ["heat", "melt", "quench", "anneal", "relax", "production"]
    assert out["time_fs"][-1] == 26000.0 and out["temperature_K"][:2] == [300.0, 1500.0]
    assert out["pressure_GPa"][0] is None  # NaN outside the NPT stage
    assert main(["meltquench", "--schedule", "--set", "anneal_K=600"]) == 0
    assert "cool" in capsys.readouterr().out
    assert main(["meltquench", "--schedule", "--set", "melt=1"]) == 2
    assert "unknown melt-quench settings ['melt']" in capsys.readouterr().err


def test_model_is_resolved_from_a_file_or_a_workspace_name(workspace, tmp_path):
    from ssestudio.models import build_model
    from ssestudio.models.serialization import save_model
    from ssestudio.workspace import Workspace

    path = save_model(tmp_path / "m.pt", build_model("default", ["Li", "P", "S"]))
    with Workspace.open(workspace, create=False) as ws:
        ws.add_artifact("models", path, name="lps")
    for ref in (str(path), "lps"):
        spec = meltquench.build_spec(_parse(["--model", ref, "--composition", "75Li2S-25P2S5",
                                             "--atoms", "64", "--workspace", workspace]))
        assert spec.calculator == "model" and spec.options == {"path": str(path)}
        assert spec.n_atoms == 64 and spec.preset == "quick"
    assert main(["meltquench", "--model", "nope", "--composition", "75Li2S-25P2S5",
                 "--workspace", workspace]) == 2


def test_calculator_or_model_is_required(workspace):
    with pytest.raises(SystemExit, match="give --model MODEL"):
        meltquench.build_spec(_parse(["--composition", "75Li2S-25P2S5",
                                      "--workspace", workspace]))


def test_tiny_melt_quench_end_to_end_reports_density(workspace, capsys):
    argv = ["meltquench", "--calculator", "lj", "-o", "sigma=2.2", "-o", "epsilon=0.05",
            "-o", "rc=5.5", "-o", "smooth=true", "--composition", "75Li2S-25P2S5",
            "--atoms", "16", "--seed", "2", "--name", "tiny", *TINY,
            "--workspace", workspace, "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "succeeded", out["message"]
    assert 0.5 < out["density_g_cm3"] < 10.0 and out["n_atoms"] == 16
    assert out["speciation"]["formers"] == ["P"] and out["speciation"]["anion"] == "S"
    assert out["trajectory"] == "tiny" and out["production_trajectory"] == "tiny-300K"
    assert out["glass_structure"] == "tiny-glass" and out["atom_steps_per_s"] > 0
    assert [s["name"] for s in out["stages"]][-2:] == ["relax", "production"]
