"""Training data: the graphs of a dataset version's splits, data statistics, batch order.

The neighbour lists of every structure are computed once (:class:`TrainingData`) and reused
in every epoch; a batch is only a concatenation of stored graphs
(:func:`ssestudio.models.graph.collate`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from ase import Atoms

from ssestudio.core.errors import UserInputError
from ssestudio.models.graph import StructureGraph, structure_graph

if TYPE_CHECKING:
    from pathlib import Path

    from ssestudio.training.config import TrainConfig
    from ssestudio.workspace import Workspace

SPLIT_HINT = ("re-split the dataset (e.g. 'ssestudio dataset split NAME --fractions 0.8 0.1 "
              "0.1') or add labelled configurations")


@dataclass(frozen=True)
class TrainingData:
    """Graphs of the train, validation and test structures of one dataset version.

    Attributes
    ----------
    reference : str
        Where the data come from, ``"name@version"`` for a workspace dataset.
    elements : tuple of str
        The model's elements, sorted; ``species`` of the graphs index into it.
    cutoff_A : float
        Cutoff of the neighbour lists, Å (must equal the model's).
    train, validation, test : tuple of StructureGraph
        Labelled graphs of each split (``test`` may be empty).

    Raises
    ------
    UserInputError
        An empty train or validation split.
    """

    reference: str
    elements: tuple[str, ...]
    cutoff_A: float
    train: tuple[StructureGraph, ...]
    validation: tuple[StructureGraph, ...]
    test: tuple[StructureGraph, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "elements", tuple(self.elements))
        for name in ("train", "validation", "test"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for name in ("train", "validation"):
            if not getattr(self, name):
                raise UserInputError(f"the {name} split of {self.reference} is empty; "
                                     f"training needs both a train and a validation split: "
                                     f"{SPLIT_HINT}")

    def with_train(self, indices: Sequence[int]) -> TrainingData:
        """The same data with the training split replaced by ``train[indices]``."""
        return replace(self, train=tuple(self.train[int(i)] for i in indices))

    def counts(self) -> dict[str, int]:
        """Structures per split."""
        return {"train": len(self.train), "validation": len(self.validation),
                "test": len(self.test)}


# ---- building ---------------------------------------------------------------------------
def load_training_data(config: TrainConfig, *, workspace: Workspace | None = None,
                       dataset_dir: str | Path | None = None) -> TrainingData:
    """Graphs of the dataset version that ``config.dataset`` names.

    Parameters
    ----------
    config : TrainConfig
        ``config.dataset`` (``name`` = latest version, or ``name@version``) and the model
        (which decides the cutoff).
    workspace : Workspace, optional
        Open the dataset of that name in this workspace ...
    dataset_dir : path-like, optional
        ... or the dataset stored in this folder (its name must match).

    Returns
    -------
    TrainingData
        With ``reference = "name@version"``.

    Raises
    ------
    UserInputError
        No such dataset or version, an empty train/validation split, or an element that
        occurs only outside the training split.
    """
    from ssestudio.data.store import Dataset, parse_reference

    name, version = parse_reference(config.dataset)
    if (workspace is None) == (dataset_dir is None):
        raise ValueError("give exactly one of workspace and dataset_dir")
    if workspace is not None:
        from ssestudio.jobs.dataset import open_dataset

        dataset = open_dataset(workspace, name)
    else:
        dataset = Dataset.open(dataset_dir)
        if dataset.name != name:
            raise UserInputError(f"the dataset in {dataset_dir} is named {dataset.name!r}, but "
                                 f"the training config asks for {name!r}; fix 'dataset' in "
                                 "the config or the folder")
    v = dataset.version(version)
    splits = {s: dataset.configurations(version=v.version, split=s)
              for s in ("train", "validation", "test")}
    return training_data_from_atoms(config, splits["train"], splits["validation"],
                                    splits["test"], reference=f"{dataset.name}@{v.version}")


def training_data_from_atoms(config: TrainConfig, train: Sequence[Atoms],
                             validation: Sequence[Atoms], test: Sequence[Atoms] = (), *,
                             reference: str | None = None,
                             elements: Sequence[str] | None = None) -> TrainingData:
    """Graphs of labelled structures (``atoms.calc.results`` with energy and forces).

    Parameters
    ----------
    config : TrainConfig
        The model preset and options decide the cutoff.
    train, validation, test : sequence of ase.Atoms
        Labelled structures of each split.
    reference : str, optional
        Recorded as the data's origin (default ``config.dataset``).
    elements : sequence of str, optional
        Model elements (default: those in the data, sorted).

    Raises
    ------
    UserInputError
        Empty train/validation split, unlabelled structures, or elements only in the
        validation/test structures.
    """
    reference = reference or config.dataset
    for name, atoms in (("train", train), ("validation", validation)):
        if not atoms:
            raise UserInputError(f"the {name} split of {reference} is empty; training needs "
                                 f"both a train and a validation split: {SPLIT_HINT}")
    found = elements_of([*train, *validation, *test])
    missing = sorted(set(found) - set(elements_of(train)))
    if missing:
        raise UserInputError(f"{', '.join(missing)} occur(s) in the validation or test split "
                             f"of {reference} but not in the train split, so the model could "
                             f"not learn them: {SPLIT_HINT}")
    elements = list(elements) if elements is not None else found
    cutoff = model_cutoff(config, elements)
    return TrainingData(reference, tuple(elements), cutoff,
                        graphs_from_atoms(train, elements, cutoff),
                        graphs_from_atoms(validation, elements, cutoff),
                        graphs_from_atoms(test, elements, cutoff))


def elements_of(structures: Iterable[Atoms]) -> list[str]:
    """Sorted chemical symbols present in ``structures``."""
    found: set[str] = set()
    for atoms in structures:
        found.update(atoms.get_chemical_symbols())
    return sorted(found)


def model_cutoff(config: TrainConfig, elements: Sequence[str]) -> float:
    """Cutoff (Å) of the model ``config`` describes (built once, untrained)."""
    from ssestudio.models.base import build_model

    return float(build_model(config.model, list(elements), **config.model_options).cutoff_A)


def graphs_from_atoms(structures: Sequence[Atoms], elements: Sequence[str],
                      cutoff_A: float) -> tuple[StructureGraph, ...]:
    """Labelled graph of each structure (neighbour lists within ``cutoff_A``, Å)."""
    return tuple(structure_graph(atoms, elements, cutoff_A, labels=True)
                 for atoms in structures)


# ---- statistics -------------------------------------------------------------------------
def element_counts(graphs: Sequence[StructureGraph], n_elements: int) -> np.ndarray:
    """Atoms of each element per structure, shape (n_structures, n_elements)."""
    return np.stack([np.bincount(g.species, minlength=n_elements) for g in graphs]).astype(float)


def reference_energies(graphs: Sequence[StructureGraph], n_elements: int) -> np.ndarray:
    """Per-element reference energies (eV) by least squares of the total energies.

    Solves ``min_e sum_s (E_s - sum_el n_s,el e_el)^2`` with :func:`numpy.linalg.lstsq`
    (``rcond=None``: singular values below machine precision times the largest dimension
    count as zero).

    Parameters
    ----------
    graphs : sequence of StructureGraph
        Labelled structures (their ``energy``, eV).
    n_elements : int
        Length of the element list.

    Returns
    -------
    ndarray, shape (n_elements,)
        eV per atom of each element.

    Notes
    -----
    When the compositions are collinear (e.g. every structure is Li3PS4, or an element is
    absent) the per-element energies are not determined separately. ``lstsq`` then returns
    the minimum-norm solution: it still reproduces the mean energy of every composition
    spanned by the data (so the learned part only fits the residual), but how that energy
    is shared among the elements is arbitrary, and absent elements get 0.
    """
    counts = element_counts(graphs, n_elements)
    energies = np.array([g.energy for g in graphs], dtype=float)
    solution, *_ = np.linalg.lstsq(counts, energies, rcond=None)
    return solution


def energy_scale(graphs: Sequence[StructureGraph], references: np.ndarray, *,
                 min_force_rms_eV_A: float = 1e-3) -> float:
    """Scale (eV) of the learned per-atom energy.

    The root mean square of the reference force components (eV/Å; as MACE and NequIP,
    the network then learns forces of order one per Å), or -- when the forces are tiny,
    e.g. only relaxed structures -- the standard deviation of the per-atom energy left
    after the reference energies; 1 eV when both vanish.

    Parameters
    ----------
    graphs : sequence of StructureGraph
    references : ndarray, shape (n_elements,)
        Per-element reference energies, eV (:func:`reference_energies`).
    min_force_rms_eV_A : float
        Below this force RMS the energy residual is used.
    """
    forces = np.concatenate([np.asarray(g.forces, dtype=float).ravel() for g in graphs])
    rms = float(np.sqrt(np.mean(forces ** 2))) if forces.size else 0.0
    if rms >= min_force_rms_eV_A:
        return rms
    counts = element_counts(graphs, len(references))
    n_atoms = counts.sum(axis=1)
    residual = (np.array([g.energy for g in graphs]) - counts @ references) / n_atoms
    std = float(np.std(residual))
    return std if std > 1e-6 else 1.0


# ---- batch order --------------------------------------------------------------------------
def batch_indices(n: int, batch_size: int, *, seed: int, epoch: int,
                  shuffle: bool = True) -> list[np.ndarray]:
    """Structure indices of each batch of one epoch.

    The order is a fixed function of ``(seed, epoch)`` (not of an RNG state), so a run
    resumed at any epoch sees the same batches as an uninterrupted one. The last batch
    may be smaller.

    Returns
    -------
    list of ndarray of int
    """
    order = (np.random.default_rng([int(seed), int(epoch)]).permutation(n) if shuffle
             else np.arange(n))
    return [order[k:k + batch_size] for k in range(0, n, batch_size)]


def shard(indices: np.ndarray, rank: int, world_size: int) -> np.ndarray:
    """This process's part of a batch: every ``world_size``-th index from ``rank``."""
    return np.asarray(indices)[rank::world_size]


def bootstrap_indices(n: int, seed: int) -> np.ndarray:
    """A bootstrap sample of ``range(n)``: ``n`` indices drawn with replacement, sorted."""
    if n < 1:
        raise UserInputError("a bootstrap sample needs a non-empty training split")
    return np.sort(np.random.default_rng([int(seed), 0xB0075]).integers(0, n, size=n))
