"""Building blocks of the trainer: weight averaging, learning-rate schedule, the loss,
the distributed-run context, devices, RNG state and the initial energy shift.

Split out of :mod:`ssestudio.training.trainer`, which composes them.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ssestudio.core.errors import UserInputError
from ssestudio.models.base import ForceFieldModel
from ssestudio.models.graph import GraphBatch, StructureGraph, collate
from ssestudio.training.config import TrainConfig

#: Relative improvement the plateau schedule counts as progress (torch's default).
PLATEAU_THRESHOLD = 1e-4
#: Structures used to estimate the initial energy shift.
SHIFT_SAMPLE = 256


# ---- pieces --------------------------------------------------------------------------------
class ExponentialMovingAverage:
    """Shadow copy of the trainable parameters, ``s <- d s + (1 - d) p`` after each step.

    The decay ramps up as ``d = min(decay, (1 + n) / (10 + n))`` over the first updates
    ``n`` (as ``torch_ema``), so that the average does not remember the random start.
    """

    def __init__(self, parameters: Sequence[torch.nn.Parameter], decay: float) -> None:
        self.parameters = [p for p in parameters if p.requires_grad]
        self.shadow = [p.detach().clone() for p in self.parameters]
        self.decay = float(decay)
        self.num_updates = 0

    @torch.no_grad()
    def update(self) -> None:
        """Move the average towards the current parameters."""
        self.num_updates += 1
        d = min(self.decay, (1.0 + self.num_updates) / (10.0 + self.num_updates))
        for s, p in zip(self.shadow, self.parameters):
            s.mul_(d).add_(p.detach(), alpha=1.0 - d)

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        """Within the block the parameters hold the averaged values."""
        backup = [p.detach().clone() for p in self.parameters]
        with torch.no_grad():
            for p, s in zip(self.parameters, self.shadow):
                p.copy_(s)
        try:
            yield
        finally:
            with torch.no_grad():
                for p, b in zip(self.parameters, backup):
                    p.copy_(b)

    def state_dict(self) -> dict[str, Any]:
        return {"decay": self.decay, "num_updates": self.num_updates,
                "shadow": [s.detach().cpu() for s in self.shadow]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if len(state["shadow"]) != len(self.shadow):
            raise UserInputError("the checkpoint's EMA does not match the model; it was made "
                                 "by another model configuration")
        self.num_updates = int(state["num_updates"])
        with torch.no_grad():
            for s, v in zip(self.shadow, state["shadow"]):
                s.copy_(v.to(device=s.device, dtype=s.dtype))


class LRSchedule:
    """Learning rate per optimiser step: linear warm-up, then plateau or cosine decay.

    Parameters
    ----------
    config : TrainConfig
        ``lr``, ``min_lr``, ``warmup_epochs``, ``schedule``, ``plateau_patience``,
        ``plateau_factor``, ``max_epochs``.
    steps_per_epoch : int
        Optimiser steps in a full epoch.
    """

    def __init__(self, config: TrainConfig, steps_per_epoch: int) -> None:
        self.config = config
        self.steps_per_epoch = max(1, int(steps_per_epoch))
        self.plateau_lr = float(config.lr)
        self.best = math.inf
        self.bad_epochs = 0

    @property
    def warmup_steps(self) -> int:
        return self.config.warmup_epochs * self.steps_per_epoch

    def lr(self, step: int) -> float:
        """Learning rate of optimiser step ``step`` (0-based)."""
        c = self.config
        if step < self.warmup_steps:
            return c.lr * (step + 1) / self.warmup_steps
        if c.schedule == "cosine":
            total = max(c.max_epochs * self.steps_per_epoch - self.warmup_steps, 1)
            t = min((step - self.warmup_steps) / total, 1.0)
            return c.min_lr + 0.5 * (c.lr - c.min_lr) * (1.0 + math.cos(math.pi * t))
        return self.plateau_lr

    def epoch_end(self, epoch: int, val_loss: float) -> None:
        """Plateau bookkeeping after epoch ``epoch`` (1-based) with its validation loss."""
        c = self.config
        if c.schedule != "plateau" or epoch <= c.warmup_epochs:
            return
        if val_loss < self.best * (1.0 - PLATEAU_THRESHOLD):
            self.best, self.bad_epochs = float(val_loss), 0
            return
        self.bad_epochs += 1
        if self.bad_epochs > c.plateau_patience:
            self.plateau_lr = max(self.plateau_lr * c.plateau_factor, c.min_lr)
            self.bad_epochs = 0

    def state_dict(self) -> dict[str, Any]:
        return {"plateau_lr": self.plateau_lr, "best": self.best, "bad_epochs": self.bad_epochs,
                "steps_per_epoch": self.steps_per_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.plateau_lr = float(state["plateau_lr"])
        self.best = float(state["best"])
        self.bad_epochs = int(state["bad_epochs"])


@dataclass(frozen=True)
class _Counts:
    """Structures, atoms and stress-labelled structures of a *global* batch."""

    n_structures: int
    n_atoms: int
    n_stress: int

    @classmethod
    def of(cls, graphs: Sequence[StructureGraph]) -> _Counts:
        return cls(len(graphs), sum(g.n_atoms for g in graphs),
                   sum(g.stress is not None for g in graphs))


def batch_loss(out: dict[str, torch.Tensor], batch: GraphBatch, config: TrainConfig,
               counts: _Counts) -> torch.Tensor:
    """This batch's share of the loss of a global batch with ``counts``.

    Sums of weighted squared errors divided by the global numbers of structures, force
    components and stress components, so that the shares of the processes of a
    distributed run add up to the loss of the whole batch.
    """
    w = batch.weight
    n = batch.n_atoms.to(out["energy"].dtype)
    de = (out["energy"] - batch.energy) / n
    loss = config.energy_weight * (w * de ** 2).sum() / counts.n_structures
    df2 = ((out["forces"] - batch.forces) ** 2).sum(dim=1)
    loss = loss + config.force_weight * (w[batch.batch] * df2).sum() / (3.0 * counts.n_atoms)
    if "stress" in out and batch.has_stress is not None and counts.n_stress:
        ds2 = ((out["stress"] - batch.stress) ** 2).sum(dim=(1, 2))
        mask = batch.has_stress.to(ds2.dtype)
        loss = loss + (config.stress_weight * (w * mask * ds2).sum()
                       / (9.0 * counts.n_stress))
    return loss


@dataclass(frozen=True)
class _Dist:
    world_size: int = 1
    rank: int = 0
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _dist_info() -> _Dist:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        return _Dist(dist.get_world_size(), dist.get_rank(),
                     int(os.environ.get("LOCAL_RANK", dist.get_rank())))
    return _Dist()


def resolve_device(device: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> CUDA when available; under ``torchrun`` the process's local GPU.

    Raises
    ------
    UserInputError
        ``cuda`` asked for but not available.
    """
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            raise UserInputError("device 'cuda' was asked for but torch sees no CUDA GPU; use "
                                 "device 'cpu' or 'auto', or install a CUDA build of torch")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")



