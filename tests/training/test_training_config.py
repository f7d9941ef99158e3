"""TrainConfig: defaults, validation messages, JSON round trip."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from ssestudio.core.errors import UserInputError
from ssestudio.training import TrainConfig


def test_defaults_are_valid_and_round_trip_through_json(tmp_path):
    cfg = TrainConfig(dataset="li3ps4@2", model_options={"cutoff_A": 5.5, "hidden": [32, 32]},
                      max_time_min=30, threads=2)
    assert cfg.model == "default" and cfg.ensemble_size == 1
    assert isinstance(cfg.max_time_min, float) and cfg.threads == 2
    data = json.loads(cfg.to_json())
    assert set(data) == {f.name for f in fields(TrainConfig)}
    assert TrainConfig.from_dict(data) == cfg
    path = tmp_path / "config.json"
    path.write_text(cfg.to_json(indent=1))
    assert TrainConfig.from_file(path) == cfg
    assert TrainConfig.from_json(cfg.to_json()).model_options == {"cutoff_A": 5.5,
                                                                  "hidden": [32, 32]}


def test_options_are_copied_and_integers_normalised():
    options = {"cutoff_A": 5.0}
    cfg = TrainConfig(dataset="d", model_options=options, batch_size=4.0, lr=1)
    options["cutoff_A"] = 9.0
    assert cfg.model_options == {"cutoff_A": 5.0}
    assert cfg.batch_size == 4 and isinstance(cfg.batch_size, int) and cfg.lr == 1.0


def test_unknown_keys_are_rejected_with_the_valid_ones_listed():
    with pytest.raises(UserInputError, match="unknown training option.*learning_rate") as exc:
        TrainConfig.from_dict({"dataset": "d", "learning_rate": 0.1})
    assert "lr" in str(exc.value) and "max_epochs" in str(exc.value)
    with pytest.raises(UserInputError, match="needs 'dataset'"):
        TrainConfig.from_dict({"lr": 0.1})
    with pytest.raises(UserInputError, match="not valid JSON"):
        TrainConfig.from_json("{dataset: d}")
    with pytest.raises(UserInputError, match="must be a JSON object"):
        TrainConfig.from_dict(["d"])


@pytest.mark.parametrize("changes, message", [
    ({"dataset": ""}, "dataset must name"),
    ({"dataset": "d@0"}, "NAME@N"),
    ({"dtype": "float16"}, "dtype must be one of float32, float64"),
    ({"schedule": "step"}, "schedule must be one of plateau, cosine"),
    ({"device": "tpu"}, "device must be one of"),
    ({"ensemble_mode": "dropout"}, "ensemble_mode must be one of seeds, bootstrap"),
    ({"lr": 0.0}, r"lr must lie in \(0.0, inf\]"),
    ({"lr": float("nan")}, "lr must be a finite number"),
    ({"force_weight": -1}, "force_weight must lie in"),
    ({"energy_weight": 0, "force_weight": 0, "stress_weight": 0}, "at least one of"),
    ({"min_lr": 0.1, "lr": 0.01}, "min_lr .* cannot exceed lr"),
    ({"plateau_factor": 1.0}, "plateau_factor must lie in"),
    ({"ema_decay": 1.0}, "ema_decay must lie in"),
    ({"batch_size": 0}, "batch_size must be at least 1"),
    ({"batch_size": 2.5}, "batch_size must be an integer"),
    ({"max_epochs": True}, "max_epochs must be an integer"),
    ({"early_stopping_patience": 0}, "early_stopping_patience must be at least 1"),
    ({"max_time_min": -5}, "max_time_min must lie in"),
    ({"grad_clip_norm": "10"}, "grad_clip_norm must be a finite number or null"),
    ({"threads": 0}, "threads must be at least 1"),
    ({"warmup_epochs": 20, "max_epochs": 10}, "warmup_epochs .* cannot exceed max_epochs"),
    ({"model_options": [1]}, "model_options must be a dict"),
    ({"model_options": {"x": object()}}, "JSON values only"),
    ({"model": " "}, "model must be a preset name"),
])
def test_invalid_values_say_what_is_wrong(changes, message):
    with pytest.raises(UserInputError, match=message):
        TrainConfig(**{"dataset": "d", **changes})


def test_optional_fields_accept_none():
    cfg = TrainConfig(dataset="d", early_stopping_patience=None, grad_clip_norm=None,
                      max_time_min=None, threads=None, ema_decay=0.0)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_differences_lists_changed_fields():
    a = TrainConfig(dataset="d")
    b = TrainConfig(dataset="d", lr=0.01, max_epochs=5)
    assert a.differences(b) == {"lr": (0.002, 0.01), "max_epochs": (200, 5)}
