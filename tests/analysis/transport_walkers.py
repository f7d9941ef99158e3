"""Synthetic trajectories of known diffusion coefficient for the transport tests.

Imported by the test modules of this folder (pytest puts it on ``sys.path``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ssestudio.io import TrajectoryWriter, wrap_positions

TRICLINIC = np.array([[12.0, 0.0, 0.0], [4.0, 11.0, 0.0], [-3.0, 2.5, 10.0]])
ORTHOGONAL = np.diag([12.0, 11.0, 10.0])


def gaussian_walk(rng: np.random.Generator, *, n_frames: int, n_atoms: int, D_A2_ps: float,
                  timestep_fs: float, scale_xyz: Sequence[float] = (1.0, 1.0, 1.0)) -> np.ndarray:
    """Unwrapped positions (T, N, 3), Å, of Gaussian walkers with ``D`` per axis times
    ``scale_xyz`` (so D along x is ``D_A2_ps * scale_xyz[0]``)."""
    sigma = np.sqrt(2 * D_A2_ps * timestep_fs / 1000.0 * np.asarray(scale_xyz, dtype=float))
    steps = rng.normal(size=(n_frames, n_atoms, 3)) * sigma
    steps[0] = rng.random((n_atoms, 3)) * 10.0
    return np.cumsum(steps, axis=0)


def lattice_walk(rng: np.random.Generator, *, n_frames: int, n_atoms: int, hop_A: float,
                 hop_probability: float, jitter_A: float = 0.0) -> np.ndarray:
    """Unwrapped positions (T, N, 3) of atoms hopping by ``hop_A`` along +-x, +-y, +-z with
    probability ``hop_probability`` per frame, plus Gaussian vibration ``jitter_A`` about
    their sites. D = p a^2 / (6 dt)."""
    direction = rng.integers(0, 6, size=(n_frames, n_atoms))
    hops = np.zeros((n_frames, n_atoms, 3))
    t, a = np.meshgrid(np.arange(n_frames), np.arange(n_atoms), indexing="ij")
    hops[t, a, direction // 2] = np.where(direction % 2 == 0, hop_A, -hop_A)
    hops *= (rng.random((n_frames, n_atoms)) < hop_probability)[..., None]
    hops[0] = rng.random((n_atoms, 3)) * 10.0
    return np.cumsum(hops, axis=0) + rng.normal(scale=jitter_A, size=(n_frames, n_atoms, 3))


def write_wrapped(path: Path, positions: np.ndarray, cells: np.ndarray, symbols: Sequence[str], *,
                  timestep_fs: float | None, metadata: dict | None = None) -> Path:
    """Write ``positions`` wrapped into ``cells`` (one (3, 3) or (T, 3, 3)) as a native file."""
    cells = np.broadcast_to(np.asarray(cells, dtype=float), (len(positions), 3, 3))
    wrapped = wrap_positions(positions, cells)
    with TrajectoryWriter(path, list(symbols), timestep_fs=timestep_fs, flush_every=10**6,
                          metadata=metadata, overwrite=True) as writer:
        writer.extend(wrapped, cells)
    return path


def with_framework(rng: np.random.Generator, mobile: np.ndarray, *, n_framework: int,
                   drift_A_per_frame: Sequence[float] = (0.0, 0.0, 0.0),
                   vibration_A: float = 0.05) -> np.ndarray:
    """Mobile atoms followed by a vibrating framework; everything drifts by a constant
    velocity, shape (T, N + n_framework, 3)."""
    T = len(mobile)
    sites = rng.random((1, n_framework, 3)) * 10.0
    framework = sites + rng.normal(scale=vibration_A, size=(T, n_framework, 3))
    drift = np.arange(T)[:, None, None] * np.asarray(drift_A_per_frame, dtype=float)
    return np.concatenate([mobile, framework], axis=1) + drift
