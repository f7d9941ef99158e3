"""Geometric generators: ``supercell``, ``rattle`` and ``strain``.

Registered in :data:`ssestudio.data.generators_core.GENERATORS`; apply them through
:func:`ssestudio.data.generators.apply_pipeline` (or ``apply_generator``), which copies the
input, records provenance and checks interatomic distances. Lengths in Å.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ssestudio.core.errors import UserInputError
from ssestudio.data.generators_core import (
    annotate,
    as_float,
    as_int,
    draw_until_sane,
    fresh_copy,
    register_generator,
    require_cell,
)

if TYPE_CHECKING:
    from ase import Atoms


def perpendicular_widths(cell: np.ndarray) -> np.ndarray:
    """Distances between opposite faces of a cell, ``h_i = V / |a_j x a_k| = 1 / |b_i|``.

    Parameters
    ----------
    cell : ndarray, shape (3, 3)
        Lattice vectors as rows, Å.

    Returns
    -------
    ndarray, shape (3,)
        Perpendicular widths, Å (``b_i`` are the rows of ``inv(cell).T``, no 2 pi).
    """
    return 1.0 / np.linalg.norm(np.linalg.inv(np.asarray(cell, dtype=float)).T, axis=1)


def _repeat_for(atoms: Atoms, repeat: Any, min_length_A: Any) -> list[int]:
    where = "supercell"
    if (repeat is None) == (min_length_A is None):
        raise UserInputError("supercell needs exactly one of repeat (e.g. [2, 2, 1]) or "
                             "min_length_A (e.g. 10.0)")
    if repeat is not None:
        reps = list(repeat) if isinstance(repeat, (list, tuple)) else [repeat] * 3
        if len(reps) != 3:
            raise UserInputError(f"supercell.repeat must be one integer or three, got {repeat!r}")
        return [as_int(n, where=f"{where}.repeat", minimum=1) for n in reps]
    length = as_float(min_length_A, where=f"{where}.min_length_A", low=0.0, low_open=True)
    require_cell(atoms, where=where)
    widths = perpendicular_widths(atoms.cell[:])
    return [math.ceil(length / w - 1e-9) if periodic else 1
            for w, periodic in zip(widths, atoms.pbc)]


@register_generator("supercell")
def supercell(atoms: Atoms, *, rng: np.random.Generator, repeat: int | list[int] | None = None,
              min_length_A: float | None = None, max_atoms: int = 20000) -> list[Atoms]:
    """Repeat the cell, by given factors or until every perpendicular width is long enough.

    Parameters
    ----------
    atoms : ase.Atoms
        Input structure.
    rng : numpy.random.Generator
        Unused (the result is deterministic).
    repeat : int or list of 3 int, optional
        Repetitions along a, b, c (one integer repeats all three).
    min_length_A : float, optional
        Smallest perpendicular width of the supercell, Å (the distance between opposite
        faces, which bounds the interaction cutoff a periodic model can use: ``2 r_c``
        must not exceed it); periodic directions only.
    max_atoms : int
        Refuse supercells with more atoms than this.

    Returns
    -------
    list of ase.Atoms
        One supercell; its step notes record ``repeat`` and ``widths_A``.
    """
    reps = _repeat_for(atoms, repeat, min_length_A)
    max_atoms = as_int(max_atoms, where="supercell.max_atoms", minimum=1)
    n_atoms = len(atoms) * int(np.prod(reps))
    if n_atoms > max_atoms:
        raise UserInputError(f"supercell {'x'.join(map(str, reps))} of {len(atoms)} atoms has "
                             f"{n_atoms} atoms, more than max_atoms = {max_atoms}; ask for a "
                             "smaller one or raise max_atoms")
    out = atoms.repeat(reps)
    widths = perpendicular_widths(out.cell[:]) if out.cell.rank == 3 else np.zeros(3)
    return [annotate(out, repeat=reps, widths_A=np.round(widths, 6).tolist())]


def _displaced(atoms: Atoms, displacement: np.ndarray) -> Atoms:
    out = fresh_copy(atoms)
    out.set_positions(atoms.positions + displacement)  # respects FixAtoms constraints
    return out


@register_generator("rattle")
def rattle(atoms: Atoms, *, rng: np.random.Generator, stdev_A: float = 0.05,
           n_copies: int = 1, min_distance_A: float = 0.5) -> list[Atoms]:
    """Displace every atom by independent Gaussian noise, one copy per draw.

    Parameters
    ----------
    atoms : ase.Atoms
        Input structure.
    rng : numpy.random.Generator
        Source of the displacements.
    stdev_A : float
        Standard deviation of each Cartesian displacement component, Å (> 0).
    n_copies : int
        Number of independently rattled copies.
    min_distance_A : float
        No two atoms of a copy closer than this, Å; a copy that fails is drawn again.

    Returns
    -------
    list of ase.Atoms
        ``n_copies`` structures with positions ``r + N(0, stdev_A^2)`` (shape (N, 3)).
    """
    stdev = as_float(stdev_A, where="rattle.stdev_A", low=0.0, low_open=True)
    n_copies = as_int(n_copies, where="rattle.n_copies", minimum=1)
    return [draw_until_sane(lambda: _displaced(atoms, rng.normal(0.0, stdev, (len(atoms), 3))),
                            min_distance_A=min_distance_A, where="rattle")
            for _ in range(n_copies)]


def _volume_range(volumetric: Any) -> tuple[float, float]:
    if volumetric is None:
        return 0.0, 0.0
    if not isinstance(volumetric, (list, tuple)) or len(volumetric) != 2:
        raise UserInputError("strain.volumetric must be a pair [low, high] of relative volume "
                             f"changes such as [-0.05, 0.05], got {volumetric!r}")
    low, high = (as_float(v, where="strain.volumetric", low=-1.0, low_open=True)
                 for v in volumetric)
    if low > high:
        raise UserInputError(f"strain.volumetric = {volumetric!r}: give [low, high] with "
                             "low <= high")
    return low, high


def deformation_gradient(volumetric_strain: float, shear: np.ndarray) -> np.ndarray:
    """Deformation ``F = (1 + e_v)^(1/3) (I + S) / det(I + S)^(1/3)``.

    Parameters
    ----------
    volumetric_strain : float
        Relative volume change ``e_v = V'/V - 1`` (> -1); ``det F = 1 + e_v`` exactly.
    shear : ndarray, shape (3,)
        Symmetric off-diagonal strains ``(s_yz, s_xz, s_xy)``, each of magnitude < 0.5 so
        that ``I + S`` stays positive definite.

    Returns
    -------
    ndarray, shape (3, 3)
        ``F``; a lattice vector ``a`` (row) becomes ``a F^T``.
    """
    s_yz, s_xz, s_xy = shear
    stretch = np.eye(3) + np.array([[0.0, s_xy, s_xz], [s_xy, 0.0, s_yz], [s_xz, s_yz, 0.0]])
    stretch /= np.linalg.det(stretch) ** (1.0 / 3.0)
    return (1.0 + volumetric_strain) ** (1.0 / 3.0) * stretch


def _strained(atoms: Atoms, rng: np.random.Generator, low: float, high: float,
              shear: float) -> Atoms:
    e_v = float(rng.uniform(low, high))
    deformation = deformation_gradient(e_v, rng.uniform(-shear, shear, 3))
    out = fresh_copy(atoms)
    out.set_cell(atoms.cell[:] @ deformation.T, scale_atoms=True)
    return annotate(out, volumetric_strain=e_v, deformation=np.round(deformation, 12).tolist())


@register_generator("strain")
def strain(atoms: Atoms, *, rng: np.random.Generator,
           volumetric: tuple[float, float] | None = (-0.05, 0.05), shear: float = 0.0,
           n_copies: int = 1, min_distance_A: float = 0.5) -> list[Atoms]:
    """Deform the cell (atoms follow) by a random volume change and optional random shear.

    Parameters
    ----------
    atoms : ase.Atoms
        Input structure with a 3D cell.
    rng : numpy.random.Generator
        Source of the strains.
    volumetric : list of 2 float, optional
        Range ``[low, high]`` of the relative volume change ``V'/V - 1``, drawn uniformly
        per copy (None: no volume change).
    shear : float
        Maximum magnitude of each symmetric shear strain ``s_yz, s_xz, s_xy``, drawn
        uniformly in ``[-shear, shear]`` (0 <= shear < 0.5); the shear keeps the volume.
    n_copies : int
        Number of independently strained copies.
    min_distance_A : float
        No two atoms of a copy closer than this, Å; a copy that fails is drawn again.

    Returns
    -------
    list of ase.Atoms
        ``n_copies`` structures; step notes record ``volumetric_strain`` and the
        ``deformation`` matrix ``F`` (see :func:`deformation_gradient`).
    """
    require_cell(atoms, where="strain")
    low, high = _volume_range(volumetric)
    shear = as_float(shear, where="strain.shear", low=0.0, high=0.4999)
    n_copies = as_int(n_copies, where="strain.n_copies", minimum=1)
    return [draw_until_sane(lambda: _strained(atoms, rng, low, high, shear),
                            min_distance_A=min_distance_A, where="strain")
            for _ in range(n_copies)]
