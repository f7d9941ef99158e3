"""The trainer: one force-field model from a :class:`TrainConfig` and training graphs.

What a run does
---------------
1. Seeds python, numpy and torch with ``config.seed``; builds the model
   (:func:`ssestudio.models.build_model`); sets its per-element reference energies (least
   squares on the training energies) and energy scale (RMS force) from the training split.
2. Trains with AdamW on the loss of :mod:`ssestudio.training.config` (per-atom energy,
   force components, stress of the structures that have one), with a linear learning-rate
   warm-up, then ``ReduceLROnPlateau``-style or cosine decay, gradient-norm clipping and an
   exponential moving average (EMA) of the weights. Batches are in a fixed order per
   ``(seed, epoch)``.
3. After every epoch: evaluates the validation split with the EMA weights, writes
   ``checkpoint.pt`` (everything needed to resume bit-exactly), ``best.pt`` when the
   validation loss improved, a line of ``history.jsonl`` and, every ``eval_every`` epochs,
   ``parity.json``.
4. Stops at ``max_epochs``, by early stopping, when the wall-time budget is spent or when
   ``should_stop()`` returns True (these two are checked between optimiser steps; the
   partial epoch is then validated and checkpointed); then evaluates the best model on the
   test split and writes ``final.json``.

Files in ``out_dir``
--------------------
``checkpoint.pt``
    ``{"format": "ssestudio-checkpoint", "model": <model payload with the EMA weights>,
    "train_state_dict", "ema", "optimizer", "schedule", "epoch", "global_step", "best",
    "best_model", "history", "rng", "config", ...}``; plain containers and tensors only
    (``torch.load(weights_only=True)``), non-tensor structures as JSON strings;
    :func:`ssestudio.models.load_model` loads its model.
``best.pt``
    The best model (:func:`ssestudio.models.save_model`), metadata: ``config``,
    ``dataset`` (``name@version``), ``elements``, ``epoch``, ``val_loss``, ``val_metrics``.
``history.jsonl``
    One JSON object per epoch: ``epoch``, ``time_s``, ``elapsed_s``, ``lr``,
    ``train_loss``, ``val_loss``, ``steps``, ``complete``, ``improved``, ``val_metrics``.
``parity.json``
    The latest validation parity snapshot ``{"epoch": k, "validation": {...}}``.
``final.json``
    Stop reason, epochs, best epoch, validation and test metrics of the best model, and
    their parity data.

Distributed training
--------------------
When ``torch.distributed`` is initialised (``torchrun``; see
:mod:`ssestudio.training.ddp`) the model is wrapped in ``DistributedDataParallel``; every
process holds all graphs and takes ``batch[rank::world_size]`` of each global batch; the
loss is normalised by the counts of the *global* batch so that the averaged gradient equals
the single-process one; validation sums are all-reduced; only rank 0 writes files.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ssestudio.core.errors import UserInputError
from ssestudio.models.base import ForceFieldModel, build_model
from ssestudio.models.graph import StructureGraph, collate
from ssestudio.models.serialization import model_payload, save_model
from ssestudio.training._io import (atomic_torch_save, atomic_write_json, atomic_write_text,
                                    tensors_to_cpu)
from ssestudio.training.components import (ExponentialMovingAverage, LRSchedule,
                                           _Counts, _dist_info, _finite_or_none,
                                           _rng_state, _set_rng_state, batch_loss,
                                           initial_shift, resolve_device)
from ssestudio.training.config import RESUMABLE_CHANGES, TrainConfig
from ssestudio.training.data import (TrainingData, batch_indices, energy_scale,
                                     reference_energies, shard)
from ssestudio.training.metrics import ErrorSums, Metrics, Predictions, parity_data, predict

CHECKPOINT_FORMAT = "ssestudio-checkpoint"
CHECKPOINT_VERSION = 1
STOP_REASONS = ("max_epochs", "early_stopping", "time_budget", "stopped")

#: Minimum time between progress reports within an epoch, s.
STEP_PROGRESS_S = 2.0


# ---- results -------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainResult:
    """Outcome of :meth:`Trainer.run`.

    Attributes
    ----------
    out_dir : Path
        The run's folder.
    best_path : Path or None
        ``best.pt`` (None when no epoch finished).
    checkpoint_path, history_path, final_path : Path
        ``checkpoint.pt``, ``history.jsonl``, ``final.json``.
    epochs : int
        Epochs run in total (resumed runs included).
    stop_reason : str
        ``max_epochs``, ``early_stopping``, ``time_budget`` or ``stopped``.
    best_epoch : int
        Epoch of the best validation loss (0 when none finished).
    val_loss : float or None
        Best validation loss.
    val_metrics, test_metrics : Metrics or None
        Of the best model (test: None when the test split is empty).
    elapsed_s : float
        Wall time of this call, s.
    """

    out_dir: Path
    best_path: Path | None
    checkpoint_path: Path
    history_path: Path
    final_path: Path
    epochs: int
    stop_reason: str
    best_epoch: int
    val_loss: float | None
    val_metrics: Metrics | None
    test_metrics: Metrics | None
    elapsed_s: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (paths as strings, metrics as dicts)."""
        return {"out_dir": str(self.out_dir),
                "best_path": None if self.best_path is None else str(self.best_path),
                "checkpoint_path": str(self.checkpoint_path),
                "history_path": str(self.history_path), "final_path": str(self.final_path),
                "epochs": self.epochs, "stop_reason": self.stop_reason,
                "best_epoch": self.best_epoch, "val_loss": self.val_loss,
                "val_metrics": None if self.val_metrics is None else self.val_metrics.to_dict(),
                "test_metrics": (None if self.test_metrics is None
                                 else self.test_metrics.to_dict()),
                "elapsed_s": self.elapsed_s}


