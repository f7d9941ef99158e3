"""Density and lattice parameters per frame, against time and temperature.

For a cell with vectors ``a1, a2, a3`` (rows of ``cell``): volume ``V = |det cell|``;
lattice parameters ``a = |a1|`` ..., ``alpha = angle(a2, a3)`` ...; perpendicular widths
``w_i = V / |a_j x a_k|`` (the distance between opposite faces, which bounds the radius
inside which minimum images are unique: ``r < min(w) / 2``); mass density
``rho = M / V`` with ``1 amu / Å^3 = 1.66053906660 g/cm^3``. Valid for any (triclinic)
cell and for cells that change from frame to frame (NPT).

Kinetic temperature (``temperatures_K="kinetic"``): ``T = 2 E_kin / ((3N - 3) k_B)``
from the stored velocities (centre-of-mass motion removed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ssestudio.analysis.structure.frames import FrameSet, Source, open_frames
from ssestudio.core.errors import UserInputError

#: g/cm^3 per amu/Å^3 (CODATA 2018 atomic mass constant, 1.66053906660e-24 g).
AMU_PER_A3_TO_G_CM3 = 1.66053906660
_PARAMS = ("a_A", "b_A", "c_A", "alpha_deg", "beta_deg", "gamma_deg")


def cell_volume_A3(cell: np.ndarray) -> np.ndarray:
    """Volume of one cell (3, 3) or of many (n, 3, 3), Å^3."""
    return np.abs(np.linalg.det(np.asarray(cell, dtype=float)))


def perpendicular_widths_A(cell: np.ndarray) -> np.ndarray:
    """Distances between opposite faces of one cell (3, 3) -> (3,) or many (n, 3, 3) ->
    (n, 3), Å."""
    c = np.asarray(cell, dtype=float)
    cross = np.stack([np.cross(c[..., 1, :], c[..., 2, :]), np.cross(c[..., 2, :], c[..., 0, :]),
                      np.cross(c[..., 0, :], c[..., 1, :])], axis=-2)
    return cell_volume_A3(c)[..., None] / np.linalg.norm(cross, axis=-1)


def lattice_parameters(cell: np.ndarray) -> np.ndarray:
    """``(a, b, c, alpha, beta, gamma)`` of one cell (3, 3) -> (6,) or many -> (n, 6);
    lengths Å, angles degrees."""
    c = np.asarray(cell, dtype=float)
    lengths = np.linalg.norm(c, axis=-1)

    def angle(u, v, nu, nv):
        cos = np.einsum("...i,...i->...", u, v) / (nu * nv)
        return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))

    alpha = angle(c[..., 1, :], c[..., 2, :], lengths[..., 1], lengths[..., 2])
    beta = angle(c[..., 0, :], c[..., 2, :], lengths[..., 0], lengths[..., 2])
    gamma = angle(c[..., 0, :], c[..., 1, :], lengths[..., 0], lengths[..., 1])
    return np.concatenate([lengths, np.stack([alpha, beta, gamma], axis=-1)], axis=-1)


def density_g_cm3(total_mass_amu: float, volume_A3: np.ndarray | float) -> np.ndarray:
    """Mass density, g/cm^3, of ``total_mass_amu`` in ``volume_A3``."""
    return AMU_PER_A3_TO_G_CM3 * float(total_mass_amu) / np.asarray(volume_A3, dtype=float)


@dataclass(frozen=True, eq=False)
class CellSeries:
    """Cell, volume and density of each selected frame.

    Attributes
    ----------
    frames : ndarray of int, shape (n,)
        Trajectory frame indices.
    time_fs : ndarray, shape (n,)
        Frame times, fs.
    temperature_K : ndarray, shape (n,), or None
        Temperature of each frame, K, when given (or computed from velocities).
    volume_A3 : ndarray, shape (n,)
        Cell volumes, Å^3.
    density_g_cm3 : ndarray, shape (n,)
        Mass densities, g/cm^3.
    lattice : ndarray, shape (n, 6)
        a, b, c (Å), alpha, beta, gamma (degrees).
    total_mass_amu : float
        Mass of the cell's atoms, amu.
    n_atoms : int
        Atoms per cell.
    """

    frames: np.ndarray
    time_fs: np.ndarray
    temperature_K: np.ndarray | None
    volume_A3: np.ndarray
    density_g_cm3: np.ndarray
    lattice: np.ndarray
    total_mass_amu: float
    n_atoms: int

    @property
    def density_mean_g_cm3(self) -> float:
        """Mean density over frames, g/cm^3."""
        return float(np.mean(self.density_g_cm3))

    @property
    def density_std_g_cm3(self) -> float:
        """Standard deviation of the density over frames (0 for one frame), g/cm^3."""
        return float(np.std(self.density_g_cm3))

    @property
    def number_density_A3(self) -> float:
        """Mean atoms per Å^3 (mean of N / V over frames)."""
        return float(np.mean(self.n_atoms / self.volume_A3))

    def lattice_mean(self) -> dict[str, float]:
        """Mean a, b, c (Å), alpha, beta, gamma (degrees) and volume (Å^3)."""
        out = {k: float(v) for k, v in zip(_PARAMS, self.lattice.mean(axis=0))}
        out["volume_A3"] = float(self.volume_A3.mean())
        return out

    def lattice_std(self) -> dict[str, float]:
        """Standard deviations of :meth:`lattice_mean` over frames."""
        out = {k: float(v) for k, v in zip(_PARAMS, self.lattice.std(axis=0))}
        out["volume_A3"] = float(self.volume_A3.std())
        return out

    def versus_temperature(self, bin_width_K: float = 25.0) -> dict[str, np.ndarray]:
        """Density, volume and lattice parameters averaged in temperature bins.

        Parameters
        ----------
        bin_width_K : float
            Width of the temperature bins, K.

        Returns
        -------
        dict
            ``temperature_K`` (bin means, shape (m,)), ``n_frames`` (m,),
            ``density_g_cm3``, ``volume_A3`` (m,) and ``lattice`` (m, 6), for the bins
            that hold frames, in increasing temperature.

        Raises
        ------
        UserInputError
            No temperatures were given, or a bad bin width.
        """
        if self.temperature_K is None:
            raise UserInputError("no temperature per frame: pass temperatures_K= (an array, or "
                                 "'kinetic' for a trajectory with velocities)")
        if not (np.isfinite(bin_width_K) and bin_width_K > 0):
            raise UserInputError(f"bin_width_K must be > 0, got {bin_width_K}")
        T = self.temperature_K
        labels = np.floor((T - T.min()) / bin_width_K).astype(int)
        keys = np.unique(labels)

        def mean(x):
            return np.array([x[labels == k].mean(axis=0) for k in keys])

        return {"temperature_K": mean(T), "n_frames": np.array([(labels == k).sum() for k in keys]),
                "density_g_cm3": mean(self.density_g_cm3), "volume_A3": mean(self.volume_A3),
                "lattice": mean(self.lattice)}

    def to_dict(self, *, curves: bool = True) -> dict:
        """JSON-ready summary; per-frame series (and 25 K temperature bins when
        temperatures are known) when ``curves``."""
        out = {"density_g_cm3": self.density_mean_g_cm3,
               "density_std_g_cm3": self.density_std_g_cm3,
               "lattice": self.lattice_mean(), "lattice_std": self.lattice_std(),
               "number_density_A3": self.number_density_A3, "n_frames": len(self.frames)}
        if curves:
            out["per_frame"] = {
                "frame": self.frames.tolist(), "time_fs": self.time_fs.tolist(),
                "temperature_K": None if self.temperature_K is None else self.temperature_K.tolist(),
                "density_g_cm3": self.density_g_cm3.tolist(), "volume_A3": self.volume_A3.tolist(),
                **{k: self.lattice[:, n].tolist() for n, k in enumerate(_PARAMS)}}
            if self.temperature_K is not None:
                out["versus_temperature"] = {k: v.tolist() for k, v in
                                             self.versus_temperature().items()}
        return out


def compute_cell_series(source: Source, *, start: int | None = None, stop: int | None = None,
                        stride: int | None = None,
                        temperatures_K: Sequence[float] | np.ndarray | str | None = None,
                        ) -> CellSeries:
    """Density and lattice parameters of each selected frame.

    Parameters
    ----------
    source : ase.Atoms, sequence of Atoms, Trajectory, FrameSet or path
        See :func:`~ssestudio.analysis.structure.frames.open_frames`.
    start, stop, stride : int, optional
        Frame selection (slice semantics).
    temperatures_K : array-like or "kinetic", optional
        Temperature of each frame, K: one value per trajectory frame (it is selected with
        the frames) or per selected frame; ``"kinetic"`` computes it from the velocities.

    Returns
    -------
    CellSeries

    Raises
    ------
    UserInputError
        A cell without volume, temperatures of the wrong length, no velocities for
        ``"kinetic"``, an empty selection.
    """
    with open_frames(source, start=start, stop=stop, stride=stride) as frames:
        cells = frames.cells()
        volumes = cell_volume_A3(cells)
        if not np.all(volumes > 1e-6):
            raise UserInputError("a density needs a cell with a volume; frame "
                                 f"{int(frames.indices[np.argmin(volumes)])} has none")
        mass = float(frames.masses.sum())
        temperature = resolve_temperatures(frames, temperatures_K)
        return CellSeries(frames=frames.indices.copy(), time_fs=frames.times_fs(),
                          temperature_K=temperature, volume_A3=volumes,
                          density_g_cm3=density_g_cm3(mass, volumes),
                          lattice=lattice_parameters(cells), total_mass_amu=mass,
                          n_atoms=frames.n_atoms)


def resolve_temperatures(frames: FrameSet, temperatures_K) -> np.ndarray | None:
    """Temperature of each selected frame (see :func:`compute_cell_series`), K, or None."""
    if temperatures_K is None:
        return None
    if isinstance(temperatures_K, str):
        if temperatures_K != "kinetic":
            raise UserInputError(f"temperatures_K={temperatures_K!r}: give an array of K or "
                                 "'kinetic'")
        return kinetic_temperatures_K(frames)
    T = np.asarray(temperatures_K, dtype=float).ravel()
    n_all = frames.trajectory.n_frames
    if len(T) == n_all:
        T = T[frames.indices]
    elif len(T) != frames.n_frames:
        raise UserInputError(f"{len(T)} temperatures given, but the trajectory has {n_all} frames "
                             f"and {frames.n_frames} are selected: give one per frame of either")
    if not np.all(np.isfinite(T) & (T >= 0)):
        raise UserInputError("temperatures must be finite and >= 0 K")
    return T


def kinetic_temperatures_K(frames: FrameSet) -> np.ndarray:
    """Kinetic temperature of each selected frame from its velocities (COM motion removed), K."""
    from ase.units import kB

    m = frames.masses
    dof = max(3 * frames.n_atoms - 3, 1)
    out = np.empty(frames.n_frames)
    for k, index in enumerate(frames.indices):
        v = frames.trajectory[int(index)].velocities
        if v is None:
            raise UserInputError("temperatures_K='kinetic' needs velocities, but frame "
                                 f"{int(index)} has none; pass the temperatures as an array")
        v = v - (m[:, None] * v).sum(axis=0) / m.sum()
        out[k] = float((m[:, None] * v * v).sum()) / (dof * kB)
    return out