def initial_shift(model: ForceFieldModel, graphs: Sequence[StructureGraph],
                  batch_size: int = 16) -> float:
    """Energy shift (eV/atom) that zeroes the mean per-atom energy error of an untrained model.

    An untrained network adds an arbitrary per-atom offset of order ``energy_scale`` (often
    ~1 eV/atom) to the reference energies; removing it at the start lets training spend
    its steps on the shape of the energy surface. Uses the first :data:`SHIFT_SAMPLE`
    structures, energies only, with the model's current shift.
    """
    sample = list(graphs[:SHIFT_SAMPLE])
    param = next(model.parameters())
    residual = []
    with torch.no_grad():
        for start in range(0, len(sample), batch_size):
            chunk = sample[start:start + batch_size]
            batch = collate(chunk, dtype=param.dtype, device=param.device)
            energy = model(batch, forces=False, stress=False)["energy"].double().cpu().numpy()
            n = np.array([g.n_atoms for g in chunk], dtype=float)
            residual.append((np.array([g.energy for g in chunk]) - energy) / n)
    return float(model.energy_shift) + float(np.mean(np.concatenate(residual)))


# ---- helpers -------------------------------------------------------------------------------
def _finite_or_none(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _rng_state() -> dict[str, Any]:
    np_state = np.random.get_state()
    state = {"torch": torch.get_rng_state(),
             "numpy": json.dumps([np_state[0], np_state[1].tolist(), *map(_plain,
                                                                          np_state[2:])]),
             "python": json.dumps(_plain(random.getstate()))}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = [s.cpu() for s in torch.cuda.get_rng_state_all()]
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    name, keys, *rest = json.loads(state["numpy"])
    np.random.set_state((name, np.array(keys, dtype=np.uint32), *rest))
    version, internal, gauss = json.loads(state["python"])
    random.setstate((version, tuple(internal), gauss))
    if state.get("cuda") is not None and torch.cuda.is_available():
        with contextlib.suppress(RuntimeError, IndexError):
            torch.cuda.set_rng_state_all(state["cuda"])


def _plain(obj: Any) -> Any:
    if isinstance(obj, (list, tuple)):
        return [_plain(x) for x in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj

