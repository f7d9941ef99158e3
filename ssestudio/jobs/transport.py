"""The ``transport`` job: D*, conductivity and Haven ratio of one workspace trajectory.

Runs :func:`ssestudio.analysis.analyze_transport` with progress and cancellation, and
saves in the job's folder what a later re-fit or plot needs:

* ``msd.npz``: the tracer MSD (``tracer_*`` arrays) and the mean squared charge
  displacement (``charge_*``) as written by :func:`save_transport`;
* ``transport.json``: the flat summary (``TransportResult.to_dict()``), the full tracer,
  collective and conductivity fits, and the MSD metadata.

:func:`load_transport` reads them back as :class:`SavedTransport`, whose
:meth:`~SavedTransport.refit` repeats the fits for another fit window in milliseconds
(the MSD is not recomputed).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ssestudio.core.errors import UserInputError
from ssestudio.core.jsonsafe import json_safe
from ssestudio.jobs.spec import JobSpec, register_job

if TYPE_CHECKING:
    from ssestudio.analysis import MSDResult, TransportResult
    from ssestudio.jobs.context import JobContext
    from ssestudio.workspace import Workspace

MSD_FILE = "msd.npz"
SUMMARY_FILE = "transport.json"
_ARRAYS = ("time_ps", "msd_A2", "msd_xyz_A2", "msd_tensor_A2", "msd_sem_A2", "n_origins",
           "mean_cell_A", "alpha2_time_ps", "alpha2")
_META = ("n_atoms", "species", "timestep_fs", "mean_volume_A3", "collective", "charges",
         "drift_removed", "nn_distance_A", "warnings")


def _charge_pairs(charges: Any) -> tuple[tuple[str, float], ...]:
    """Charges as sorted ``(species, charge)`` pairs from a dict, pairs or ``"Li=1, Na=1"``."""
    if charges is None or charges == "":
        return ()
    if isinstance(charges, str):
        return parse_charges(charges)
    try:
        items = dict(charges).items()
        pairs = tuple(sorted((str(k), float(v)) for k, v in items))
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"charges must map species to numbers, e.g. {{'Li': 1}}; got "
                             f"{charges!r}") from exc
    bad = [k for k, v in pairs if not math.isfinite(v)]
    if bad:
        raise UserInputError(f"the charge of {bad[0]} must be a finite number")
    return pairs


def parse_charges(text: str) -> tuple[tuple[str, float], ...]:
    """Parse ``"Li=1, Mg=2"`` (commas or spaces) into sorted ``(species, charge)`` pairs.

    Raises
    ------
    UserInputError
        An item that is not ``Species=number``.
    """
    out = {}
    for item in text.replace(",", " ").split():
        name, sep, value = item.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise UserInputError(f"charges are written like 'Li=1' (several: 'Li=1, Mg=2'); "
                                 f"cannot read {item!r}") from None
    return _charge_pairs(out)


def _positive_or_none(name: str, value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not (math.isfinite(number) and number > 0):
        raise UserInputError(f"{name} must be a positive number, got {value!r}")
    return number


@register_job("transport")
@dataclass(frozen=True)
class TransportSpec(JobSpec):
    """Transport analysis (MSD, D*, sigma, Haven ratio) of one workspace trajectory.

    Parameters
    ----------
    trajectory : int or str
        Workspace trajectory id or name.
    species : str
        Mobile species, e.g. ``"Li"``.
    temperature_K : float, optional
        Temperature, K; default the NVT temperature recorded in a native file (without
        either, no conductivity is computed).
    charges : tuple of (str, float) pairs
        Charge of the mobile species, e; default its formal charge. A dict or
        ``"Li=1"`` is accepted and normalised.
    fit_window_ps : (float, float), optional
        Fit window ``(t0, t1)``, ps; automatic when None.
    timestep_fs : float, optional
        Time between stored frames, fs, overriding the trajectory's own.
    remove_drift : bool
        Remove the framework's centre-of-mass drift.
    """

    trajectory: int | str
    species: str = "Li"
    temperature_K: float | None = None
    charges: tuple[tuple[str, float], ...] = ()
    fit_window_ps: tuple[float, float] | None = None
    timestep_fs: float | None = None
    remove_drift: bool = True

    def validate(self) -> None:
        if isinstance(self.trajectory, bool) or not isinstance(self.trajectory, (int, str)) \
                or not str(self.trajectory).strip():
            raise UserInputError("transport needs a workspace trajectory: its id or name")
        if not isinstance(self.species, str) or not self.species.strip():
            raise UserInputError(f"species must be an element symbol such as 'Li', got "
                                 f"{self.species!r}")
        object.__setattr__(self, "species", self.species.strip())
        object.__setattr__(self, "charges", _charge_pairs(self.charges))
        object.__setattr__(self, "temperature_K",
                           _positive_or_none("temperature_K", self.temperature_K))
        object.__setattr__(self, "timestep_fs", _positive_or_none("timestep_fs", self.timestep_fs))
        if self.fit_window_ps is not None:
            object.__setattr__(self, "fit_window_ps", _check_window(self.fit_window_ps))

    def preflight(self, workspace: Workspace) -> None:
        from ssestudio.analysis import resolve_charges

        rec = workspace.get_trajectory(self.trajectory)
        if self.timestep_fs is None and rec.timestep_fs is None and rec.format != "native":
            raise UserInputError(f"trajectory {rec.name!r} does not record the time between "
                                 "frames: give timestep_fs")
        resolve_charges([self.species], dict(self.charges))

    def run(self, ctx: JobContext) -> dict:
        from ssestudio.analysis import analyze_transport
        from ssestudio.io import open_trajectory

        rec = ctx.workspace.get_trajectory(self.trajectory)
        paths = [str(p) for p in rec.paths]
        ctx.log(f"transport analysis of {self.species} in trajectory {rec.name!r} (id {rec.id}):"
                f" T = {self.temperature_K or 'from the file'} K, fit window "
                f"{self.fit_window_ps or 'automatic'}")
        ctx.progress(0.0, f"reading {rec.name}")
        with open_trajectory(paths if len(paths) > 1 else paths[0], format=rec.format,
                             timestep_fs=rec.timestep_fs or self.timestep_fs) as traj:
            result = analyze_transport(
                traj, species=self.species, temperature_K=self.temperature_K,
                timestep_fs=self.timestep_fs, charges=dict(self.charges) or None,
                fit_window_ps=self.fit_window_ps, remove_drift=self.remove_drift,
                progress=_reporter(ctx))
        files = save_transport(result, ctx.job_dir)
        for w in result.warnings:
            ctx.log(f"warning: {w}")
        summary = result.to_dict()
        ctx.log(f"D* = {summary['D_cm2_s']} ± {summary['D_err_cm2_s']} cm^2/s, sigma = "
                f"{summary['sigma_mS_cm']} mS/cm, fit window {summary['fit_window_ps']} ps")
        return {**summary, "trajectory_id": rec.id, "trajectory": rec.name,
                "files": {k: str(v) for k, v in files.items()}}


def _check_window(window: Any) -> tuple[float, float]:
    try:
        t0, t1 = (float(v) for v in window)
        ok = math.isfinite(t0) and math.isfinite(t1) and 0 <= t0 < t1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise UserInputError(f"fit_window_ps must be two times (t0, t1) in ps with 0 <= t0 < t1,"
                             f" got {window!r}")
    return (t0, t1)


def _reporter(ctx: JobContext):
    def progress(fraction: float, message: str = "") -> None:
        ctx.progress(fraction, message)
        ctx.check_cancelled()
    return progress


# ---- saving and re-fitting --------------------------------------------------------------
def _msd_meta(msd: MSDResult) -> dict:
    return {k: getattr(msd, k) for k in _META}


def save_transport(result: TransportResult, folder: Path) -> dict[str, Path]:
    """Write ``msd.npz`` and ``transport.json`` for ``result`` into ``folder``.

    Returns
    -------
    dict
        ``{"msd": path, "summary": path}``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {f"{prefix}_{name}": np.asarray(getattr(msd, name))
              for prefix, msd in (("tracer", result.msd), ("charge", result.charge_msd))
              for name in _ARRAYS}
    np.savez_compressed(folder / MSD_FILE, **arrays)
    c = result.conductivity
    summary = {"summary": result.to_dict(), "diffusion": result.diffusion.to_dict(),
               "collective": result.collective.to_dict(),
               "conductivity": None if c is None else c.to_dict(),
               "tracer_msd": _msd_meta(result.msd), "charge_msd": _msd_meta(result.charge_msd)}
    (folder / SUMMARY_FILE).write_text(json.dumps(json_safe(summary), indent=1), encoding="utf-8")
    return {"msd": folder / MSD_FILE, "summary": folder / SUMMARY_FILE}


