"""``ssestudio train`` and ``ssestudio evaluate`` through real job workers: import an
EMT-labelled dataset, train the default model (and a 2-member ensemble), evaluate it on
the test split, use it as an ASE calculator; bad input gives clear errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import ase.io
import numpy as np
import pytest

from ssestudio.cli.main import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
from training_helpers import emt_cells  # noqa: E402

EVAL_KEYS = {"energy_rmse_meV_atom", "force_rmse_eV_A", "stress_rmse_GPa",
             "force_rmse_per_element_eV_A", "n_structures"}
FAST = ["--epochs", "4", "--batch-size", "4", "-o", "cutoff_A=4.5", "-o", "radial_channels=8",
        "-o", "angular_channels=4", "-o", "hidden=[16,16]", "--threads", "1"]


def cli(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    data = json.loads(out.out) if "--json" in argv and out.out.strip().startswith("{") else out.out
    return code, data, out.err


@pytest.fixture
def ws(tmp_path, capsys):
    from ssestudio.workspace import Workspace

    Workspace.open(tmp_path / "ws", seed=False).close()
    path = tmp_path / "cuau.extxyz"
    ase.io.write(path, emt_cells(40, seed=3), format="extxyz")
    W = ["--workspace", str(tmp_path / "ws")]
    code, out, err = cli(capsys, "dataset", "import", "cuau", str(path), "--level", "EMT",
                         *W, "--json")
    assert code == 0 and out["status"] == "succeeded", (out, err)
    return W


def test_train_evaluate_and_use_the_model(ws, capsys):
    code, out, err = cli(capsys, "train", "--dataset", "cuau", *FAST, *ws, "--json")
    assert code == 0 and out["status"] == "succeeded", (out, err)
    assert out["model"] == "cuau-default" and out["model_version"] == 1
    assert out["dataset"] == "cuau@1" and out["epochs"] == 4
    assert out["stop_reason"] == "max_epochs" and out["elements"] == ["Au", "Cu"]
    for key in ("val_metrics", "test_metrics"):
        assert EVAL_KEYS <= set(out[key]), out[key]
    run_dir = Path(out["run_dir"])
    assert (run_dir / "history.jsonl").read_text().count("\n") == 4
    code, ev, err = cli(capsys, "evaluate", "cuau-default", "--dataset", "cuau", "--split",
                        "test", *ws, "--json")
    assert code == 0, err
    assert EVAL_KEYS <= set(ev) and ev["trained_on"] == "cuau@1" and ev["split"] == "test"
    assert ev["force_rmse_eV_A"] == pytest.approx(out["test_metrics"]["force_rmse_eV_A"],
                                                  rel=1e-4)
    assert set(ev["force_rmse_per_element_eV_A"]) <= {"Au", "Cu"}
    # the registered file is an ASE calculator
    from ssestudio.models.calculator import load_calculator

    atoms = emt_cells(1, seed=99)[0]
    atoms.calc = load_calculator(out["model_path"])
    assert np.isfinite(atoms.get_forces()).all() and atoms.get_stress().shape == (6,)
    # human-readable output
    code, text, _ = cli(capsys, "evaluate", out["model_path"], "--dataset", "cuau@1", *ws)
    assert code == 0 and "force RMSE" in text and "meV/atom" in text


def test_train_an_ensemble_gives_a_force_deviation(ws, capsys):
    code, out, err = cli(capsys, "train", "--dataset", "cuau", *FAST, "--ensemble", "2",
                         "--epochs", "2", "--name", "cuau-ens", *ws, "--json")
    assert code == 0 and out["status"] == "succeeded", (out, err)
    assert out["model_path"].endswith("ensemble.pt")
    from ssestudio.models.calculator import EnsembleCalculator, load_calculator

    calc = load_calculator(out["model_path"])
    assert isinstance(calc, EnsembleCalculator) and len(calc.models) == 2
    atoms = emt_cells(1, seed=7)[0]
    atoms.calc = calc
    atoms.get_forces()
    assert calc.results["max_force_deviation"] > 0
    code, ev, _ = cli(capsys, "evaluate", "cuau-ens", "--dataset", "cuau", *ws, "--json")
    assert code == 0 and len(ev["members"]) == 2


def test_bad_input_is_explained(ws, capsys):
    code, _, err = cli(capsys, "train", "--dataset", "nope", *ws)
    assert code != 0 and "nope" in err
    code, _, err = cli(capsys, "train", "--dataset", "cuau", "--model", "huge", *ws)
    assert code != 0 and "unknown model 'huge'" in err
    code, _, err = cli(capsys, "train", "--dataset", "cuau", "--set", "lr=-1", *ws)
    assert code != 0 and "lr" in err
    code, _, err = cli(capsys, "train", *ws)
    assert code != 0 and "--dataset" in err
    code, _, err = cli(capsys, "evaluate", "missing-model", "--dataset", "cuau", *ws)
    assert code != 0 and "missing-model" in err


def test_stop_keeps_the_best_model_and_resume_continues(ws, capsys):
    import time

    from ssestudio.jobs import JobManager
    from ssestudio.jobs.training import TrainSpec, run_info
    from ssestudio.workspace import Workspace

    workspace = Workspace.open(ws[1])
    manager = JobManager(workspace)
    try:
        manager.start()
        config = {"dataset": "cuau", "max_epochs": 12, "batch_size": 4, "threads": 1,
                  "early_stopping_patience": None,
                  "model_options": {"cutoff_A": 4.5, "radial_channels": 8,
                                    "angular_channels": 4, "hidden": [16, 16]}}
        job = manager.submit(TrainSpec(config=config, name="stopped"))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            info = run_info(workspace, job)
            history = Path(info["run_dir"]) / "history.jsonl" if info else None
            if history and history.is_file() and history.read_text().count("\n") >= 2:
                break
            time.sleep(0.2)
        manager.cancel(job)
        rec = manager.wait(job, timeout=120)
    finally:
        manager.close()
    assert rec.status == "succeeded", rec.message
    assert rec.result["stop_reason"] == "stopped" and 2 <= rec.result["epochs"] < 12
    assert Path(rec.result["model_path"]).is_file()
    run_dir = rec.result["run_dir"]
    code, out, err = cli(capsys, "train", "--resume", run_dir, *ws, "--json")
    assert code == 0 and out["status"] == "succeeded", (out, err)
    assert out["epochs"] == 12 and out["model"] == "stopped" and out["model_version"] == 2
    assert out["run_dir"] == run_dir
    code, _, err = cli(capsys, "train", "--resume", str(Path(run_dir).parent / "nothing"), *ws)
    assert code != 0 and "cannot resume" in err


def test_text_report_of_a_finished_run():
    from ssestudio.cli.train import _describe

    m = {"energy_rmse_meV_atom": 3.2, "force_rmse_eV_A": 0.081, "stress_rmse_GPa": 0.21,
         "n_structures": 7}
    text = _describe({"model": "lps-default", "model_version": 2, "model_path": "/m/best.pt",
                      "epochs": 40, "stop_reason": "early_stopping", "best_epoch": 31,
                      "val_metrics": m, "test_metrics": {**m, "stress_rmse_GPa": None}})
    assert "model 'lps-default' v2 (/m/best.pt): 40 epochs, stopped by early_stopping" in text
    assert "validation: E 3.20 meV/atom, F 0.0810 eV/Å, stress 0.210 GPa (RMSE, 7" in text
    assert "test: E 3.20 meV/atom, F 0.0810 eV/Å (RMSE" in text
