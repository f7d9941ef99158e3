"""Synthetic rotor trajectories with known answers, for tests, benchmarks and demos.

:func:`simulate` places rigid tetrahedral units (PS4 by default) on a cubic grid and
moves them by

* isotropic rotational diffusion of coefficient ``D_r`` (small random rotations per
  frame, rotation vector ~ N(0, 2 D_r dt) per component), for which
  ``C_l(t) = exp(-l(l+1) D_r t)`` (Favro 1960, doi:10.1103/PhysRev.119.53), and/or
* discrete jumps of ``jump_angle_deg`` about a randomly chosen C3 axis (a ligand
  direction) at Poisson times: 120° maps a tetrahedron onto itself with its ligands
  permuted.

Around each unit sit cations on a sphere; they hop along the sphere (a chord of
``2 r sin(angle / 2)``) at Poisson times (independent of rotations) and/or a fixed delay
after a rotation of their unit (with ``trigger_probability``). The true event frames are
returned with the positions.

Units: Å, fs, ps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


def quaternion_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a b`` of quaternions ``(w, x, y, z)``, shape (..., 4)."""
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack([aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw],
                    axis=-1)


def axis_angle_quaternion(axis: np.ndarray, angle_rad) -> np.ndarray:
    """Quaternion of a rotation by ``angle_rad`` about ``axis`` (any length), (..., 4)."""
    axis = np.asarray(axis, float)
    axis = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
    half = 0.5 * np.asarray(angle_rad, float)[..., None]
    return np.concatenate([np.cos(half), np.sin(half) * axis], axis=-1)


def rotvec_quaternion(rotvec: np.ndarray) -> np.ndarray:
    """Quaternion of rotation vectors (axis times angle, rad), shape (..., 4)."""
    angle = np.linalg.norm(rotvec, axis=-1, keepdims=True)
    safe = np.where(angle > 0, angle, 1.0)
    return np.concatenate([np.cos(angle / 2), np.sin(angle / 2) * rotvec / safe], axis=-1)


def quaternion_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices of unit quaternions ``(w, x, y, z)``, shape (..., 3, 3)."""
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1)], -2)


def random_quaternions(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniformly random unit quaternions (normalised 4-D Gaussians), shape (n, 4)."""
    q = rng.normal(size=(n, 4))
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def tetrahedron(bond_A: float = 2.05) -> np.ndarray:
    """Vertices of a regular tetrahedron at ``bond_A`` from its centre, shape (4, 3), Å."""
    v = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float)
    return v / np.sqrt(3.0) * bond_A


def rotational_diffusion(n_frames: int, n_units: int, *, D_r_per_ps: float, timestep_fs: float,
                         rng: np.random.Generator) -> np.ndarray:
    """Orientations (from the identity) under isotropic rotational diffusion, (T, U, 4).

    Each frame applies a rotation vector with independent N(0, 2 D_r dt) components
    (space frame), the small-step limit of rotational Brownian motion.
    """
    sigma = np.sqrt(2.0 * D_r_per_ps * timestep_fs / 1000.0)
    steps = rotvec_quaternion(rng.normal(scale=sigma, size=(n_frames, n_units, 3)))
    q = np.empty((n_frames, n_units, 4))
    q[0] = [1.0, 0.0, 0.0, 0.0]
    for t in range(1, n_frames):
        q[t] = quaternion_multiply(steps[t], q[t - 1])
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


