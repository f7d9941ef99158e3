"""Statistics of a dataset version: counts, label distributions, distances, and a 2-D map.

* counts by composition (reduced formula), source, level of theory and split;
* energy per atom (eV/atom) and force components per element (eV/Å): summary numbers and
  histograms;
* the minimum interatomic distance per element pair over the whole dataset (Å), which
  flags unphysical configurations before a model is trained on them;
* a 2-D map of all configurations: each structure is described by its composition and its
  partial radial distribution histograms (per element pair, Gaussian-smeared, up to a
  cutoff), the standardised descriptors are projected on their first two principal
  components (PCA by SVD; Pearson 1901, doi:10.1080/14786440109462720), and each point
  carries the properties it can be coloured by.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations_with_replacement

import numpy as np
from ase import Atoms

from ssestudio.core.neighbors import neighbor_pairs

#: Histogram bins used for the label distributions.
N_BINS = 40


@dataclass(frozen=True)
class DatasetMap:
    """Projection of the configurations on the first two principal components.

    Attributes
    ----------
    xy : ndarray, shape (n, 2)
        Coordinates of each configuration.
    explained_variance : (float, float)
        Fraction of the descriptor variance along each axis.
    properties : dict of str -> list
        Per configuration (length n): ``row_id``, ``formula``, ``source``, ``split``,
        ``level``, ``n_atoms``, ``energy_per_atom_eV``, ``max_force_eV_A``,
        ``volume_per_atom_A3``, ``temperature_K`` (None when unknown).
    """

    xy: np.ndarray
    explained_variance: tuple[float, float]
    properties: dict

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return {"x": self.xy[:, 0].tolist(), "y": self.xy[:, 1].tolist(),
                "explained_variance": list(self.explained_variance), **self.properties}


def _histogram(values: np.ndarray) -> dict:
    values = np.asarray(values, dtype=float)
    if not values.size:
        return {"edges": [], "counts": []}
    counts, edges = np.histogram(values, bins=N_BINS)
    return {"edges": edges.tolist(), "counts": counts.tolist()}


def _summary(values: np.ndarray) -> dict:
    values = np.asarray(values, dtype=float)
    if not values.size:
        return {"n": 0}
    return {"n": int(values.size), "mean": float(values.mean()), "std": float(values.std()),
            "min": float(values.min()), "max": float(values.max()),
            "histogram": _histogram(values)}


def _label(atoms: Atoms, key: str):
    results = getattr(atoms.calc, "results", {}) if atoms.calc is not None else {}
    return results.get(key)


def min_distances(configurations: Sequence[Atoms], *, cutoff_A: float = 4.0) -> dict:
    """Smallest distance per element pair over all configurations, Å.

    Parameters
    ----------
    configurations : sequence of Atoms
    cutoff_A : float
        Pairs farther apart than this are not looked at, Å.

    Returns
    -------
    dict
        ``"A-B"`` (alphabetical) -> minimum distance in Å, for the pairs found within
        the cutoff.
    """
    best: dict[str, float] = {}
    for atoms in configurations:
        i, j, d = neighbor_pairs(atoms, cutoff_A)
        symbols = np.asarray(atoms.get_chemical_symbols())
        for a, b, dist in zip(symbols[i], symbols[j], d):
            key = "-".join(sorted((a, b)))
            if dist < best.get(key, np.inf):
                best[key] = float(dist)
    return dict(sorted(best.items()))


def dataset_statistics(configurations: Sequence[Atoms], *, distance_cutoff_A: float = 4.0
                       ) -> dict:
    """Counts, label distributions and minimum distances of labelled configurations.

    Parameters
    ----------
    configurations : sequence of Atoms
        E.g. ``Dataset.configurations(version=...)`` (labels as calculators,
        ``info["provenance"]`` and ``info["split"]``).
    distance_cutoff_A : float
        Cutoff of the minimum-distance search, Å.

    Returns
    -------
    dict
        ``n_configurations``, ``n_atoms``, ``by_formula``, ``by_source``, ``by_level``,
        ``by_split``, ``elements``, ``energy_per_atom_eV`` (summary with histogram),
        ``force_components_eV_A`` (element -> summary with histogram), ``stress_GPa``
        (summary of the components, when present), ``min_distance_A`` (pair -> Å).
    """
    from ase.units import GPa

    prov = [a.info.get("provenance", {}) for a in configurations]
    energies, stresses = [], []
    forces: dict[str, list[np.ndarray]] = {}
    for atoms in configurations:
        e, f, s = _label(atoms, "energy"), _label(atoms, "forces"), _label(atoms, "stress")
        if e is not None:
            energies.append(float(e) / len(atoms))
        if f is not None:
            symbols = np.asarray(atoms.get_chemical_symbols())
            for el in np.unique(symbols):
                forces.setdefault(str(el), []).append(np.asarray(f)[symbols == el].ravel())
        if s is not None:
            stresses.append(np.asarray(s, float).ravel() / GPa)
    return {
        "n_configurations": len(configurations),
        "n_atoms": int(sum(len(a) for a in configurations)),
        "by_formula": dict(Counter(a.get_chemical_formula(empirical=True)
                                   for a in configurations).most_common()),
        "by_source": dict(Counter(str(p.get("source", "")) for p in prov).most_common()),
        "by_level": dict(Counter(str(p.get("level", "")) for p in prov).most_common()),
        "by_split": dict(Counter(str(a.info.get("split", "")) for a in configurations)),
        "elements": sorted({s for a in configurations for s in a.get_chemical_symbols()}),
        "energy_per_atom_eV": _summary(np.array(energies)),
        "force_components_eV_A": {el: _summary(np.concatenate(v)) for el, v in sorted(forces.items())},
        "stress_GPa": _summary(np.concatenate(stresses)) if stresses else {"n": 0},
        "min_distance_A": min_distances(configurations, cutoff_A=distance_cutoff_A),
    }


def structure_descriptors(configurations: Sequence[Atoms], *, cutoff_A: float = 6.0,
                          n_bins: int = 24, smearing_A: float = 0.2) -> np.ndarray:
    """Per-structure descriptors: composition fractions and partial pair-distance histograms.

    For each element pair (A, B) the distances ``r < cutoff_A`` are smeared by Gaussians of
    width ``smearing_A`` on ``n_bins`` points and divided by the number of atoms and by
    ``4 pi r^2`` (a radial distribution shape independent of the cell size).

    Returns
    -------
    ndarray, shape (n_configurations, n_elements + n_pairs * n_bins)
    """
    elements = sorted({s for a in configurations for s in a.get_chemical_symbols()})
    pairs = list(combinations_with_replacement(elements, 2))
    grid = np.linspace(0.5, cutoff_A, n_bins)
    rows = []
    for atoms in configurations:
        symbols = np.asarray(atoms.get_chemical_symbols())
        composition = [np.mean(symbols == el) for el in elements]
        i, j, d = neighbor_pairs(atoms, cutoff_A)
        blocks = []
        for a, b in pairs:
            mask = ((symbols[i] == a) & (symbols[j] == b)) | ((symbols[i] == b) & (symbols[j] == a))
            g = np.exp(-0.5 * ((grid[None, :] - d[mask, None]) / smearing_A) ** 2).sum(axis=0)
            blocks.append(g / (len(atoms) * 4 * np.pi * grid**2))
        rows.append(np.concatenate([composition, *blocks]))
    return np.asarray(rows, dtype=float)


def dataset_map(configurations: Sequence[Atoms], **descriptor_options) -> DatasetMap:
    """The 2-D principal-component map of ``configurations`` (see the module docstring).

    Raises
    ------
    UserInputError
        Fewer than 2 configurations.
    """
    from ssestudio.core.errors import UserInputError

    if len(configurations) < 2:
        raise UserInputError("a map needs at least 2 configurations")
    X = structure_descriptors(configurations, **descriptor_options)
    X = X - X.mean(axis=0)
    scale = X.std(axis=0)
    X = X[:, scale > 1e-12] / scale[scale > 1e-12]
    if X.shape[1] == 0:
        xy, explained = np.zeros((len(configurations), 2)), (0.0, 0.0)
    else:
        _, s, vt = np.linalg.svd(X, full_matrices=False)
        components = vt[:2]
        xy = X @ components.T
        if xy.shape[1] < 2:
            xy = np.column_stack([xy, np.zeros(len(xy))])
        var = s**2 / max(np.sum(s**2), 1e-300)
        explained = (float(var[0]), float(var[1]) if len(var) > 1 else 0.0)
    return DatasetMap(xy=xy, explained_variance=explained,
                      properties=_map_properties(configurations))


def _map_properties(configurations: Sequence[Atoms]) -> dict:
    out: dict[str, list] = {k: [] for k in (
        "row_id", "formula", "source", "split", "level", "n_atoms", "energy_per_atom_eV",
        "max_force_eV_A", "volume_per_atom_A3", "temperature_K")}
    for atoms in configurations:
        p = atoms.info.get("provenance", {})
        e, f = _label(atoms, "energy"), _label(atoms, "forces")
        out["row_id"].append(atoms.info.get("row_id"))
        out["formula"].append(atoms.get_chemical_formula(empirical=True))
        out["source"].append(str(p.get("source", "")))
        out["split"].append(str(atoms.info.get("split", "")))
        out["level"].append(str(p.get("level", "")))
        out["n_atoms"].append(len(atoms))
        out["energy_per_atom_eV"].append(None if e is None else float(e) / len(atoms))
        out["max_force_eV_A"].append(None if f is None else float(np.abs(f).max()))
        out["volume_per_atom_A3"].append(float(atoms.get_volume()) / len(atoms)
                                         if atoms.pbc.all() else None)
        out["temperature_K"].append(p.get("temperature_K"))
    return out
