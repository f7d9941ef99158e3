"""Fixtures of the training tests: EMT-labelled Cu/Au cells and a tiny model family."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from training_helpers import emt_cells  # noqa: E402  (registers the test-eam family)


@pytest.fixture(scope="session")
def cells():
    """60 labelled cells: 36 train, 12 validation, 12 test."""
    atoms = emt_cells(60, seed=1)
    return {"train": atoms[:36], "validation": atoms[36:48], "test": atoms[48:]}


@pytest.fixture(scope="session")
def small_config():
    """A fast config of the test model (CPU, float64, one thread)."""
    from ssestudio.training import TrainConfig

    return TrainConfig(dataset="emt-cuau", model="test-eam", model_options={"cutoff_A": 4.0},
                       dtype="float64", lr=1e-2, batch_size=6, max_epochs=12, warmup_epochs=1,
                       early_stopping_patience=None, ema_decay=0.9, threads=1, device="cpu",
                       eval_every=4)


@pytest.fixture(scope="session")
def emt_data(cells, small_config):
    """TrainingData of :func:`cells` for the test model."""
    from ssestudio.training import training_data_from_atoms

    return training_data_from_atoms(small_config, cells["train"], cells["validation"],
                                    cells["test"], reference="emt-cuau@1")


@pytest.fixture
def helpers_on_path(monkeypatch):
    """PYTHONPATH for subprocesses that import ``training_helpers``."""
    old = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(HERE), old])))
    return HERE
