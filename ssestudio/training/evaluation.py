"""Evaluate a saved model or ensemble on labelled structures or a dataset split.

An ensemble is evaluated through the mean of its members' predictions (what its ASE
calculator returns); each member also gets its own metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from ase import Atoms

from ssestudio.core.errors import UserInputError
from ssestudio.models import ForceFieldModel, load_model
from ssestudio.models.graph import StructureGraph
from ssestudio.models.serialization import model_file
from ssestudio.training.data import graphs_from_atoms
from ssestudio.training.metrics import ErrorSums, Metrics, Predictions, parity_data, predict

if TYPE_CHECKING:
    from ssestudio.workspace import Workspace


def predict_graphs(models: ForceFieldModel | Sequence[ForceFieldModel],
                   graphs: Sequence[StructureGraph] | Sequence[Sequence[StructureGraph]], *,
                   batch_size: int = 16) -> tuple[Predictions, list[Predictions]]:
    """Predictions of a model, or the mean of an ensemble's, on labelled graphs.

    Parameters
    ----------
    models : ForceFieldModel or sequence of them
    graphs : sequence of StructureGraph, or one such sequence per model
        Built with the models' elements and cutoff (one sequence serves all members when
        they share the cutoff).

    Returns
    -------
    mean : Predictions
        The model's (or the members' mean) energies, forces and stresses.
    members : list of Predictions
        One per member (a single model: a list of one).
    """
    members = [models] if isinstance(models, ForceFieldModel) else list(models)
    if not graphs:
        raise UserInputError("there are no labelled structures to evaluate on")
    per_model = (graphs if isinstance(graphs[0], (list, tuple))
                 else [graphs] * len(members))
    per_member = [predict(m, g, batch_size) for m, g in zip(members, per_model)]
    if len(per_member) == 1:
        return per_member[0], per_member
    mean = replace(per_member[0], **{
        key: np.mean([getattr(p, key) for p in per_member], axis=0)
        for key in ("energy_pred", "forces_pred", "stress_pred")})
    return mean, per_member


def predict_structures(models: ForceFieldModel | Sequence[ForceFieldModel],
                       structures: Sequence[Atoms], *, batch_size: int = 16
                       ) -> tuple[Predictions, list[Predictions]]:
    """:func:`predict_graphs` on labelled structures (graphs built per member cutoff)."""
    members = [models] if isinstance(models, ForceFieldModel) else list(models)
    if not structures:
        raise UserInputError("there are no labelled structures to evaluate on")
    graphs = [graphs_from_atoms(structures, m.elements, m.cutoff_A) for m in members]
    return predict_graphs(members, graphs, batch_size=batch_size)


def metrics_of(models: ForceFieldModel | Sequence[ForceFieldModel],
               graphs: Sequence[StructureGraph], *, batch_size: int = 16) -> Metrics:
    """Metrics of a model or of an ensemble's mean prediction on labelled graphs."""
    members = [models] if isinstance(models, ForceFieldModel) else list(models)
    mean, _ = predict_graphs(members, graphs, batch_size=batch_size)
    return ErrorSums.from_predictions(mean, len(members[0].elements)).metrics(
        members[0].elements)


def evaluate_structures(models: ForceFieldModel | Sequence[ForceFieldModel],
                        structures: Sequence[Atoms], *, batch_size: int = 16,
                        parity_points: int = 2000) -> dict[str, Any]:
    """Metrics (and parity data) of a model or ensemble on labelled structures.

    Returns
    -------
    dict
        The :class:`~ssestudio.training.metrics.Metrics` keys (``energy_rmse_meV_atom``,
        ``force_rmse_eV_A``, ``stress_rmse_GPa``, ``force_rmse_per_element_eV_A``,
        ``n_structures``, ...), ``members`` (per-member metrics of an ensemble, else
        empty) and ``parity`` (reference vs predicted values).
    """
    members = [models] if isinstance(models, ForceFieldModel) else list(models)
    elements = list(members[0].elements)
    mean, per_member = predict_structures(members, structures, batch_size=batch_size)

    def metrics(pred: Predictions) -> Metrics:
        return ErrorSums.from_predictions(pred, len(elements)).metrics(elements)

    out = metrics(mean).to_dict()
    out["members"] = [metrics(p).to_dict() for p in per_member] if len(members) > 1 else []
    out["parity"] = parity_data(mean, elements, max_force_points=parity_points)
    return out


def resolve_model_path(workspace: Workspace | None, ref: str | Path) -> Path:
    """A model file from a path, or a workspace model ``name`` / ``name@version`` / id."""
    path = Path(ref)
    if path.exists():
        return model_file(path)
    if workspace is None:
        raise UserInputError(f"model {ref!s} is not a file; give a model file or a workspace "
                             "model name")
    from ssestudio.data.store import parse_reference

    name, version = parse_reference(str(ref))
    try:
        record = workspace.get_artifact("models", name, version=version)
    except Exception as exc:  # RecordNotFoundError lists the known names
        raise UserInputError(f"{ref!s} is neither a model file nor a workspace model ({exc})") from exc
    return record.path


def evaluate_on_dataset(model_ref: str | Path, workspace: Workspace, dataset: str, *,
                        split: str | None = "test", batch_size: int = 16) -> dict[str, Any]:
    """Evaluate a model (file or workspace name) on a split of a workspace dataset.

    Parameters
    ----------
    model_ref : str or Path
        Model or ensemble file, run folder, or workspace model ``name[@version]``.
    workspace : Workspace
    dataset : str
        ``name`` (latest version) or ``name@version``.
    split : {"train", "validation", "test"} or None
        None evaluates every labelled structure of the version.

    Returns
    -------
    dict
        :func:`evaluate_structures` output plus ``model`` (path), ``dataset``
        (``name@version``), ``split``, ``trained_on`` (the model's dataset reference).
    """
    from ssestudio.data.store import parse_reference
    from ssestudio.jobs.dataset import open_dataset

    path = resolve_model_path(workspace, model_ref)
    models, metadata = load_model(path)
    name, version = parse_reference(dataset)
    ds = open_dataset(workspace, name)
    v = ds.version(version)
    structures = ds.configurations(version=v.version, split=split)
    if not structures:
        raise UserInputError(f"dataset {name}@{v.version} has no labelled structures in split "
                             f"{split!r}; choose another split or re-split the dataset")
    out = evaluate_structures(models, structures, batch_size=batch_size)
    return {"model": str(path), "dataset": f"{name}@{v.version}", "split": split or "all",
            "trained_on": metadata.get("dataset"), **out}
