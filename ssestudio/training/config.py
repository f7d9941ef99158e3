"""The training configuration: one frozen, JSON-serialisable :class:`TrainConfig`.

The CLI and the app build a :class:`TrainConfig`; the trainer, the ensemble trainer and the
``torchrun`` entry point (:mod:`ssestudio.training.ddp`) read it. It is stored in every
checkpoint and model file, so that a model records how it was trained.

Loss (see :mod:`ssestudio.training.trainer`)::

    L = energy_weight * < w_s ((E_s - E_s_ref) / N_s)^2 >_structures         [eV/atom]^2
      + force_weight  * < w_s(a) (F_a,c - F_a,c_ref)^2 >_atom components      [eV/Å]^2
      + stress_weight * < w_s (sigma_s,ij - sigma_s,ij_ref)^2 >_components    [eV/Å³]^2

(the stress term over structures with a reference stress only; ``w_s`` the per-structure
weights of the graphs, 1 by default).

Why these default weights: MACE trains with energy:force = 1:100 and ends with a stage at
1000:100. In one stage, 1:100 let the per-atom energy error of the built-in model drift to
~1 eV/atom for a while before it came back (EMT Cu/Au cells, 60 epochs); 1:10 gave force
errors within 10 % of 1:100 with half the energy error and no drift. Forces stay the main
target (they set the dynamics); with the default stress weight a 1 GPa stress error
counts like a 0.06 eV/Å force error. In the same test, lr 2e-3 reached half the force error
of lr 1e-3 after 30 epochs.

On real data the energy weight had to be higher: on 518 SevenNet-0-labelled Li-P-S
configurations (64-96 atoms; glasses, crystals, MD snapshots), the default model after
~270-290 epochs reached a test error of 11.8 meV/atom and 0.126 eV/Å with energy:force =
1:10, and 2.5-2.8 meV/atom with 0.12 eV/Å at 100:10 (forces unchanged), so the default is
100:10. Per-atom energies vary far less than force components (here 0.2 eV/atom against
~1 eV/Å), so an equal weight leaves the energy almost untrained.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ssestudio.core.errors import UserInputError

DTYPES = ("float32", "float64")
SCHEDULES = ("plateau", "cosine")
DEVICES = ("auto", "cpu", "cuda")
ENSEMBLE_MODES = ("seeds", "bootstrap")

#: Fields that may differ between a checkpoint and the config that resumes it.
RESUMABLE_CHANGES = frozenset({"max_epochs", "max_time_min", "threads", "device",
                               "eval_every", "early_stopping_patience"})


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run.

    Attributes
    ----------
    dataset : str
        Workspace dataset, ``"name"`` (its latest version) or ``"name@version"``.
    model : str
        Model preset (``"default"``, ``"large"``, ``"mace"``) or registered family name
        (:func:`ssestudio.models.build_model`).
    model_options : dict
        Hyper-parameter overrides of the preset, e.g. ``{"cutoff_A": 5.5}`` (JSON values).
    dtype : {"float32", "float64"}
        Floating-point precision of the model during training and in the saved files.
    energy_weight : float
        Weight of the mean squared per-atom energy error, (eV/atom)^-2. Default 100 (see
        the module docstring).
    force_weight : float
        Weight of the mean squared force-component error, (eV/Å)^-2. Default 10.
    stress_weight : float
        Weight of the mean squared stress-component error, (eV/Å³)^-2, over structures
        with a reference stress. Default 1000: a 1 GPa (0.0062 eV/Å³) stress error then
        costs as much as a 0.06 eV/Å force error; 0 ignores stress labels.
    lr : float
        Peak learning rate of AdamW after warm-up. Default 2e-3 (MACE uses 1e-2 with
        AMSGrad; lower it if the loss jumps or becomes NaN).
    weight_decay : float
        Decoupled (AdamW) weight decay. Default 0.
    batch_size : int
        Structures per optimiser step (the *global* batch: split over the processes of a
        ``torchrun`` run, so that the result does not depend on their number).
    max_epochs : int
        Upper limit of epochs (passes over the training split).
    warmup_epochs : int
        Epochs of linear learning-rate warm-up (per step from ``lr / steps`` to ``lr``).
    schedule : {"plateau", "cosine"}
        After warm-up: multiply the rate by ``plateau_factor`` when the validation loss did
        not improve for more than ``plateau_patience`` epochs, or decay it along a cosine
        to ``min_lr`` at ``max_epochs``.
    plateau_patience : int
        Epochs without improvement before the rate is reduced (``plateau`` schedule).
    plateau_factor : float
        Factor (0 < f < 1) of a reduction.
    early_stopping_patience : int or None
        Stop when the validation loss did not improve for this many epochs (None: never).
    min_lr : float
        Lower bound of the learning rate.
    ema_decay : float
        Decay of the exponential moving average of the weights (0 disables); validation,
        ``best.pt`` and the final model use the averaged weights.
    grad_clip_norm : float or None
        Clip the global gradient norm to this value (None: no clipping).
    max_time_min : float or None
        Wall-time budget of one call, min; training stops gracefully (between two
        optimiser steps) once it is spent. None: unlimited.
    seed : int
        Seed of weights initialisation, batch order and bootstrap samples.
    threads : int or None
        ``torch.set_num_threads`` during training (None: leave torch's default).
    device : {"auto", "cpu", "cuda"}
        Where to train; ``auto`` uses CUDA when available.
    ensemble_size : int
        1 trains one model; N >= 2 trains N members (:mod:`ssestudio.training.ensemble`).
    ensemble_mode : {"seeds", "bootstrap"}
        Members differ by seed only (``seed + k``), or also train on a bootstrap sample
        (drawn with replacement) of the training split.
    eval_every : int
        Epochs between parity snapshots of the validation set (``parity.json``).
    """

    dataset: str
    model: str = "default"
    model_options: dict = field(default_factory=dict)
    dtype: str = "float32"
    energy_weight: float = 100.0
    force_weight: float = 10.0
    stress_weight: float = 1000.0
    lr: float = 2.0e-3
    weight_decay: float = 0.0
    batch_size: int = 8
    max_epochs: int = 200
    warmup_epochs: int = 2
    schedule: str = "plateau"
    plateau_patience: int = 10
    plateau_factor: float = 0.5
    early_stopping_patience: int | None = 30
    min_lr: float = 1.0e-6
    ema_decay: float = 0.99
    grad_clip_norm: float | None = 10.0
    max_time_min: float | None = None
    seed: int = 0
    threads: int | None = None
    device: str = "auto"
    ensemble_size: int = 1
    ensemble_mode: str = "seeds"
    eval_every: int = 10

    def __post_init__(self) -> None:
        self.validate()

    # ---- validation ---------------------------------------------------------------------
    def validate(self) -> None:
        """Check every field (and normalise types: ints, floats, a copied options dict).

        Raises
        ------
        UserInputError
            The first invalid field, with the allowed values or range.
        """
        set_ = object.__setattr__
        if not isinstance(self.dataset, str) or not self.dataset.strip():
            raise UserInputError("dataset must name a workspace dataset, e.g. 'li3ps4' or "
                                 "'li3ps4@2' for version 2")
        from ssestudio.data.store import parse_reference

        parse_reference(self.dataset)
        set_(self, "dataset", self.dataset.strip())
        if not isinstance(self.model, str) or not self.model.strip():
            raise UserInputError("model must be a preset name such as 'default' or 'large'")
        set_(self, "model", self.model.strip())
        if not isinstance(self.model_options, dict):
            raise UserInputError(f"model_options must be a dict of hyper-parameters, e.g. "
                                 f"{{'cutoff_A': 5.5}}, got {type(self.model_options).__name__}")
        try:
            options = json.loads(json.dumps(self.model_options))
        except (TypeError, ValueError) as exc:
            raise UserInputError(f"model_options must hold JSON values only: {exc}") from None
        set_(self, "model_options", options)
        _choice(self, "dtype", DTYPES)
        _choice(self, "schedule", SCHEDULES)
        _choice(self, "device", DEVICES)
        _choice(self, "ensemble_mode", ENSEMBLE_MODES)
        for name in ("energy_weight", "force_weight", "stress_weight", "weight_decay"):
            _number(self, name, low=0.0)
        if self.energy_weight + self.force_weight + self.stress_weight <= 0:
            raise UserInputError("at least one of energy_weight, force_weight and "
                                 "stress_weight must be positive")
        _number(self, "lr", low=0.0, low_open=True)
        _number(self, "min_lr", low=0.0)
        if self.min_lr > self.lr:
            raise UserInputError(f"min_lr ({self.min_lr}) cannot exceed lr ({self.lr})")
        _number(self, "plateau_factor", low=0.0, high=1.0, low_open=True, high_open=True)
        _number(self, "ema_decay", low=0.0, high=1.0, high_open=True)
        _number(self, "grad_clip_norm", low=0.0, low_open=True, optional=True)
        _number(self, "max_time_min", low=0.0, low_open=True, optional=True)
        _integer(self, "batch_size", low=1)
        _integer(self, "max_epochs", low=1)
        _integer(self, "warmup_epochs", low=0)
        _integer(self, "plateau_patience", low=0)
        _integer(self, "early_stopping_patience", low=1, optional=True)
        _integer(self, "seed", low=0)
        _integer(self, "threads", low=1, optional=True)
        _integer(self, "ensemble_size", low=1)
        _integer(self, "eval_every", low=1)
        if self.warmup_epochs > self.max_epochs:
            raise UserInputError(f"warmup_epochs ({self.warmup_epochs}) cannot exceed "
                                 f"max_epochs ({self.max_epochs}); lower warmup_epochs")

    # ---- JSON -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """All fields as a JSON-ready dict."""
        return json.loads(json.dumps(asdict(self)))

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as a JSON string (``kwargs`` go to :func:`json.dumps`)."""
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """A config from :meth:`to_dict` output (missing fields take their defaults).

        Raises
        ------
        UserInputError
            Not a dict, unknown keys (the valid ones are listed), no ``dataset``, or an
            invalid value.
        """
        if not isinstance(data, dict):
            raise UserInputError(f"a training config must be a JSON object, got "
                                 f"{type(data).__name__}")
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise UserInputError(f"unknown training option(s) {', '.join(unknown)}; valid "
                                 f"options: {', '.join(names)}")
        if "dataset" not in data:
            raise UserInputError("the training config needs 'dataset' (a workspace dataset "
                                 "name, optionally name@version)")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        """A config from a JSON string."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserInputError(f"the training config is not valid JSON: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_file(cls, path: str | Path) -> TrainConfig:
        """A config from a JSON file."""
        path = Path(path)
        if not path.is_file():
            raise UserInputError(f"training config file {path} does not exist")
        return cls.from_json(path.read_text(encoding="utf-8"))

    def differences(self, other: TrainConfig) -> dict[str, tuple[Any, Any]]:
        """``{field: (self value, other value)}`` of the fields that differ."""
        a, b = self.to_dict(), other.to_dict()
        return {k: (a[k], b[k]) for k in a if a[k] != b[k]}


