"""Saving and loading models and ensembles, safely; export to TorchScript.

A saved model is a ``torch.save`` file of plain containers and tensors only::

    {"format": "ssestudio-model", "format_version": 1, "family": ..., "elements": [...],
     "cutoff_A": ..., "hyperparameters": {...}, "state_dict": {...}, "metadata": "<json>"}

and an ensemble is ``{"format": "ssestudio-ensemble", "members": [<model dict>, ...],
"metadata": "<json>"}``. Loading always uses ``torch.load(..., weights_only=True)`` so a
file can never run code (pickled objects are refused), and rebuilds the architecture from
the registered family (:mod:`ssestudio.models.base`). ``metadata`` is free JSON: the
trainer stores the dataset reference (``name@version``), the training config, metrics.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ssestudio.core.errors import UserInputError
from ssestudio.core.files import atomic_write
from ssestudio.models.base import ForceFieldModel, model_family

MODEL_FORMAT = "ssestudio-model"
ENSEMBLE_FORMAT = "ssestudio-ensemble"
FORMAT_VERSION = 1


def model_payload(model: ForceFieldModel) -> dict[str, Any]:
    """The plain-data description of ``model`` (architecture + weights, tensors on CPU)."""
    return {"format": MODEL_FORMAT, "format_version": FORMAT_VERSION, "family": model.family,
            "elements": list(model.elements), "cutoff_A": float(model.cutoff_A),
            "hyperparameters": json.loads(json.dumps(model.hyperparameters())),
            "dtype": str(next(model.parameters()).dtype).replace("torch.", ""),
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}


def model_from_payload(payload: dict[str, Any]) -> ForceFieldModel:
    """Rebuild a model from :func:`model_payload` output (strict state-dict match)."""
    dtype = getattr(torch, payload.get("dtype", "float32"), torch.float32)
    try:
        cls = model_family(payload["family"])
        model = cls(payload["elements"], payload["cutoff_A"], **payload["hyperparameters"])
        model.to(dtype)     # before loading, so float64 weights are not rounded to float32
        model.load_state_dict(payload["state_dict"], strict=True)
    except (KeyError, TypeError, RuntimeError) as exc:
        raise UserInputError(f"the model file is damaged or from an incompatible version "
                             f"({type(exc).__name__}: {exc})") from exc
    return model


def _atomic_save(obj: Any, path: Path) -> Path:
    return atomic_write(path, lambda tmp: torch.save(obj, tmp))


def save_model(path: str | Path, model: ForceFieldModel,
               metadata: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (and JSON ``metadata``) to ``path`` atomically."""
    payload = model_payload(model)
    payload["metadata"] = json.dumps(metadata or {}, default=str)
    return _atomic_save(payload, path)


def save_ensemble(path: str | Path, models: Sequence[ForceFieldModel],
                  metadata: dict[str, Any] | None = None) -> Path:
    """Write several models as one ensemble file, atomically."""
    if len(models) < 2:
        raise UserInputError(f"an ensemble needs at least 2 members, got {len(models)}")
    elements = {tuple(m.elements) for m in models}
    if len(elements) != 1:
        raise UserInputError(f"ensemble members must share one element list, got {elements}")
    payload = {"format": ENSEMBLE_FORMAT, "format_version": FORMAT_VERSION,
               "members": [model_payload(m) for m in models],
               "metadata": json.dumps(metadata or {}, default=str)}
    return _atomic_save(payload, path)


def read_payload(path: str | Path) -> dict[str, Any]:
    """Load a model/ensemble/checkpoint file without unpickling objects.

    Raises
    ------
    UserInputError
        Missing file, not a torch file, or a file that needs arbitrary unpickling.
    """
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"model file {path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError...
        raise UserInputError(
            f"{path} is not a model file SSE Studio can load safely ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}); files are loaded with "
            "weights_only=True and never unpickle objects") from exc
    if not isinstance(payload, dict) or payload.get("format") not in (
            MODEL_FORMAT, ENSEMBLE_FORMAT, "ssestudio-checkpoint"):
        raise UserInputError(f"{path} is a torch file but not an SSE Studio model "
                             "(no 'format' key); TorchScript exports load with torch.jit.load")
    return payload


def load_model(path: str | Path) -> tuple[ForceFieldModel | list[ForceFieldModel], dict]:
    """A saved model (or the list of an ensemble's members) and its metadata.

    A trainer checkpoint (``format: ssestudio-checkpoint``) loads its model.
    """
    payload = read_payload(path)
    metadata = json.loads(payload.get("metadata") or "{}")
    if payload["format"] == ENSEMBLE_FORMAT:
        return [model_from_payload(m).eval() for m in payload["members"]], metadata
    if payload["format"] == "ssestudio-checkpoint":
        payload = payload["model"]
    return model_from_payload(payload).eval(), metadata


def read_metadata(path: str | Path) -> dict:
    """Only the metadata of a model or ensemble file."""
    return json.loads(read_payload(path).get("metadata") or "{}")


class _Exported(torch.nn.Module):
    """TorchScript entry point: plain tensors in, energy/forces/stress out."""

    def __init__(self, model: ForceFieldModel) -> None:
        super().__init__()
        self.model = model
        self.elements = list(model.elements)
        self.cutoff_A = float(model.cutoff_A)

    def forward(self, species: torch.Tensor, positions: torch.Tensor, cell: torch.Tensor,
                batch: torch.Tensor, edge_index: torch.Tensor, shifts: torch.Tensor,
                n_structures: int, stress: bool) -> dict[str, torch.Tensor]:
        return self.model.compute(species, positions, cell, batch, edge_index, shifts,
                                  n_structures, True, stress, False)


def export_torchscript(model: ForceFieldModel, path: str | Path) -> Path:
    """Write ``model`` as a TorchScript file that runs with torch alone.

    The scripted module's ``forward(species, positions, cell, batch, edge_index, shifts,
    n_structures, stress)`` takes the fields of a
    :class:`~ssestudio.models.graph.GraphBatch` (full neighbour list within
    ``module.cutoff_A``; ``species`` indexes ``module.elements``) and returns a dict with
    ``energy`` (eV), ``atomic_energies``, ``forces`` (eV/Å) and, when ``stress``,
    ``stress`` (3x3 per structure, eV/Å³). Load it with ``torch.jit.load(path)``.

    Raises
    ------
    UserInputError
        The model family cannot be scripted (e.g. MACE: use its own export tools).
    """
    if not getattr(model, "scriptable", True):
        raise UserInputError(f"model family {model.family!r} cannot be exported to "
                             "TorchScript by SSE Studio")
    scripted = torch.jit.script(_Exported(model.eval()))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    scripted.save(str(tmp))
    os.replace(tmp, path)
    return path


def model_file(path: str | Path) -> Path:
    """The model file of ``path``: the file itself, or a run folder's ``ensemble.pt`` /
    ``best.pt``.

    Raises
    ------
    UserInputError
        Nothing loadable there.
    """
    path = Path(path)
    if path.is_file():
        return path
    if path.is_dir():
        for candidate in ("ensemble.pt", "best.pt"):
            if (path / candidate).is_file():
                return path / candidate
        raise UserInputError(f"folder {path} holds no ensemble.pt or best.pt: training has not "
                             "saved a model there yet")
    raise UserInputError(f"model file {path} does not exist")
