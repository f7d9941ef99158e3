"""Neighbour pairs of one frame with distances and vectors (vesin, else ASE), and the
default bond cutoffs between elements.

Pairs are found with all periodic images (correct for small and triclinic cells): vesin's
cell-list algorithm, or ASE's ``neighbor_list`` when vesin is missing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from ssestudio.core.errors import UserInputError

#: Bond cutoff factor on the sum of covalent radii (P-S 2.50 Å, Si-O 2.09 Å, B-H 1.36 Å).
BOND_FACTOR = 1.18
#: Former-former bond cutoff factor on the sum of covalent radii (P-P 2.40 Å, B-B 1.88 Å).
HOMOPOLAR_FACTOR = 1.12


def half_pairs(positions: np.ndarray, cell: np.ndarray, pbc, cutoff_A: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pair closer than ``cutoff_A`` once, with all periodic images.

    Parameters
    ----------
    positions : ndarray, shape (n_atoms, 3)
        Cartesian positions, Å.
    cell : ndarray, shape (3, 3)
        Cell vectors as rows, Å.
    pbc : bool or sequence of 3 bool
        Periodicity.
    cutoff_A : float
        Cutoff, Å.

    Returns
    -------
    i, j : ndarray of int, shape (n_pairs,)
        Atom indices (a pair of an atom with its own image has ``i == j``).
    d : ndarray, shape (n_pairs,)
        Distances, Å.
    """
    try:
        import vesin
    except ImportError:  # pragma: no cover - vesin is a dependency
        i, j, d, S = _ase_pairs(positions, cell, pbc, cutoff_A, "ijdS")
        first = S[np.arange(len(S)), np.argmax(S != 0, axis=1)]
        keep = (i < j) | ((i == j) & (first > 0))
        return i[keep], j[keep], d[keep]
    nl = vesin.NeighborList(cutoff=float(cutoff_A), full_list=False)
    i, j, d = nl.compute(positions, cell, _pbc(pbc), "ijd")
    return np.asarray(i, np.int64), np.asarray(j, np.int64), np.asarray(d, dtype=float)


def full_vectors(positions: np.ndarray, cell: np.ndarray, pbc, cutoff_A: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every ordered pair closer than ``cutoff_A`` (both ``i -> j`` and ``j -> i``).

    Returns
    -------
    i, j : ndarray of int, shape (n_pairs,)
        Centre and neighbour indices.
    d : ndarray, shape (n_pairs,)
        Distances, Å.
    D : ndarray, shape (n_pairs, 3)
        Vectors from atom ``i`` to the image of atom ``j``, Å.
    """
    try:
        import vesin
    except ImportError:  # pragma: no cover - vesin is a dependency
        return _ase_pairs(positions, cell, pbc, cutoff_A, "ijdD")
    nl = vesin.NeighborList(cutoff=float(cutoff_A), full_list=True)
    i, j, d, D = nl.compute(positions, cell, _pbc(pbc), "ijdD")
    return (np.asarray(i, np.int64), np.asarray(j, np.int64), np.asarray(d, float),
            np.asarray(D, float))


def _pbc(pbc) -> list[bool]:
    flags = [bool(p) for p in np.broadcast_to(np.asarray(pbc, dtype=bool), (3,))]
    if any(flags) and not all(flags):
        raise UserInputError(f"mixed periodicity pbc={flags} is not supported here; make the "
                             "cell periodic in all directions or in none")
    return flags


def _ase_pairs(positions, cell, pbc, cutoff_A, quantities):  # pragma: no cover
    from ase import Atoms
    from ase.neighborlist import neighbor_list

    atoms = Atoms(positions=positions, cell=cell, pbc=_pbc(pbc))
    return neighbor_list(quantities, atoms, float(cutoff_A))


# ---- element pairs and default cutoffs ----------------------------------------------
def check_element(symbol: str) -> str:
    """``symbol`` if it is a chemical symbol, else :class:`UserInputError`."""
    from ase.data import atomic_numbers

    if symbol not in atomic_numbers or symbol == "X":
        raise UserInputError(f"{symbol!r} is not a chemical symbol; write elements like 'Li', "
                             "'P', 'S' (capitalised)")
    return symbol


def parse_pair(pair: str | tuple[str, str]) -> tuple[str, str]:
    """``"P-S"``, ``"P S"`` or ``("P", "S")`` -> ``("P", "S")`` (checked symbols)."""
    items = re.split(r"[-\s,/]+", pair.strip()) if isinstance(pair, str) else list(pair)
    if len(items) != 2:
        raise UserInputError(f"{pair!r} is not an element pair; write it as 'P-S'")
    return check_element(str(items[0])), check_element(str(items[1]))


def covalent_radius_A(symbol: str) -> float:
    """Covalent radius of ``symbol`` (ASE's table, Cordero et al.), Å."""
    from ase.data import atomic_numbers, covalent_radii

    return float(covalent_radii[atomic_numbers[check_element(symbol)]])


def default_bond_cutoff_A(a: str, b: str) -> float:
    """Default bond cutoff ``BOND_FACTOR * (r_cov,a + r_cov,b)``, Å (P-S 2.50 Å).

    Covalent radii: B. Cordero et al., Dalton Trans. 2008, 2832,
    doi:10.1039/b801115j (as tabulated in ``ase.data.covalent_radii``).
    """
    return BOND_FACTOR * (covalent_radius_A(a) + covalent_radius_A(b))


def default_homopolar_cutoff_A(a: str, b: str) -> float:
    """Default former-former bond cutoff ``HOMOPOLAR_FACTOR * (r_cov,a + r_cov,b)``, Å
    (P-P 2.40 Å: the P-P bond of P2S6 4- is about 2.2 Å, the P...P distance of corner-
    sharing P2S7 4- above 3 Å)."""
    return HOMOPOLAR_FACTOR * (covalent_radius_A(a) + covalent_radius_A(b))


def resolve_pair_cutoffs(pairs, cutoffs_A: float | Mapping | None) -> dict[tuple[str, str], float]:
    """Cutoff for each unordered element pair of ``pairs``, Å.

    Parameters
    ----------
    pairs : iterable of (str, str)
        Element pairs that need a cutoff.
    cutoffs_A : float, mapping or None
        One cutoff for all pairs, or ``{"P-S": 2.5, ("Li", "S"): 3.0}`` (either order);
        pairs not given get :func:`default_bond_cutoff_A`.

    Returns
    -------
    dict
        ``(a, b) -> cutoff`` for both orders of every pair.
    """
    given: dict[tuple[str, str], float] = {}
    if isinstance(cutoffs_A, Mapping):
        for key, value in cutoffs_A.items():
            a, b = parse_pair(key)
            given[(a, b)] = given[(b, a)] = _positive(value, f"cutoff for {a}-{b}")
    out = {}
    for a, b in pairs:
        if isinstance(cutoffs_A, (int, float)) and not isinstance(cutoffs_A, bool):
            value = _positive(cutoffs_A, "cutoff_A")
        else:
            value = given.get((a, b), default_bond_cutoff_A(a, b))
        out[(a, b)] = out[(b, a)] = value
    return out


def _positive(value, what: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = float("nan")
    if not (np.isfinite(out) and out > 0):
        raise UserInputError(f"{what} must be a positive distance in Å, got {value!r}")
    return out
