"""Ensembles: members by seed or bootstrap sample, one ensemble file, stop and progress."""

from __future__ import annotations

from dataclasses import replace

import torch

from ssestudio.models import load_model, read_metadata
from ssestudio.training import EnsembleResult, TrainResult, train, train_ensemble
from ssestudio.training.ensemble import member_config, member_data


def test_ensemble_of_two_writes_a_loadable_ensemble(tmp_path, small_config, emt_data):
    cfg = replace(small_config, max_epochs=3, ensemble_size=2)
    progress, records = [], []
    result = train(cfg, emt_data, tmp_path / "ens", on_epoch=records.append,
                   progress=lambda f, msg: progress.append((f, msg)))
    assert isinstance(result, EnsembleResult) and result.stop_reason == "completed"
    assert [m.out_dir.name for m in result.members] == ["member_0", "member_1"]
    assert all(m.best_path.is_file() and m.epochs == 3 for m in result.members)
    models, meta = load_model(result.ensemble_path)
    assert isinstance(models, list) and len(models) == 2
    assert not torch.equal(models[0].lin1.weight, models[1].lin1.weight)
    assert meta["dataset"] == "emt-cuau@1" and meta["complete"] is True
    assert [m["seed"] for m in meta["members"]] == [0, 1]
    assert read_metadata(result.members[1].best_path)["config"]["seed"] == 1
    assert [(r["member"], r["epoch"]) for r in records] == [(0, 1), (0, 2), (0, 3),
                                                           (1, 1), (1, 2), (1, 3)]
    fractions = [f for f, _ in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert progress[0][1].startswith("member 1/2") and 0.1 < fractions[2] <= 0.5


def test_bootstrap_members_train_on_different_samples(small_config, emt_data):
    cfg = replace(small_config, ensemble_size=3, ensemble_mode="bootstrap", seed=5)
    samples = [member_data(cfg, emt_data, k).train for k in range(3)]
    assert all(len(s) == len(emt_data.train) for s in samples)
    assert len({tuple(id(g) for g in s) for s in samples}) == 3
    assert len({id(g) for g in samples[0]}) < len(emt_data.train)   # drawn with replacement
    assert member_config(cfg, 2).seed == 7 and member_config(cfg, 2).ensemble_size == 1
    seeds = replace(cfg, ensemble_mode="seeds")
    assert member_data(seeds, emt_data, 1) is emt_data


def test_a_stop_ends_the_ensemble_without_an_ensemble_file(tmp_path, small_config, emt_data):
    cfg = replace(small_config, max_epochs=3, ensemble_size=3, ensemble_mode="bootstrap")
    state = {"stop": False}

    def on_epoch(record):
        state["stop"] = record["epoch"] == 2

    result = train_ensemble(cfg, emt_data, tmp_path / "ens", on_epoch=on_epoch,
                            should_stop=lambda: state["stop"])
    assert result.stop_reason == "stopped" and result.ensemble_path is None
    assert len(result.members) == 1 and isinstance(result.members[0], TrainResult)
    assert result.members[0].best_path.is_file()
    assert not (tmp_path / "ens" / "ensemble.pt").exists()
    # resuming trains the rest and writes the ensemble
    resumed = train_ensemble(cfg, emt_data, tmp_path / "ens", resume=True)
    assert resumed.stop_reason == "completed" and len(resumed.members) == 3
    assert [m.epochs for m in resumed.members] == [3, 3, 3]
    models, meta = load_model(resumed.ensemble_path)
    assert len(models) == 3 and meta["mode"] == "bootstrap"
