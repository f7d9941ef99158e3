"""``ssestudio md`` with the new ensembles, ramps, equilibration, models and --resume."""

import argparse
import json

import pytest

from ssestudio.cli import md
from ssestudio.cli.main import main


def _parse(argv):
    parser = argparse.ArgumentParser(prog="ssestudio md")
    md.add_parser(parser)
    return parser.parse_args(argv)


def test_npt_run_reports_density_and_pressure(setup, capsys):
    ws, cu = setup
    assert main(["md", "--structure", cu, "--ensemble", "npt-mtk-iso", "--pressure-GPa", "1",
                 "--barostat-time-fs", "400", "--temperature-K", "300", "--timestep-fs", "4",
                 "--steps", "40", "--write-interval", "10", "--supercell", "2", "1", "1",
                 "--seed", "1", "--workspace", ws, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "succeeded" and out["ensemble"] == "npt-mtk-iso"
    assert out["n_frames"] == 5 and out["mean_T_K"] > 0 and out["atom_steps_per_s"] > 0
    assert 8.0 < out["mean_density_g_cm3"] < 10.0 and out["mean_P_GPa"] is not None
    assert out["trajectory"] == "md-Cu8-300K"


def test_spec_from_arguments(setup):
    ws, cu = setup
    spec = md.build_spec(_parse(["--structure", cu, "--ensemble", "nvt-nhc",
                                 "--temperature-K", "300", "--end-temperature-K", "900",
                                 "--equilibration-steps", "50", "--equilibration-ensemble",
                                 "npt-mtk-iso", "--checkpoint-interval", "200",
                                 "--max-uncertainty", "0.8", "--workspace", ws]))
    assert spec.end_temperature_K == 900.0 and spec.equilibration_steps == 50
    assert spec.equilibration_ensemble == "npt-mtk-iso" and spec.checkpoint_interval == 200
    assert spec.max_uncertainty_eV_A == 0.8
    with pytest.raises(SystemExit, match="--structure is required"):
        md.build_spec(_parse(["--workspace", ws]))


def test_model_option_sets_the_model_calculator(setup, tmp_path):
    from ssestudio.models import build_model
    from ssestudio.models.serialization import save_model

    ws, cu = setup
    path = save_model(tmp_path / "m.pt", build_model("default", ["Cu"]))
    spec = md.build_spec(_parse(["--structure", cu, "--model", str(path), "-o", "num_threads=1",
                                 "--workspace", ws]))
    assert spec.calculator == "model"
    assert spec.options == {"path": str(path), "num_threads": 1}


def test_resume_of_a_finished_run_continues_nothing_but_succeeds(setup, capsys):
    ws, cu = setup
    assert main(["md", "--structure", cu, "--steps", "20", "--write-interval", "10",
                 "--seed", "2", "--name", "done", "--workspace", ws, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["md", "--resume", "done", "--workspace", ws, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["status"] == "succeeded" and again["trajectory_id"] == first["trajectory_id"]
    assert again["n_frames"] == first["n_frames"] == 3
    assert again["resumed_from_step"] == "md:20" and again["seed"] == 2
    assert main(["md", "--resume", "nope", "--workspace", ws]) == 2
