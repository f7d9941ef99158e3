"""Mean squared displacement over all time origins by FFT, tensor-valued.

For each atom ``a`` with displacement components ``x_ai(t)`` (``t = 0..T-1`` frames) the
time-origin-averaged MSD tensor at lag ``m`` is

    M_ij(m) = 1/(N (T-m)) sum_a sum_{k=0}^{T-1-m} [x_ai(k+m) - x_ai(k)] [x_aj(k+m) - x_aj(k)]
            = 1/(N (T-m)) [S1_ij(m) - (c_ij(m) + c_ji(m))]

with ``S1_ij(m) = sum_a sum_k [x_ai(k) x_aj(k) + x_ai(k+m) x_aj(k+m)]`` (prefix sums) and the
cross-correlations ``c_ij(m) = sum_a sum_k x_ai(k) x_aj(k+m)`` computed by zero-padded FFT
(Wiener-Khinchin), the "fast correlation algorithm" of Kneller, Keiner, Kneller and Schiller,
Comput. Phys. Commun. 91, 191 (1995), doi:10.1016/0010-4655(95)00048-K, and Calandrini et
al., Collection SFN 12, 201 (2011), doi:10.1051/sfn/201112010. Because the spectra
``Re(F_i conj F_j)`` add up over atoms, one inverse FFT per tensor component serves all
atoms; only the per-atom MSDs (for the spread between atoms) need one inverse FFT per
atom. Cost O(N T log T), memory one chunk of atoms.

The MSD along any unit vector ``u`` is ``u^T M u`` (:meth:`MSDResult.along`); the x, y, z
components are the diagonal. The mean squared *charge* displacement
``<|sum_i q_i [r_i(t+m) - r_i(t)]|^2>`` is the same algorithm applied to one collective
coordinate (:func:`compute_charge_msd`).

Units: Å^2 (e^2 Å^2 for the charge MSD), ps.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.fft

from ssestudio.analysis.displacements import Displacements
from ssestudio.core.errors import UserInputError

#: Bytes of one chunk of atoms' zero-padded time series.
CHUNK_BYTES = 32 * 2**20
_AXES = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0)}
_CELL_AXES = {"a": 0, "b": 1, "c": 2}
_PAIRS = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))


@dataclass(frozen=True, eq=False)
class MSDResult:
    """Time-origin-averaged MSD of a group of atoms (or of their collective charge).

    Attributes
    ----------
    time_ps : ndarray, shape (T,)
        Lag times, ps (``time_ps[0] = 0``).
    msd_A2 : ndarray, shape (T,)
        MSD, Å^2 (the trace of ``msd_tensor_A2``); e^2 Å^2 when ``collective``.
    msd_xyz_A2 : ndarray, shape (T, 3)
        x, y and z components, Å^2.
    msd_tensor_A2 : ndarray, shape (T, 3, 3)
        Full MSD tensor <dr_i dr_j>, Å^2.
    msd_sem_A2 : ndarray, shape (T,)
        Standard error of ``msd_A2`` from the spread of the per-atom time-averaged MSDs
        (``std / sqrt(n_atoms)``, assumes independent atoms), Å^2; NaN when collective or
        one atom.
    n_origins : ndarray of int, shape (T,)
        Time origins averaged at each lag (``T - m``).
    n_atoms : int
        Atoms averaged (atoms contributing to the collective coordinate when ``collective``).
    species : tuple of str
        Species of those atoms.
    timestep_fs : float
        Time between frames, fs.
    mean_cell_A : ndarray, shape (3, 3)
        Mean cell (rows are vectors), Å; defines the cell axes ``"a"``, ``"b"``, ``"c"``.
    mean_volume_A3 : float
        Mean cell volume, Å^3.
    alpha2_time_ps : ndarray, shape (L,)
        Lags at which the non-Gaussian parameter was evaluated, ps.
    alpha2 : ndarray, shape (L,)
        Non-Gaussian parameter ``3 <dr^4> / (5 <dr^2>^2) - 1`` (Rahman, Phys. Rev. 136,
        A405 (1964), doi:10.1103/PhysRev.136.A405); 0 for Gaussian displacements.
    collective : bool
        True for the mean squared charge displacement of :func:`compute_charge_msd`.
    charges : dict
        Species -> charge (e) used for the collective coordinate (empty otherwise).
    drift_removed : bool
        Whether the framework's centre-of-mass drift was removed.
    nn_distance_A : float or None
        Median nearest-neighbour distance of the atoms in the first frame, Å.
    warnings : tuple of str
        Notes carried from the displacements.
    """

    time_ps: np.ndarray
    msd_A2: np.ndarray
    msd_xyz_A2: np.ndarray
    msd_tensor_A2: np.ndarray
    msd_sem_A2: np.ndarray
    n_origins: np.ndarray
    n_atoms: int
    species: tuple[str, ...]
    timestep_fs: float
    mean_cell_A: np.ndarray
    mean_volume_A3: float
    alpha2_time_ps: np.ndarray
    alpha2: np.ndarray
    collective: bool = False
    charges: dict = field(default_factory=dict)
    drift_removed: bool = False
    nn_distance_A: float | None = None
    warnings: tuple[str, ...] = ()

    @property
    def n_frames(self) -> int:
        """Number of frames (lags) T."""
        return len(self.time_ps)

    def unit_vector(self, direction: str | Sequence[float]) -> np.ndarray:
        """Unit vector of ``"x"``/``"y"``/``"z"``, a cell axis ``"a"``/``"b"``/``"c"`` (of the
        mean cell) or a Cartesian vector, shape (3,)."""
        if isinstance(direction, str):
            key = direction.lower()
            if key in _AXES:
                v = np.array(_AXES[key])
            elif key in _CELL_AXES:
                v = np.asarray(self.mean_cell_A[_CELL_AXES[key]], dtype=float)
            else:
                raise UserInputError(f"unknown direction {direction!r}; use 'x', 'y', 'z', a cell "
                                     "axis 'a', 'b', 'c', or a Cartesian vector like (0, 0, 1)")
        else:
            v = np.asarray(direction, dtype=float)
        norm = float(np.linalg.norm(v)) if v.shape == (3,) else 0.0
        if not np.isfinite(norm) or norm == 0.0:
            raise UserInputError(f"direction must be a non-zero 3-vector, got {direction!r}")
        return v / norm

    def along(self, direction: str | Sequence[float]) -> np.ndarray:
        """One-dimensional MSD along ``direction`` (see :meth:`unit_vector`), shape (T,), Å^2."""
        u = self.unit_vector(direction)
        return np.einsum("i,tij,j->t", u, self.msd_tensor_A2, u)

    def to_dict(self) -> dict:
        """Plain-Python summary (lists), e.g. for JSON."""
        return {"time_ps": self.time_ps.tolist(), "msd_A2": self.msd_A2.tolist(),
                "msd_xyz_A2": self.msd_xyz_A2.tolist(), "msd_sem_A2": self.msd_sem_A2.tolist(),
                "n_atoms": self.n_atoms, "species": list(self.species),
                "collective": self.collective, "charges": dict(self.charges),
                "alpha2_time_ps": self.alpha2_time_ps.tolist(), "alpha2": self.alpha2.tolist()}


def compute_msd(displacements: Displacements, *, atoms: Sequence[int] | np.ndarray | None = None,
                alpha2_lags: int = 40, max_origins: int = 256,
                chunk_atoms: int | None = None) -> MSDResult:
    """MSD of (a subset of) the atoms of ``displacements`` over all time origins.

    Parameters
    ----------
    displacements : Displacements
        From :func:`~ssestudio.analysis.displacements.read_displacements`.
    atoms : sequence of int or bool mask, optional
        Positions within ``displacements`` (not trajectory indices) to average; all when None.
    alpha2_lags : int
        Number of log-spaced lags at which the non-Gaussian parameter is evaluated.
    max_origins : int
        Time origins (evenly spaced) used per lag for the non-Gaussian parameter.
    chunk_atoms : int, optional
        Atoms per FFT chunk; default such that a chunk takes about 32 MiB.

    Returns
    -------
    MSDResult

    References
    ----------
    Kneller et al., doi:10.1016/0010-4655(95)00048-K (FFT correlation algorithm).
    """
    x = displacements.displacements_A
    symbols = displacements.symbols
    if atoms is not None:
        idx = np.arange(x.shape[1])[np.asarray(atoms)]
        if idx.size == 0:
            raise UserInputError("the atom subset for the MSD is empty")
        x, symbols = x[:, idx], tuple(symbols[i] for i in idx)
    tensor, mean_a, sq_a = msd_tensor_fft(x, chunk_atoms=chunk_atoms)
    n = x.shape[1]
    sem = (np.sqrt(np.maximum(sq_a - mean_a**2, 0.0) / (n - 1)) if n > 1
           else np.full(len(tensor), np.nan))
    lags = alpha2_lag_grid(x.shape[0], alpha2_lags)
    return _result(displacements, tensor, sem=sem, n_atoms=n, species=tuple(dict.fromkeys(symbols)),
                   alpha2_lags=lags, alpha2=non_gaussian_parameter(x, lags, max_origins=max_origins))


def compute_msd_by_species(displacements: Displacements, **options) -> dict[str, MSDResult]:
    """:func:`compute_msd` of each species in ``displacements`` (read once for all of them).

    Parameters
    ----------
    displacements : Displacements
        Displacements of one or several species.
    **options
        Passed to :func:`compute_msd`.

    Returns
    -------
    dict
        Species -> :class:`MSDResult`, in order of first appearance.
    """
    symbols = np.asarray(displacements.symbols)
    return {s: compute_msd(displacements, atoms=symbols == s, **options)
            for s in displacements.species}


def compute_charge_msd(displacements: Displacements, charges: Mapping[str, float]) -> MSDResult:
    """Mean squared charge displacement ``<|sum_i q_i [r_i(t+m) - r_i(t)]|^2>`` over all origins.

    Parameters
    ----------
    displacements : Displacements
        Displacements of the mobile atoms (the framework drift removed, preferably).
    charges : mapping str -> float
        Charge of each selected species, e (e.g. ``{"Li": 1.0}``).

    Returns
    -------
    MSDResult
        ``collective=True``; ``msd_A2`` in e^2 Å^2; ``n_atoms`` the ions summed.

    Raises
    ------
    UserInputError
        A selected species without a charge.
    """
    missing = [s for s in displacements.species if s not in charges]
    if missing:
        raise UserInputError(f"no charge given for {', '.join(missing)}; pass charges like "
                             f"{{'{missing[0]}': 1}}")
    q = np.array([float(charges[s]) for s in displacements.symbols])
    collective = np.einsum("tni,n->ti", displacements.displacements_A, q)[:, None, :]
    tensor, _, _ = msd_tensor_fft(collective)
    return _result(displacements, tensor, sem=np.full(len(tensor), np.nan),
                   n_atoms=displacements.n_atoms, species=displacements.species,
                   alpha2_lags=np.zeros(0, dtype=int), alpha2=np.zeros(0), collective=True,
                   charges={s: float(charges[s]) for s in displacements.species})


def msd_from_array(positions_A: np.ndarray, *, timestep_fs: float, cell_A: np.ndarray | None = None,
                   **options) -> MSDResult:
    """MSD of unwrapped positions already in memory (no copy of the array is made).

    Parameters
    ----------
    positions_A : ndarray, shape (T, N, 3)
        Unwrapped Cartesian positions (or displacements), Å.
    timestep_fs : float
        Time between frames, fs.
    cell_A : ndarray, shape (3, 3), optional
        Cell (rows are vectors), Å, for the cell axes and the volume; identity if omitted.
    **options
        Passed to :func:`compute_msd`.

    Returns
    -------
    MSDResult
    """
    x = np.asarray(positions_A, dtype=float)
    if x.ndim != 3 or x.shape[-1] != 3 or x.shape[0] < 2:
        raise UserInputError(f"positions must have shape (n_frames >= 2, n_atoms, 3), got {x.shape}")
    cell = np.eye(3) if cell_A is None else np.asarray(cell_A, dtype=float)
    disp = Displacements(displacements_A=x, time_ps=np.arange(len(x)) * timestep_fs / 1000.0,
                         timestep_fs=float(timestep_fs), indices=np.arange(x.shape[1]),
                         symbols=("X",) * x.shape[1], mean_cell_A=cell,
                         mean_volume_A3=float(abs(np.linalg.det(cell))), drift_removed=False,
                         nn_distance_A=None)
    return compute_msd(disp, **options)


def _result(disp: Displacements, tensor: np.ndarray, *, sem, n_atoms, species, alpha2_lags,
            alpha2, collective=False, charges=None) -> MSDResult:
    T = len(tensor)
    dt_ps = disp.timestep_fs / 1000.0
    arrays = {"time_ps": np.arange(T) * dt_ps, "msd_A2": np.trace(tensor, axis1=1, axis2=2),
              "msd_xyz_A2": np.diagonal(tensor, axis1=1, axis2=2).copy(), "msd_tensor_A2": tensor,
              "msd_sem_A2": sem, "n_origins": T - np.arange(T),
              "mean_cell_A": disp.mean_cell_A.copy(),
              "alpha2_time_ps": np.asarray(alpha2_lags) * dt_ps, "alpha2": np.asarray(alpha2)}
    for a in arrays.values():
        a.flags.writeable = False
    return MSDResult(**arrays, n_atoms=int(n_atoms), species=tuple(species),
                     timestep_fs=disp.timestep_fs, mean_volume_A3=disp.mean_volume_A3,
                     collective=collective, charges=dict(charges or {}),
                     drift_removed=disp.drift_removed, nn_distance_A=disp.nn_distance_A,
                     warnings=disp.warnings)


def msd_tensor_fft(x: np.ndarray, *, chunk_atoms: int | None = None,
                   workers: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Atom-averaged MSD tensor over all time origins, and moments of the per-atom MSD.

    Parameters
    ----------
    x : ndarray, shape (T, N, 3)
        Unwrapped positions or displacements, Å.
    chunk_atoms : int, optional
        Atoms transformed at once (memory: about ``chunk_atoms * 2 T * 3 * 24`` bytes).
    workers : int, optional
        FFT threads (default: all cores).

    Returns
    -------
    tensor : ndarray, shape (T, 3, 3)
        ``M_ij(m)`` of the module docstring, Å^2.
    mean_atom : ndarray, shape (T,)
        Mean over atoms of the per-atom MSD (equals the trace of ``tensor``), Å^2.
    mean_sq_atom : ndarray, shape (T,)
        Mean over atoms of the squared per-atom MSD, Å^4.

    References
    ----------
    doi:10.1016/0010-4655(95)00048-K; doi:10.1051/sfn/201112010.
    """
    T, N, _ = x.shape
    nfft = scipy.fft.next_fast_len(2 * T - 1, real=True)
    workers = workers or os.cpu_count() or 1
    chunk = min(N, chunk_atoms or max(1, CHUNK_BYTES // (nfft * 3 * 8)))
    spectrum = np.zeros((3, 3, 2 * (nfft // 2 + 1)))  # Re(F_i conj F_j), (re, im) interleaved
    products = np.zeros((3, 3, T + 1))  # sum over atoms of x_i(t) x_j(t), shifted by one
    sum_a, sumsq_a = np.zeros(T), np.zeros(T)
    buf = np.zeros((chunk, 3, nfft))
    for a in range(0, N, chunk):
        k = min(chunk, N - a)
        xb = buf[:k, :, :T]
        xb[...] = x[:, a:a + k].transpose(1, 2, 0)
        xb -= xb.mean(axis=-1, keepdims=True)  # MSD is shift-invariant; better precision
        fv = scipy.fft.rfft(buf[:k], axis=-1, workers=workers).view(np.float64)  # (k, 3, 2 nf)
        for i, j in _PAIRS:
            spectrum[i, j] += np.einsum("af,af->f", fv[:, i], fv[:, j])
            products[i, j, 1:] += np.einsum("at,at->t", xb[:, i], xb[:, j])
        power = np.einsum("aif,aif->af", fv, fv)  # per atom, summed over x, y, z
        sq = np.einsum("ait,ait->at", xb, xb)
        del fv
        power = power[:, 0::2] + power[:, 1::2]  # |F|^2 summed over x, y, z: (k, nfft//2+1)
        per_atom = _msd_from_parts(
            scipy.fft.irfft(power, n=nfft, axis=-1, workers=workers)[:, :T], sq)
        sum_a += per_atom.sum(axis=0)
        sumsq_a += (per_atom**2).sum(axis=0)
    tensor = np.empty((T, 3, 3))
    for i, j in _PAIRS:
        corr = scipy.fft.irfft(spectrum[i, j, 0::2] + spectrum[i, j, 1::2], n=nfft, workers=workers)
        tensor[:, i, j] = tensor[:, j, i] = _msd_from_parts(corr[:T], products[i, j, 1:]) / N
    return tensor, sum_a / N, sumsq_a / N


def _msd_from_parts(acf: np.ndarray, sq: np.ndarray) -> np.ndarray:
    """Origin-averaged MSD from the correlation ``acf[..., m] = sum_k x(k) y(k+m)`` (symmetrised)
    and the products ``sq[..., t] = x(t) y(t)``, both shape (..., T)."""
    T = sq.shape[-1]
    m = np.arange(T)
    cum = np.zeros(sq.shape[:-1] + (T + 1,))
    np.cumsum(sq, axis=-1, out=cum[..., 1:])
    out = (cum[..., T - m] + cum[..., T:] - cum[..., m] - 2.0 * acf) / (T - m)
    out[..., 0] = 0.0
    return out


def alpha2_lag_grid(n_frames: int, n_lags: int) -> np.ndarray:
    """Up to ``n_lags`` distinct log-spaced lags in frames, 1..n_frames-1."""
    if n_frames < 2 or n_lags < 1:
        return np.zeros(0, dtype=int)
    return np.unique(np.geomspace(1, n_frames - 1, n_lags).astype(int))


def non_gaussian_parameter(x: np.ndarray, lags: np.ndarray, *, max_origins: int = 256) -> np.ndarray:
    """Non-Gaussian parameter ``alpha2(t) = 3 <dr^4> / (5 <dr^2>^2) - 1`` at given lags.

    Parameters
    ----------
    x : ndarray, shape (T, N, 3)
        Unwrapped positions or displacements, Å.
    lags : ndarray of int, shape (L,)
        Lags in frames (1 <= lag < T).
    max_origins : int
        At most this many evenly spaced time origins per lag (all when fewer).

    Returns
    -------
    ndarray, shape (L,)
        ``alpha2`` (Rahman, doi:10.1103/PhysRev.136.A405); 0 for Gaussian displacements,
        positive for heterogeneous or hopping dynamics.
    """
    out = np.empty(len(lags))
    for k, lag in enumerate(np.asarray(lags, dtype=int)):
        n = x.shape[0] - lag
        origins = np.unique(np.linspace(0, n - 1, min(n, max_origins)).astype(int))
        r2 = ((x[origins + lag] - x[origins]) ** 2).sum(axis=-1)
        mean2 = r2.mean()
        out[k] = 3.0 * (r2**2).mean() / (5.0 * mean2**2) - 1.0 if mean2 > 0 else np.nan
    return out
