"""Ensembles: N models trained one after another, saved as one ensemble file.

Members differ by their seed (``seed + k``: initial weights and batch order) and, in
``bootstrap`` mode, also by their training data: a bootstrap sample (``n`` draws with
replacement) of the training split. The spread of the members' forces is the uncertainty
that active learning uses (:class:`ssestudio.models.calculator.EnsembleCalculator`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ssestudio.models.serialization import load_model, save_ensemble
from ssestudio.training.config import TrainConfig
from ssestudio.training.data import TrainingData, bootstrap_indices
from ssestudio.training.components import _dist_info
from ssestudio.training.trainer import Trainer, TrainResult


@dataclass(frozen=True)
class EnsembleResult:
    """Outcome of :func:`train_ensemble`.

    Attributes
    ----------
    out_dir : Path
        Folder with ``member_0/``, ``member_1/``, ... and ``ensemble.pt``.
    ensemble_path : Path or None
        ``ensemble.pt``; None when fewer than two members have a trained model.
    members : tuple of TrainResult
        The members trained (fewer than ``ensemble_size`` after a stop).
    stop_reason : str
        ``completed``, or the stop reason (``stopped``, ``time_budget``) that ended the
        ensemble early.
    """

    out_dir: Path
    ensemble_path: Path | None
    members: tuple[TrainResult, ...]
    stop_reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"out_dir": str(self.out_dir),
                "ensemble_path": None if self.ensemble_path is None else str(self.ensemble_path),
                "members": [m.to_dict() for m in self.members],
                "stop_reason": self.stop_reason}


def member_config(config: TrainConfig, k: int) -> TrainConfig:
    """Config of member ``k``: seed ``seed + k``, a single model."""
    return replace(config, seed=config.seed + k, ensemble_size=1)


def member_data(config: TrainConfig, data: TrainingData, k: int) -> TrainingData:
    """Training data of member ``k`` (a bootstrap sample in ``bootstrap`` mode)."""
    if config.ensemble_mode != "bootstrap":
        return data
    return data.with_train(bootstrap_indices(len(data.train), config.seed + k))


def train_ensemble(config: TrainConfig, data: TrainingData, out_dir: str | os.PathLike, *,
                   resume: bool = False, on_epoch: Callable[[dict], None] | None = None,
                   should_stop: Callable[[], bool] | None = None,
                   progress: Callable[[float | None, str], None] | None = None
                   ) -> EnsembleResult:
    """Train ``config.ensemble_size`` members into ``out_dir/member_k`` and save the ensemble.

    Parameters
    ----------
    config : TrainConfig
        ``ensemble_size`` (>= 2) members, ``ensemble_mode``; ``max_time_min`` is the budget
        of the whole ensemble (each member gets what is left).
    data : TrainingData
    out_dir : path-like
    resume : bool
        Resume every member from its checkpoint (finished members finish at once).
    on_epoch : callable, optional
        ``on_epoch(record)``; the record has a ``member`` key (0-based).
    should_stop : callable, optional
        Ends the current member gracefully and skips the rest.
    progress : callable, optional
        ``progress(fraction, message)`` over all members.

    Returns
    -------
    EnsembleResult
        ``ensemble.pt`` (:func:`ssestudio.models.save_ensemble`; metadata: config,
        dataset, elements, members with their metrics) is written when at least two
        members have a model.
    """
    out_dir = Path(out_dir)
    n = config.ensemble_size
    t0 = time.monotonic()
    results: list[TrainResult] = []
    reason = "completed"
    for k in range(n):
        cfg = member_config(config, k)
        if config.max_time_min is not None:
            left = config.max_time_min - (time.monotonic() - t0) / 60.0
            if left <= 0:
                reason = "time_budget"
                break
            cfg = replace(cfg, max_time_min=left)

        def member_progress(f, msg, k=k):
            if progress is not None:
                progress((k + (f or 0.0)) / n, f"member {k + 1}/{n}: {msg}")

        def member_epoch(record, k=k):
            if on_epoch is not None:
                on_epoch({**record, "member": k})

        trainer = Trainer.from_data(cfg, member_data(config, data, k), out_dir / f"member_{k}",
                                    on_epoch=member_epoch, should_stop=should_stop,
                                    progress=member_progress)
        result = trainer.run(resume=resume)
        results.append(result)
        if result.stop_reason in ("stopped", "time_budget"):
            reason = result.stop_reason
            if k < n - 1:
                break
    dist = _dist_info()
    trained = [r for r in results if r.best_path is not None]
    path = None
    if len(trained) >= 2:
        path = out_dir / "ensemble.pt"
        if dist.is_main:
            models = [load_model(r.best_path)[0] for r in trained]
            meta = {"config": config.to_dict(), "dataset": data.reference,
                    "elements": list(data.elements), "mode": config.ensemble_mode,
                    "requested_members": n, "complete": len(trained) == n,
                    "members": [{"seed": config.seed + k, "path": str(r.best_path),
                                 "best_epoch": r.best_epoch, "stop_reason": r.stop_reason,
                                 "val_metrics": r.val_metrics and r.val_metrics.to_dict(),
                                 "test_metrics": r.test_metrics and r.test_metrics.to_dict()}
                                for k, r in enumerate(results) if r.best_path is not None]}
            save_ensemble(path, models, meta)
        if dist.active:
            import torch.distributed as tdist

            tdist.barrier()
    return EnsembleResult(out_dir, path, tuple(results), reason)


def train(config: TrainConfig, data: TrainingData, out_dir: str | os.PathLike, *,
          resume: bool = False, on_epoch: Callable[[dict], None] | None = None,
          should_stop: Callable[[], bool] | None = None,
          progress: Callable[[float | None, str], None] | None = None
          ) -> TrainResult | EnsembleResult:
    """Train one model (``ensemble_size == 1``) or an ensemble, into ``out_dir``.

    See :class:`Trainer` and :func:`train_ensemble` for the arguments and files.
    """
    callbacks = dict(on_epoch=on_epoch, should_stop=should_stop, progress=progress)
    if config.ensemble_size > 1:
        return train_ensemble(config, data, out_dir, resume=resume, **callbacks)
    return Trainer.from_data(config, data, out_dir, **callbacks).run(resume=resume)
