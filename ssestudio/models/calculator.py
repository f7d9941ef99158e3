"""ASE calculators for trained models and ensembles, and :func:`load_calculator`.

The ensemble calculator returns the mean energy, forces and stress of its members and,
in ``results``, the DP-GEN uncertainty: the per-atom force deviation
``sigma_i = sqrt(<|F_i - <F_i>|^2>)`` over members and its maximum over atoms
(Zhang et al., Comput. Phys. Commun. 253, 107206 (2020), doi:10.1016/j.cpc.2020.107206).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.stress import full_3x3_to_voigt_6_stress

from ssestudio.core.errors import UserInputError
from ssestudio.models.base import ForceFieldModel
from ssestudio.models.graph import collate, structure_graph
from ssestudio.models.serialization import load_model


def _device(device: str | None) -> torch.device:
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class ModelCalculator(Calculator):
    """ASE calculator of one :class:`ForceFieldModel`.

    Parameters
    ----------
    model : ForceFieldModel
        A trained model (put in eval mode).
    device : str, optional
        ``"cpu"``, ``"cuda"`` or ``"auto"`` (default: CUDA when available).
    metadata : dict, optional
        What the model file recorded (dataset, config, metrics); kept as ``.metadata``.

    Notes
    -----
    Results: ``energy``/``free_energy`` (eV), ``energies`` (eV per atom), ``forces``
    (eV/Å), ``stress`` (eV/Å³, Voigt, periodic cells only).
    """

    implemented_properties = ["energy", "free_energy", "energies", "forces", "stress"]

    def __init__(self, model: ForceFieldModel, *, device: str | None = None,
                 metadata: dict | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.device = _device(device)
        self.model = model.to(self.device).eval()
        self.metadata = dict(metadata or {})
        self.dtype = next(model.parameters()).dtype

    @property
    def elements(self) -> list[str]:
        """Elements the model knows."""
        return list(self.model.elements)

    def _batch(self, atoms: Atoms):
        graph = structure_graph(atoms, self.model.elements, self.model.cutoff_A, labels=False)
        return collate([graph], dtype=self.dtype, device=self.device)

    def calculate(self, atoms: Atoms | None = None, properties: Sequence[str] = ("energy",),
                  system_changes: Sequence[str] = all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        batch = self._batch(self.atoms)
        want_stress = "stress" in properties and bool(self.atoms.pbc.all())
        out = self.model(batch, forces=True, stress=want_stress)
        self.results = _to_results(out, want_stress)


def _to_results(out: dict[str, torch.Tensor], stress: bool) -> dict[str, Any]:
    energy = float(out["energy"].detach().sum())
    results: dict[str, Any] = {
        "energy": energy, "free_energy": energy,
        "energies": out["atomic_energies"].detach().cpu().double().numpy(),
        "forces": out["forces"].detach().cpu().double().numpy()}
    if stress:
        results["stress"] = full_3x3_to_voigt_6_stress(
            out["stress"].detach().cpu().double().numpy()[0])
    return results


class EnsembleCalculator(ModelCalculator):
    """Mean prediction of several models plus the DP-GEN force deviation.

    Parameters
    ----------
    models : sequence of ForceFieldModel
        At least two members with the same elements (cutoffs may differ).
    device, metadata
        As :class:`ModelCalculator`.

    Notes
    -----
    Extra results: ``force_deviation`` (n_atoms,) eV/Å, ``max_force_deviation`` eV/Å,
    ``mean_force_deviation`` eV/Å, ``energy_deviation`` (std of member energies per atom,
    eV/atom), ``member_energies`` (eV).
    """

    implemented_properties = ModelCalculator.implemented_properties + [
        "force_deviation", "max_force_deviation", "mean_force_deviation", "energy_deviation"]

    def __init__(self, models: Sequence[ForceFieldModel], *, device: str | None = None,
                 metadata: dict | None = None, **kwargs: Any) -> None:
        models = list(models)
        if len(models) < 2:
            raise UserInputError(f"an ensemble needs at least 2 models, got {len(models)}")
        if len({tuple(m.elements) for m in models}) != 1:
            raise UserInputError("ensemble members must share one element list")
        super().__init__(models[0], device=device, metadata=metadata, **kwargs)
        self.models = [m.to(self.device).eval() for m in models]

    def calculate(self, atoms: Atoms | None = None, properties: Sequence[str] = ("energy",),
                  system_changes: Sequence[str] = all_changes) -> None:
        Calculator.calculate(self, atoms, properties, system_changes)
        want_stress = "stress" in properties and bool(self.atoms.pbc.all())
        graphs: dict[float, Any] = {}
        outs = []
        for model in self.models:
            if model.cutoff_A not in graphs:
                g = structure_graph(self.atoms, model.elements, model.cutoff_A, labels=False)
                graphs[model.cutoff_A] = collate([g], dtype=self.dtype, device=self.device)
            outs.append(_to_results(model(graphs[model.cutoff_A], forces=True,
                                          stress=want_stress), want_stress))
        forces = np.stack([o["forces"] for o in outs])                 # (M, N, 3)
        energies = np.array([o["energy"] for o in outs])
        mean_f = forces.mean(axis=0)
        deviation = np.sqrt(((forces - mean_f) ** 2).sum(axis=2).mean(axis=0))
        n = len(self.atoms)
        results: dict[str, Any] = {
            "energy": float(energies.mean()), "free_energy": float(energies.mean()),
            "energies": np.mean([o["energies"] for o in outs], axis=0), "forces": mean_f,
            "force_deviation": deviation,
            "max_force_deviation": float(deviation.max()) if n else 0.0,
            "mean_force_deviation": float(deviation.mean()) if n else 0.0,
            "energy_deviation": float(energies.std() / max(n, 1)),
            "member_energies": energies}
        if want_stress:
            results["stress"] = np.mean([o["stress"] for o in outs], axis=0)
        self.results = results


def load_calculator(path: str | Path, *, device: str | None = None) -> ModelCalculator:
    """An ASE calculator for any saved model or ensemble (never unpickles objects).

    Parameters
    ----------
    path : str or Path
        A file written by :func:`~ssestudio.models.save_model`,
        :func:`~ssestudio.models.save_ensemble` or the trainer (``best.pt``,
        ``ensemble.pt``, ``checkpoint.pt``).
    device : str, optional
        ``"cpu"``, ``"cuda"`` or ``"auto"``.

    Returns
    -------
    ModelCalculator or EnsembleCalculator

    Raises
    ------
    UserInputError
        Missing or unsafe file; a structure with elements the model does not know raises
        when it is evaluated.
    """
    model, metadata = load_model(path)
    if isinstance(model, list):
        return EnsembleCalculator(model, device=device, metadata=metadata)
    return ModelCalculator(model, device=device, metadata=metadata)
