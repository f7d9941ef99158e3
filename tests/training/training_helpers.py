"""Test helpers: a tiny EAM-like model family and EMT-labelled Cu/Au cells.

Importable by subprocesses (``--import training_helpers`` with this folder on PYTHONPATH).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator

from ssestudio.models.base import ForceFieldModel, register_family


@register_family("test-eam")
class EAMTestModel(ForceFieldModel):
    """Gaussian radial densities per neighbour element, embedded by a one-layer MLP."""

    def __init__(self, elements, cutoff_A: float = 4.0, *, n_basis: int = 6,
                 channels: int = 4, hidden: int = 8) -> None:
        super().__init__(elements, cutoff_A)
        n = len(self.elements)
        self._hp = dict(n_basis=int(n_basis), channels=int(channels), hidden=int(hidden))
        self.register_buffer("centers", torch.linspace(1.5, self.cutoff_A, n_basis))
        self.width = (self.cutoff_A - 1.5) / n_basis
        self.radial = torch.nn.Parameter(torch.randn(n, n_basis, channels) * 0.5)
        self.embed = torch.nn.Parameter(torch.randn(n, hidden) * 0.5)
        self.lin1 = torch.nn.Linear(channels, hidden)
        self.lin2 = torch.nn.Linear(hidden, 1)

    def hyperparameters(self):
        return dict(self._hp)

    def atomic_energies(self, species, edge_index, vectors):
        r = torch.linalg.norm(vectors, dim=1)
        fc = 0.5 * (torch.cos(math.pi * r / self.cutoff_A) + 1.0) * (r < self.cutoff_A)
        basis = torch.exp(-((r[:, None] - self.centers[None, :]) / self.width) ** 2)
        basis = basis * fc[:, None]
        contrib = torch.einsum("ek,ekc->ec", basis, self.radial[species[edge_index[1]]])
        rho = torch.zeros(species.shape[0], contrib.shape[1], dtype=vectors.dtype,
                          device=vectors.device).index_add(0, edge_index[0], contrib)
        h = torch.nn.functional.silu(self.lin1(rho) + self.embed[species])
        return self.lin2(h).squeeze(-1)


def emt_cells(n: int, *, seed: int = 0, rattle: float = 0.1, strain: float = 0.03,
              stress: bool = True):
    """``n`` 16-atom Cu/Au fcc cells (random Au fraction, strain, rattle), EMT-labelled."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        atoms = bulk("Cu", "fcc", a=3.7, cubic=True) * (2, 2, 1)
        symbols = np.array(atoms.get_chemical_symbols())
        n_au = int(rng.integers(0, 9))
        symbols[rng.choice(len(atoms), n_au, replace=False)] = "Au"
        atoms.set_chemical_symbols(symbols.tolist())
        deform = np.eye(3) + rng.normal(scale=strain, size=(3, 3))
        atoms.set_cell(atoms.cell[:] @ (0.5 * (deform + deform.T)), scale_atoms=True)
        atoms.positions += rng.normal(scale=rattle, size=atoms.positions.shape)
        atoms.calc = EMT()
        results = {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces()}
        if stress:
            results["stress"] = atoms.get_stress()
        atoms.calc = SinglePointCalculator(atoms, **results)
        atoms.info["provenance"] = {"source": f"emt:{i}", "level": "emt"}
        out.append(atoms)
    return out