@dataclass(frozen=True)
class RotorModel:
    """Parameters of :func:`simulate`.

    Attributes
    ----------
    n_per_side : int
        Units on a cubic grid of ``n_per_side**3`` sites.
    spacing_A : float
        Grid spacing (box length ``n_per_side * spacing_A``), Å.
    disorder_A : float
        Random static displacement of the grid sites (glass-like), Å.
    centre, ligand, cation : str
        Elements.
    bond_A : float
        Centre-ligand bond length, Å.
    cations_per_unit : int
        Cations on a sphere of ``cation_radius_A`` around each unit.
    cation_radius_A : float
        Radius of that sphere, Å.
    n_frames : int
        Frames.
    timestep_fs : float
        Time between frames, fs.
    D_r_per_ps : float
        Rotational diffusion coefficient, rad^2/ps.
    jump_rate_per_ps : float
        Poisson rate of rotation jumps per unit, 1/ps.
    jump_angle_deg : float
        Jump angle about a C3 (ligand) axis, degrees.
    jump_frames : int
        Frames one jump takes.
    min_gap_frames : int
        Dead time after a jump or a hop before the next one of the same unit or cation.
    hop_rate_per_ps : float
        Poisson rate of independent hops per cation, 1/ps.
    trigger_probability : float
        Probability that a rotation makes one of its unit's cations hop.
    trigger_delay_fs : float
        Delay of a triggered hop after the middle of the rotation, fs.
    hop_angle_deg : float
        Angle along the sphere of one hop, degrees.
    hop_frames : int
        Frames one hop takes.
    jitter_A, cation_jitter_A : float
        Gaussian noise on unit atoms and cations per frame, Å.
    seed : int
        Random seed.
    """

    n_per_side: int = 3
    spacing_A: float = 7.0
    disorder_A: float = 0.0
    centre: str = "P"
    ligand: str = "S"
    cation: str = "Li"
    bond_A: float = 2.05
    cations_per_unit: int = 2
    cation_radius_A: float = 3.2
    n_frames: int = 1000
    timestep_fs: float = 10.0
    D_r_per_ps: float = 0.0
    jump_rate_per_ps: float = 0.0
    jump_angle_deg: float = 120.0
    jump_frames: int = 5
    min_gap_frames: int = 60
    hop_rate_per_ps: float = 0.0
    trigger_probability: float = 0.0
    trigger_delay_fs: float = 100.0
    hop_angle_deg: float = 70.0
    hop_frames: int = 5
    jitter_A: float = 0.03
    cation_jitter_A: float = 0.1
    seed: int = 0


@dataclass(frozen=True, eq=False)
class SyntheticRun:
    """A simulated trajectory and its true events.

    Attributes
    ----------
    symbols : tuple of str
        Units (centre then ligands, unit by unit), then cations.
    positions_A : ndarray, shape (T, N, 3)
        Unwrapped positions, Å.
    cell_A : ndarray, shape (3, 3)
        Cubic cell, Å.
    timestep_fs : float
        Time between frames, fs.
    orientations : ndarray, shape (T, U, 4)
        True orientation of each unit.
    rotation_frame, rotation_unit : ndarray of int
        Middle frame and unit of each jump.
    hop_frame, hop_cation : ndarray of int
        Middle frame and cation number of each hop.
    """

    symbols: tuple[str, ...]
    positions_A: np.ndarray
    cell_A: np.ndarray
    timestep_fs: float
    orientations: np.ndarray
    rotation_frame: np.ndarray
    rotation_unit: np.ndarray
    hop_frame: np.ndarray
    hop_cation: np.ndarray

    def write(self, path: str | Path, *, metadata: dict | None = None) -> Path:
        """Write the run, wrapped into the cell, as a native ``.h5`` trajectory."""
        from ssestudio.io import TrajectoryWriter, wrap_positions

        T = len(self.positions_A)
        cells = np.broadcast_to(self.cell_A, (T, 3, 3))
        with TrajectoryWriter(path, list(self.symbols), timestep_fs=self.timestep_fs,
                              flush_every=10**6, metadata=metadata, overwrite=True,
                              expected_frames=T) as writer:
            writer.extend(wrap_positions(self.positions_A, cells), cells)
        return Path(path)


def _poisson_frames(rng, rate_per_frame: float, n_frames: int, gap: int) -> np.ndarray:
    """Event frames of a Poisson process with a dead time of ``gap`` frames."""
    if rate_per_frame <= 0:
        return np.zeros(0, int)
    n = int(n_frames * rate_per_frame * 2 + 10)
    waits = gap + rng.exponential(1.0 / rate_per_frame, size=n)
    t = rng.uniform(0, 1.0 / rate_per_frame) + np.cumsum(waits) - gap
    return t[t < n_frames].astype(int)


