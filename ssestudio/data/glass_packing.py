"""Packing engine of :mod:`ssestudio.data.glass`: rigid units and atoms in a periodic box.

Groups (a rigid unit, or a single atom) are placed, then moved as rigid bodies until no
pair of atoms from different groups is closer than its limit. Units are first placed at a
fraction of the target density and compressed in stages, which avoids the jamming of
random sequential insertion at glass densities.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

__all__ = ["Packer", "pack", "relieve", "too_dense"]


class Packer:
    """Atoms in a cubic periodic box, grouped into rigid units, with pair distance limits."""

    def __init__(self, box: float, elements: list[str], table) -> None:
        self.box, self.elements = box, elements
        # packed 0.005 Å beyond the limits; overlaps under 0.004 Å are ignored, so every
        # accepted distance is at least 0.001 Å beyond the requested limit
        self.limits = np.array([[table[tuple(sorted((a, b)))] + 0.005 for b in elements]
                                for a in elements])
        self.positions, self.kinds = np.empty((0, 3)), np.empty(0, int)
        self.groups, self.owner = [], np.empty(0, int)

    def add(self, symbols, positions: np.ndarray) -> None:
        start = len(self.kinds)
        self.groups.append(np.arange(start, start + len(symbols)))
        self.owner = np.append(self.owner, [len(self.groups) - 1] * len(symbols))
        self.kinds = np.append(self.kinds, [self.elements.index(el) for el in symbols])
        self.positions = np.vstack([self.positions, positions])

    def _short(self, rows: np.ndarray, pos: np.ndarray):
        """Limit minus distance (Å) of atoms ``rows`` at ``pos`` to all atoms, and the
        min-image separation vectors. Pairs inside one group count only where a periodic
        image comes closer than the unit's own geometry (a box too small for the unit)."""
        raw = pos[:, None, :] - self.positions[None, :, :]
        delta = raw - self.box * np.round(raw / self.box)
        dist = np.maximum(np.linalg.norm(delta, axis=-1), 1e-9)
        short = self.limits[self.kinds[rows]][:, self.kinds] - dist
        same = self.owner[rows][:, None] == self.owner[None, :]
        short[same & (np.linalg.norm(raw, axis=-1) <= dist + 1e-6)] = 0.0
        short[short < 0.004] = 0.0
        return short, delta / dist[:, :, None]

    def overlap(self, g: int, positions: np.ndarray | None = None) -> float:
        """Sum of squared violations (Å^2) between group ``g`` and all other atoms."""
        idx = self.groups[g]
        short, _ = self._short(idx, self.positions[idx] if positions is None else positions)
        return float((short ** 2).sum())

    def bad_groups(self) -> np.ndarray:
        """Indices of the groups that violate some limit."""
        cost = np.zeros(len(self.groups))
        for start in range(0, len(self.kinds), 256):
            rows = np.arange(start, min(start + 256, len(self.kinds)))
            short, _ = self._short(rows, self.positions[rows])
            np.add.at(cost, self.owner[rows], (short ** 2).sum(axis=1))
        return np.flatnonzero(cost)

    def near(self, groups) -> set[int]:
        """Groups with an atom within 1.5 Å beyond a limit of ``groups``."""
        rows = np.concatenate([self.groups[g] for g in groups])
        delta = self.positions[rows][:, None, :] - self.positions[None, :, :]
        delta -= self.box * np.round(delta / self.box)
        reach = self.limits[self.kinds[rows]][:, self.kinds] + 1.5
        return set(self.owner[(np.linalg.norm(delta, axis=-1) < reach).any(axis=0)].tolist())

    def push(self, g: int) -> np.ndarray:
        """Positions of group ``g`` moved rigidly down the overlap gradient (force, torque)."""
        from scipy.spatial.transform import Rotation

        idx = self.groups[g]
        pos = self.positions[idx]
        short, unit = self._short(idx, pos)
        force = (short[:, :, None] * unit).sum(axis=1)  # (k, 3), away from the contacts
        centre = pos.mean(axis=0)
        arm = pos - centre
        torque = np.cross(arm, force).sum(axis=0) / max((arm ** 2).sum(), 1e-6)
        turn = Rotation.from_rotvec(0.6 * torque).as_matrix()
        return arm @ turn.T + centre + 0.6 * force.sum(axis=0) / np.sqrt(len(idx))


def too_dense(packer: Packer, counts: Mapping[str, int]) -> bool:
    """Hard-sphere bound: spheres of diameter d(el, el) filling more than random close packing."""
    volume = sum(counts[el] * math.pi / 6 * (packer.limits[k, k] - 0.005) ** 3
                 for k, el in enumerate(packer.elements))
    return volume > 0.64 * packer.box ** 3