@dataclass(frozen=True, eq=False)
class SavedTransport:
    """A transport job's saved MSDs and fits (see :func:`load_transport`).

    Attributes
    ----------
    msd, charge_msd : MSDResult
        Tracer MSD and mean squared charge displacement, rebuilt from ``msd.npz``.
    summary : dict
        The flat summary (``TransportResult.to_dict()`` keys).
    diffusion : dict
        The tracer fit (``DiffusionResult.to_dict()``), e.g. ``intercept_A2``, ``n_dims``.
    sources : tuple of str
        Files the job read.
    """

    msd: MSDResult
    charge_msd: MSDResult
    summary: dict
    diffusion: dict
    sources: tuple[str, ...]

    def refit(self, fit_window_ps: tuple[float, float] | None = None, *,
              hop_distance_A: float | None = None) -> TransportResult:
        """Fit D*, the charge MSD and the conductivity again over ``fit_window_ps``.

        The same steps as :func:`~ssestudio.analysis.analyze_transport` after the MSD
        (tracer fit, collective fit over the tracer's window, Nernst-Einstein), at the
        saved temperature, charges and volume. ``None`` chooses the window automatically.

        Raises
        ------
        UserInputError
            A window outside the data or with fewer than 3 frames.
        """
        from ssestudio.analysis import fit_transport

        window = None if fit_window_ps is None else _check_window(fit_window_ps)
        hop = hop_distance_A if hop_distance_A is not None else self.diffusion.get("hop_distance_A")
        species = self.summary["species"]
        return fit_transport(self.msd, self.charge_msd, species=species,
                             charges=dict(self.summary.get("charges") or {}),
                             temperature_K=self.summary.get("temperature_K"),
                             fit_window_ps=window, hop_distance_A=hop, sources=self.sources)


