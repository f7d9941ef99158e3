"""Errors of a model on labelled structures: RMSE/MAE metrics and parity-plot data.

Conventions: energy errors are per atom (``(E - E_ref) / N``, reported in meV/atom),
force errors per Cartesian component (eV/Å), stress errors per component of the 3x3
tensor over the structures that have a reference stress (reported in GPa,
1 eV/Å³ = 160.21766 GPa, ``ase.units.GPa``).

Errors are accumulated as sums (:class:`ErrorSums`), which add across batches and across
the processes of a distributed run (all-reduce of :meth:`ErrorSums.vector`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from ase import units

from ssestudio.models.base import ForceFieldModel
from ssestudio.models.graph import StructureGraph, collate

#: Default cap on the force components kept for a parity plot.
MAX_PARITY_POINTS = 2000


@dataclass(frozen=True)
class Predictions:
    """Reference and predicted labels of a set of structures (numpy, float64).

    Attributes
    ----------
    n_atoms : ndarray of int, shape (n_structures,)
    species : ndarray of int, shape (n_atoms_total,)
        Element index of each atom.
    weight : ndarray, shape (n_structures,)
        Loss weight of each structure.
    energy_ref, energy_pred : ndarray, shape (n_structures,)
        Total energies, eV.
    forces_ref, forces_pred : ndarray, shape (n_atoms_total, 3)
        Forces, eV/Å.
    stress_ref, stress_pred : ndarray, shape (n_structures, 3, 3)
        Stress, eV/Å³ (ASE sign); zeros where ``has_stress`` is False.
    has_stress : ndarray of bool, shape (n_structures,)
    """

    n_atoms: np.ndarray
    species: np.ndarray
    weight: np.ndarray
    energy_ref: np.ndarray
    energy_pred: np.ndarray
    forces_ref: np.ndarray
    forces_pred: np.ndarray
    stress_ref: np.ndarray
    stress_pred: np.ndarray
    has_stress: np.ndarray

    @property
    def n_structures(self) -> int:
        return int(self.n_atoms.shape[0])

    @staticmethod
    def concatenate(parts: Sequence[Predictions]) -> Predictions:
        """One :class:`Predictions` of several (in order)."""
        parts = [p for p in parts if p.n_structures]
        if not parts:
            return _empty_predictions()
        return Predictions(**{name: np.concatenate([getattr(p, name) for p in parts])
                              for name in Predictions.__dataclass_fields__})


def _empty_predictions() -> Predictions:
    z = np.zeros
    return Predictions(z(0, int), z(0, int), z(0), z(0), z(0), z((0, 3)), z((0, 3)),
                       z((0, 3, 3)), z((0, 3, 3)), z(0, bool))


def predict(model: ForceFieldModel, graphs: Sequence[StructureGraph],
            batch_size: int = 16) -> Predictions:
    """Energies, forces and (where labelled) stresses of ``model`` on ``graphs``.

    The model is evaluated in eval mode on its own device and dtype; stress is computed
    when any structure has a reference stress.

    Parameters
    ----------
    model : ForceFieldModel
    graphs : sequence of StructureGraph
        Labelled graphs built with the model's elements and cutoff.
    batch_size : int
        Structures per forward pass.
    """
    if not graphs:
        return _empty_predictions()
    param = next(model.parameters())
    device, dtype = param.device, param.dtype
    want_stress = any(g.stress is not None for g in graphs)
    was_training = model.training
    model.eval()
    parts = []
    try:
        for start in range(0, len(graphs), batch_size):
            chunk = graphs[start:start + batch_size]
            batch = collate(chunk, dtype=dtype, device=device)
            stress = want_stress and any(g.stress is not None for g in chunk)
            out = model(batch, forces=True, stress=stress, create_graph=False)
            n = len(chunk)
            has = np.array([g.stress is not None for g in chunk])
            s_ref = np.stack([g.stress if g.stress is not None else np.zeros((3, 3))
                              for g in chunk])
            s_pred = (out["stress"].detach().cpu().double().numpy() if stress
                      else np.zeros((n, 3, 3)))
            parts.append(Predictions(
                n_atoms=np.array([g.n_atoms for g in chunk], dtype=int),
                species=np.concatenate([g.species for g in chunk]).astype(int),
                weight=np.array([g.weight for g in chunk], dtype=float),
                energy_ref=np.array([g.energy for g in chunk], dtype=float),
                energy_pred=out["energy"].detach().cpu().double().numpy(),
                forces_ref=np.concatenate([g.forces for g in chunk]).astype(float),
                forces_pred=out["forces"].detach().cpu().double().numpy(),
                stress_ref=np.where(has[:, None, None], s_ref, 0.0),
                stress_pred=np.where(has[:, None, None], s_pred, 0.0),
                has_stress=has))
    finally:
        model.train(was_training)
    return Predictions.concatenate(parts)


# ---- sums and metrics -------------------------------------------------------------------
_SCALARS = ("n_structures", "n_atoms", "n_stress", "energy_sq", "energy_abs", "force_sq",
            "force_abs", "stress_sq", "stress_abs", "w_energy_sq", "w_force_sq",
            "w_stress_sq")


@dataclass(frozen=True)
class ErrorSums:
    """Sums of errors from which metrics and the loss follow (additive over subsets).

    ``energy_*`` are over per-atom energy errors (eV/atom), ``force_*`` over force
    components (eV/Å), ``stress_*`` over stress components (eV/Å³); ``w_*`` are the
    squared sums weighted by the structures' loss weights. ``element_force_sq`` and
    ``element_atoms`` hold the squared force errors and atoms per element.
    """

    values: dict = field(default_factory=dict)
    element_force_sq: np.ndarray = field(default_factory=lambda: np.zeros(0))
    element_atoms: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def from_predictions(cls, pred: Predictions, n_elements: int) -> ErrorSums:
        """Sums of one set of predictions."""
        n = np.maximum(pred.n_atoms, 1)
        de = (pred.energy_pred - pred.energy_ref) / n
        df = pred.forces_pred - pred.forces_ref
        ds = (pred.stress_pred - pred.stress_ref)[pred.has_stress]
        w_atom = np.repeat(pred.weight, pred.n_atoms)
        w_stress = pred.weight[pred.has_stress]
        f_sq_atom = (df ** 2).sum(axis=1)
        values = {
            "n_structures": float(pred.n_structures), "n_atoms": float(pred.n_atoms.sum()),
            "n_stress": float(pred.has_stress.sum()),
            "energy_sq": float((de ** 2).sum()), "energy_abs": float(np.abs(de).sum()),
            "force_sq": float(f_sq_atom.sum()), "force_abs": float(np.abs(df).sum()),
            "stress_sq": float((ds ** 2).sum()), "stress_abs": float(np.abs(ds).sum()),
            "w_energy_sq": float((pred.weight * de ** 2).sum()),
            "w_force_sq": float((w_atom * f_sq_atom).sum()),
            "w_stress_sq": float((w_stress[:, None, None] * ds ** 2).sum()),
        }
        el_sq = np.bincount(pred.species, weights=f_sq_atom, minlength=n_elements)
        el_n = np.bincount(pred.species, minlength=n_elements).astype(float)
        return cls(values, el_sq, el_n)

    def __add__(self, other: ErrorSums) -> ErrorSums:
        if not self.values:
            return other
        if not other.values:
            return self
        return ErrorSums({k: self.values[k] + other.values[k] for k in _SCALARS},
                         self.element_force_sq + other.element_force_sq,
                         self.element_atoms + other.element_atoms)

    def vector(self) -> np.ndarray:
        """All sums as one float64 vector (for an all-reduce)."""
        return np.concatenate([[self.values[k] for k in _SCALARS], self.element_force_sq,
                               self.element_atoms])

    @classmethod
    def from_vector(cls, vector: np.ndarray) -> ErrorSums:
        """Inverse of :meth:`vector`."""
        vector = np.asarray(vector, dtype=float)
        k = len(_SCALARS)
        n_el = (vector.shape[0] - k) // 2
        return cls(dict(zip(_SCALARS, (float(x) for x in vector[:k]))),
                   vector[k:k + n_el].copy(), vector[k + n_el:].copy())

    def loss(self, energy_weight: float, force_weight: float, stress_weight: float) -> float:
        """The training loss of these structures (see :mod:`ssestudio.training.config`)."""
        v = self.values
        total = energy_weight * v["w_energy_sq"] / max(v["n_structures"], 1.0)
        total += force_weight * v["w_force_sq"] / max(3.0 * v["n_atoms"], 1.0)
        if v["n_stress"]:
            total += stress_weight * v["w_stress_sq"] / (9.0 * v["n_stress"])
        return float(total)

    def metrics(self, elements: Sequence[str]) -> Metrics:
        """RMSE and MAE in named units."""
        v = self.values
        n_s, n_a, n_st = v["n_structures"], v["n_atoms"], v["n_stress"]
        if n_s < 1:
            raise ValueError("no structures were evaluated")
        per_element = {el: math.sqrt(sq / (3.0 * n)) for el, sq, n in
                       zip(elements, self.element_force_sq, self.element_atoms) if n > 0}
        return Metrics(
            n_structures=int(n_s), n_atoms=int(n_a), n_stress=int(n_st),
            energy_rmse_meV_atom=1000.0 * math.sqrt(v["energy_sq"] / n_s),
            energy_mae_meV_atom=1000.0 * v["energy_abs"] / n_s,
            force_rmse_eV_A=math.sqrt(v["force_sq"] / (3.0 * n_a)),
            force_mae_eV_A=v["force_abs"] / (3.0 * n_a),
            stress_rmse_GPa=(math.sqrt(v["stress_sq"] / (9.0 * n_st)) / units.GPa
                             if n_st else None),
            stress_mae_GPa=v["stress_abs"] / (9.0 * n_st) / units.GPa if n_st else None,
            force_rmse_per_element_eV_A=per_element)


@dataclass(frozen=True)
class Metrics:
    """Errors of a model on a set of labelled structures.

    Attributes
    ----------
    n_structures, n_atoms : int
        Structures and atoms evaluated.
    n_stress : int
        Structures with a reference stress.
    energy_rmse_meV_atom, energy_mae_meV_atom : float
        Of the per-atom energy, meV/atom.
    force_rmse_eV_A, force_mae_eV_A : float
        Of the force components, eV/Å.
    stress_rmse_GPa, stress_mae_GPa : float or None
        Of the stress components, GPa (None without stress labels).
    force_rmse_per_element_eV_A : dict
        Force-component RMSE of the atoms of each element present, eV/Å.
    """

    n_structures: int
    n_atoms: int
    n_stress: int
    energy_rmse_meV_atom: float
    energy_mae_meV_atom: float
    force_rmse_eV_A: float
    force_mae_eV_A: float
    stress_rmse_GPa: float | None
    stress_mae_GPa: float | None
    force_rmse_per_element_eV_A: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready dict of all fields."""
        d = asdict(self)
        d["force_rmse_per_element_eV_A"] = dict(self.force_rmse_per_element_eV_A)
        return d

    @classmethod
    def from_dict(cls, data: dict) -> Metrics:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)


