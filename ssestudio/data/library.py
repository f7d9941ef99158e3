"""Library of representative solid-state electrolyte crystal structures.

Each entry (see :mod:`ssestudio.data.library_structures`) holds a published cell, space group
and asymmetric unit with site occupancies. :func:`build_structure` expands it with
:mod:`ase.spacegroup`, tiles it into a supercell and resolves partial occupancies into an
ordered configuration: reproducibly from a seed, with exact integer counts on every site and
no two cations closer than the entry's ``min_cation_distance``.

Occupancies are exact fractions (``"11/16"``), chosen so that occupancy x multiplicity gives
whole atoms per cell (or per a small number of cells, which then sets the smallest
supercell); where they differ from the refined values, those are quoted next to the entry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import product
from typing import Literal

import numpy as np

from ssestudio.core.errors import UserInputError

__all__ = [
    "LIBRARY",
    "LibraryEntry",
    "Site",
    "build_structure",
    "charge_per_cell",
    "density_g_cm3",
    "get_entry",
    "list_structures",
    "valid_supercells",
]

#: Attempts at a random ordering before giving up (each attempt is a full greedy pass).
MAX_ORDERING_ATTEMPTS = 500
_AVOGADRO = 6.02214076e23


def _fraction(value: str | float | Fraction) -> Fraction:
    """Exact fraction from ``"1/2"``, ``1``, ``0.25`` or a Fraction (floats limited to 1/10000)."""
    if isinstance(value, float):
        return Fraction(value).limit_denominator(10000)
    return Fraction(value)


@dataclass(frozen=True)
class Site:
    """One crystallographic site of an asymmetric unit.

    Parameters
    ----------
    label : str
        Site label as in the source (``"Li1"``).
    wyckoff : str
        Multiplicity and Wyckoff letter in the conventional cell (``"48h"``); checked against
        the orbit that :mod:`ase.spacegroup` generates.
    xyz : tuple of float
        Fractional coordinates of the representative position, shape (3,).
    occupancy : mapping of str to fraction
        Species -> occupancy (exact fraction, string such as ``"1/2"`` or number). The
        remainder to 1 is vacant. Stored as a tuple of ``(symbol, Fraction)`` pairs.
    """

    label: str
    wyckoff: str
    xyz: tuple[float, float, float]
    occupancy: tuple[tuple[str, Fraction], ...] | Mapping[str, str | int | Fraction]

    def __post_init__(self) -> None:
        occ = self.occupancy
        pairs = tuple(occ.items()) if isinstance(occ, Mapping) else tuple(occ)
        pairs = tuple((str(sym), _fraction(val)) for sym, val in pairs)
        total = sum((val for _, val in pairs), Fraction(0))
        if not pairs or any(val <= 0 for _, val in pairs) or total > 1:
            raise ValueError(f"site {self.label}: occupancies {pairs} must be > 0 and sum to <= 1")
        object.__setattr__(self, "occupancy", pairs)
        object.__setattr__(self, "xyz", tuple(float(v) for v in self.xyz))

    @property
    def multiplicity(self) -> int:
        """Number of positions of this site in the conventional cell (from ``wyckoff``)."""
        return int(self.wyckoff.rstrip("abcdefghijklmnopqrstuvwxyzA"))

    @property
    def is_ordered(self) -> bool:
        """True when one species fills every position of the site."""
        return len(self.occupancy) == 1 and self.occupancy[0][1] == 1


@dataclass(frozen=True)
class LibraryEntry:
    """A published crystal structure of the library.

    Parameters
    ----------
    name : str
        Registry key (``"li6ps5cl"``).
    formula : str
        Reduced formula (``"Li6PS5Cl"``).
    description : str
        One line on the phase.
    spacegroup : int
        International space group number.
    spacegroup_symbol : str
        Hermann-Mauguin symbol (``"F-43m"``).
    cellpar : tuple of float
        a, b, c (Å), alpha, beta, gamma (degrees), shape (6,).
    sites : tuple of Site
        Asymmetric unit.
    formula_units : int
        Z, formula units per conventional cell.
    oxidation_states : mapping of str to fraction
        Formal charge per element, used for the charge-neutrality check (e).
    reference : str
        Authors, journal, year and DOI of the cell and coordinates.
    source_density_g_cm3 : float
        Density computed from the published cell and Z (g/cm^3).
    coordinates : str
        Where the internal coordinates come from: ``"published"`` (the source's refined
        values), ``"recalled"`` (source values quoted from memory and checked against bond
        lengths and a foundation-model force check) or ``"reconstructed"`` (published cell and
        site model, internal coordinates obtained by a symmetry-constrained relaxation; see
        ``notes``).
    setting : int
        :mod:`ase.spacegroup` setting (origin choice 1 or 2; 1 = ASE's default).
    icsd : int or None
        ICSD collection code of the source structure, when known.
    temperature_K : float or None
        Temperature of the diffraction data (K).
    min_cation_distance : float
        Smallest cation-cation distance accepted when partial sites are ordered (Å).
    notes : str
        Anything a user of the structure should know (idealised occupancies, caveats).
    """

    name: str
    formula: str
    description: str
    spacegroup: int
    spacegroup_symbol: str
    cellpar: tuple[float, float, float, float, float, float]
    sites: tuple[Site, ...]
    formula_units: int
    oxidation_states: Mapping[str, Fraction | int | str] = field(hash=False)
    reference: str
    source_density_g_cm3: float
    coordinates: Literal["published", "recalled", "reconstructed"]
    setting: int = 1
    icsd: int | None = None
    temperature_K: float | None = None
    min_cation_distance: float = 1.8
    notes: str = ""
    _charges: dict[str, Fraction] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.coordinates not in ("published", "recalled", "reconstructed"):
            raise ValueError(f"{self.name}: coordinates must be 'published', 'recalled' or "
                             f"'reconstructed', not {self.coordinates!r}")
        charges = {el: _fraction(q) for el, q in dict(self.oxidation_states).items()}
        object.__setattr__(self, "_charges", charges)
        object.__setattr__(self, "cellpar", tuple(float(v) for v in self.cellpar))

    @property
    def is_disordered(self) -> bool:
        """True when some site is partially or mixed occupied."""
        return not all(s.is_ordered for s in self.sites)

    def charge(self, element: str) -> Fraction:
        """Formal charge of ``element`` (e)."""
        return self._charges[element]


class _Registry(Mapping):
    """Read-only name -> entry mapping, filled from the data module on first use.

    The data module imports this one (for :class:`Site` and :class:`LibraryEntry`), so it is
    loaded lazily rather than at import time.
    """

    def __init__(self) -> None:
        self._entries: dict[str, LibraryEntry] | None = None

    def _load(self) -> dict[str, LibraryEntry]:
        if self._entries is None:
            from ssestudio.data.library_structures import ENTRIES

            self._entries = {entry.name: entry for entry in ENTRIES}
        return self._entries

    def __getitem__(self, name: str) -> LibraryEntry:
        return self._load()[name]

    def __iter__(self):
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


#: Registry of library entries, keyed by name.
LIBRARY: Mapping[str, LibraryEntry] = _Registry()


def list_structures() -> list[LibraryEntry]:
    """All library entries, sorted by name."""
    return [LIBRARY[name] for name in sorted(LIBRARY)]


def get_entry(name: str) -> LibraryEntry:
    """The entry called ``name``.

    Raises
    ------
    UserInputError
        When no entry has that name (the message lists the names).
    """
    entry = LIBRARY.get(name) if isinstance(name, str) else None
    if entry is None:
        raise UserInputError(f"no library structure called {name!r}; choose one of: "
                             f"{', '.join(sorted(LIBRARY))}")
    return entry


def charge_per_cell(entry: LibraryEntry) -> Fraction:
    """Formal charge of one conventional cell from site multiplicities and occupancies (e)."""
    return sum((entry.charge(sym) * occ * site.multiplicity
                for site in entry.sites for sym, occ in site.occupancy), Fraction(0))


def _cells_multiple(entry: LibraryEntry) -> int:
    """Smallest number of cells for which every site holds whole atoms of every species."""
    multiple = 1
    for site in entry.sites:
        for _, occ in site.occupancy:
            multiple = math.lcm(multiple, (occ * site.multiplicity).denominator)
    return multiple


def valid_supercells(name: str, *, max_cells: int = 8) -> list[tuple[int, int, int]]:
    """Diagonal supercells with at most ``max_cells`` cells that ``name`` can be ordered in."""
    multiple = _cells_multiple(get_entry(name))
    return [n for n in product(range(1, max_cells + 1), repeat=3)
            if math.prod(n) <= max_cells and math.prod(n) % multiple == 0]


def _default_supercell(entry: LibraryEntry) -> tuple[int, int, int]:
    """Smallest valid diagonal supercell, the most isotropic one among equals."""
    from ase.geometry import cellpar_to_cell

    multiple = _cells_multiple(entry)
    lengths = np.linalg.norm(cellpar_to_cell(entry.cellpar), axis=1)
    shapes = [n for n in product(range(1, multiple + 1), repeat=3) if math.prod(n) == multiple]
    return max(shapes, key=lambda n: (min(np.array(n) * lengths), [-v for v in n]))


def _check_supercell(entry: LibraryEntry, supercell) -> tuple[int, int, int]:
    try:
        cells = tuple(int(n) for n in supercell)
        ok = len(cells) == 3 and all(n >= 1 and n == m for n, m in zip(cells, supercell))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise UserInputError(f"supercell must be three positive integers such as (2, 2, 1), "
                             f"got {supercell!r}")
    multiple = _cells_multiple(entry)
    if math.prod(cells) % multiple:
        bad = next((s, sym, occ) for s in entry.sites for sym, occ in s.occupancy
                   if (occ * s.multiplicity * math.prod(cells)).denominator != 1)
        site, sym, occ = bad
        shapes = sorted(valid_supercells(entry.name, max_cells=8 * multiple),
                        key=lambda n: (math.prod(n), n[::-1]))
        options = ", ".join(str(n) for n in shapes[:6])
        raise UserInputError(
            f"{entry.name}: supercell {cells} has {math.prod(cells)} cell(s), but site "
            f"{site.label} ({site.wyckoff}) holds {occ} x {site.multiplicity} = "
            f"{float(occ * site.multiplicity):g} {sym} per cell, which is not a whole number "
            f"of atoms; the number of cells n1*n2*n3 must be a multiple of {multiple}, "
            f"e.g. {options}")
    return cells


def _site_orbits(entry: LibraryEntry) -> list[np.ndarray]:
    """Fractional positions of every site's orbit in the conventional cell, each (m, 3)."""
    from ase.spacegroup import Spacegroup

    spacegroup = Spacegroup(entry.spacegroup, entry.setting)
    orbits = []
    for site in entry.sites:
        positions, _ = spacegroup.equivalent_sites([site.xyz], symprec=1e-4)
        if len(positions) != site.multiplicity:
            raise RuntimeError(f"{entry.name}: site {site.label} gives {len(positions)} "
                               f"positions, not {site.wyckoff}; fix the library data")
        orbits.append(np.mod(positions, 1.0))
    return orbits


def _tile(orbit: np.ndarray, cells: tuple[int, int, int]) -> np.ndarray:
    """Fractional positions in the supercell of an orbit repeated over ``cells``, (m*N, 3)."""
    shifts = np.array(list(product(*(range(n) for n in cells))), dtype=float)
    return ((orbit[None, :, :] + shifts[:, None, :]) / np.array(cells)).reshape(-1, 3)


def _too_close(frac: np.ndarray, placed: np.ndarray, cell: np.ndarray, bound: float) -> bool:
    """Whether ``frac`` (3,) lies within ``bound`` Å of any of ``placed`` (k, 3), min image."""
    if not len(placed):
        return False
    delta = placed - frac
    delta -= np.round(delta)
    return bool((np.linalg.norm(delta @ cell, axis=1) < bound).any())


def _order_once(entry, partial, fixed_cations, cell, rng):
    """One greedy random pass; returns {(site, index): symbol} or None when it jams."""
    placed = [fixed_cations]
    remaining = {k: {sym: int(n) for sym, n in quota.items()} for k, (_, quota) in partial.items()}
    free = {k: list(rng.permutation(len(pos))) for k, (pos, _) in partial.items()}
    assigned = {}
    while any(sum(r.values()) for r in remaining.values()):
        keys = [k for k in partial if sum(remaining[k].values()) and free[k]]
        if not keys:
            return None
        weights = np.array([sum(remaining[k].values()) for k in keys], dtype=float)
        k = keys[rng.choice(len(keys), p=weights / weights.sum())]
        index = free[k].pop()
        symbols = [s for s, n in remaining[k].items() if n]
        counts = np.array([remaining[k][s] for s in symbols], dtype=float)
        sym = symbols[rng.choice(len(symbols), p=counts / counts.sum())]
        frac = partial[k][0][index]
        if entry.charge(sym) > 0:
            if _too_close(frac, np.vstack(placed), cell, entry.min_cation_distance):
                continue  # too close to a placed cation: this position stays vacant
            placed.append(frac[None, :])
        remaining[k][sym] -= 1
        assigned[(k, index)] = sym
    return assigned


def build_structure(name: str, *, supercell: tuple[int, int, int] | None = None,
                    seed: int = 0):
    """Build an ordered (super)cell of a library structure.

    Partially occupied and mixed sites are filled with exactly ``occupancy x multiplicity x
    cells`` atoms of each species, chosen at random (from ``seed``) by a greedy pass that
    never puts two cations closer than ``entry.min_cation_distance``; a pass that jams is
    restarted, up to :data:`MAX_ORDERING_ATTEMPTS` times.

    Parameters
    ----------
    name : str
        Library key (see :func:`list_structures`).
    supercell : tuple of int, optional
        Repetitions (n1, n2, n3) of the conventional cell. Default: the smallest supercell
        in which every partial site holds whole atoms (most isotropic among equals).
    seed : int
        Seed of the ordering (ignored by fully ordered structures, recorded anyway).

    Returns
    -------
    ase.Atoms
        Ordered periodic structure, atoms grouped by site. ``info["provenance"]`` holds
        ``source`` (``"library:<name>"``), ``reference``, ``seed`` and ``supercell``.

    Raises
    ------
    UserInputError
        Unknown name, a malformed supercell, or one whose cell count leaves a fractional
        number of atoms on a site (the message names the supercells that work).
    """
    from ase import Atoms
    from ase.geometry import cellpar_to_cell

    entry = get_entry(name)
    cells = _default_supercell(entry) if supercell is None else _check_supercell(entry, supercell)
    n_cells = math.prod(cells)
    cell = cellpar_to_cell(entry.cellpar) * np.array(cells)[:, None]
    orbits = [_tile(orbit, cells) for orbit in _site_orbits(entry)]
    fixed_symbols, fixed_frac, partial = [], [], {}
    for k, (site, positions) in enumerate(zip(entry.sites, orbits)):
        if site.is_ordered:
            fixed_symbols += [site.occupancy[0][0]] * len(positions)
            fixed_frac.append(positions)
        else:
            partial[k] = (positions, {sym: occ * site.multiplicity * n_cells
                                      for sym, occ in site.occupancy})
    fixed_frac = np.vstack(fixed_frac) if fixed_frac else np.empty((0, 3))
    is_cation = np.array([entry.charge(s) > 0 for s in fixed_symbols], dtype=bool)
    rng = np.random.default_rng(seed)
    assigned = {}
    for _ in range(MAX_ORDERING_ATTEMPTS if partial else 1):
        assigned = _order_once(entry, partial, fixed_frac[is_cation], cell, rng)
        if assigned is not None:
            break
    else:
        raise RuntimeError(f"{name}: no ordering without cation pairs closer than "
                           f"{entry.min_cation_distance} Å in {MAX_ORDERING_ATTEMPTS} attempts")
    symbols, frac = list(fixed_symbols), [fixed_frac]
    for (k, index), sym in sorted(assigned.items()):
        symbols.append(sym)
        frac.append(partial[k][0][index][None, :])
    atoms = Atoms(symbols, scaled_positions=np.vstack(frac), cell=cell, pbc=True)
    charge = sum((entry.charge(s) for s in symbols), Fraction(0))
    if charge != 0:
        raise RuntimeError(f"{name}: ordered cell carries charge {charge} e; fix the library data")
    atoms.info["provenance"] = {"source": f"library:{name}", "reference": entry.reference,
                                "seed": int(seed), "supercell": list(cells)}
    return atoms


def density_g_cm3(atoms) -> float:
    """Mass density of a periodic structure (g/cm^3)."""
    return float(atoms.get_masses().sum() / _AVOGADRO / (atoms.get_volume() * 1e-24))
