"""``ssestudio structure``: JSON keys on a structure file, a trajectory and a workspace name."""

from __future__ import annotations

import json

import pytest

KEYS = {"density_g_cm3", "rdf_peaks", "coordination", "speciation", "lattice", "angles",
        "structure_factor", "xrd", "warnings"}


@pytest.fixture
def structure(monkeypatch):
    """``structure(argv) -> exit code`` through ``ssestudio.cli.main``."""
    from ssestudio.cli import main as cli_main

    monkeypatch.setitem(cli_main.COMMANDS, "structure",
                        ("ssestudio.cli.structure", "structure analysis"))
    return lambda argv: cli_main.main(["structure", *map(str, argv)])


@pytest.fixture(scope="module")
def li7p3s11_cif(tmp_path_factory):
    import ase.io

    from ssestudio.data.library import build_structure

    path = tmp_path_factory.mktemp("structures") / "li7p3s11.cif"
    ase.io.write(path, build_structure("li7p3s11"))
    return path


@pytest.fixture(scope="module")
def melt(sample_data_dir):
    return sample_data_dir / "trajectories" / "li3ps4_melt_800K.h5"


def test_json_on_a_structure_file(structure, li7p3s11_cif, capsys):
    assert structure([li7p3s11_cif, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert KEYS <= set(out)
    assert out["density_g_cm3"] == pytest.approx(1.9788, abs=2e-3)
    assert out["coordination"]["P-S"]["n"] == pytest.approx(4.0)
    assert out["rdf_peaks"]["P-S"]["first_peak_A"] == pytest.approx(2.05, abs=0.05)
    assert out["speciation"]["qn_fraction"]["Q1"] == pytest.approx(2 / 3)
    assert out["speciation"]["anion_fraction"]["bridging"] == pytest.approx(1 / 11)
    assert "r_A" not in out.get("rdf", {})


def test_json_on_a_trajectory_with_options(structure, melt, capsys):
    argv = [melt, "--start", "5", "--stop", "60", "--stride", "5", "--former", "P", "--anion",
            "S", "--rmax", "5", "--cutoff", "Li-S=3.0", "--angle", "S-P-S", "--xrd", "debye",
            "--json", "--curves"]
    assert structure(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_frames"] == 11 and out["rmax_A"] == 5.0
    assert out["coordination"]["Li-S"]["cutoff_A"] == 3.0
    assert out["speciation"]["unit_fraction_by_former"] == {"PS4": 1.0}
    assert list(out["angles"]) == ["S-P-S"]
    assert len(out["rdf"]["r_A"]) == 250 and len(out["xrd"]["two_theta_deg"]) > 100


def test_text_output(structure, melt, capsys):
    assert structure([melt, "--stride", "50"]) == 0
    text = capsys.readouterr()
    assert "density" in text.out and "P-S" in text.out and "Q0 1.000" in text.out
    assert "limited to 5.42" in text.err


def test_workspace_trajectory_by_name(structure, ws, melt, capsys):
    ws.import_trajectory([str(melt)], name="melt")
    assert structure(["melt", "--workspace", ws.root, "--stop", "3", "--xrd", "none",
                      "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_frames"] == 3 and out["xrd"] is None


def test_errors_reach_the_user(structure, melt, li7p3s11_cif, tmp_path, capsys):
    assert structure([melt, "--rmax", "9"]) == 2
    assert "rmax_A <= 5.418" in capsys.readouterr().err
    assert structure([melt, "--cutoff", "Li:S=3"]) == 2
    assert "not of the form A-B=R" in capsys.readouterr().err
    assert structure([melt, "--start", "500"]) == 2
    assert "holds no frame" in capsys.readouterr().err
    assert structure([li7p3s11_cif, "--anion", "O"]) == 2
    assert "anion O is not in this structure" in capsys.readouterr().err
    assert structure(["nothing-here", "--workspace", tmp_path / "none"]) == 2
    assert "nothing-here is not a file" in capsys.readouterr().err
