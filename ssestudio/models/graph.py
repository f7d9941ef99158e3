"""Atom graphs: neighbour lists of periodic structures as torch tensors, batched.

A :class:`GraphBatch` holds one or more structures, concatenated: the atoms of structure
``s`` are those with ``batch == s``. Edges are a *full* neighbour list (each pair in both
directions) within the model's cutoff, from vesin (see NOTES.md: 20-60x faster than
ASE's). The vector from centre ``i`` to neighbour ``j`` is::

    r_ij = positions[j] - positions[i] + shifts[e] @ cell[batch[i]]

so that derivatives with respect to positions and to a strain of the cell are exact.

Labels follow ASE's conventions: energy (eV) per structure, forces (eV/Å) per atom, stress
(eV/Å³, ASE sign: ``sigma = (1/V) dE/d(strain)``, positive when the cell pulls inwards)
as a 3x3 tensor per structure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

import numpy as np
import torch
from ase import Atoms
from ase.stress import voigt_6_to_full_3x3_stress

from ssestudio.core.errors import UserInputError


@dataclass(frozen=True)
class GraphBatch:
    """Structures as tensors for a model (all fields on one device and float dtype).

    Attributes
    ----------
    species : LongTensor, shape (n_atoms,)
        Index of each atom's element in the model's element list.
    positions : Tensor, shape (n_atoms, 3)
        Cartesian positions, Å.
    cell : Tensor, shape (n_structures, 3, 3)
        Cell vectors as rows, Å (zeros for a non-periodic structure).
    batch : LongTensor, shape (n_atoms,)
        Structure index of each atom.
    edge_index : LongTensor, shape (2, n_edges)
        ``(i, j)``: centre and neighbour (full list, both directions).
    shifts : Tensor, shape (n_edges, 3)
        Integer cell shifts of the neighbour image (as floats).
    n_atoms : LongTensor, shape (n_structures,)
        Atoms per structure.
    energy : Tensor, shape (n_structures,), optional
        Reference energy, eV.
    forces : Tensor, shape (n_atoms, 3), optional
        Reference forces, eV/Å.
    stress : Tensor, shape (n_structures, 3, 3), optional
        Reference stress, eV/Å³ (zeros where ``has_stress`` is False).
    has_stress : BoolTensor, shape (n_structures,), optional
        Whether a structure has a reference stress.
    weight : Tensor, shape (n_structures,), optional
        Per-structure loss weight (1 by default).
    """

    species: torch.Tensor
    positions: torch.Tensor
    cell: torch.Tensor
    batch: torch.Tensor
    edge_index: torch.Tensor
    shifts: torch.Tensor
    n_atoms: torch.Tensor
    energy: torch.Tensor | None = None
    forces: torch.Tensor | None = None
    stress: torch.Tensor | None = None
    has_stress: torch.Tensor | None = None
    weight: torch.Tensor | None = None

    @property
    def n_structures(self) -> int:
        """Number of structures in the batch."""
        return int(self.n_atoms.shape[0])

    @property
    def volume(self) -> torch.Tensor:
        """Cell volumes, Å³, shape (n_structures,) (0 for non-periodic structures)."""
        return torch.abs(torch.linalg.det(self.cell))

    def to(self, device: torch.device | str | None = None,
           dtype: torch.dtype | None = None) -> GraphBatch:
        """The batch on ``device`` with float tensors cast to ``dtype``."""
        changes = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, torch.Tensor):
                cast = dtype if (dtype is not None and value.is_floating_point()) else None
                changes[f.name] = value.to(device=device, dtype=cast)
        return replace(self, **changes)

    def has_labels(self) -> bool:
        """Energy and forces are present."""
        return self.energy is not None and self.forces is not None


def species_index(symbols: Sequence[str], elements: Sequence[str]) -> np.ndarray:
    """Indices of ``symbols`` in ``elements``.

    Raises
    ------
    UserInputError
        If a symbol is not among the model's elements (the message names both lists).
    """
    lookup = {el: k for k, el in enumerate(elements)}
    missing = sorted(set(symbols) - set(lookup))
    if missing:
        raise UserInputError(
            f"the structure contains {', '.join(missing)}, which the model was not trained "
            f"on (model elements: {', '.join(elements)}); use a model trained on these "
            "elements or retrain including them")
    return np.fromiter((lookup[s] for s in symbols), dtype=np.int64, count=len(symbols))


def neighbor_edges(atoms: Atoms, cutoff_A: float) -> tuple[np.ndarray, np.ndarray]:
    """Full neighbour list of ``atoms`` within ``cutoff_A``, sorted by centre atom.

    Returns
    -------
    edge_index : ndarray of int64, shape (2, n_edges)
    shifts : ndarray of float, shape (n_edges, 3)
        Integer image shifts of the neighbour.
    """
    pbc = atoms.pbc.tolist()
    cell = atoms.cell[:]
    if any(pbc) and abs(np.linalg.det(cell)) < 1e-9:
        raise UserInputError("a periodic structure has a zero-volume cell: set the cell "
                             "vectors or make the structure non-periodic (pbc=False)")
    if not all(pbc) and any(pbc):
        return _edges_ase(atoms, cutoff_A)
    import vesin
    box = cell if all(pbc) else np.zeros((3, 3))
    nl = vesin.NeighborList(cutoff=float(cutoff_A), full_list=True)
    i, j, s = nl.compute(atoms.positions, box, bool(all(pbc)), "ijS")
    order = np.argsort(i, kind="stable")    # sorted by centre: models lay neighbours out densely
    edge_index = np.stack([np.asarray(i, dtype=np.int64)[order],
                           np.asarray(j, dtype=np.int64)[order]])
    return edge_index, np.asarray(s, dtype=float).reshape(-1, 3)[order]


def _edges_ase(atoms: Atoms, cutoff_A: float) -> tuple[np.ndarray, np.ndarray]:
    """Mixed periodicity (slabs, wires): ASE's neighbour list (slow but general)."""
    from ase.neighborlist import neighbor_list
    i, j, s = neighbor_list("ijS", atoms, cutoff_A)
    order = np.argsort(i, kind="stable")
    return np.stack([i[order], j[order]]).astype(np.int64), s[order].astype(float)


