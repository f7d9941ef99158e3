"""The trainer: learning, stop criteria, files, checkpoints and bit-exact resume."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from ssestudio.core.errors import UserInputError
from ssestudio.models import build_model, load_model
from ssestudio.training import (TrainConfig, Trainer, energy_scale, evaluate,
                                reference_energies, train)
from ssestudio.training.components import ExponentialMovingAverage, LRSchedule


def untrained_force_rmse(config, data):
    torch.manual_seed(config.seed)
    model = build_model(config.model, data.elements, **config.model_options).double()
    refs = reference_energies(data.train, len(data.elements))
    model.set_reference_energies(refs)
    model.set_energy_scale(energy_scale(data.train, refs))
    return evaluate(model, data.validation).force_rmse_eV_A


def read_history(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def without_times(history):
    return [{k: v for k, v in r.items() if k not in ("time_s", "elapsed_s")} for r in history]


def test_training_reduces_the_validation_force_error(tmp_path, small_config, emt_data):
    before = untrained_force_rmse(small_config, emt_data)
    seen = []
    result = Trainer.from_data(small_config, emt_data, tmp_path / "run",
                               on_epoch=seen.append,
                               progress=lambda f, msg: seen.append((f, msg))).run()
    assert result.stop_reason == "max_epochs" and result.epochs == small_config.max_epochs
    after = result.val_metrics.force_rmse_eV_A
    assert after < before / 3, (before, after)
    assert result.test_metrics.n_structures == 12 and result.test_metrics.force_rmse_eV_A < 1
    assert result.elapsed_s < 30
    # files
    history = read_history(result.history_path)
    assert [r["epoch"] for r in history] == list(range(1, 13))
    assert {"epoch", "time_s", "lr", "train_loss", "val_loss", "val_metrics"} <= set(history[0])
    assert history[0]["val_metrics"]["n_structures"] == 12 and all(r["complete"]
                                                                   for r in history)
    assert min(r["val_loss"] for r in history) == pytest.approx(result.val_loss)
    assert history[result.best_epoch - 1]["val_metrics"] == result.val_metrics.to_dict()
    parity = json.loads((tmp_path / "run" / "parity.json").read_text())
    assert parity["epoch"] == 12 and len(parity["validation"]["energy_per_atom_eV"][
        "predicted"]) == 12
    assert parity["validation"]["forces_eV_A"]["n_total"] == 12 * 16 * 3
    final = json.loads(result.final_path.read_text())
    assert final["stop_reason"] == "max_epochs" and final["dataset"] == "emt-cuau@1"
    assert final["test"] == result.test_metrics.to_dict()
    assert final["parity"]["test"]["stress_GPa"] is not None
    # callbacks
    records = [s for s in seen if isinstance(s, dict)]
    assert [r["epoch"] for r in records] == list(range(1, 13))
    fractions = [s[0] for s in seen if isinstance(s, tuple)]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    ends = [s for s in seen if isinstance(s, tuple) and s[1].startswith("epoch 1/12: val")]
    assert ends[0][0] == pytest.approx(1 / 12) and "eV/Å" in ends[0][1]
    assert "step 1/6" in seen[0][1]          # within-epoch progress (at most every 2 s)


def test_learning_rate_warms_up_then_follows_the_schedule():
    cfg = TrainConfig(dataset="d", lr=0.01, min_lr=1e-4, warmup_epochs=2, max_epochs=10,
                      schedule="cosine")
    s = LRSchedule(cfg, steps_per_epoch=5)
    assert [s.lr(k) for k in range(3)] == pytest.approx([0.001, 0.002, 0.003])
    assert s.lr(9) == pytest.approx(0.01) and s.lr(10) == pytest.approx(0.01)
    assert s.lr(50) == pytest.approx(1e-4) and s.lr(30) == pytest.approx(0.00505)
    p = LRSchedule(replace(cfg, schedule="plateau", plateau_patience=1, plateau_factor=0.5,
                           warmup_epochs=0), 5)
    for epoch, loss in enumerate([1.0, 0.5, 0.6, 0.6, 0.7], start=1):
        p.epoch_end(epoch, loss)
    assert p.lr(100) == pytest.approx(0.005)      # two bad epochs > patience 1: halved once
    q = LRSchedule(cfg, 5)
    q.load_state_dict(p.state_dict())
    assert q.state_dict() == p.state_dict()


def test_ema_averages_and_restores():
    w = torch.nn.Parameter(torch.zeros(3))
    ema = ExponentialMovingAverage([w], decay=0.5)
    with torch.no_grad():
        w.fill_(1.0)
    ema.update()                        # d = min(0.5, 2/11)
    d = 2 / 11
    assert torch.allclose(ema.shadow[0], torch.full((3,), 1 - d))
    with ema.applied():
        assert torch.allclose(w, torch.full((3,), 1 - d))
    assert torch.equal(w, torch.ones(3))


def test_early_stopping(tmp_path, small_config, emt_data):
    # validation labels contradict the training ones (forces reversed): the validation
    # loss can only get worse once the model learns the training data
    flipped = tuple(replace(g, forces=-g.forces, stress=-g.stress) for g in emt_data.train[:12])
    data = replace(emt_data, validation=flipped)
    cfg = replace(small_config, max_epochs=40, early_stopping_patience=3)
    result = Trainer.from_data(cfg, data, tmp_path / "run").run()
    assert result.stop_reason == "early_stopping"
    assert result.epochs == result.best_epoch + 3 < 40


def test_time_budget_stops_gracefully(tmp_path, small_config, emt_data):
    cfg = replace(small_config, max_epochs=10000, max_time_min=0.02)
    result = Trainer.from_data(cfg, emt_data, tmp_path / "run").run()
    assert result.stop_reason == "time_budget" and 1 <= result.epochs < 10000
    assert result.elapsed_s < 1.2 + 10.0
    assert result.best_path.is_file() and result.final_path.is_file()
    assert json.loads(result.final_path.read_text())["stop_reason"] == "time_budget"


def test_should_stop_keeps_the_best_model(tmp_path, small_config, emt_data):
    state = {"stop": False}

    def on_epoch(record):
        state["stop"] = record["epoch"] >= 3

    result = Trainer.from_data(small_config, emt_data, tmp_path / "run", on_epoch=on_epoch,
                               should_stop=lambda: state["stop"]).run()
    assert result.stop_reason == "stopped" and result.epochs == 3
    model, meta = load_model(result.best_path)
    assert meta["dataset"] == "emt-cuau@1" and meta["elements"] == ["Au", "Cu"]
    assert meta["epoch"] == result.best_epoch and meta["config"] == small_config.to_dict()
    again = evaluate(model, emt_data.validation, batch_size=small_config.batch_size)
    # rel 1e-6, not 1e-12: model_from_payload loads the float64 weights into a float32
    # model before casting it to float64 (ssestudio.models.serialization), which rounds them
    for key, value in meta["val_metrics"].items():
        if isinstance(value, float):
            assert getattr(again, key) == pytest.approx(value, rel=1e-6), key
    assert again.force_rmse_per_element_eV_A == pytest.approx(
        meta["val_metrics"]["force_rmse_per_element_eV_A"], rel=1e-6)
    assert meta["val_metrics"] == result.val_metrics.to_dict()


def test_a_stop_between_steps_validates_the_partial_epoch(tmp_path, small_config, emt_data):
    calls = {"n": 0}

    def should_stop():
        calls["n"] += 1
        return calls["n"] > 8            # the epoch has 6 steps: stops in epoch 2

    result = Trainer.from_data(small_config, emt_data, tmp_path / "run",
                               should_stop=should_stop).run()
    history = read_history(result.history_path)
    assert result.stop_reason == "stopped" and result.epochs == 2
    assert history[-1]["complete"] is False and 0 < history[-1]["steps"] < 6
    assert json.loads((tmp_path / "run" / "parity.json").read_text())["epoch"] == 2


def test_checkpoint_loads_with_weights_only(tmp_path, small_config, emt_data):
    cfg = replace(small_config, max_epochs=2)
    result = Trainer.from_data(cfg, emt_data, tmp_path / "run").run()
    ckpt = torch.load(result.checkpoint_path, map_location="cpu", weights_only=True)
    assert ckpt["format"] == "ssestudio-checkpoint" and ckpt["epoch"] == 2
    assert {"model", "train_state_dict", "ema", "optimizer", "schedule", "best", "history",
            "rng", "config", "best_model"} <= set(ckpt)
    assert TrainConfig.from_json(ckpt["config"]) == cfg
    assert len(json.loads(ckpt["history"])) == 2
    model, meta = load_model(result.checkpoint_path)            # the EMA weights
    assert model.elements == ["Au", "Cu"] and meta["epoch"] == 2
    best = torch.load(result.best_path, map_location="cpu", weights_only=True)
    assert best["format"] == "ssestudio-model"


def test_an_existing_run_is_not_overwritten(tmp_path, small_config, emt_data):
    cfg = replace(small_config, max_epochs=1, warmup_epochs=0)
    Trainer.from_data(cfg, emt_data, tmp_path / "run").run()
    with pytest.raises(UserInputError, match="already holds a training run.*resume"):
        Trainer.from_data(cfg, emt_data, tmp_path / "run").run()
    with pytest.raises(UserInputError, match=r"another configuration \(lr: 0.01 -> 0.02\)"):
        Trainer.from_data(replace(cfg, lr=0.02), emt_data, tmp_path / "run").run(resume=True)
    # max_epochs may change: the run continues
    more = Trainer.from_data(replace(cfg, max_epochs=2), emt_data, tmp_path / "run").run(
        resume=True)
    assert more.epochs == 2 and len(read_history(more.history_path)) == 2


def test_resume_after_a_stop_equals_an_uninterrupted_run(tmp_path, small_config, emt_data):
    cfg = replace(small_config, max_epochs=7, eval_every=2)
    full = Trainer.from_data(cfg, emt_data, tmp_path / "full").run()
    state = {"stop": False}

    def on_epoch(record):
        state["stop"] = record["epoch"] == 3

    first = Trainer.from_data(cfg, emt_data, tmp_path / "resumed", on_epoch=on_epoch,
                              should_stop=lambda: state["stop"]).run()
    assert first.epochs == 3 and first.stop_reason == "stopped"
    second = train(cfg, emt_data, tmp_path / "resumed", resume=True)
    assert_same_run(full, second)


def assert_same_run(full, resumed):
    assert resumed.epochs == full.epochs and resumed.stop_reason == full.stop_reason
    assert resumed.best_epoch == full.best_epoch
    assert without_times(read_history(resumed.history_path)) == without_times(
        read_history(full.history_path))
    a = torch.load(full.checkpoint_path, weights_only=True)
    b = torch.load(resumed.checkpoint_path, weights_only=True)
    for key, value in a["train_state_dict"].items():
        assert torch.equal(value, b["train_state_dict"][key]), key
    for x, y in zip(a["ema"]["shadow"], b["ema"]["shadow"]):
        assert torch.equal(x, y)
    ma, _ = load_model(full.best_path)
    mb, _ = load_model(resumed.best_path)
    for (k, x), y in zip(ma.state_dict().items(), mb.state_dict().values()):
        assert torch.equal(x, y), k
    assert resumed.test_metrics == full.test_metrics


KILLED_RUN = """
import json, os, signal, sys
sys.path.insert(0, {here!r})
from training_helpers import emt_cells
from ssestudio.training import TrainConfig, Trainer, training_data_from_atoms
cfg = TrainConfig.from_json({config!r})
atoms = emt_cells(60, seed=1)
data = training_data_from_atoms(cfg, atoms[:36], atoms[36:48], atoms[48:],
                                reference="emt-cuau@1")