def relieve(packer: Packer, rng, *, sweeps: int) -> bool:
    """Remove overlaps by rigid moves of groups (translation and rotation).

    Overlapping groups move down the overlap gradient, take small random moves or are
    re-inserted elsewhere, whichever lowers their overlap; their neighbours take hard-sphere
    Monte Carlo moves (accepted when they create no overlap), which opens room around jams.
    Returns True when no minimum distance is violated.
    """
    from scipy.spatial.transform import Rotation

    def moved(idx, step, anywhere=False):
        pos = packer.positions[idx]
        centre = rng.random(3) * packer.box if anywhere else pos.mean(axis=0)
        turn = (Rotation.random(random_state=int(rng.integers(2**31))) if anywhere
                else Rotation.from_rotvec(rng.normal(scale=0.8 * step, size=3))).as_matrix()
        return (pos - pos.mean(axis=0)) @ turn.T + centre + rng.normal(scale=step, size=3)

    for sweep in range(sweeps):
        bad = packer.bad_groups()
        if not len(bad):
            return True
        for g in rng.permutation(sorted(packer.near(bad) | set(bad.tolist()))):
            idx, old = packer.groups[g], packer.overlap(g)
            if old == 0.0:
                trial = moved(idx, 0.15)
                if packer.overlap(g, trial) == 0.0:
                    packer.positions[idx] = trial
                continue
            step = min(0.25, max(0.01, 2 * math.sqrt(old)))
            trials = [packer.push(g), moved(idx, step), moved(idx, step)]
            if sweep % 5 == 4:  # re-insertion elsewhere untangles interlocked units
                trials += [moved(idx, 0.0, anywhere=True) for _ in range(8)]
            for trial in trials:
                new = packer.overlap(g, trial)
                if new < old:
                    packer.positions[idx], old = trial, new
    return not len(packer.bad_groups())


def _best_of(packer: Packer, g: int, candidates) -> np.ndarray:
    """The candidate placement (k, 3) of group ``g`` with the least overlap."""
    best, best_cost = None, math.inf
    for trial in candidates:
        cost = packer.overlap(g, trial)
        if cost < best_cost:
            best, best_cost = trial, cost
            if cost == 0.0:
                break
    return best


def pack(packer: Packer, units, singles, rng, *, sweeps: int, tries: int = 32,
          stages=(0.5, 0.65, 0.75, 0.82, 0.88, 0.92, 0.95, 0.98, 1.0)) -> bool:
    """Place the rigid units at a fraction of the density (jittered grid, best of ``tries``
    orientations) and compress in stages (scaling unit centres), removing overlaps after
    each; then insert the single atoms, ``singles`` = [(element, count), ...] in order
    (best of ``tries`` spots), and remove overlaps again. True when the box ends clean."""
    from scipy.spatial.transform import Rotation

    box = packer.box
    packer.box = box / stages[0] ** (1 / 3) if units else box
    n_side = max(1, math.ceil(len(units) ** (1 / 3)))
    spacing = packer.box / n_side
    grid = (np.indices((n_side,) * 3).reshape(3, -1).T + 0.5) * spacing
    grid = grid[rng.permutation(len(grid))[:len(units)]]
    for unit, centre in zip(sorted(units, key=lambda u: -len(u.symbols)), grid):
        packer.add(unit.symbols, centre + unit.offsets)
        rotations = Rotation.random(tries, random_state=int(rng.integers(2**31))).as_matrix()
        shifts = rng.normal(scale=0.1 * spacing, size=(tries, 3))
        packer.positions[packer.groups[-1]] = _best_of(
            packer, len(packer.groups) - 1,
            (centre + s + unit.offsets @ r.T for r, s in zip(rotations, shifts)))
    for stage in stages if units else ():
        new_box = box / stage ** (1 / 3)
        for idx in packer.groups:
            packer.positions[idx] += packer.positions[idx].mean(axis=0) * (new_box / packer.box - 1)
        packer.box = new_box
        if not relieve(packer, rng, sweeps=sweeps):
            return False
    for el, count in singles:
        for _ in range(count):
            packer.add([el], np.zeros((1, 3)))
            spots = rng.random((tries, 1, 3)) * packer.box
            packer.positions[packer.groups[-1]] = _best_of(packer, len(packer.groups) - 1, spots)
    return relieve(packer, rng, sweeps=sweeps)
