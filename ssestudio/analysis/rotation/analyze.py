"""One call from a trajectory to the anion-rotation (paddle-wheel) analysis.

:func:`analyze_rotation` runs the layers in order:

1. :func:`~ssestudio.analysis.rotation.series.read_series`: units by connectivity in the
   first frame, followed per frame (centres, ligand vectors, bond breaks, re-detection at
   checkpoints) and unwrapped cation positions, in one pass over the file;
2. :func:`~ssestudio.analysis.rotation.orientation.fit_quaternions`: orientation of every
   unit in every frame; rotation-angle distribution over a lag;
3. :func:`~ssestudio.analysis.rotation.orientation.orientational_acf` and
   :func:`~ssestudio.analysis.rotation.orientation.fit_relaxation`: C1, C2, tau, beta;
4. :mod:`~ssestudio.analysis.rotation.events`: rotation and hop events;
5. :func:`~ssestudio.analysis.rotation.coincidence.compute_enrichment` and
   :func:`~ssestudio.analysis.rotation.coincidence.cross_correlation`: coincidence vs
   chance, the verdict, and rotation activity vs nearby mobility.

Units: Å, fs in the core; names carry other units (``_ps``, ``_deg``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ssestudio.analysis.displacements import select_atoms
from ssestudio.analysis.rotation.anions import resolve_anion
from ssestudio.analysis.rotation.coincidence import (
    CrossCorrelation,
    EnrichmentGrid,
    coincident_pairs,
    compute_enrichment,
    cross_correlation,
    enrichment_verdict,
    local_mobility,
)
from ssestudio.analysis.rotation.config import RotationConfig
from ssestudio.analysis.rotation.events import (
    Events,
    peak_events,
    site_hops,
    windowed_angles_deg,
    windowed_displacements_A,
    wrap_into_cell,
)
from ssestudio.analysis.rotation.orientation import (
    fit_quaternions,
    fit_relaxation,
    lag_angles_deg,
    orientational_acf,
)
from ssestudio.analysis.rotation.result import (
    RotationResult,
    UnitReport,
    angle_distribution,
)
from ssestudio.analysis.rotation.series import (
    RotorSeries,
    read_series,
    selected_timestep_fs,
)
from ssestudio.analysis.structure.frames import Source, open_frames
from ssestudio.core.errors import SSEStudioError, UserInputError

Progress = Callable[[float, str], None]


class AnalysisCancelled(SSEStudioError):
    """Raised by :func:`analyze_rotation` when ``should_stop()`` returned True."""


class _Monitor:
    """Progress reports scaled to a stage, with a cancel check at every report."""

    def __init__(self, progress: Progress | None, should_stop: Callable[[], bool] | None):
        self._progress, self._should_stop = progress, should_stop

    def __call__(self, fraction: float, message: str = "") -> None:
        if self._should_stop is not None and self._should_stop():
            raise AnalysisCancelled("the rotation analysis was cancelled on request")
        if self._progress is not None:
            self._progress(min(1.0, max(0.0, fraction)), message)

    def stage(self, start: float, stop: float) -> Progress:
        return lambda f, message="": self(start + (stop - start) * f, message)


def analyze_rotation(trajectory: Source, config: RotationConfig | None = None, *,
                     progress: Progress | None = None,
                     should_stop: Callable[[], bool] | None = None) -> RotationResult:
    """Anion rotation, cation hops and their coincidence in one trajectory.

    Parameters
    ----------
    trajectory : Trajectory, FrameSet, str, Path, ase.Atoms list
        Any input of :func:`~ssestudio.analysis.structure.frames.open_frames` (a file is
        opened and closed here).
    config : RotationConfig, optional
        Settings (defaults: PS4 and Li).
    progress : callable, optional
        ``progress(fraction, message)`` with fraction in [0, 1].
    should_stop : callable, optional
        Polled at every progress report; when it returns True the analysis stops with
        :class:`AnalysisCancelled`.

    Returns
    -------
    RotationResult

    Raises
    ------
    UserInputError
        No unit of the anion, an absent cation, missing or uneven frame times, windows
        longer than the run, a non-periodic cell.
    AnalysisCancelled
        ``should_stop()`` returned True.
    """
    from ssestudio.analysis.transport import file_temperature_K

    config = config or RotationConfig()
    monitor = _Monitor(progress, should_stop)
    monitor(0.0, "opening the trajectory")
    definition = resolve_anion(config.anion).with_cutoff(config.bond_cutoff_A)
    with open_frames(trajectory, start=config.start, stop=config.stop, stride=config.stride,
                     format=config.format) as frames:
        cations = select_atoms(frames.symbols, species=config.cation)
        dt = selected_timestep_fs(frames, config.timestep_fs)
        _check_length(frames.n_frames, dt, config)
        temperature = config.temperature_K or file_temperature_K(frames.trajectory)
        series = read_series(frames, definition, cations, timestep_fs=dt,
                             break_margin_A=config.break_margin_A,
                             n_checkpoints=config.n_checkpoints, progress=monitor.stage(0.0, 0.5))
        source = frames.label
    return analyze_series(series, config, source=source, temperature_K=temperature,
                          progress=monitor.stage(0.5, 1.0))


def _frames(duration_fs: float, dt_fs: float) -> int:
    return max(1, round(duration_fs / dt_fs))


def _check_length(n_frames: int, dt: float, config: RotationConfig) -> None:
    need = 2 * max(_frames(config.rotation_window_fs / 2, dt),
                   _frames(config.hop_window_fs / 2, dt)) + 3
    if n_frames < max(need, 8):
        raise UserInputError(
            f"{n_frames} selected frames ({n_frames * dt / 1000:.3g} ps) are too few for windows "
            f"of {config.rotation_window_fs:g} fs (rotations) and {config.hop_window_fs:g} fs "
            f"(hops) at {dt:g} fs per frame: select at least {max(need, 8)} frames or shorten "
            "the windows")


def analyze_series(series: RotorSeries, config: RotationConfig, *, source: str = "memory",
                   temperature_K: float | None = None,
                   progress: Progress | None = None) -> RotationResult:
    """Steps 2-5 of :func:`analyze_rotation` on series already read.

    Parameters
    ----------
    series : RotorSeries
        From :func:`~ssestudio.analysis.rotation.series.read_series`.
    config : RotationConfig
        Settings.
    source : str
        Label of the input.
    temperature_K : float, optional
        Temperature to record.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    RotationResult
    """
    report = progress or (lambda f, m="": None)
    notes: list[str] = []
    dt = series.timestep_fs
    keep = np.ones(series.units.n_units, bool) if config.include_broken \
        else series.intact.all(axis=0)
    if not keep.any():
        raise UserInputError(f"every {series.units.definition.name} unit broke during the run "
                             f"(a bond longer than its cutoff + {config.break_margin_A} Å); "
                             "raise break_margin_A or bond_cutoff_A, or set include_broken")
    report(0.0, "fitting orientations")
    q, rmsd = fit_quaternions(series.vectors_A[0, keep], series.vectors_A[:, keep])
    units = _unit_report(series, keep, rmsd, notes)
    report(0.15, "orientational correlation functions")
    c1, c2, angles = _orientation_stats(series, q, keep, config, notes)
    report(0.45, "rotation and hop events")
    rot, hop, rot_signal, hop_signal, h_r, h_h = _events(series, q, keep, config)
    report(0.6, "coincidence of rotations and hops")
    grid = _enrichment(series, keep, rot, hop, h_r, config) if len(rot) and len(hop) else None
    if grid is not None and grid.cell("expected") > 0.5 * len(hop):
        notes.append(f"chance coincidences are common ({grid.cell('expected') / len(hop):.2f} "
                     "per hop): rotation events are so frequent that coincidence cannot tell "
                     "much; raise rotation_threshold_deg or narrow coincidence_dt_ps")
    pairs = coincident_pairs(
        rot.frame, rot.index, hop.frame, hop.position_A, centres_A=series.centres_A[:, keep],
        cells=series.cells, dt_frames=int(round(config.coincidence_dt_ps * 1000.0 / dt)),
        r_A=config.coincidence_r_A, timestep_fs=dt)
    report(0.9, "rotation-mobility cross-correlation")
    xcorr = _xcorr(series, keep, rot_signal, hop_signal, h_r, h_h, config)
    verdict = enrichment_verdict(grid, n_rotations=len(rot), n_hops=len(hop),
                                 anion=series.units.definition.name, cation=config.cation)
    T = series.n_frames
    report(1.0, "done")
    return RotationResult(
        anion=series.units.definition.name, cation=config.cation, source=source,
        n_frames=T, timestep_fs=dt, duration_ps=(T - 1) * dt / 1000.0,
        temperature_K=temperature_K, n_cations=len(series.cation_atoms), units=units, c1=c1,
        c2=c2, angles=angles, rotation_events=rot, hop_events=hop, enrichment=grid, xcorr=xcorr,
        verdict=verdict, config=config, warnings=tuple(dict.fromkeys(notes)), pairs=pairs)


def _unit_report(series: RotorSeries, keep, rmsd, notes) -> UnitReport:
    u, intact = series.units, series.intact
    dt_ps = series.timestep_fs / 1000.0
    broken_ids = np.flatnonzero(~intact.all(axis=0))
    broken, n_reformed = [], 0
    for k in broken_ids.tolist():
        bad = np.flatnonzero(~intact[:, k])
        reformed = bool(intact[-1, k])
        n_reformed += reformed
        broken.append({"unit": k, "atom": int(u.atoms[k, 0]), "first_broken_ps": bad[0] * dt_ps,
                       "reformed_ps": (bad[-1] + 1) * dt_ps if reformed else None,
                       "broken_fraction": len(bad) / len(intact)})
    n_new = max((c.n_units - c.n_original for c in series.checkpoints), default=0)
    if len(broken_ids):
        notes.append(f"{len(broken_ids)} of {u.n_units} {u.definition.name} units broke during "
                     f"the run ({n_reformed} re-formed); "
                     + ("they are included" if keep.all() else "they are left out"))
    if n_new:
        notes.append(f"up to {n_new} {u.definition.name} units formed after the first frame "
                     "(ligand exchange or new speciation); only first-frame units are followed")
    return UnitReport(anion=u.definition.name, description=u.definition.description,
                      formulas=dict(u.formulas), n_units=u.n_units, n_analysed=int(keep.sum()),
                      n_broken=len(broken_ids), n_reformed=n_reformed, broken=tuple(broken),
                      n_new_units=int(n_new), checkpoints=series.checkpoints,
                      unit_atoms=u.atoms[keep], mean_fit_rmsd_A=float(rmsd.mean()))


def _orientation_stats(series, q, keep, config, notes):
    T, dt = series.n_frames, series.timestep_fs
    max_lag = min(T - 1, _frames(config.max_lag_fs, dt) if config.max_lag_fs else T // 2)
    vec = series.vectors_A[:, keep]
    directions = vec / np.linalg.norm(vec, axis=-1, keepdims=True)
    C1, C2 = orientational_acf(directions, max_lag)
    time_ps = np.arange(max_lag + 1) * dt / 1000.0
    rng = np.random.default_rng(config.seed)
    fits = [fit_relaxation(time_ps, C, l=l, floor=config.fit_floor,
                           n_bootstrap=config.n_bootstrap_fit, rng=rng)
            for l, C in ((1, C1), (2, C2))]
    notes += [f.note for f in fits if f.note]
    lag = min(T - 1, _frames(config.angle_lag_fs or config.rotation_window_fs, dt))
    angles = angle_distribution(lag_angles_deg(q, lag), lag_ps=lag * dt / 1000.0,
                                bin_deg=config.angle_bin_deg,
                                threshold_deg=config.rotation_threshold_deg)
    return fits[0], fits[1], angles


def _events(series: RotorSeries, q, keep, config: RotationConfig):
    dt = series.timestep_fs
    h_r = _frames(config.rotation_window_fs / 2, dt)
    h_h = _frames(config.hop_window_fs / 2, dt)
    rot_signal = windowed_angles_deg(q, h_r)
    found = peak_events(rot_signal, offset=h_r, threshold=config.rotation_threshold_deg,
                        separation=2 * h_r)
    rot = _as_events("rotation", *found, series=series, positions=series.centres_A[:, keep],
                     atoms=series.units.atoms[keep, 0], unit="deg")
    hop_signal = windowed_displacements_A(series.cations_A, h_h)
    if config.hop_method == "sites":
        found = site_hops(series.cations_A, series.cells, np.asarray(config.sites_frac),
                          radius_A=config.site_radius_A)
    else:
        found = peak_events(hop_signal, offset=h_h, threshold=config.hop_threshold_A,
                            separation=2 * h_h)
    hop = _as_events("hop", *found, series=series, positions=series.cations_A,
                     atoms=series.cation_atoms, unit="A")
    return rot, hop, rot_signal, hop_signal, h_r, h_h


def _as_events(kind, frame, column, value, *, series: RotorSeries, positions, atoms,
               unit: str) -> Events:
    """Events with times, trajectory frames, atoms and wrapped positions filled in."""
    return Events(kind=kind, frame=frame, trajectory_frame=series.frames[frame],
                  time_ps=frame * series.timestep_fs / 1000.0, index=column, atom=atoms[column],
                  value=value, position_A=wrap_into_cell(positions[frame, column],
                                                         series.cells[frame]), unit=unit)


def _grid_axis(values, headline: float) -> tuple[np.ndarray, int]:
    axis = np.unique(np.r_[np.asarray(values, float), headline])
    return axis, int(np.argmin(np.abs(axis - headline)))


def _enrichment(series, keep, rot: Events, hop: Events, h_r: int,
                config: RotationConfig) -> EnrichmentGrid:
    dt_ps, i_dt = _grid_axis(config.dt_grid_ps, config.coincidence_dt_ps)
    r_A, i_r = _grid_axis(config.r_grid_A, config.coincidence_r_A)
    dt_frames = np.maximum(0, np.round(dt_ps * 1000.0 / series.timestep_fs)).astype(int)
    return compute_enrichment(
        rot.frame, rot.index, hop.frame, hop.index, hop.position_A,
        centres_A=series.centres_A[:, keep], cells=series.cells,
        n_cations=len(series.cation_atoms), domain=(h_r, series.n_frames - h_r),
        dt_frames=dt_frames, dt_ps=dt_ps, r_A=r_A, headline=(i_dt, i_r),
        n_shuffles=config.n_shuffles, n_bootstrap=config.n_bootstrap,
        confidence=config.confidence, rng=np.random.default_rng(config.seed + 1))


def _xcorr(series, keep, rot_signal, hop_signal, h_r, h_h, config) -> CrossCorrelation:
    T, dt = series.n_frames, series.timestep_fs
    H = max(h_r, h_h)
    frames = slice(H, T - H)
    a = rot_signal[H - h_r:T - H - h_r]
    m = local_mobility(hop_signal[H - h_h:T - H - h_h], series.cations_A[frames],
                       series.centres_A[frames][:, keep], series.cells[frames],
                       r_A=config.coincidence_r_A, stride=max(1, h_h // 2))
    max_lag = max(1, min(_frames(config.xcorr_max_lag_fs, dt), len(a) // 2))
    lags, value = cross_correlation(a, m, max_lag)
    ok = np.isfinite(value)
    k = int(np.nanargmax(np.abs(value))) if ok.any() else 0
    n_units = int(((a.std(axis=0) > 0) & (m.std(axis=0) > 0)).sum())
    return CrossCorrelation(lag_ps=lags * dt / 1000.0, value=value, r_A=config.coincidence_r_A,
                            peak_lag_ps=float(lags[k] * dt / 1000.0),
                            peak_value=float(value[k]) if ok.any() else float("nan"),
                            n_units=n_units)


def sites_from_structure(path, species: str) -> tuple[tuple[float, float, float], ...]:
    """Fractional coordinates of the ``species`` atoms of a structure file, as cation sites.

    The structure must have the trajectory's cell (same supercell and atom frame): the
    sites are placed at these fractional coordinates of every frame's cell.

    Raises
    ------
    UserInputError
        An unreadable file or no atom of ``species`` in it.
    """
    import ase.io

    try:
        atoms = ase.io.read(str(path))
    except Exception as exc:  # ase raises many types for unknown or broken files
        raise UserInputError(f"cannot read the sites structure {path}: {exc}") from exc
    symbols = np.array(atoms.get_chemical_symbols())
    frac = atoms.get_scaled_positions(wrap=True)[symbols == species]
    if not len(frac):
        raise UserInputError(f"{path} holds no {species} atom to use as a site")
    return tuple(tuple(float(x) for x in row) for row in frac)