# ---- the trainer -----------------------------------------------------------------------------
class Trainer:
    """Train one model; see the module docstring for what a run does and writes.

    Parameters
    ----------
    config : TrainConfig
    train_graphs, val_graphs : sequence of StructureGraph
        Labelled graphs (non-empty) built with ``elements`` and the model's cutoff.
    out_dir : path-like
        Folder of the run's files (created).
    elements : sequence of str
        The model's elements (the graphs' species index into it).
    test_graphs : sequence of StructureGraph
        Evaluated once at the end (may be empty).
    reference : str, optional
        Dataset reference recorded with the model (default ``config.dataset``).
    cutoff_A : float, optional
        Cutoff the graphs were built with, Å; checked against the model's.
    on_epoch : callable, optional
        ``on_epoch(record)`` after each epoch with its ``history.jsonl`` record (after the
        checkpoint was written).
    should_stop : callable, optional
        ``should_stop() -> bool``, polled between optimiser steps (e.g. a stop button);
        True ends the run gracefully, keeping the best model.
    progress : callable, optional
        ``progress(fraction, message)`` (as :meth:`ssestudio.jobs.JobContext.progress`).
    """

    def __init__(self, config: TrainConfig, train_graphs: Sequence[StructureGraph],
                 val_graphs: Sequence[StructureGraph], out_dir: str | os.PathLike, *,
                 elements: Sequence[str], test_graphs: Sequence[StructureGraph] = (),
                 reference: str | None = None, cutoff_A: float | None = None,
                 on_epoch: Callable[[dict], None] | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 progress: Callable[[float | None, str], None] | None = None) -> None:
        if not isinstance(config, TrainConfig):
            raise TypeError("config must be a TrainConfig")
        self.config = config
        self.train_graphs = tuple(train_graphs)
        self.val_graphs = tuple(val_graphs)
        self.test_graphs = tuple(test_graphs)
        if not self.train_graphs or not self.val_graphs:
            which = "train" if not self.train_graphs else "validation"
            raise UserInputError(f"the {which} split is empty; training needs both a train "
                                 "and a validation split: re-split the dataset (e.g. "
                                 "'ssestudio dataset split NAME --fractions 0.8 0.1 0.1')")
        self.elements = [str(e) for e in elements]
        self.reference = reference or config.dataset
        self.cutoff_A = cutoff_A
        self.out_dir = Path(out_dir)
        self.on_epoch, self.should_stop, self.progress = on_epoch, should_stop, progress
        self.dist = _dist_info()
        self.device = resolve_device(config.device, self.dist.local_rank)
        self.dtype = getattr(torch, config.dtype)

    @classmethod
    def from_data(cls, config: TrainConfig, data: TrainingData, out_dir: str | os.PathLike,
                  **callbacks: Any) -> Trainer:
        """A trainer of :class:`TrainingData` (elements, cutoff and reference from it)."""
        return cls(config, data.train, data.validation, out_dir, elements=data.elements,
                   test_graphs=data.test, reference=data.reference, cutoff_A=data.cutoff_A,
                   **callbacks)

    # ---- paths ------------------------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path:
        return self.out_dir / "checkpoint.pt"

    @property
    def best_path(self) -> Path:
        return self.out_dir / "best.pt"

    @property
    def history_path(self) -> Path:
        return self.out_dir / "history.jsonl"

    @property
    def parity_path(self) -> Path:
        return self.out_dir / "parity.json"

    @property
    def final_path(self) -> Path:
        return self.out_dir / "final.json"

    # ---- running ----------------------------------------------------------------------------
    def run(self, *, resume: bool = False) -> TrainResult:
        """Train until a stop criterion; see the module docstring.

        Parameters
        ----------
        resume : bool
            Continue from ``out_dir/checkpoint.pt`` (a fresh start when there is none). The
            config must equal the checkpoint's except for ``max_epochs``,
            ``max_time_min``, ``threads``, ``device``, ``eval_every`` and
            ``early_stopping_patience``.

        Raises
        ------
        UserInputError
            ``out_dir`` already holds a run and ``resume`` is False; a checkpoint made with
            another config; a loss that became NaN or infinite (lower ``lr``).
        """
        self._t0 = time.monotonic()
        old_threads = torch.get_num_threads()
        if self.config.threads:
            torch.set_num_threads(self.config.threads)
        try:
            if resume and self.checkpoint_path.is_file():
                self._restore()
            else:
                if self.checkpoint_path.is_file():
                    raise UserInputError(
                        f"{self.out_dir} already holds a training run (checkpoint.pt): resume "
                        "it, or choose a new output folder")
                self._fresh()
            reason = self._loop()
            return self._finish(reason)
        finally:
            torch.set_num_threads(old_threads)

    # ---- setup --------------------------------------------------------------------------------
    def _build(self) -> None:
        c = self.config
        model = build_model(c.model, self.elements, **c.model_options)
        if self.cutoff_A is not None and abs(model.cutoff_A - self.cutoff_A) > 1e-9:
            raise UserInputError(f"the graphs were built with a {self.cutoff_A} Å cutoff but "
                                 f"model {c.model!r} uses {model.cutoff_A} Å; rebuild the "
                                 "training data with this config")
        self.model: ForceFieldModel = model.to(device=self.device, dtype=self.dtype)
        self.net: torch.nn.Module = self.model
        if self.dist.active:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = DistributedDataParallel(self.model, device_ids=ids,
                                               find_unused_parameters=True)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=c.lr,
                                           weight_decay=c.weight_decay)
        self.steps_per_epoch = math.ceil(len(self.train_graphs) / c.batch_size)
        self.schedule = LRSchedule(c, self.steps_per_epoch)
        self.ema = (ExponentialMovingAverage(list(self.model.parameters()), c.ema_decay)
                    if c.ema_decay > 0 else None)
        self.epoch = 0
        self.global_step = 0
        self.history: list[dict] = []
        self.best = {"epoch": 0, "val_loss": math.inf, "bad_epochs": 0, "val_metrics": None}
        self.best_state: dict[str, torch.Tensor] | None = None
        self.stop_reason: str | None = None

    def _fresh(self) -> None:
        c = self.config
        random.seed(c.seed)
        np.random.seed(c.seed)
        torch.manual_seed(c.seed)
        self._build()
        refs = reference_energies(self.train_graphs, len(self.elements))
        scale = energy_scale(self.train_graphs, refs)
        self.model.set_reference_energies(refs)
        self.model.set_energy_scale(scale, 0.0)
        self.model.set_energy_scale(scale, initial_shift(self.model, self.train_graphs,
                                                         c.batch_size))
        if self.dist.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            for path in (self.history_path, self.parity_path, self.final_path, self.best_path):
                path.unlink(missing_ok=True)
            self.history_path.touch()

    def _restore(self) -> None:
        ckpt = torch.load(self.checkpoint_path, map_location="cpu", weights_only=True)
        if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
            raise UserInputError(f"{self.checkpoint_path} is not an SSE Studio training "
                                 "checkpoint; start a new run in another folder")
        old = TrainConfig.from_json(ckpt["config"])
        changed = {k: v for k, v in old.differences(self.config).items()
                   if k not in RESUMABLE_CHANGES}
        if changed:
            listed = "; ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in sorted(changed.items()))
            raise UserInputError(f"the checkpoint in {self.out_dir} was made with another "
                                 f"configuration ({listed}); resume with the same settings "
                                 "(only " + ", ".join(sorted(RESUMABLE_CHANGES)) + " may "
                                 "change) or train into a new folder")
        if list(ckpt["elements"]) != self.elements:
            raise UserInputError(f"the checkpoint's elements {ckpt['elements']} differ from the "
                                 f"data's {self.elements}; train into a new folder")
        self._build()
        self.model.load_state_dict(ckpt["train_state_dict"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.schedule.load_state_dict(ckpt["schedule"])
        if self.ema is not None and ckpt.get("ema") is not None:
            self.ema.load_state_dict(ckpt["ema"])
        self.epoch = int(ckpt["epoch"])
        self.global_step = int(ckpt["global_step"])
        self.history = json.loads(ckpt["history"])
        best = json.loads(ckpt["best"])
        self.best = {**best, "val_loss": math.inf if best["val_loss"] is None
                     else best["val_loss"]}
        if ckpt.get("best_model") is not None:
            self.best_state = {k: v.to(self.device) for k, v in ckpt["best_model"].items()}
        _set_rng_state(ckpt["rng"])
        if self.dist.is_main:  # history.jsonl may hold an epoch the checkpoint does not
            atomic_write_text(self.history_path,
                              "".join(json.dumps(r) + "\n" for r in self.history))

    # ---- the loop ---------------------------------------------------------------------------
    def _loop(self) -> str:
        c = self.config
        while self.epoch < c.max_epochs:
            if (c.early_stopping_patience is not None
                    and self.best["bad_epochs"] >= c.early_stopping_patience):
                return "early_stopping"
            reason = self._stop_requested()
            if reason:
                return reason
            self._epoch()
            if self.stop_reason:
                return self.stop_reason
        if (c.early_stopping_patience is not None
                and self.best["bad_epochs"] >= c.early_stopping_patience):
            return "early_stopping"
        return "max_epochs"

    def _stop_requested(self) -> str | None:
        """``stopped`` / ``time_budget`` / None, agreed by all processes."""
        flags = [0.0, 0.0]
        if self.should_stop is not None and self.should_stop():
            flags[0] = 1.0
        budget = self.config.max_time_min
        if budget is not None and time.monotonic() - self._t0 > 60.0 * budget:
            flags[1] = 1.0
        if self.dist.active:
            flags = self._all_reduce(np.array(flags)).tolist()
        return "stopped" if flags[0] > 0 else ("time_budget" if flags[1] > 0 else None)

    def _epoch(self) -> None:
        c = self.config
        epoch = self.epoch + 1
        t_start = time.monotonic()
        self.net.train()
        batches = batch_indices(len(self.train_graphs), c.batch_size, seed=c.seed, epoch=epoch)
        loss_sum, steps, interrupted = 0.0, 0, None
        lr = self.schedule.lr(self.global_step)
        for k, idx in enumerate(batches):
            if k > 0:
                interrupted = self._stop_requested()
                if interrupted:
                    break
            lr = self.schedule.lr(self.global_step)
            loss_sum += self._step(idx, lr, epoch)
            steps += 1
            self._step_progress(epoch, steps, len(batches), loss_sum / steps)
        train_loss = loss_sum / max(steps, 1)
        parity_due = (epoch % c.eval_every == 0 or interrupted is not None
                      or epoch == c.max_epochs)
        sums, pred = self._validate(self.val_graphs, gather=parity_due)
        val_loss = sums.loss(c.energy_weight, c.force_weight, c.stress_weight)
        metrics = sums.metrics(self.elements)
        self.schedule.epoch_end(epoch, val_loss)
        improved = val_loss < self.best["val_loss"]
        if improved:
            self.best = {"epoch": epoch, "val_loss": val_loss, "bad_epochs": 0,
                         "val_metrics": metrics.to_dict()}
            self.best_state = self._averaged_state()
        else:
            self.best["bad_epochs"] += 1
        self.epoch = epoch
        now = time.monotonic()
        record = {"epoch": epoch, "time_s": now - t_start, "elapsed_s": now - self._t0,
                  "lr": lr, "train_loss": train_loss, "val_loss": val_loss, "steps": steps,
                  "complete": interrupted is None, "improved": improved,
                  "val_metrics": metrics.to_dict()}
        self.history.append(record)
        if self.dist.is_main:
            if improved:
                self._save_best()
            if parity_due:
                parity = {"epoch": epoch, "validation": parity_data(pred, self.elements,
                                                                    seed=c.seed)}
                atomic_write_json(self.parity_path, parity)
            self._save_checkpoint()
            with open(self.history_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(record) + "\n")
        if self.on_epoch is not None:
            self.on_epoch(record)
        if self.progress is not None:
            m = metrics
            self.progress(epoch / c.max_epochs,
                          f"epoch {epoch}/{c.max_epochs}: val force RMSE "
                          f"{m.force_rmse_eV_A:.4f} eV/Å, energy RMSE "
                          f"{m.energy_rmse_meV_atom:.2f} meV/atom")
        self.stop_reason = interrupted

    def _step_progress(self, epoch: int, step: int, n_steps: int, loss: float) -> None:
        """Progress within an epoch, at most every :data:`STEP_PROGRESS_S` seconds."""
        now = time.monotonic()
        if self.progress is None or step == n_steps or \
                now - getattr(self, "_last_progress", -math.inf) < STEP_PROGRESS_S:
            return
        self._last_progress = now
        c = self.config
        self.progress((epoch - 1 + step / n_steps) / c.max_epochs,
                      f"epoch {epoch}/{c.max_epochs}, step {step}/{n_steps}: train loss "
                      f"{loss:.4g}")

    def _step(self, idx: np.ndarray, lr: float, epoch: int) -> float:
        """One optimiser step on the global batch ``idx``; returns its loss."""
        c = self.config
        global_graphs = [self.train_graphs[int(i)] for i in idx]
        counts = _Counts.of(global_graphs)
        local = [self.train_graphs[int(i)] for i in shard(idx, self.dist.rank,
                                                          self.dist.world_size)]
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.zero_grad(set_to_none=True)
        if local:
            batch = collate(local, dtype=self.dtype, device=self.device)
            stress = c.stress_weight > 0 and batch.has_stress is not None
            out = self.net(batch, forces=True, stress=stress, create_graph=True)
            share = batch_loss(out, batch, c, counts)
        else:  # an empty shard still takes part in the gradient all-reduce
            share = sum(p.sum() for p in self.model.parameters()) * 0.0
        (share * self.dist.world_size).backward()
        value = share.detach().double().cpu().numpy().reshape(1)
        if self.dist.active:
            value = self._all_reduce(value)
        loss = float(value[0])
        if not math.isfinite(loss):
            raise UserInputError(
                f"training diverged: the loss became {loss} at epoch {epoch}, step "
                f"{self.global_step + 1}; lower lr (now {c.lr}) or set grad_clip_norm, and "
                f"resume from the last good checkpoint in {self.out_dir} or start again")
        if c.grad_clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), c.grad_clip_norm)
        self.optimizer.step()
        if self.ema is not None:
            self.ema.update()
        self.global_step += 1
        return loss

    # ---- evaluation -----------------------------------------------------------------------
    @contextlib.contextmanager
    def _averaged(self) -> Iterator[ForceFieldModel]:
        if self.ema is None:
            yield self.model
        else:
            with self.ema.applied():
                yield self.model

    def _averaged_state(self) -> dict[str, torch.Tensor]:
        with self._averaged() as model:
            return {k: v.detach().clone() for k, v in model.state_dict().items()}

    def _validate(self, graphs: Sequence[StructureGraph], *, gather: bool,
                  sums: bool = True, state: dict | None = None
                  ) -> tuple[ErrorSums | None, Predictions | None]:
        """Sums over ``graphs`` (all-reduced) and, with ``gather``, all predictions on rank 0.

        Uses the EMA weights, or ``state`` (a state dict) when given.
        """
        part = graphs[self.dist.rank::self.dist.world_size]
        if state is None:
            with self._averaged() as model:
                pred = predict(model, part, self.config.batch_size)
        else:
            model = copy.deepcopy(self.model)
            model.load_state_dict(state)
            pred = predict(model, part, self.config.batch_size)
        total = None
        if sums:
            total = ErrorSums.from_predictions(pred, len(self.elements))
            if self.dist.active:
                total = ErrorSums.from_vector(self._all_reduce(total.vector()))
        if gather and self.dist.active:
            import torch.distributed as dist

            parts = [None] * self.dist.world_size if self.dist.is_main else None
            dist.gather_object(pred, parts, dst=0)
            pred = Predictions.concatenate(parts) if self.dist.is_main else None
        return total, (pred if gather else None)

    def _all_reduce(self, values: np.ndarray) -> np.ndarray:
        import torch.distributed as dist

        t = torch.as_tensor(np.asarray(values, dtype=np.float64), device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t.cpu().numpy()

    # ---- files --------------------------------------------------------------------------------
    def _metadata(self, epoch: int) -> dict[str, Any]:
        from ssestudio.core.version import code_version

        return {"config": self.config.to_dict(), "dataset": self.reference,
                "elements": list(self.elements), "epoch": epoch,
                "val_loss": _finite_or_none(self.best["val_loss"]),
                "val_metrics": self.best["val_metrics"], "code_version": code_version(),
                "world_size": self.dist.world_size}

    def _model_with(self, state: dict[str, torch.Tensor]) -> ForceFieldModel:
        model = copy.deepcopy(self.model)
        model.load_state_dict(state)
        return model

    def _save_best(self) -> None:
        save_model(self.best_path, self._model_with(self.best_state),
                   self._metadata(self.best["epoch"]))

    def _save_checkpoint(self) -> None:
        with self._averaged() as model:
            payload = model_payload(model)
        best = {**self.best, "val_loss": _finite_or_none(self.best["val_loss"])}
        ckpt = {
            "format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_VERSION,
            "model": payload, "metadata": json.dumps(self._metadata(self.epoch)),
            "train_state_dict": tensors_to_cpu(self.model.state_dict()),
            "ema": None if self.ema is None else self.ema.state_dict(),
            "optimizer": tensors_to_cpu(self.optimizer.state_dict()),
            "schedule": self.schedule.state_dict(),
            "epoch": self.epoch, "global_step": self.global_step,
            "best": json.dumps(best),
            "best_model": None if self.best_state is None else tensors_to_cpu(self.best_state),
            "history": json.dumps(self.history),
            "rng": _rng_state(),
            "config": self.config.to_json(), "elements": list(self.elements),
            "reference": self.reference,
        }
        atomic_torch_save(ckpt, self.checkpoint_path)

    def _finish(self, reason: str) -> TrainResult:
        c = self.config
        val_metrics = test_metrics = None
        final: dict[str, Any] = {"stop_reason": reason, "epochs": self.epoch,
                                 "best_epoch": self.best["epoch"], "dataset": self.reference,
                                 "elements": list(self.elements),
                                 "val_loss": _finite_or_none(self.best["val_loss"]),
                                 "validation": None, "test": None,
                                 "parity": {"validation": None, "test": None}}
        if self.best_state is not None:
            val_metrics = Metrics.from_dict(self.best["val_metrics"])
            final["validation"] = self.best["val_metrics"]
            _, val_pred = self._validate(self.val_graphs, gather=True, sums=False,
                                         state=self.best_state)
            test_pred = None
            if self.test_graphs:
                sums, test_pred = self._validate(self.test_graphs, gather=True,
                                                 state=self.best_state)
                test_metrics = sums.metrics(self.elements)
                final["test"] = test_metrics.to_dict()
            if self.dist.is_main:
                final["parity"]["validation"] = parity_data(val_pred, self.elements,
                                                            seed=c.seed)
                if test_pred is not None:
                    final["parity"]["test"] = parity_data(test_pred, self.elements,
                                                          seed=c.seed)
        elapsed = time.monotonic() - self._t0
        final["elapsed_s"] = elapsed
        if self.dist.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_json(self.final_path, final)
        if self.dist.active:
            import torch.distributed as dist

            dist.barrier()
        if self.progress is not None:
            self.progress(1.0, f"finished ({reason}) after {self.epoch} epochs; best epoch "
                               f"{self.best['epoch']}")
        return TrainResult(
            out_dir=self.out_dir,
            best_path=self.best_path if self.best_state is not None else None,
            checkpoint_path=self.checkpoint_path, history_path=self.history_path,
            final_path=self.final_path, epochs=self.epoch, stop_reason=reason,
            best_epoch=int(self.best["epoch"]),
            val_loss=_finite_or_none(self.best["val_loss"]), val_metrics=val_metrics,
            test_metrics=test_metrics, elapsed_s=elapsed)