def _choice(cfg: TrainConfig, name: str, allowed: tuple[str, ...]) -> None:
    value = getattr(cfg, name)
    if value not in allowed:
        raise UserInputError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")


def _number(cfg: TrainConfig, name: str, *, low: float | None = None,
            high: float | None = None, low_open: bool = False, high_open: bool = False,
            optional: bool = False) -> None:
    value = getattr(cfg, name)
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(float(value)):
        raise UserInputError(f"{name} must be a finite number{' or null' if optional else ''}"
                             f", got {value!r}")
    value = float(value)
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    interval = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
    if low is not None and (value < low or (low_open and value == low)):
        raise UserInputError(f"{name} must lie in {interval}, got {value}")
    if high is not None and (value > high or (high_open and value == high)):
        raise UserInputError(f"{name} must lie in {interval}, got {value}")
    object.__setattr__(cfg, name, value)


def _integer(cfg: TrainConfig, name: str, *, low: int, optional: bool = False) -> None:
    value = getattr(cfg, name)
    if value is None and optional:
        return
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise UserInputError(f"{name} must be an integer{' or null' if optional else ''}, "
                             f"got {value!r}")
    if value < low:
        raise UserInputError(f"{name} must be at least {low}, got {value}")
    object.__setattr__(cfg, name, int(value))
