"""Tiers 1 and 2: the Training tab's view model with real ``train`` jobs, and its layout.

The dataset: 40 EMT-labelled 16-atom Cu/Au cells (the training tests' helper) in a seeded
workspace; runs use the ``default`` preset on one thread for a few epochs.
"""

from __future__ import annotations

import time

import panel as pn
import pytest

from ssestudio.core.errors import UserInputError
from ssestudio.ui.training import TrainingModel, TrainingTab
from ssestudio.ui.training_model import PUBLISHED_RANGE, STOP_NOTE, RunFiles, parse_history
from tests.training.training_helpers import emt_cells

#: Form values of a short, fast run.
FAST = dict(max_epochs=4, threads=1, batch_size=8)


def add_emt_dataset(workspace, name: str = "cuau", n: int = 40):
    """A labelled dataset of ``n`` EMT Cu/Au cells (version 1, default 80/10/10 split)."""
    from ssestudio.jobs.dataset import create_dataset

    ds = create_dataset(workspace, name)
    ds.add(emt_cells(n, seed=1))
    return ds


def wait_done(model, job_id, timeout=90):
    deadline = time.monotonic() + timeout
    while not model.manager.get(job_id).done:
        assert time.monotonic() < deadline, f"job {job_id} did not finish"
        model.poll()
        time.sleep(0.2)
    model.poll()
    return model.manager.get(job_id)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, sample_data_dir):
    """A workspace with the EMT dataset and one finished 4-epoch run, started from the
    view model; yields (model, job id)."""
    from ssestudio.jobs import JobManager, LocalExecutor
    from ssestudio.workspace import Workspace

    ws = Workspace.open(tmp_path_factory.mktemp("train") / "ws", sample_dir=sample_data_dir)
    add_emt_dataset(ws)
    manager = JobManager(ws, LocalExecutor(max_workers=1), poll_interval_s=0.2)
    model = TrainingModel(ws, manager, **FAST)
    job_id = model.start()
    rec = wait_done(model, job_id)
    assert str(rec.status) == "succeeded", rec.error
    yield model, job_id
    manager.close()
    ws.close()


# ---- tier 1 ------------------------------------------------------------------------------
def test_form_defaults_options_and_bad_input(seeded_workspace, manager):
    from ssestudio.training import TrainConfig

    m = TrainingModel(seeded_workspace, manager)
    defaults = TrainConfig(dataset="x")
    assert (m.max_epochs, m.lr, m.force_weight, m.schedule) == (
        defaults.max_epochs, defaults.lr, defaults.force_weight, defaults.schedule)
    assert {"default", "large", "mace"} <= set(m.presets)
    assert m.dataset == "" and m.dataset_options == {}
    with pytest.raises(UserInputError, match="choose a dataset"):
        m.start()
    ds = add_emt_dataset(seeded_workspace, n=40)
    m.refresh_datasets()
    assert m.dataset == "cuau@1"
    assert list(m.dataset_options) == ["cuau@1: train 33 · validation 6 · test 1"]
    m.model_options = "{cutoff"
    with pytest.raises(UserInputError, match="JSON object"):
        m.start()
    m.model_options = ""
    m.lr = 0.0
    with pytest.raises(UserInputError, match="lr must lie in"):
        m.start()
    m.lr = 1e-3
    if m.presets["mace"]["missing"]:  # mace-torch not installed: disabled, with the hint
        m.model = "mace"
        with pytest.raises(UserInputError, match="pip install"):
            m.start()
        m.model = "default"
    from ssestudio.data.records import SplitPolicy

    ds.resplit(SplitPolicy(fractions=(1.0, 0.0, 0.0)))  # version 2: no validation split
    m.refresh_datasets()
    m.dataset = "cuau@2"
    with pytest.raises(UserInputError, match="0 validation structures"):
        m.start()
    assert m.max_epochs == defaults.max_epochs and m.dataset == "cuau@2"  # nothing lost
    assert manager.list() == [] and m.runs == []


def test_runs_list_curves_metrics_parity(trained):
    m, job_id = trained
    row = m.run_row(job_id)
    assert row["status"] == "succeeded" and row["dataset"] == "cuau@1"
    assert row["model"] == "default" and row["epochs"] == "4/4"
    assert row["name"] == "cuau-default" and row["val_force_rmse_eV_A"] > 0
    assert row["note"] == "reached max epochs" and m.status_lines() == []
    assert m.selected == [job_id]
    (c,) = m.curves()
    assert c["epoch"] == [1, 2, 3, 4] and len(c["val_loss"]) == 4
    assert all(v > 0 for v in c["train_loss"] + c["energy_rmse_meV_atom"] + c["force_rmse_eV_A"])
    rows = m.metrics_rows()
    assert [r["set"] for r in rows] == ["validation (latest)", "validation (best)",
                                        "test (best model)"]
    assert rows[2]["n_structures"] == 1 and set(rows[2]["force_rmse_per_element"].split()) >= {
        "Au", "Cu"}
    val, test = m.parity()
    assert (val["source"], test["source"]) == ("validation, best model", "test, best model")
    assert len(val["energy_per_atom_eV"]["reference"]) == 6
    assert len(test["forces_eV_A"]["predicted"]) == 16 * 3
    (e,) = m.element_errors()
    assert set(e["values"]) == {"Au", "Cu"}
    assert PUBLISHED_RANGE == {"energy_rmse_meV_atom": (1.0, 10.0),
                               "force_rmse_eV_A": (0.03, 0.2)}
    version = m.data_version
    assert not m.poll() and m.data_version == version  # nothing changed: nothing re-read
    m.select([])
    assert m.curves() == [] and m.metrics_rows() == [] and m.data_version == version + 1
    m.select([job_id])


