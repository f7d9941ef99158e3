"""Finding polyanion units in one frame by connectivity.

Bonds are element pairs closer than the definition's cutoffs (one vesin neighbour list,
all periodic images); units are formed by the definition's grouping (see
:mod:`~ssestudio.analysis.rotation.anions`) and kept when their composition matches.
Every unit is returned as a row of atom indices, centres first (by index), then ligands
(by the definition's ligand order, then index), so that all units of a kind have the same
layout and can be processed as one array.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ssestudio.analysis.rotation.anions import AnionDefinition
from ssestudio.analysis.structure.pairs import half_pairs
from ssestudio.core.errors import UserInputError


@dataclass(frozen=True, eq=False)
class Units:
    """The units of one anion kind found in one frame.

    Attributes
    ----------
    definition : AnionDefinition
        What was searched for.
    atoms : ndarray of int, shape (U, n_centres + n_ligands)
        Atom indices of each unit: centres first, then ligands.
    n_centres, n_ligands : int
        Centre and ligand atoms per unit.
    bonds : ndarray of int, shape (B, 3)
        ``(unit, a, b)``: bonded atoms as column indices into ``atoms[unit]``, sorted by
        unit; every unit has at least one bond.
    bond_cutoff_A : ndarray, shape (B,)
        Cutoff of each bond's element pair, Å.
    formulas : dict
        Formula -> number of units of every composition found (matching or not).
    """

    definition: AnionDefinition
    atoms: np.ndarray
    n_centres: int
    n_ligands: int
    bonds: np.ndarray
    bond_cutoff_A: np.ndarray
    formulas: dict

    @property
    def n_units(self) -> int:
        """Number of units."""
        return int(self.atoms.shape[0])

    @property
    def centre_atoms(self) -> np.ndarray:
        """First centre atom of each unit, shape (U,)."""
        return self.atoms[:, 0]

    def keys(self) -> set[tuple[int, ...]]:
        """Each unit's sorted atom indices, for comparing units between frames."""
        return {tuple(sorted(row)) for row in self.atoms.tolist()}

    def subset(self, keep: np.ndarray) -> Units:
        """The units where ``keep`` (bool, shape (U,)) is True, renumbered."""
        keep = np.asarray(keep, dtype=bool)
        new_id = np.cumsum(keep) - 1
        b = keep[self.bonds[:, 0]]
        bonds = self.bonds[b].copy()
        bonds[:, 0] = new_id[bonds[:, 0]]
        return Units(definition=self.definition, atoms=self.atoms[keep],
                     n_centres=self.n_centres, n_ligands=self.n_ligands, bonds=bonds,
                     bond_cutoff_A=self.bond_cutoff_A[b], formulas=self.formulas)


def find_units(symbols, positions: np.ndarray, cell: np.ndarray, pbc,
               definition: AnionDefinition, *, require: bool = True) -> Units:
    """Find the units of ``definition`` in one frame.

    Parameters
    ----------
    symbols : sequence of str, length n_atoms
        Chemical symbols.
    positions : ndarray, shape (n_atoms, 3)
        Positions, Å.
    cell : ndarray, shape (3, 3)
        Cell vectors as rows, Å.
    pbc : bool or sequence of bool
        Periodicity.
    definition : AnionDefinition
        The anion.
    require : bool
        Raise when no unit matches (else return an empty :class:`Units`).

    Returns
    -------
    Units

    Raises
    ------
    UserInputError
        An element of the definition is absent, or no unit has the definition's
        composition (the message lists the compositions found).
    """
    sym = np.asarray(symbols)
    for element in (*definition.centres, *definition.ligands):
        if element not in set(sym.tolist()) and require:
            raise UserInputError(f"{definition.name} needs {element}, which is not in this "
                                 f"structure (it holds {', '.join(dict.fromkeys(sym.tolist()))})")
    cutoffs = definition.bond_cutoffs_A()
    i, j, r = _bonds(sym, positions, cell, pbc, cutoffs)
    is_centre = np.isin(sym, definition.centres)
    groups = (_clusters(len(sym), i, j, is_centre) if definition.grouping == "cluster"
              else _per_centre(len(sym), i, j, is_centre))
    atoms, formulas = _matching(sym, groups, definition)
    if atoms.shape[0] == 0 and require:
        found = ", ".join(f"{n} {f}" for f, n in formulas.items()) or "none"
        raise UserInputError(f"no {definition.name} unit found (units found: {found}); check the "
                             "anion name, or the bond cutoff (--bond-cutoff-A) if the bonds are "
                             "longer than the default")
    n_c = int(np.isin(sym[atoms[0]], definition.centres).sum()) if len(atoms) else 0
    if len(atoms) and atoms.shape[1] - n_c < 2:
        raise UserInputError(f"{definition.name} units have {atoms.shape[1] - n_c} ligand(s); an "
                             "orientation needs at least 2 non-parallel bonds")
    bonds, bond_r = _unit_bonds(atoms, i, j, r, is_centre, definition.grouping)
    return Units(definition=definition, atoms=atoms, n_centres=n_c,
                 n_ligands=atoms.shape[1] - n_c if len(atoms) else 0, bonds=bonds,
                 bond_cutoff_A=bond_r, formulas=formulas)


