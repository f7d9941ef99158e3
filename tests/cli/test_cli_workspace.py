"""CLI commands over a workspace: init/info, trajectory import/list/info, jobs."""

import json

import numpy as np
import pytest

from ssestudio.cli.main import main


@pytest.fixture
def extxyz_file(tmp_path):
    from ase import Atoms
    import ase.io

    rng = np.random.default_rng(0)
    frames = []
    for k in range(5):
        a = Atoms("Li2S", positions=rng.random((3, 3)) * 4, cell=[4, 4, 4], pbc=True)
        frames.append(a)
    path = tmp_path / "small.extxyz"
    ase.io.write(path, frames, format="extxyz")
    return path


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_workspace_info_reports_schema_and_counts(tmp_path, capsys):
    ws = tmp_path / "ws"
    assert main(["workspace", "info", "--workspace", str(ws), "--json"]) == 0
    info = _json(capsys)
    assert info["schema_version"] >= 1
    assert "trajectories" in info["counts"]


def test_workspace_from_environment_variable(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SSESTUDIO_WORKSPACE", str(tmp_path / "envws"))
    assert main(["workspace", "info", "--json"]) == 0
    assert _json(capsys)["root"] == str(tmp_path / "envws")


def test_trajectory_import_list_info(tmp_path, extxyz_file, capsys):
    ws = str(tmp_path / "ws")
    assert main(["trajectory", "import", str(extxyz_file), "--name", "mine",
                 "--timestep-fs", "2", "--workspace", ws, "--json"]) == 0
    rec = _json(capsys)
    assert rec["name"] == "mine" and rec["n_frames"] == 5 and rec["n_atoms"] == 3
    assert main(["trajectory", "list", "--workspace", ws, "--json"]) == 0
    assert "mine" in [r["name"] for r in _json(capsys)]
    assert main(["trajectory", "info", "mine", "--workspace", ws, "--json"]) == 0
    info = _json(capsys)
    assert info["n_frames"] == 5 and info["formula"] == "Li2S"


def test_trajectory_convert_to_native(tmp_path, extxyz_file, capsys):
    out = tmp_path / "out.h5"
    assert main(["trajectory", "convert", str(extxyz_file), str(out), "--json",
                 "--workspace", str(tmp_path / "ws")]) == 0
    assert _json(capsys)["n_frames"] == 5
    from ssestudio.io import open_trajectory

    with open_trajectory(out) as traj:
        assert traj.n_frames == 5 and traj.info.format == "native"


def test_bad_file_gives_clear_error(tmp_path, capsys):
    bad = tmp_path / "broken.extxyz"
    bad.write_text("3\ncomment\nLi 0 0\n")
    code = main(["trajectory", "info", str(bad), "--workspace", str(tmp_path / "ws")])
    assert code == 2
    assert "broken.extxyz" in capsys.readouterr().err


def test_jobs_list_empty_then_json(tmp_path, capsys):
    assert main(["jobs", "list", "--workspace", str(tmp_path / "ws"), "--json"]) == 0
    assert _json(capsys) == []