def test_evaluate_on_another_split(trained):
    m, job_id = trained
    out = m.evaluate(job_id, "cuau@1", "validation")
    assert out["split"] == "validation" and out["n_structures"] == 6
    assert "structures): energy RMSE" in m.message
    assert m.metrics_rows()[-1]["set"] == "cuau@1 validation (evaluated)"
    with pytest.raises(UserInputError, match="split must be one of"):
        m.evaluate(job_id, "cuau@1", "holdout")
    with pytest.raises(UserInputError, match="choose the dataset"):
        m.evaluate(job_id, "", "test")


def test_stop_keeps_the_best_model(trained):
    from ssestudio.models import load_model

    m, first = trained
    m.param.update(max_epochs=500, model_name="long-run")
    job_id = m.start()
    assert m.selected == [first, job_id]
    deadline = time.monotonic() + 60
    while not (m.curves()[-1]["epoch"] if len(m.curves()) == 2 else []):
        assert time.monotonic() < deadline, "no epoch finished"
        m.poll()
        time.sleep(0.2)
    assert m.active == [job_id] and "epoch" in m.status_lines()[0]
    m.stop(job_id)
    assert STOP_NOTE in m.message
    assert m.run_row(job_id)["status"] in ("stopping", "succeeded")
    rec = wait_done(m, job_id)
    assert str(rec.status) == "succeeded", rec.error
    assert rec.result["stop_reason"] == "stopped" and rec.result["epochs"] < 500
    model, metadata = load_model(rec.result["model_path"])
    assert metadata["dataset"] == "cuau@1" and list(model.elements) == ["Au", "Cu"]
    assert m.run_row(job_id)["note"] == "stopped by the user"
    with pytest.raises(UserInputError, match="already finished"):
        m.stop(job_id)


def test_failed_run_says_why(trained):
    m, _ = trained
    m.param.update(max_epochs=2, model_options='{"max_l": 9}', model_name="")
    try:
        job_id = m.start()
    finally:
        m.model_options = ""
    rec = wait_done(m, job_id)
    assert str(rec.status) == "failed" and m.run_row(job_id)["status"] == "failed"
    assert any(line.startswith(f"job {job_id}: failed") and "max_l" in line
               for line in m.status_lines())


def test_run_files_reread_only_on_change(tmp_path):
    files = RunFiles()
    path = tmp_path / "history.jsonl"
    assert files.history(tmp_path) is None
    path.write_text('{"epoch": 1, "val_loss": 2.0}\n{"epoch": 2, "val_lo')  # half-written
    first = files.history(tmp_path)
    assert [r["epoch"] for r in first] == [1] and files.reads == 1
    assert files.history(tmp_path) is first and files.reads == 1
    path.write_text('{"epoch": 1, "val_loss": 2.0}\n{"epoch": 2, "val_loss": 1.0}\n')
    assert [r["epoch"] for r in files.history(tmp_path)] == [1, 2] and files.reads == 2
    assert parse_history("not json\n") == []


# ---- tier 2 ------------------------------------------------------------------------------
def test_tab_layout_and_figures(trained):
    m, job_id = trained
    tab = TrainingTab(m.workspace, m.manager)
    view = tab.__panel__()
    assert isinstance(view, pn.Row) and view.name == "Training"
    assert tab.model.selected == [] and tab._curves.objects == []
    tab._runs.selection = [i for i, r in enumerate(tab.model.runs) if r["id"] == job_id]
    assert tab.model.selected == [job_id]
    assert len(tab._curves.objects) == 3 and len(tab._parity.objects) == 3
    loss = tab._curves.objects[0].object
    assert type(loss.y_scale).__name__ == "LogScale" and loss.title.text == "Loss"
    assert len(tab._metrics.object) == 3
    assert tab._run.value == job_id and not tab._evaluate.disabled and tab._stop.disabled
    tab._guard(tab.model.evaluate, job_id, "cuau@1", "train")
    assert "train, 33 structures" in tab._alert.object and len(tab._metrics.object) == 4
    tab._guard(tab.model.evaluate, job_id, "nope@1", "test")
    assert tab._alert.visible and tab._alert.alert_type == "danger"
    assert "mace" in tab._model.disabled_options or not tab.model.presets["mace"]["missing"]