def evaluate(model: ForceFieldModel, graphs: Sequence[StructureGraph],
             batch_size: int = 16) -> Metrics:
    """Errors of ``model`` on the labelled ``graphs``.

    Parameters
    ----------
    model : ForceFieldModel
        Elements and cutoff must match those the graphs were built with.
    graphs : sequence of StructureGraph
    batch_size : int
        Structures per forward pass.

    Raises
    ------
    ValueError
        No graphs.
    """
    if not graphs:
        raise ValueError("evaluate needs at least one structure")
    pred = predict(model, graphs, batch_size)
    return ErrorSums.from_predictions(pred, len(model.elements)).metrics(model.elements)


def parity_data(pred: Predictions, elements: Sequence[str], *,
                max_force_points: int = MAX_PARITY_POINTS, seed: int = 0) -> dict:
    """Reference-versus-predicted values for parity plots (JSON-ready).

    Parameters
    ----------
    pred : Predictions
    elements : sequence of str
        Element names of the species indices.
    max_force_points : int
        Force components kept at most (a random subset, fixed by ``seed``, in their
        original order).
    seed : int
        Seed of the subset.

    Returns
    -------
    dict
        ``energy_per_atom_eV`` {reference, predicted} per structure; ``forces_eV_A``
        {reference, predicted, element, n_total} per component; ``stress_GPa``
        {reference, predicted} per component of the structures with stress, or None.
    """
    n = np.maximum(pred.n_atoms, 1)
    f_ref, f_pred = pred.forces_ref.ravel(), pred.forces_pred.ravel()
    el = np.repeat(pred.species, 3)
    keep = np.arange(f_ref.size)
    if f_ref.size > max_force_points:
        keep = np.sort(np.random.default_rng(seed).choice(f_ref.size, max_force_points,
                                                          replace=False))

    def rounded(x: np.ndarray, digits: int = 6) -> list[float]:
        return np.round(np.asarray(x, dtype=float), digits).tolist()

    stress = None
    if pred.has_stress.any():
        stress = {"reference": rounded(pred.stress_ref[pred.has_stress].ravel() / units.GPa, 4),
                  "predicted": rounded(pred.stress_pred[pred.has_stress].ravel() / units.GPa,
                                       4)}
    return {
        "energy_per_atom_eV": {"reference": rounded(pred.energy_ref / n),
                               "predicted": rounded(pred.energy_pred / n)},
        "forces_eV_A": {"reference": rounded(f_ref[keep]), "predicted": rounded(f_pred[keep]),
                        "element": [elements[int(k)] for k in el[keep]],
                        "n_total": int(f_ref.size)},
        "stress_GPa": stress,
    }
