"""The ``train`` job: train a model (or an ensemble) on a workspace dataset.

The run's files go to a new folder ``models/<name>[-n]/`` (``checkpoint.pt`` every epoch,
``best.pt``, ``history.jsonl``, ``parity.json``, ``final.json``; an ensemble has one
``member_k/`` per member and ``ensemble.pt``). The job writes ``jobs/<id>/run.json``
with that folder as soon as it starts, so a monitor can follow ``history.jsonl`` live.
A cancel request stops training *gracefully*: the epoch in progress is validated, the best
model is kept and registered, and the job succeeds with ``stop_reason = "stopped"``.
A killed job resumes with ``TrainSpec(resume_dir=...)`` (``ssestudio train --resume``).
At the end the model file is registered as the next version of workspace model ``name``
with the dataset reference (``name@version``) it was trained on.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ssestudio.core.errors import UserInputError
from ssestudio.jobs import store
from ssestudio.jobs.spec import JobSpec, register_job

if TYPE_CHECKING:
    from ssestudio.jobs.context import JobContext
    from ssestudio.workspace import Workspace

RUN_INFO = "run.json"


def run_info(workspace: Workspace, job_id: int) -> dict | None:
    """``{"run_dir", "name", ...}`` written by a train job when it started, or None."""
    path = workspace.root / "jobs" / str(int(job_id)) / RUN_INFO
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


@register_job("train")
@dataclass(frozen=True)
class TrainSpec(JobSpec):
    """Train a model on a workspace dataset.

    Parameters
    ----------
    config : dict
        A :class:`~ssestudio.training.TrainConfig` as a dict (validated at submit time).
    name : str, optional
        Workspace model name (default ``<dataset>-<model>``; a new version when it exists).
    resume_dir : str, optional
        Continue the interrupted run in this folder (its ``checkpoint.pt``) instead of
        starting a new one; ``config`` must equal the run's.
    """

    config: dict = field(default_factory=dict)
    name: str | None = None
    resume_dir: str | None = None

    #: a stop validates the current epoch, checkpoints and evaluates the test split first
    cancel_grace_s: ClassVar[float | None] = 600.0

    def validate(self) -> None:
        from ssestudio.training import TrainConfig

        cfg = TrainConfig.from_dict(self.config)
        object.__setattr__(self, "config", cfg.to_dict())
        if self.resume_dir is not None and not str(self.resume_dir).strip():
            object.__setattr__(self, "resume_dir", None)

    @property
    def train_config(self):
        """The :class:`~ssestudio.training.TrainConfig`."""
        from ssestudio.training import TrainConfig

        return TrainConfig.from_dict(self.config)

    def model_name(self) -> str:
        """The workspace model name the result is registered under."""
        from ssestudio.data.store import parse_reference

        if self.name:
            return self.name
        dataset, _ = parse_reference(self.train_config.dataset)
        return f"{dataset}-{self.train_config.model}"

    def preflight(self, workspace: Workspace) -> None:
        from ssestudio.data.store import parse_reference
        from ssestudio.jobs.dataset import open_dataset
        from ssestudio.models import get_preset, presets

        name, version = parse_reference(self.train_config.dataset)
        dataset = open_dataset(workspace, name)
        v = dataset.version(version)
        if not v.counts.get("train") or not v.counts.get("validation"):
            raise UserInputError(
                f"dataset {name}@{v.version} has {v.counts.get('train', 0)} training and "
                f"{v.counts.get('validation', 0)} validation structures; training needs both: "
                "label more configurations (ssestudio dataset label) or re-split it "
                "(ssestudio dataset split)")
        if self.train_config.model in presets():
            get_preset(self.train_config.model)  # a missing optional package fails here
        if self.resume_dir is not None:
            checkpoint = Path(self.resume_dir) / "checkpoint.pt"
            if not checkpoint.is_file():
                raise UserInputError(f"cannot resume: {checkpoint} does not exist (give the "
                                     "folder of an interrupted run)")

    def run(self, ctx: JobContext) -> dict[str, Any]:
        from ssestudio.training import load_training_data

        cfg = self.train_config
        ws = ctx.workspace
        name = self.model_name()
        ctx.progress(0.0, f"loading dataset {cfg.dataset}")
        data = load_training_data(cfg, workspace=ws)
        ctx.log(f"dataset {data.reference}: {data.counts()} structures, elements "
                f"{', '.join(data.elements)}")
        run_dir = Path(self.resume_dir) if self.resume_dir else ws.new_artifact_dir("models", name)
        info = {"run_dir": str(run_dir), "name": name, "dataset": data.reference,
                "ensemble_size": cfg.ensemble_size, "max_epochs": cfg.max_epochs,
                "job_id": ctx.job_id}
        (ctx.job_dir / RUN_INFO).write_text(json.dumps(info))
        (run_dir / RUN_INFO).write_text(json.dumps(info))
        (run_dir / "config.json").write_text(cfg.to_json(indent=1))
        last_check = [0.0]

        def should_stop() -> bool:          # a cancel request ends training gracefully
            now = time.monotonic()
            if now - last_check[0] < 0.5:
                return False
            last_check[0] = now
            return store.is_cancel_requested(ws, ctx.job_id)

        def on_epoch(record: dict) -> None:
            metrics = record.get("val_metrics") or {}
            ctx.log(f"epoch {record.get('epoch')}: val loss {record.get('val_loss'):.4g}, "
                    f"E {metrics.get('energy_rmse_meV_atom', float('nan')):.2f} meV/atom, "
                    f"F {metrics.get('force_rmse_eV_A', float('nan')):.4f} eV/Å")

        from ssestudio.training import train

        result = train(cfg, data, run_dir, resume=bool(self.resume_dir), on_epoch=on_epoch,
                       should_stop=should_stop, progress=ctx.progress)
        out = summarise(result, data)
        model_path = Path(out["model_path"] or "")
        if not model_path.is_file():
            raise UserInputError(f"training stopped ({out.get('stop_reason')}) before a model "
                                 f"was saved in {run_dir}: give it more time or epochs")
        record = ws.add_artifact(
            "models", model_path, name=name, job_id=ctx.job_id,
            provenance={"inputs": [f"dataset:{data.reference}"], "parameters": cfg.to_dict()},
            description=f"{cfg.model} model"
                        + (f" ensemble of {cfg.ensemble_size}" if cfg.ensemble_size > 1 else "")
                        + f" trained on {data.reference}")
        ctx.log(f"registered model {name!r} version {record.version}: {model_path}")
        return {**out, "model": name, "model_version": record.version, "model_id": record.id,
                "run_dir": str(run_dir), "dataset": data.reference,
                "elements": list(data.elements)}


def summarise(result, data) -> dict[str, Any]:
    """The job result of a :class:`TrainResult` or an :class:`EnsembleResult`.

    For an ensemble, ``val_metrics`` / ``test_metrics`` are those of the members' mean
    prediction (what its calculator returns), ``epochs`` the most any member ran, and
    ``members`` each member's own summary.
    """
    from ssestudio.training import EnsembleResult
    from ssestudio.training.evaluation import metrics_of

    out = result.to_dict()
    if not isinstance(result, EnsembleResult):
        out["model_path"] = out.get("best_path")
        return out
    out["model_path"] = out.get("ensemble_path")
    members = out.pop("members")
    out["members"] = members
    out["epochs"] = max((m["epochs"] for m in members), default=0)
    out["best_epoch"] = None
    out["val_metrics"] = out["test_metrics"] = None
    if result.ensemble_path is not None:
        from ssestudio.models import load_model

        models, _ = load_model(result.ensemble_path)
        out["val_metrics"] = metrics_of(models, data.validation).to_dict()
        if data.test:
            out["test_metrics"] = metrics_of(models, data.test).to_dict()
    return out
