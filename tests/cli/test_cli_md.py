"""``ssestudio md``: run an MD job through a worker process and report it as JSON."""

import argparse
import json

import pytest

from ssestudio.cli import md
from ssestudio.core.errors import UserInputError


def _md(argv):
    """Run ``ssestudio md ARGV`` (through main once it is registered there)."""
    from ssestudio.cli.main import COMMANDS, main

    if "md" in COMMANDS:
        return main(["md", *argv])
    parser = argparse.ArgumentParser(prog="ssestudio md")
    md.add_parser(parser)
    return md.run(parser.parse_args(argv))


def test_md_json_reports_throughput_temperature_and_trajectory(setup, capsys):
    ws, cu = setup
    assert _md(["--structure", cu, "--calculator", "emt", "--temperature-K", "400",
                "--timestep-fs", "2", "--steps", "30", "--write-interval", "10",
                "--supercell", "2", "2", "2", "--seed", "3", "--name", "cli-md",
                "--workspace", ws, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "succeeded" and out["trajectory"] == "cli-md"
    assert out["n_frames"] == 4 and out["n_atoms"] == 32 and out["seed"] == 3
    assert out["atom_steps_per_s"] > 0 and out["mean_T_K"] > 0 and out["wall_s"] > 0
    assert isinstance(out["job_id"], int)


def test_md_detach_returns_job_id(setup, capsys):
    from ssestudio.jobs import JobManager
    from ssestudio.workspace import Workspace

    ws, cu = setup
    assert _md(["--structure", cu, "--steps", "10", "--workspace", ws, "--json",
                "--detach", "-o", "asap_cutoff=false"]) == 0
    job_id = json.loads(capsys.readouterr().out)["job_id"]
    with Workspace.open(ws, create=False) as workspace, JobManager(workspace) as manager:
        rec = manager.wait(job_id, timeout=60)
        assert rec.status == "succeeded", rec.error
        assert rec.spec["params"]["calculator_options"] == [["asap_cutoff", False]]


def test_md_bad_input_is_rejected_before_submitting(setup):
    ws, cu = setup
    with pytest.raises(UserInputError, match="unknown calculator 'nope'"):
        md.run(_parse(["--structure", cu, "--calculator", "nope", "--workspace", ws]))
    with pytest.raises(SystemExit):
        _parse(["--structure", cu, "--ensemble", "npt"])


def test_md_through_main_reports_errors(setup, capsys, monkeypatch):
    from ssestudio.cli import main as cli_main

    monkeypatch.setitem(cli_main.COMMANDS, "md", ("ssestudio.cli.md", "run molecular dynamics"))
    ws, cu = setup
    assert cli_main.main(["md", "--structure", cu, "--timestep-fs", "50", "--workspace", ws]) == 2
    assert "timestep_fs must be > 0 and <= 10" in capsys.readouterr().err


def _parse(argv):
    parser = argparse.ArgumentParser(prog="ssestudio md")
    md.add_parser(parser)
    return parser.parse_args(argv)