def fitted_msd_A2(diffusion: Mapping[str, Any], time_ps: np.ndarray) -> np.ndarray:
    """The fitted line ``2 d D t + c`` of a saved tracer fit at ``time_ps``, Å^2.

    Parameters
    ----------
    diffusion : mapping
        ``DiffusionResult.to_dict()`` (``D_cm2_s``, ``n_dims``, ``intercept_A2``).
    time_ps : ndarray, shape (k,)
        Lag times, ps.
    """
    from ssestudio.analysis.diffusion import A2_PER_PS_TO_CM2_PER_S

    t = np.asarray(time_ps, dtype=float)
    if diffusion.get("D_cm2_s") is None:
        return np.full(t.shape, np.nan)
    slope = 2 * diffusion["n_dims"] * diffusion["D_cm2_s"] / A2_PER_PS_TO_CM2_PER_S
    return slope * t + (diffusion.get("intercept_A2") or 0.0)


def load_transport(folder: Path | str) -> SavedTransport:
    """Read what :func:`save_transport` wrote into ``folder`` (a transport job's folder).

    Raises
    ------
    UserInputError
        The folder holds no saved transport analysis.
    """
    from ssestudio.analysis import MSDResult

    folder = Path(folder)
    if not (folder / MSD_FILE).is_file() or not (folder / SUMMARY_FILE).is_file():
        raise UserInputError(f"no saved transport analysis in {folder} (expected {MSD_FILE} "
                             f"and {SUMMARY_FILE}, written by a finished transport job)")
    saved = json.loads((folder / SUMMARY_FILE).read_text(encoding="utf-8"))
    msds = []
    with np.load(folder / MSD_FILE) as npz:
        for prefix, meta_key in (("tracer", "tracer_msd"), ("charge", "charge_msd")):
            arrays = {name: npz[f"{prefix}_{name}"] for name in _ARRAYS}
            arrays["msd_sem_A2"] = np.asarray(arrays["msd_sem_A2"], dtype=float)
            meta = dict(saved[meta_key])
            meta["species"] = tuple(meta["species"])
            meta["warnings"] = tuple(meta["warnings"])
            msds.append(MSDResult(**arrays, **meta))
    return SavedTransport(msd=msds[0], charge_msd=msds[1], summary=saved["summary"],
                          diffusion=saved["diffusion"],
                          sources=tuple(saved["summary"].get("sources") or ()))
