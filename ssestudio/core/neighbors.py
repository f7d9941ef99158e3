"""Neighbour pairs within a cutoff, periodic or not: vesin when installed (fast), else
matscipy, else ASE (20-60x slower; see NOTES.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ase import Atoms


def neighbor_pairs(atoms: Atoms, cutoff_A: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pair of atoms closer than ``cutoff_A`` once (half list, minimum images).

    Parameters
    ----------
    atoms : ase.Atoms
        Positions (Å), cell and periodicity.
    cutoff_A : float
        Cutoff, Å.

    Returns
    -------
    i, j : ndarray of int, shape (n_pairs,)
        Atom indices.
    d : ndarray of float, shape (n_pairs,)
        Distances, Å.
    """
    try:
        import vesin
    except ImportError:
        return _pairs_fallback(atoms, cutoff_A)
    nl = vesin.NeighborList(cutoff=float(cutoff_A), full_list=False)
    i, j, d = nl.compute(atoms.positions, atoms.cell[:], atoms.pbc.tolist(), "ijd")
    return np.asarray(i, dtype=int), np.asarray(j, dtype=int), np.asarray(d, dtype=float)


def _pairs_fallback(atoms: Atoms, cutoff_A: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        from matscipy.neighbours import neighbour_list
    except ImportError:
        from ase.neighborlist import neighbor_list as neighbour_list
    i, j, d = neighbour_list("ijd", atoms, cutoff_A)
    keep = i < j
    return i[keep], j[keep], d[keep]
