"""``ssestudio dataset``: new -> add (library + glass through generators) -> label -> stats ->
split -> export -> import, through real job workers, with JSON output."""

from __future__ import annotations

import json

import ase.io
import pytest

from ssestudio.cli.main import main

LJ = ["--teacher", "lj", "-o", "sigma=1.5", "-o", "epsilon=0.05"]


def run(capsys, *argv):
    code = main(["dataset", *argv])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if "--json" in argv and out.out.strip() else out.out), out.err


@pytest.fixture
def ws(tmp_path):
    from ssestudio.workspace import Workspace

    Workspace.open(tmp_path / "ws", seed=False).close()
    return str(tmp_path / "ws")


def test_build_label_inspect_export_and_reimport(ws, tmp_path, capsys):
    W = ["--workspace", ws]
    code, new, _ = run(capsys, "new", "lps", "--by", "group", *W, "--json")
    assert code == 0 and new["name"] == "lps" and new["latest_version"] == 0
    code, added, _ = run(capsys, "add", "lps", "--source", "library:gamma_li3ps4",
                         "--source", "glass:75Li2S-25P2S5:64", "--step", "rattle",
                         "stdev_A=0.04", "n_copies=4", "--seed", "2", *W, "--json")
    assert code == 0 and added["status"] == "succeeded", added
    assert added["added"] == 8 and added["pending"] == 8 and added["version"] is None
    code, labelled, _ = run(capsys, "label", "lps", *LJ, "--batch-size", "3", *W, "--json")
    assert code == 0 and labelled["labelled"] + labelled["rejected"] == 8, labelled
    assert labelled["version"] == 1 and labelled["configs_per_s"] > 0
    code, stats, _ = run(capsys, "stats", "lps@1", "--map", *W, "--json")
    assert code == 0 and stats["n_configurations"] == labelled["labelled"]
    assert set(stats["elements"]) == {"Li", "P", "S"} and stats["min_distance_A"]["P-S"] > 1.8
    assert len(stats["map"]["x"]) == stats["n_configurations"]
    assert set(stats["by_source"]) == {"library:gamma_li3ps4", "glass:75Li2S-25P2S5"}
    code, split, _ = run(capsys, "split", "lps", "--fractions", "0.5", "0.5", "0", *W, "--json")
    assert code == 0 and split["version"] == 2 and split["counts"]["test"] == 0
    out = tmp_path / "train.xyz"
    code, exported, _ = run(capsys, "export", "lps@2", str(out), *W, "--json")
    assert code == 0 and exported["n_configurations"] == stats["n_configurations"]
    frames = ase.io.read(out, index=":")
    assert "REF_energy" in frames[0].info and frames[0].arrays["REF_forces"].shape[1] == 3
    code, imported, _ = run(capsys, "import", "copy", str(out), "--level", "lj", *W, "--json")
    assert code == 0 and imported["labelled"] == len(frames) and imported["version"] == 1
    code, listing, _ = run(capsys, "list", *W, "--json")
    assert [d["name"] for d in listing] == ["copy", "lps"]
    from ssestudio.workspace import Workspace

    with Workspace.open(ws) as w:  # every version registered for provenance
        assert [a.version for a in w.list_artifacts("datasets", name="lps")] == [1, 2]
    code, text, _ = run(capsys, "stats", "lps", *W)
    assert code == 0 and "lps@2" in text and "min distances" in text


def test_listings_and_bad_input(ws, capsys):
    W = ["--workspace", ws]
    code, lib, _ = run(capsys, "library", *W, "--json")
    assert code == 0 and {"beta_li3ps4", "lgps", "llzo"} <= {r["name"] for r in lib}
    code, gens, _ = run(capsys, "generators", *W, "--json")
    assert {"rattle", "strain", "md_snapshots"} <= {g["name"] for g in gens}
    code, teachers, _ = run(capsys, "teachers", *W, "--json")
    assert teachers[0]["name"] == "sevenn"
    code, _, err = run(capsys, "stats", "nothing", *W)
    assert code == 2 and "no dataset named 'nothing'" in err
    code, _, err = run(capsys, "add", "x", "--source", "library:unobtainium", *W)
    assert code == 2 and "unobtainium" in err
    code, _, err = run(capsys, "add", "x", "--source", "library:li2s", "--step", "rattle",
                       "sigma=3", *W)
    assert code == 2 and "sigma" in err
    run(capsys, "new", "empty", *W)
    code, _, err = run(capsys, "label", "empty", *W)
    assert code == 2 and "no configuration waiting for labels" in err
    code, _, err = run(capsys, "new", "empty", *W)
    assert code == 2 and "already exists" in err
