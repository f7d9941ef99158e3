"""One call from trajectory files to D*, conductivity and Haven ratio: :func:`analyze_transport`.

A thin facade over the layers (displacements -> MSD -> diffusion fit -> conductivity):

1. :func:`~ssestudio.analysis.displacements.read_displacements` of the mobile species
   (chunked, unwrapped, framework drift removed);
2. :func:`~ssestudio.analysis.msd.compute_msd` and the charge MSD;
3. :func:`~ssestudio.analysis.diffusion.fit_diffusion` of the tracer MSD (automatic or
   given window) and of the charge MSD over the *same* window;
4. :func:`~ssestudio.analysis.conductivity.compute_conductivity` when a temperature is
   known (given, or the NVT target recorded in a native file written by ``ssestudio md``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ssestudio.analysis.conductivity import (
    ConductivityResult,
    compute_conductivity,
    resolve_charges,
)
from ssestudio.analysis.diffusion import DiffusionResult, fit_diffusion
from ssestudio.analysis.displacements import read_displacements
from ssestudio.analysis.msd import MSDResult, compute_charge_msd, compute_msd
from ssestudio.core.errors import UserInputError

Progress = Callable[[float, str], None]


@dataclass(frozen=True, eq=False)
class TransportResult:
    """Everything :func:`analyze_transport` found, layer by layer.

    Attributes
    ----------
    species : str
        Mobile species analysed.
    temperature_K : float or None
        Temperature used for the conductivity, K.
    msd : MSDResult
        Tracer MSD of the mobile species.
    diffusion : DiffusionResult
        Tracer diffusion coefficient D* and its error budget.
    charge_msd : MSDResult
        Mean squared charge displacement of the mobile ions.
    collective : DiffusionResult
        Fit of the charge MSD over the tracer's window (``D`` = ``D_Q``, e^2 cm^2/s).
    conductivity : ConductivityResult or None
        Conductivities and Haven ratio; None without a temperature.
    charges : dict
        Species -> charge, e.
    sources : tuple of str
        Files read.
    warnings : tuple of str
        All warnings of the layers, without repeats.
    """

    species: str
    temperature_K: float | None
    msd: MSDResult
    diffusion: DiffusionResult
    charge_msd: MSDResult
    collective: DiffusionResult
    conductivity: ConductivityResult | None
    charges: dict
    sources: tuple[str, ...]
    warnings: tuple[str, ...]

    def to_dict(self) -> dict:
        """Flat, JSON-ready summary (the keys of ``ssestudio transport --json``); NaN -> None."""
        d, c = self.diffusion, self.conductivity
        out = {
            "species": self.species, "n_ions": self.msd.n_atoms, "n_frames": self.msd.n_frames,
            "timestep_fs": self.msd.timestep_fs, "duration_ps": float(self.msd.time_ps[-1]),
            "volume_A3": self.msd.mean_volume_A3, "temperature_K": self.temperature_K,
            "charges": dict(self.charges), "D_cm2_s": d.D_cm2_s, "D_err_cm2_s": d.D_err_cm2_s,
            "D_gls_err_cm2_s": d.D_gls_err_cm2_s, "D_window_err_cm2_s": d.D_window_err_cm2_s,
            "D_hop_err_cm2_s": d.D_hop_err_cm2_s, "n_eff_hops": d.n_eff_hops,
            "hop_distance_A": d.hop_distance_A, "fit_window_ps": list(d.fit_window_ps),
            "fit_window_auto": d.fit_window_auto, "diffusive": d.diffusive,
            "loglog_slope": d.loglog_slope, "non_gaussian_max": d.non_gaussian_max,
            "window_D_cm2_s": list(d.window_D_cm2_s),
            "window_bounds_ps": [list(w) for w in d.window_bounds_ps],
            "drift_removed": self.msd.drift_removed, "sources": list(self.sources),
        }
        keys = ("sigma_mS_cm", "sigma_err_mS_cm", "sigma_collective_mS_cm",
                "sigma_collective_err_mS_cm", "haven_ratio", "haven_ratio_err",
                "D_sigma_cm2_s", "D_sigma_err_cm2_s")
        out.update({k: None if c is None else getattr(c, k) for k in keys})
        out["warnings"] = list(self.warnings)
        return {k: _finite_or_none(v) for k, v in out.items()}


def _finite_or_none(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_finite_or_none(v) for v in value]
    return value


def analyze_transport(trajectory_or_paths, *, species: str = "Li", temperature_K: float | None = None,
                      timestep_fs: float | None = None, charges: Mapping[str, float] | None = None,
                      fit_window_ps: tuple[float, float] | None = None, remove_drift: bool = True,
                      format: str | None = None, hop_distance_A: float | None = None,
                      progress: Progress | None = None) -> TransportResult:
    """Tracer diffusion, conductivity and Haven ratio of one mobile species.

    Parameters
    ----------
    trajectory_or_paths : Trajectory, str, Path or sequence of them
        An open trajectory, or file(s); several files are consecutive segments in order.
    species : str
        Mobile species, e.g. ``"Li"``.
    temperature_K : float, optional
        Temperature, K; needed for the conductivity. When None, taken from a native file's
        NVT metadata if present; otherwise the conductivity is None (with a warning).
    timestep_fs : float, optional
        Time between stored frames, fs, when the files do not record it.
    charges : mapping str -> float, optional
        Charge of the mobile species, e; default its formal charge (Li/Na/K/Ag/Cu +1,
        Mg/Ca/Zn +2, halides -1); others must be given.
    fit_window_ps : (float, float), optional
        Fit window ``(t0, t1)``, ps; automatic when None.
    remove_drift : bool
        Remove the framework's centre-of-mass drift.
    format : str, optional
        Reader name when paths are given (detected otherwise).
    hop_distance_A : float, optional
        Hop distance for the He et al. error, Å (default: median Li-Li nearest distance).
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    TransportResult

    Raises
    ------
    UserInputError
        Missing files, a species not present (the message lists those present), segments
        with different atoms, one frame, NaN positions, no time step, an unknown charge,
        a bad fit window or temperature.
    """
    if temperature_K is not None and not (math.isfinite(temperature_K) and temperature_K > 0):
        raise UserInputError(f"temperature_K must be a positive number of kelvin, got {temperature_K}")
    traj, owned = _open(trajectory_or_paths, format=format, timestep_fs=timestep_fs)
    try:
        q = resolve_charges([species], charges)
        report = _scaled(progress, 0.0, 0.8)
        disp = read_displacements(traj, species=species, remove_drift=remove_drift,
                                  timestep_fs=timestep_fs, progress=report)
        temperature = temperature_K if temperature_K is not None else file_temperature_K(traj)
        sources = tuple(traj.info.sources)
    finally:
        if owned:
            traj.close()
    return _analyse(disp, species=species, charges=q, temperature_K=temperature,
                    fit_window_ps=fit_window_ps, hop_distance_A=hop_distance_A, sources=sources,
                    progress=progress)


def _analyse(disp, *, species, charges, temperature_K, fit_window_ps, hop_distance_A, sources,
             progress) -> TransportResult:
    msd = compute_msd(disp)
    charge_msd = compute_charge_msd(disp, charges)
    if progress is not None:
        progress(0.9, "MSD done")
    result = fit_transport(msd, charge_msd, species=species, charges=charges,
                           temperature_K=temperature_K, fit_window_ps=fit_window_ps,
                           hop_distance_A=hop_distance_A, sources=sources)
    if progress is not None:
        progress(1.0, "transport analysis done")
    return result


def fit_transport(msd: MSDResult, charge_msd: MSDResult, *, species: str,
                  charges: Mapping[str, float], temperature_K: float | None = None,
                  fit_window_ps: tuple[float, float] | None = None,
                  hop_distance_A: float | None = None,
                  sources: Sequence[str] = ()) -> TransportResult:
    """The fits of :func:`analyze_transport` on MSDs already computed (e.g. to refit over
    another window in milliseconds).

    Parameters
    ----------
    msd, charge_msd : MSDResult
        Tracer MSD of ``species`` and the mean squared charge displacement.
    species : str
        Mobile species.
    charges : mapping str -> float
        Charge of ``species``, e.
    temperature_K : float, optional
        Temperature, K; the conductivity is None (with a warning) without it.
    fit_window_ps : (float, float), optional
        Fit window, ps; automatic when None. The charge MSD is fitted over the tracer's.
    hop_distance_A : float, optional
        Hop distance for the He et al. error, Å.
    sources : sequence of str
        Files the MSDs came from (recorded in the result).

    Returns
    -------
    TransportResult
    """
    tracer = fit_diffusion(msd, fit_window_ps=fit_window_ps, hop_distance_A=hop_distance_A)
    collective = fit_diffusion(charge_msd, fit_window_ps=tracer.fit_window_ps)
    notes = list(tracer.warnings)
    conductivity = None
    if temperature_K is None:
        notes.append("no temperature given or recorded in the file: conductivity not computed; "
                     "pass temperature_K= (CLI: --temperature-K)")
    else:
        conductivity = compute_conductivity(tracer, collective, n_ions=msd.n_atoms,
                                            charge_e=charges[species], volume_A3=msd.mean_volume_A3,
                                            temperature_K=temperature_K)
        notes.extend(conductivity.warnings)
    return TransportResult(species=species, temperature_K=temperature_K, msd=msd,
                           diffusion=tracer, charge_msd=charge_msd, collective=collective,
                           conductivity=conductivity, charges=dict(charges), sources=tuple(sources),
                           warnings=tuple(dict.fromkeys(notes)))


def _open(trajectory_or_paths, *, format, timestep_fs):
    """(trajectory, whether this call opened it and must close it)."""
    from ssestudio.io import Trajectory, open_trajectory

    if isinstance(trajectory_or_paths, Trajectory):
        return trajectory_or_paths, False
    if isinstance(trajectory_or_paths, (str, Path)):
        paths: Sequence = [trajectory_or_paths]
    else:
        paths = list(trajectory_or_paths)
    return open_trajectory(paths, format=format, timestep_fs=timestep_fs), True


def file_temperature_K(trajectory) -> float | None:
    """The thermostat temperature recorded by ``ssestudio md`` in a native file, K, or None.

    Only NVT runs count (an NVE run's ``temperature_K`` is merely its initial temperature).
    """
    config = (trajectory.info.extra.get("metadata") or {}).get("md_config") or {}
    value = config.get("temperature_K")
    if str(config.get("ensemble", "")).startswith("nvt") and isinstance(value, (int, float)) and value > 0:
        return float(value)
    return None


def _scaled(progress: Progress | None, start: float, stop: float) -> Progress | None:
    if progress is None:
        return None
    return lambda fraction, message="": progress(start + (stop - start) * fraction, message)
