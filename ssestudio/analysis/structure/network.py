"""Bond graph of network formers and anions in one frame (the layer below speciation).

Bonds: former-anion pairs closer than a cutoff (default P-S 2.50 Å), former-former pairs
closer than a homopolar cutoff (default P-P 2.40 Å). From them:

* each anion is *free* (no former), *non-bridging* (one former) or *bridging* (two or
  more formers);
* each former has ``n`` bridging anions (its Q^n: PS4 3- is Q0, each P of corner-sharing
  P2S7 4- is Q1, a chain member Q2) and a number of former-former bonds (P2S6 4-:
  one P-P bond, Q0 otherwise); two formers sharing two or more anions share an edge;
* a *unit* is a connected group of formers (linked by a shared anion or a former-former
  bond) with all the anions bonded to them; it is labelled by its formula and, for more
  than one former, its kind: ``"PS4"``, ``"P2S7"`` (corner-sharing), ``"P2S6 (P-P)"``,
  ``"P2S6 (edge)"``, ``"P3S10 (chain)"``, ``"P4S12 (ring)"``, ``"P6S15 (network)"``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ssestudio.analysis.structure.pairs import half_pairs


@dataclass(frozen=True, eq=False)
class NetworkFrame:
    """Bond graph classification of one frame.

    Attributes
    ----------
    former_indices : ndarray of int, shape (F,)
        Atom indices of the formers.
    anion_indices : ndarray of int, shape (A,)
        Atom indices of the anions.
    former_anions : ndarray of int, shape (F,)
        Anions bonded to each former.
    former_bridging : ndarray of int, shape (F,)
        Bridging anions of each former (its Q^n).
    former_homopolar : ndarray of int, shape (F,)
        Former-former bonds of each former.
    former_unit : ndarray of int, shape (F,)
        Unit id of each former (index into ``unit_labels``).
    anion_formers : ndarray of int, shape (A,)
        Formers bonded to each anion (0 free, 1 non-bridging, >= 2 bridging).
    unit_labels : tuple of str
        Label of each unit.
    n_edge_sharing_pairs : int
        Former pairs that share two or more anions.
    n_homopolar_bonds : int
        Former-former bonds.
    """

    former_indices: np.ndarray
    anion_indices: np.ndarray
    former_anions: np.ndarray
    former_bridging: np.ndarray
    former_homopolar: np.ndarray
    former_unit: np.ndarray
    anion_formers: np.ndarray
    unit_labels: tuple[str, ...]
    n_edge_sharing_pairs: int
    n_homopolar_bonds: int


def classify_network(symbols, positions: np.ndarray, cell: np.ndarray, pbc, *,
                     formers: tuple[str, ...], anion: str,
                     bond_cutoffs_A: dict[str, float],
                     homopolar_cutoffs_A: dict[tuple[str, str], float]) -> NetworkFrame:
    """Classify the formers, anions and units of one frame.

    Parameters
    ----------
    symbols : sequence of str, length n_atoms
        Chemical symbols.
    positions : ndarray, shape (n_atoms, 3)
        Positions, Å.
    cell : ndarray, shape (3, 3)
        Cell, Å.
    pbc : bool or sequence of bool
        Periodicity.
    formers : tuple of str
        Former elements (e.g. ``("P",)`` or ``("P", "Ge")``).
    anion : str
        Anion element.
    bond_cutoffs_A : dict
        Former element -> former-anion bond cutoff, Å.
    homopolar_cutoffs_A : dict
        ``(former, former)`` -> bond cutoff, Å (both orders).

    Returns
    -------
    NetworkFrame
    """
    sym = np.asarray(symbols)
    is_former = np.isin(sym, formers)
    f_idx = np.flatnonzero(is_former)
    a_idx = np.flatnonzero(sym == anion)
    rc = max([*bond_cutoffs_A.values(), *homopolar_cutoffs_A.values(), 0.1])
    i, j, d = half_pairs(positions, cell, pbc, rc)
    fa_f, fa_a = _former_anion_bonds(sym, is_former, anion, i, j, d, bond_cutoffs_A)
    ff_a, ff_b = _homopolar_bonds(sym, is_former, i, j, d, homopolar_cutoffs_A)
    f_pos = np.full(len(sym), -1)
    f_pos[f_idx] = np.arange(len(f_idx))
    a_pos = np.full(len(sym), -1)
    a_pos[a_idx] = np.arange(len(a_idx))
    fa_f, fa_a = f_pos[fa_f], a_pos[fa_a]
    ff_a, ff_b = f_pos[ff_a], f_pos[ff_b]
    F, A = len(f_idx), len(a_idx)
    # distinct formers per anion (a former bonded twice to one anion through images counts once)
    unique_fa = np.unique(np.stack([fa_f, fa_a], axis=1), axis=0) if len(fa_f) else \
        np.zeros((0, 2), int)
    anion_formers = np.bincount(unique_fa[:, 1], minlength=A)
    bridging = anion_formers[unique_fa[:, 1]] >= 2
    former_anions = np.bincount(unique_fa[:, 0], minlength=F)
    former_bridging = np.bincount(unique_fa[bridging, 0], minlength=F)
    former_homopolar = np.bincount(np.r_[ff_a, ff_b], minlength=F)
    shared = _shared_anion_counts(unique_fa, anion_formers)
    unit, labels = _units(F, shared, ff_a, ff_b, unique_fa, anion_formers, sym[f_idx], anion)
    return NetworkFrame(former_indices=f_idx, anion_indices=a_idx, former_anions=former_anions,
                        former_bridging=former_bridging, former_homopolar=former_homopolar,
                        former_unit=unit, anion_formers=anion_formers, unit_labels=labels,
                        n_edge_sharing_pairs=int(sum(1 for n in shared.values() if n >= 2)),
                        n_homopolar_bonds=len(ff_a))


def _former_anion_bonds(sym, is_former, anion, i, j, d, cut):
    """(former atom, anion atom) of every former-anion bond."""
    fi = is_former[i] & (sym[j] == anion)
    fj = is_former[j] & (sym[i] == anion)
    f = np.r_[i[fi], j[fj]]
    a = np.r_[j[fi], i[fj]]
    dist = np.r_[d[fi], d[fj]]
    limit = np.array([cut[s] for s in sym[f]]) if len(f) else np.zeros(0)
    keep = dist < limit
    return f[keep], a[keep]


def _homopolar_bonds(sym, is_former, i, j, d, cut):
    """Former-former bonds (distinct atoms) shorter than their cutoff."""
    both = is_former[i] & is_former[j] & (i != j)
    i, j, d = i[both], j[both], d[both]
    limit = np.array([cut[(a, b)] for a, b in zip(sym[i], sym[j])]) if len(i) else np.zeros(0)
    keep = d < limit
    pairs = np.unique(np.sort(np.stack([i[keep], j[keep]], axis=1), axis=1), axis=0) \
        if keep.any() else np.zeros((0, 2), int)
    return pairs[:, 0], pairs[:, 1]


def _shared_anion_counts(unique_fa: np.ndarray, anion_formers: np.ndarray) -> Counter:
    """(former p, former q) with p < q -> number of anions they share."""
    shared: Counter = Counter()
    multi = unique_fa[anion_formers[unique_fa[:, 1]] >= 2]
    order = np.argsort(multi[:, 1], kind="stable")
    multi = multi[order]
    starts = np.flatnonzero(np.r_[True, np.diff(multi[:, 1]) != 0]) if len(multi) else []
    bounds = list(starts) + [len(multi)]
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        fs = sorted(set(multi[lo:hi, 0].tolist()))
        for x in range(len(fs)):
            for y in range(x + 1, len(fs)):
                shared[(fs[x], fs[y])] += 1
    return shared


def _units(F, shared, ff_a, ff_b, unique_fa, anion_formers, former_symbols, anion):
    """Unit id of each former and the label of each unit."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if F == 0:
        return np.zeros(0, int), ()
    edges = np.array(list(shared.keys()), dtype=int).reshape(-1, 2)
    rows = np.r_[edges[:, 0], ff_a]
    cols = np.r_[edges[:, 1], ff_b]
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(F, F))
    n_units, unit = connected_components(graph, directed=False)
    anions_of = {}
    for f, a in unique_fa:
        anions_of.setdefault(int(unit[f]), set()).add(int(a))
    ff_pairs = {(min(p, q), max(p, q)) for p, q in zip(ff_a.tolist(), ff_b.tolist())}
    branched = {int(unit[f]) for f, a in unique_fa if anion_formers[a] >= 3}
    labels = []
    for u in range(n_units):
        members = np.flatnonzero(unit == u)
        formula = _formula(Counter(former_symbols[members].tolist()), anion,
                           len(anions_of.get(u, ())))
        kind = " (network)" if u in branched else _kind(set(members.tolist()), shared, ff_pairs,
                                                         former_symbols)
        labels.append(formula + kind)
    return unit, tuple(labels)


def _formula(formers: Counter, anion: str, n_anions: int) -> str:
    def part(el, n):
        return f"{el}{n if n > 1 else ''}" if n else ""

    return "".join(part(el, n) for el, n in sorted(formers.items())) + part(anion, n_anions)


def _kind(members: set, shared: Counter, ff_pairs: set, former_symbols) -> str:
    """"" for one former; " (P-P)", " (edge)", "" (corner dimer), " (chain)", ... otherwise."""
    n = len(members)
    if n == 1:
        return ""
    links = {p: c for p, c in shared.items() if p[0] in members}
    ffs = {p for p in ff_pairs if p[0] in members}
    if n == 2:
        if ffs and not links:
            p, q = next(iter(ffs))
            return f" ({former_symbols[p]}-{former_symbols[q]})"
        if links and not ffs:
            return " (edge)" if max(links.values()) >= 2 else ""
        return " (mixed)"
    if any(c >= 2 for c in links.values()) or ffs:
        return " (network)"
    degree = Counter()
    for p, q in links:
        degree[p] += 1
        degree[q] += 1
    if max(degree.values()) <= 2:
        return " (ring)" if len(links) == n else " (chain)"
    return " (network)"
