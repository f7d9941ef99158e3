"""The ``stuffing`` generator: extra atoms (interstitials) in the emptiest sites of a cell.

Empty sites are found by a grid search: every grid point's clearance is its minimum-image
distance to the nearest atom (:func:`empty_sites`); atoms are inserted one at a time where
the clearance is largest (or at random among sites with enough room). The formal-charge
bookkeeping and optional compensation are those of
:mod:`ssestudio.data.generators_defects`. Lengths in Å.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ssestudio.core.errors import UserInputError
from ssestudio.data.generators_core import (
    annotate,
    as_float,
    as_int,
    as_symbol,
    fresh_copy,
    register_generator,
    require_cell,
)
from ssestudio.data.generators_defects import (
    _apply_compensation,
    _charge_of,
    _charges,
    _compensation,
    charge_balance,
)
from ssestudio.data.generators_structure import perpendicular_widths

if TYPE_CHECKING:
    from ase import Atoms

#: Sites within this much of the largest clearance count as equally large, Å.
_TIE_A = 0.05


def _image_shifts(cell: np.ndarray, pbc: np.ndarray, reach_A: float) -> np.ndarray:
    """Integer cell shifts, shape (S, 3), reaching ``reach_A`` from any point of the cell."""
    widths = perpendicular_widths(cell)
    n = [math.ceil(reach_A / w) if p else 0 for w, p in zip(widths, pbc)]
    grids = np.meshgrid(*[np.arange(-k, k + 1) for k in n], indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)


def nearest_distances(points: np.ndarray, positions: np.ndarray, cell: np.ndarray,
                      pbc: np.ndarray) -> np.ndarray:
    """Minimum-image distance from each point to the nearest of ``positions``.

    Parameters
    ----------
    points : ndarray, shape (M, 3)
        Query points inside the cell, Å.
    positions : ndarray, shape (K, 3)
        Atom positions wrapped into the cell, Å.
    cell : ndarray, shape (3, 3)
        Lattice vectors as rows, Å.
    pbc : ndarray of bool, shape (3,)
        Periodic directions.

    Returns
    -------
    ndarray, shape (M,)
        Distances, Å. Periodic images are searched out to the largest distance found
        with the 27 nearest cells, so the result is exact for any cell shape.
    """
    from scipy.spatial import cKDTree

    def query(shifts: np.ndarray) -> np.ndarray:
        images = (positions[None, :, :] + (shifts @ cell)[:, None, :]).reshape(-1, 3)
        return cKDTree(images).query(points)[0]

    near = _image_shifts(cell, pbc, min(perpendicular_widths(cell)))  # the 27 nearest cells
    first = query(near)
    shifts = _image_shifts(cell, pbc, float(first.max()))
    return query(shifts) if len(shifts) > len(near) else first


def empty_sites(atoms: Atoms, *, grid_spacing_A: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """Grid points of the cell and their clearance (distance to the nearest atom).

    Parameters
    ----------
    atoms : ase.Atoms
        Structure with a 3D cell.
    grid_spacing_A : float
        Largest grid spacing along each lattice vector, Å.

    Returns
    -------
    points : ndarray, shape (M, 3)
        Cartesian grid points, Å.
    clearance : ndarray, shape (M,)
        Distance from each point to the nearest atom (minimum image), Å.
    """
    cell = atoms.cell[:]
    n = [max(1, math.ceil(length / grid_spacing_A)) for length in atoms.cell.lengths()]
    frac = np.stack(np.meshgrid(*[np.arange(k) / k for k in n], indexing="ij"), axis=-1)
    points = frac.reshape(-1, 3) @ cell
    return points, nearest_distances(points, atoms.get_positions(wrap=True), cell, atoms.pbc)


def _largest_site(clearance: np.ndarray, minimum_A: float,
                  rng: np.random.Generator) -> int | None:
    """A random one of the sites within :data:`_TIE_A` of the largest clearance."""
    best = float(clearance.max())
    if best < minimum_A:
        return None
    return int(rng.choice(np.flatnonzero(clearance >= best - _TIE_A)))


def _random_site(clearance: np.ndarray, minimum_A: float,
                 rng: np.random.Generator) -> int | None:
    """A uniformly random site among those with clearance >= ``minimum_A``."""
    ok = np.flatnonzero(clearance >= minimum_A)
    return int(rng.choice(ok)) if len(ok) else None


#: How ``stuffing`` chooses among the empty grid points.
SITE_CHOICES: dict[str, Callable[[np.ndarray, float, np.random.Generator], int | None]] = {
    "largest": _largest_site, "random": _random_site}


def _insertion_sites(atoms: Atoms, *, n: int, spacing: float, minimum_A: float, choice: str,
                     rng: np.random.Generator) -> np.ndarray:
    """``n`` positions (shape (n, 3), Å) chosen one at a time, each updating the clearance."""
    points, clearance = empty_sites(atoms, grid_spacing_A=spacing)
    chosen = []
    for k in range(n):
        site = SITE_CHOICES[choice](clearance, minimum_A, rng)
        if site is None:
            raise UserInputError(
                f"stuffing: no empty site with clearance >= {minimum_A:g} Å left after "
                f"{k} insertion(s) (largest {clearance.max():.2f} Å); lower "
                "min_site_distance_A or n, or use a larger cell")
        chosen.append(points[site])
        clearance = np.minimum(clearance, nearest_distances(points, points[site][None],
                                                            atoms.cell[:], atoms.pbc))
    return np.array(chosen)


@register_generator("stuffing")
def stuffing(atoms: Atoms, *, rng: np.random.Generator, species: str = "Li", n: int = 1,
             n_copies: int = 1, site_choice: str = "largest", grid_spacing_A: float = 0.4,
             min_site_distance_A: float = 1.5, compensate_remove: str | None = None,
             compensate_convert: list[str] | None = None,
             oxidation_states: dict[str, float] | None = None) -> list[Atoms]:
    """Insert ``n`` extra atoms (interstitials) into the emptiest sites of the cell.

    Sites are points of a grid over the cell; a site's clearance is its minimum-image
    distance to the nearest atom. Atoms are inserted one at a time, each insertion
    lowering the clearance of the sites around it. Any compensation is applied first.

    Parameters
    ----------
    atoms : ase.Atoms
        Input structure with a 3D cell.
    rng : numpy.random.Generator
        Source of the choices among equivalent sites.
    species : str
        Element inserted.
    n : int
        Atoms inserted per copy.
    n_copies : int
        Independently drawn copies.
    site_choice : str
        ``"largest"``: a random one of the sites with the largest clearance (within
        0.05 Å); ``"random"``: any site with clearance >= ``min_site_distance_A``.
    grid_spacing_A : float
        Grid spacing of the site search, Å.
    min_site_distance_A : float
        Smallest allowed distance from an inserted atom to any other atom, Å.
    compensate_remove : str, optional
        Also remove random atoms of this species to keep the formal charge.
    compensate_convert : list of 2 str, optional
        Instead convert random atoms ``[from, to]`` (e.g. ``["Cl", "S"]`` for Li stuffing).
    oxidation_states : dict, optional
        Formal charges (e) overriding :data:`FORMAL_CHARGES_E`.

    Returns
    -------
    list of ase.Atoms
        ``n_copies`` structures with the new atoms appended; notes ``inserted_positions_A``,
        ``compensation``, ``charge_balance``.
    """
    require_cell(atoms, where="stuffing")
    species = as_symbol(species, where="stuffing.species")
    n = as_int(n, where="stuffing.n", minimum=1)
    n_copies = as_int(n_copies, where="stuffing.n_copies", minimum=1)
    if site_choice not in SITE_CHOICES:
        raise UserInputError(f"stuffing.site_choice must be one of {', '.join(SITE_CHOICES)}, "
                             f"got {site_choice!r}")
    spacing = as_float(grid_spacing_A, where="stuffing.grid_spacing_A", low=0.05)
    minimum = as_float(min_site_distance_A, where="stuffing.min_site_distance_A", low=0.0)
    charges = _charges(oxidation_states, where="stuffing")
    wants = (compensate_remove, compensate_convert) != (None, None)
    q = _charge_of(species, charges, where="stuffing") if wants else charges.get(species)
    plan = _compensation(n * q, remove=compensate_remove, convert=compensate_convert,
                         charges=charges, where="stuffing") if wants else None
    balance = charge_balance(defect=f"{species} interstitial", per_defect_e=q, n=n,
                             compensation=plan.describe() if plan else None)
    outputs = []
    for _ in range(n_copies):
        out = fresh_copy(atoms)
        removed, comp = _apply_compensation(atoms, out, plan, rng, exclude=np.zeros(0, int),
                                            where="stuffing")
        del out[removed.tolist()]
        sites = _insertion_sites(out, n=n, spacing=spacing, minimum_A=minimum,
                                 choice=site_choice, rng=rng)
        out.extend(type(out)([species] * n, positions=sites))
        outputs.append(annotate(out, inserted_positions_A=np.round(sites, 8).tolist(),
                                compensation=comp, charge_balance=balance))
    return outputs