def _jump_orientations(model: RotorModel, rng, U: int, shape: np.ndarray):
    """Body-frame jump orientations (T, U, 4) and the middle frame/unit of each jump."""
    T, ramp = model.n_frames, model.jump_frames
    q = np.zeros((T, U, 4))
    q[..., 0] = 1.0
    frames, units = [], []
    rate = model.jump_rate_per_ps * model.timestep_fs / 1000.0
    angle = np.radians(model.jump_angle_deg)
    for u in range(U):
        current = np.array([1.0, 0.0, 0.0, 0.0])
        for s in _poisson_frames(rng, rate, T - ramp - 1, model.min_gap_frames):
            axis = shape[rng.integers(len(shape))]
            f = np.arange(1, ramp + 1) / ramp
            q[s:s + ramp, u] = quaternion_multiply(current, axis_angle_quaternion(
                np.broadcast_to(axis, (ramp, 3)), angle * f))
            current = q[s + ramp - 1, u].copy()
            q[s + ramp:, u] = current
            frames.append(s + ramp // 2)
            units.append(u)
    return q, np.array(frames, int), np.array(units, int)


def _hop_schedule(model: RotorModel, rng, n_cat: int, rot_frame, rot_unit) -> list[list[int]]:
    """Start frames of the hops of each cation (triggered and independent, no overlaps)."""
    T, per = model.n_frames, model.cations_per_unit
    starts: list[list[int]] = [[] for _ in range(n_cat)]
    delay = round(model.trigger_delay_fs / model.timestep_fs)
    for f, u in zip(rot_frame.tolist(), rot_unit.tolist()):
        if rng.random() < model.trigger_probability:
            starts[u * per + int(rng.integers(per))].append(f + delay - model.hop_frames // 2)
    rate = model.hop_rate_per_ps * model.timestep_fs / 1000.0
    out = []
    for c in range(n_cat):
        times = sorted(starts[c] + _poisson_frames(rng, rate, T, model.min_gap_frames).tolist())
        kept, last = [], -10**9
        for s in times:
            if 0 <= s < T - model.hop_frames - 1 and s >= last + model.min_gap_frames:
                kept.append(s)
                last = s
        out.append(kept)
    return out


def _cation_paths(model: RotorModel, rng, sites: np.ndarray, schedule) -> np.ndarray:
    """Positions (T, Nc, 3) of cations moving on spheres around their units."""
    T, per, ramp = model.n_frames, model.cations_per_unit, model.hop_frames
    n_cat = len(schedule)
    d = rng.normal(size=(n_cat, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    dirs = np.broadcast_to(d, (T, n_cat, 3)).copy()
    angle = np.radians(model.hop_angle_deg)
    for c, hops in enumerate(schedule):
        for s in hops:
            old = dirs[s, c]
            perp = np.cross(old, rng.normal(size=3))
            perp /= np.linalg.norm(perp)
            f = (np.arange(1, ramp + 1) / ramp)[:, None] * angle
            dirs[s:s + ramp, c] = np.cos(f) * old + np.sin(f) * perp
            dirs[s + ramp:, c] = dirs[s + ramp - 1, c]
    centres = np.repeat(sites, per, axis=0)
    return centres + model.cation_radius_A * dirs


def simulate(model: RotorModel | None = None) -> SyntheticRun:
    """Simulate a rotor trajectory (see the module docstring).

    Parameters
    ----------
    model : RotorModel, optional
        Parameters (defaults: 27 static PS4 units, 54 static Li, 1,000 frames of 10 fs).

    Returns
    -------
    SyntheticRun
    """
    m = model or RotorModel()
    rng = np.random.default_rng(m.seed)
    n, T = m.n_per_side, m.n_frames
    grid = np.stack(np.meshgrid(*[np.arange(n)] * 3, indexing="ij"), -1).reshape(-1, 3)
    sites = (grid + 0.5) * m.spacing_A + rng.normal(scale=m.disorder_A, size=grid.shape)
    U = len(sites)
    shape = tetrahedron(m.bond_A)
    q0 = random_quaternions(U, rng)
    q_jump, rot_frame, rot_unit = _jump_orientations(m, rng, U, shape)
    q = quaternion_multiply(q0[None], q_jump)
    if m.D_r_per_ps > 0:
        q = quaternion_multiply(rotational_diffusion(T, U, D_r_per_ps=m.D_r_per_ps,
                                                     timestep_fs=m.timestep_fs, rng=rng), q)
    ligands = sites[None, :, None] + np.einsum("tuab,lb->tula", quaternion_matrix(q), shape)
    units = np.concatenate([np.broadcast_to(sites[None, :, None], (T, U, 1, 3)), ligands], axis=2)
    units = units + rng.normal(scale=m.jitter_A, size=units.shape)
    schedule = _hop_schedule(m, rng, U * m.cations_per_unit, rot_frame, rot_unit)
    cations = _cation_paths(m, rng, sites, schedule)
    cations = cations + rng.normal(scale=m.cation_jitter_A, size=cations.shape)
    hop_frame = np.array([s + m.hop_frames // 2 for hops in schedule for s in hops], int)
    hop_cation = np.array([c for c, hops in enumerate(schedule) for _ in hops], int)
    symbols = ([m.centre] + [m.ligand] * len(shape)) * U + [m.cation] * cations.shape[1]
    positions = np.concatenate([units.reshape(T, -1, 3), cations], axis=1)
    return SyntheticRun(symbols=tuple(symbols), positions_A=positions,
                        cell_A=np.eye(3) * n * m.spacing_A, timestep_fs=float(m.timestep_fs),
                        orientations=q, rotation_frame=rot_frame, rotation_unit=rot_unit,
                        hop_frame=hop_frame, hop_cation=hop_cation)