def on_epoch(record):
    if record["epoch"] == 3:
        os.kill(os.getpid(), signal.SIGKILL)
Trainer.from_data(cfg, data, {out!r}, on_epoch=on_epoch).run()
"""


def test_resume_after_sigkill_equals_an_uninterrupted_run(tmp_path, small_config, emt_data,
                                                          helpers_on_path):
    cfg = replace(small_config, max_epochs=6, eval_every=2)
    script = KILLED_RUN.format(here=str(helpers_on_path), config=cfg.to_json(),
                               out=str(tmp_path / "killed"))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert len(read_history(tmp_path / "killed" / "history.jsonl")) == 3
    assert not (tmp_path / "killed" / "final.json").exists()
    resumed = Trainer.from_data(cfg, emt_data, tmp_path / "killed").run(resume=True)
    full = Trainer.from_data(cfg, emt_data, tmp_path / "full").run()
    assert_same_run(full, resumed)
    assert not [p for p in os.listdir(tmp_path / "killed") if p.endswith(".tmp")]


def test_a_diverging_loss_is_reported(tmp_path, small_config, emt_data, monkeypatch):
    import ssestudio.training.trainer as trainer_module

    real = trainer_module.batch_loss
    monkeypatch.setattr(trainer_module, "batch_loss",
                        lambda *a, **k: real(*a, **k) * math.nan)
    with pytest.raises(UserInputError, match="training diverged.*lower lr"):
        Trainer.from_data(small_config, emt_data, tmp_path / "run").run()


def test_the_default_preset_trains_and_loads_as_a_calculator(tmp_path, cells):
    from ssestudio.models.calculator import load_calculator
    from ssestudio.training import training_data_from_atoms

    cfg = TrainConfig(dataset="emt-cuau", max_epochs=2, warmup_epochs=1, batch_size=4,
                      threads=1, device="cpu")
    data = training_data_from_atoms(cfg, cells["train"][:8], cells["validation"][:4],
                                    reference="emt-cuau@1")
    assert data.cutoff_A == 5.0
    result = Trainer.from_data(cfg, data, tmp_path / "run").run()
    assert result.epochs == 2 and result.test_metrics is None
    assert json.loads(result.final_path.read_text())["test"] is None
    model, meta = load_model(result.best_path)
    assert model.family == "moment" and next(model.parameters()).dtype == torch.float32
    atoms = cells["test"][0].copy()
    atoms.calc = load_calculator(result.best_path, device="cpu")
    assert np.isfinite(atoms.get_forces()).all() and atoms.get_forces().shape == (16, 3)