def _bonds(sym, positions, cell, pbc, cutoffs):
    """Bonded pairs ``(i, j, cutoff)`` with ``i != j`` closer than their pair's cutoff."""
    elements = sorted({e for pair in cutoffs for e in pair})
    code = np.full(len(sym), -1)
    for k, e in enumerate(elements):
        code[sym == e] = k
    table = np.zeros((len(elements), len(elements)))
    for (a, b), r in cutoffs.items():
        table[elements.index(a), elements.index(b)] = r
    i, j, d = half_pairs(np.asarray(positions, float), np.asarray(cell, float), pbc,
                         max(cutoffs.values()))
    ok = (code[i] >= 0) & (code[j] >= 0) & (i != j)
    i, j, d = i[ok], j[ok], d[ok]
    r = table[code[i], code[j]]
    keep = d < r
    return i[keep], j[keep], r[keep]


def _clusters(n_atoms, i, j, is_centre) -> list[np.ndarray]:
    """Connected groups of bonded atoms that hold at least one centre."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(n_atoms, n_atoms))
    n, label = connected_components(graph, directed=False)
    has_centre = np.zeros(n, bool)
    has_centre[label[is_centre]] = True
    bonded = np.zeros(n_atoms, bool)
    bonded[i] = bonded[j] = True
    members = np.flatnonzero(has_centre[label] & (bonded | is_centre))
    order = members[np.argsort(label[members], kind="stable")]
    cuts = np.flatnonzero(np.diff(label[order])) + 1
    return np.split(order, cuts) if len(order) else []


def _per_centre(n_atoms, i, j, is_centre) -> list[np.ndarray]:
    """Each centre atom with the ligands bonded to it (ligands may repeat across groups)."""
    ci = np.r_[i[is_centre[i] & ~is_centre[j]], j[is_centre[j] & ~is_centre[i]]]
    li = np.r_[j[is_centre[i] & ~is_centre[j]], i[is_centre[j] & ~is_centre[i]]]
    order = np.lexsort((li, ci))
    ci, li = ci[order], li[order]
    groups = {int(c): [int(c)] for c in np.flatnonzero(is_centre)}
    for c, lig in zip(ci.tolist(), li.tolist()):
        if lig not in groups[c]:
            groups[c].append(lig)
    return [np.array(g) for g in groups.values()]


def _formula(counts: Counter, definition: AnionDefinition) -> str:
    order = [*definition.centres, *definition.ligands]
    return "".join(f"{e}{counts[e] if counts[e] > 1 else ''}" for e in order if counts[e])


def _matching(sym, groups, definition: AnionDefinition) -> tuple[np.ndarray, dict]:
    """Units (rows of atoms in the canonical order) with the wanted composition."""
    counts = [Counter(sym[g].tolist()) for g in groups]
    labels = [_formula(c, definition) for c in counts]
    formulas = dict(Counter(labels).most_common())
    wanted = definition.composition_dict
    if wanted is None:
        wanted = dict(Counter(tuple(sorted(c.items())) for c in counts).most_common(1)[0][0]) \
            if counts else {}
    rank = {e: k for k, e in enumerate([*definition.centres, *definition.ligands])}
    rows = []
    for g, c in zip(groups, counts):
        if dict(c) == wanted:
            rows.append(sorted(g.tolist(), key=lambda a: (rank[sym[a]], a)))
    atoms = np.array(rows, dtype=np.int64).reshape(len(rows), -1 if rows else 0)
    return atoms, formulas


def _unit_bonds(atoms, i, j, r, is_centre, grouping):
    """Bonds inside the units as ``(unit, column a, column b)`` and their cutoffs."""
    if atoms.shape[0] == 0:
        return np.zeros((0, 3), np.int64), np.zeros(0)
    unit_of_centre = np.full(len(is_centre), -1)
    unit_of_centre[atoms[:, 0]] = np.arange(len(atoms))
    if grouping == "cluster":  # every centre atom of a unit belongs to it alone
        cols = np.flatnonzero(is_centre[atoms[0]])
        for c in cols:
            unit_of_centre[atoms[:, c]] = np.arange(len(atoms))
    anchor = np.where(is_centre[i], i, j)
    u = unit_of_centre[anchor]
    ok = u >= 0
    u, a, b, r = u[ok], i[ok], j[ok], r[ok]
    rows = atoms[u]
    in_a, in_b = rows == a[:, None], rows == b[:, None]
    ok = in_a.any(axis=1) & in_b.any(axis=1)
    bonds = np.stack([u[ok], in_a[ok].argmax(axis=1), in_b[ok].argmax(axis=1)], axis=1)
    order = np.argsort(bonds[:, 0], kind="stable")
    return bonds[order].astype(np.int64), r[ok][order]