def _labels(atoms: Atoms) -> tuple[float | None, np.ndarray | None, np.ndarray | None]:
    calc = atoms.calc
    if calc is None:
        return None, None, None
    results = getattr(calc, "results", {})
    energy = results.get("energy", results.get("free_energy"))
    forces = results.get("forces")
    stress = results.get("stress")
    if stress is not None:
        stress = np.asarray(stress, dtype=float)
        stress = voigt_6_to_full_3x3_stress(stress) if stress.shape == (6,) else stress
    return (None if energy is None else float(energy),
            None if forces is None else np.asarray(forces, dtype=float), stress)


@dataclass(frozen=True)
class StructureGraph:
    """One structure's graph in numpy (cheap to keep for a whole dataset; see :func:`collate`)."""

    species: np.ndarray
    positions: np.ndarray
    cell: np.ndarray
    edge_index: np.ndarray
    shifts: np.ndarray
    energy: float | None = None
    forces: np.ndarray | None = None
    stress: np.ndarray | None = None
    weight: float = 1.0

    @property
    def n_atoms(self) -> int:
        return int(self.species.shape[0])


def structure_graph(atoms: Atoms, elements: Sequence[str], cutoff_A: float, *,
                    labels: bool = True, weight: float = 1.0) -> StructureGraph:
    """Neighbour list and (optionally) reference labels of one structure.

    Parameters
    ----------
    atoms : ase.Atoms
        Structure; labels are read from ``atoms.calc.results`` (energy, forces, stress).
    elements : sequence of str
        The model's elements (defines ``species``).
    cutoff_A : float
        Cutoff radius, Å.
    labels : bool
        Read labels; a structure without energy or forces then raises.
    weight : float
        Loss weight of the structure.

    Raises
    ------
    UserInputError
        Unknown element, zero-volume periodic cell, or missing labels when ``labels``.
    """
    species = species_index(atoms.get_chemical_symbols(), elements)
    edge_index, shifts = neighbor_edges(atoms, cutoff_A)
    cell = atoms.cell[:] if atoms.pbc.any() else np.zeros((3, 3))
    energy = forces = stress = None
    if labels:
        energy, forces, stress = _labels(atoms)
        if energy is None or forces is None:
            raise UserInputError(
                f"structure {atoms.get_chemical_formula()} has no reference "
                f"{'energy' if energy is None else 'forces'}: label it first "
                "(ssestudio dataset label) or train only on labelled rows")
    return StructureGraph(species, np.asarray(atoms.positions, dtype=float), np.asarray(cell),
                          edge_index, shifts, energy, forces, stress, float(weight))


def collate(graphs: Sequence[StructureGraph], *, dtype: torch.dtype = torch.float32,
            device: torch.device | str | None = None) -> GraphBatch:
    """Concatenate structure graphs into one :class:`GraphBatch`.

    Labels are included only when every structure has energy and forces; stress is
    included when any structure has one (``has_stress`` marks which).
    """
    if not graphs:
        raise ValueError("collate needs at least one structure graph")
    offsets = np.cumsum([0] + [g.n_atoms for g in graphs[:-1]])
    n_atoms = np.array([g.n_atoms for g in graphs], dtype=np.int64)
    edge_index = np.concatenate([g.edge_index + off for g, off in zip(graphs, offsets)], axis=1)

    def t(array, kind=dtype):
        return torch.as_tensor(np.asarray(array), dtype=kind, device=device)

    labelled = all(g.energy is not None and g.forces is not None for g in graphs)
    has_stress = np.array([g.stress is not None for g in graphs])
    stress = np.stack([g.stress if g.stress is not None else np.zeros((3, 3)) for g in graphs])
    return GraphBatch(
        species=t(np.concatenate([g.species for g in graphs]), torch.long),
        positions=t(np.concatenate([g.positions for g in graphs])),
        cell=t(np.stack([g.cell for g in graphs])),
        batch=t(np.repeat(np.arange(len(graphs)), n_atoms), torch.long),
        edge_index=t(edge_index, torch.long),
        shifts=t(np.concatenate([g.shifts for g in graphs])),
        n_atoms=t(n_atoms, torch.long),
        energy=t([g.energy for g in graphs]) if labelled else None,
        forces=t(np.concatenate([g.forces for g in graphs])) if labelled else None,
        stress=t(stress) if labelled and has_stress.any() else None,
        has_stress=t(has_stress, torch.bool) if labelled and has_stress.any() else None,
        weight=t([g.weight for g in graphs]),
    )


def atoms_to_batch(atoms_list: Sequence[Atoms], elements: Sequence[str], cutoff_A: float, *,
                   labels: bool = False, dtype: torch.dtype = torch.float32,
                   device: torch.device | str | None = None) -> GraphBatch:
    """Shortcut: :func:`structure_graph` for each structure, then :func:`collate`."""
    return collate([structure_graph(a, elements, cutoff_A, labels=labels) for a in atoms_list],
                   dtype=dtype, device=device)
