"""``ssestudio train``: train a force field (or an ensemble) on a workspace dataset.

Builds a :class:`~ssestudio.training.TrainConfig` from the options (or a JSON config file
with ``--config``; options given on the command line override it), submits a ``train``
job and follows it. Ctrl-C stops training gracefully: the best model so far is kept and
registered. ``--resume RUN_DIR`` continues a run that was killed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ssestudio.cli.common import add_json_arg, add_workspace_arg
from ssestudio.cli.jobrun import (add_detach_arg, parse_options, report_job,
                                  submit_and_follow)

#: Keys of the job result printed by ``--json`` (with ``job_id`` and ``status``).
RESULT_KEYS = ("model", "model_version", "model_path", "run_dir", "dataset", "elements",
               "epochs", "best_epoch", "stop_reason", "val_metrics", "test_metrics",
               "elapsed_s")

#: command-line option -> TrainConfig field
_FIELDS = {"model": "model", "ensemble": "ensemble_size", "max_time_min": "max_time_min",
           "epochs": "max_epochs", "batch_size": "batch_size", "lr": "lr", "seed": "seed",
           "threads": "threads", "dtype": "dtype", "device": "device"}


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", help="workspace dataset, NAME or NAME@VERSION")
    parser.add_argument("--model", default=None,
                        help="model preset: default (fast built-in), large, mace (default: default)")
    parser.add_argument("--ensemble", type=int, default=None, metavar="N",
                        help="train N members (different seeds) as one ensemble")
    parser.add_argument("--max-time-min", type=float, default=None, metavar="M",
                        help="wall-time budget, minutes; stops gracefully keeping the best model")
    parser.add_argument("--epochs", type=int, default=None, help="maximum epochs (default 200)")
    parser.add_argument("--batch-size", type=int, default=None, help="structures per step (default 8)")
    parser.add_argument("--lr", type=float, default=None, help="peak learning rate (default 1e-3)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--dtype", choices=("float32", "float64"), default=None)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None)
    parser.add_argument("--model-option", "-o", action="append", default=[], metavar="KEY=VALUE",
                        help="model hyper-parameter override, repeatable (e.g. -o cutoff_A=5.5)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="any other TrainConfig field, repeatable (e.g. --set force_weight=50)")
    parser.add_argument("--config", type=Path, default=None,
                        help="JSON file of a TrainConfig (e.g. a run's config); options override it")
    parser.add_argument("--name", default=None, help="workspace model name (default DATASET-MODEL)")
    parser.add_argument("--resume", type=Path, default=None, metavar="RUN_DIR",
                        help="continue the interrupted run in RUN_DIR (its checkpoint.pt)")
    add_detach_arg(parser)
    add_workspace_arg(parser)
    add_json_arg(parser)


def build_config(args: argparse.Namespace) -> dict:
    """The TrainConfig dict described by ``--config`` and the options."""
    from ssestudio.core.errors import UserInputError

    config: dict = {}
    if args.config is not None:
        try:
            config = json.loads(Path(args.config).read_text())
        except (OSError, ValueError) as exc:
            raise UserInputError(f"cannot read the training config {args.config}: {exc}") from exc
        config = config.get("config", config)   # accept a run's metadata wrapper too
    elif args.resume is not None:
        path = Path(args.resume) / "config.json"
        if not path.is_file():
            raise UserInputError(f"cannot resume: {path} does not exist; give the folder of "
                                 "a run started by 'ssestudio train' (models/<name>)")
        config = json.loads(path.read_text())
    if args.dataset:
        config["dataset"] = args.dataset
    for option, name in _FIELDS.items():
        value = getattr(args, option)
        if value is not None:
            config[name] = value
    if args.model_option:
        config["model_options"] = {**config.get("model_options", {}),
                                   **parse_options(args.model_option, what="model option")}
    config.update(parse_options(args.set, what="--set"))
    if "dataset" not in config:
        raise UserInputError("give --dataset NAME[@VERSION] (or --config FILE with a dataset)")
    return config


def build_spec(args: argparse.Namespace):
    from ssestudio.jobs.training import RUN_INFO, TrainSpec

    name = args.name
    if name is None and args.resume is not None and (Path(args.resume) / RUN_INFO).is_file():
        name = json.loads((Path(args.resume) / RUN_INFO).read_text()).get("name")
    return TrainSpec(config=build_config(args), name=name,
                     resume_dir=None if args.resume is None else str(Path(args.resume).resolve()))


def run(args: argparse.Namespace) -> int:
    rec = submit_and_follow(args, build_spec(args),
                            on_interrupt="training stopped; the best model so far is kept")
    return report_job(rec, as_json=args.json, keys=RESULT_KEYS, describe=_describe)


def _describe(result: dict) -> str:
    lines = [f"model {result['model']!r} v{result['model_version']} ({result['model_path']}): "
             f"{result['epochs']} epochs, stopped by {result['stop_reason']}, best epoch "
             f"{result['best_epoch']}"]
    for label in ("validation", "test"):
        m = result.get("val_metrics" if label == "validation" else "test_metrics") or {}
        if m:
            stress = m.get("stress_rmse_GPa")
            lines.append(f"  {label}: E {m['energy_rmse_meV_atom']:.2f} meV/atom, F "
                         f"{m['force_rmse_eV_A']:.4f} eV/Å"
                         + (f", stress {stress:.3f} GPa" if stress is not None else "")
                         + f" (RMSE, {m['n_structures']} structures)")
    return "\n".join(lines)
