"""Distributed data parallel: 2 gloo processes under torchrun follow the 1-process run.

Slow (deselected by default): run with ``pytest -m slow tests/training/test_training_ddp.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ssestudio.training import TrainConfig, Trainer, load_training_data


def make_dataset(folder, cells):
    from ase.calculators.singlepoint import SinglePointCalculator

    from ssestudio.data.records import SplitPolicy
    from ssestudio.data.store import Dataset

    atoms = []
    for a in [*cells["train"][:20], *cells["validation"][:6]]:
        b = a.copy()
        b.calc = SinglePointCalculator(b, **a.calc.results)
        b.info = dict(a.info)
        atoms.append(b)
    ds = Dataset.create(folder, name="emt-cuau", split=SplitPolicy(fractions=(0.6, 0.25, 0.15)))
    ds.add(atoms)
    return ds


@pytest.mark.slow     # 20-35 s on a loaded 2-core machine: three processes import torch
@pytest.mark.parametrize("model, options", [("test-eam", {"cutoff_A": 4.0}),
                                            ("default", {"hidden": [16]})])
def test_two_gloo_processes_follow_the_single_process_run(tmp_path, cells, helpers_on_path,
                                                          model, options):
    ds = make_dataset(tmp_path / "dataset", cells)
    config = TrainConfig(dataset="emt-cuau@1", model=model,
                         model_options=options, dtype="float64", lr=1e-2,
                         batch_size=5, max_epochs=4, warmup_epochs=1, ema_decay=0.9,
                         threads=1, device="cpu", eval_every=2)
    path = tmp_path / "config.json"
    path.write_text(config.to_json())
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
         "2", "-m", "ssestudio.training.ddp", str(path), str(tmp_path / "ddp"),
         "--dataset-dir", str(ds.folder), "--import", "training_helpers"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    printed = json.loads(proc.stdout[proc.stdout.index("{"):])      # rank 0 only
    assert printed["stop_reason"] == "max_epochs" and printed["epochs"] == 4

    data = load_training_data(config, dataset_dir=ds.folder)
    single = Trainer.from_data(config, data, tmp_path / "single").run()
    h1 = [json.loads(x) for x in single.history_path.read_text().splitlines()]
    h2 = [json.loads(x) for x in (tmp_path / "ddp" / "history.jsonl").read_text().splitlines()]
    assert len(h1) == len(h2) == 4
    for a, b in zip(h1, h2):
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-8)
        assert b["val_loss"] == pytest.approx(a["val_loss"], rel=1e-8)
        assert b["val_metrics"]["n_structures"] == a["val_metrics"]["n_structures"]
        assert b["val_metrics"]["force_rmse_eV_A"] == pytest.approx(
            a["val_metrics"]["force_rmse_eV_A"], rel=1e-8)
        assert b["lr"] == a["lr"]
    final = json.loads((tmp_path / "ddp" / "final.json").read_text())
    assert final["best_epoch"] == single.best_epoch
    assert final["test"]["force_rmse_eV_A"] == pytest.approx(
        single.test_metrics.force_rmse_eV_A, rel=1e-7)
    parity = json.loads((tmp_path / "ddp" / "parity.json").read_text())
    assert len(parity["validation"]["energy_per_atom_eV"]["reference"]) == len(data.validation)


def test_the_entry_point_trains_in_one_process(tmp_path, cells, ws, capsys):
    from ssestudio.jobs.dataset import dataset_folder
    from ssestudio.training.ddp import main

    make_dataset(dataset_folder(ws, "emt-cuau"), cells)
    config = TrainConfig(dataset="emt-cuau", model="test-eam", dtype="float64", lr=1e-2,
                         batch_size=5, max_epochs=2, warmup_epochs=1, threads=1, device="cpu")
    path = tmp_path / "config.json"
    path.write_text(config.to_json())
    assert main([str(path), str(tmp_path / "run"), "--workspace", str(ws.root)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["epochs"] == 2 and (tmp_path / "run" / "best.pt").is_file()
    assert main([str(path), str(tmp_path / "run"), "--workspace", str(ws.root),
                 "--resume"]) == 0
    assert json.loads(capsys.readouterr().out)["epochs"] == 2
    path.write_text(json.dumps({**config.to_dict(), "epochs": 3}))
    assert main([str(path), str(tmp_path / "other"), "--workspace", str(ws.root)]) == 2
    assert "unknown training option(s) epochs" in capsys.readouterr().err
