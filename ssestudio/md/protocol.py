"""MD protocols: small composable sequences of stages, each one :class:`MDConfig`.

A :class:`Stage` is one segment (ensemble, targets and their linear ramps, length) with
the output it is written to; a :class:`Protocol` is a sequence of stages run one after
the other on the same atoms, the dynamics continuing from stage to stage. Protocols
compose with ``+``. :meth:`Protocol.schedule` gives the target temperature and pressure
against time before anything runs (for plotting). The runner is
:func:`ssestudio.md.engine.run_protocol`; :func:`ssestudio.md.run_md` is a one-stage
protocol.

Builders: :func:`md_stage` (one stage from a duration), :func:`equilibrate` (hold at a
temperature, NVT or NPT) and :func:`temperature_ramp` (heat or cool at a given rate,
e.g. to locate a phase transition). The melt-quench protocol is in
:mod:`ssestudio.md.meltquench`.

Example::

    base = MDConfig(timestep_fs=2.0, write_interval=10)
    protocol = (equilibrate(600.0, 5.0, ensemble="npt-mtk-iso", base=base)
                + temperature_ramp(600.0, 1200.0, rate_K_per_ps=20.0, base=base))
    times, temps = protocol.schedule().time_ps, protocol.schedule().temperature_K
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ssestudio.core.errors import UserInputError
from ssestudio.md.integrators import get_integrator
from ssestudio.md.runner import MDConfig

StartCell = Literal["current", "mean"]


@dataclass(frozen=True)
class Stage:
    """One segment of a protocol.

    Parameters
    ----------
    name : str
        Label (unique in a protocol), e.g. ``"quench"``.
    config : MDConfig
        The segment: ensemble, targets and ramps, time step, ``n_steps``, write interval,
        checks. ``init_velocities`` draws fresh velocities at its start; ``seed`` is
        ignored (the protocol's seed drives every stage).
    output : str or None
        Key of the output (trajectory and thermo log) its frames go to; stages sharing
        an output continue its step count and time. None: not written (checks and
        statistics only).
    start_cell : {"current", "mean"}
        ``"mean"``: before the stage, set the cell to the mean cell of the second half of
        the previous stage's written frames, scaling the positions (e.g. an NVT
        production at the volume an NPT run found).
    """

    name: str
    config: MDConfig
    output: str | None = "main"
    start_cell: StartCell = "current"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise UserInputError(f"a stage needs a non-empty name, got {self.name!r}")
        if not isinstance(self.config, MDConfig):
            raise UserInputError(f"stage {self.name!r}: config must be an MDConfig, got "
                                 f"{type(self.config).__name__}")
        if self.start_cell not in ("current", "mean"):
            raise UserInputError(f"stage {self.name!r}: start_cell must be 'current' or "
                                 f"'mean', got {self.start_cell!r}")


@dataclass(frozen=True)
class ScheduleArrays:
    """Targets of a protocol against time, as the breakpoints of piecewise-linear curves.

    Two points per stage (its start and end), so that ``plot(time_ps, temperature_K)``
    draws the schedule. Arrays have shape (2 n_stages,).

    Attributes
    ----------
    time_fs : ndarray
        Time since the protocol's start, fs.
    temperature_K : ndarray
        Thermostat target, K (NaN in stages without a thermostat).
    pressure_GPa : ndarray
        Barostat target, GPa (NaN in stages without a barostat).
    stage : ndarray of int
        Index of the stage each point belongs to.
    stage_names : tuple of str
        Name of each stage.
    ensembles : tuple of str
        Ensemble of each stage.
    """

    time_fs: np.ndarray
    temperature_K: np.ndarray
    pressure_GPa: np.ndarray
    stage: np.ndarray
    stage_names: tuple[str, ...]
    ensembles: tuple[str, ...]

    @property
    def time_ps(self) -> np.ndarray:
        """``time_fs / 1000``."""
        return self.time_fs / 1000.0

    def temperature_at(self, time_fs: float | np.ndarray) -> np.ndarray:
        """The target temperature at ``time_fs`` (linear between breakpoints; at a stage
        boundary the later stage's value), K."""
        t = np.atleast_1d(np.asarray(time_fs, dtype=float))
        k = np.clip(np.searchsorted(self.time_fs, t, side="right") - 1, 0, len(self.time_fs) - 2)
        k = k - (k % 2)  # the start point of the stage containing t
        t0, t1 = self.time_fs[k], self.time_fs[k + 1]
        f = np.where(t1 > t0, np.clip((t - t0) / np.where(t1 > t0, t1 - t0, 1.0), 0, 1), 0.0)
        return self.temperature_K[k] + f * (self.temperature_K[k + 1] - self.temperature_K[k])

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable (NaN as None)."""
        def clean(a):
            return [None if not np.isfinite(v) else float(v) for v in a]

        return {"time_fs": clean(self.time_fs), "temperature_K": clean(self.temperature_K),
                "pressure_GPa": clean(self.pressure_GPa), "stage": self.stage.tolist(),
                "stage_names": list(self.stage_names), "ensembles": list(self.ensembles)}


@dataclass(frozen=True)
class Protocol:
    """A sequence of stages run one after another on the same atoms.

    Parameters
    ----------
    stages : tuple of Stage
        At least one; unique names. Stages sharing an output must share ``timestep_fs``
        and ``write_interval`` (one frame interval per trajectory).
    seed : int, optional
        Seed of all random numbers (velocities, thermostat noise); None draws one.
    """

    stages: tuple[Stage, ...]
    seed: int | None = None

    def __post_init__(self) -> None:
        stages = tuple(self.stages)
        object.__setattr__(self, "stages", stages)
        if not stages or not all(isinstance(s, Stage) for s in stages):
            raise UserInputError("a protocol needs at least one Stage")
        names = [s.name for s in stages]
        if len(set(names)) != len(names):
            raise UserInputError(f"stage names must be unique within a protocol, got {names}")
        if stages[0].start_cell == "mean":
            raise UserInputError(f"the first stage ({names[0]!r}) cannot start at the mean "
                                 "cell of a previous stage: there is none")
        if self.seed is not None and (not isinstance(self.seed, (int, np.integer))
                                      or isinstance(self.seed, bool) or self.seed < 0):
            raise UserInputError(f"seed must be a non-negative integer or None, got "
                                 f"{self.seed!r}")
        frame = {}
        for s in stages:
            if s.output is None:
                continue
            key = (s.config.timestep_fs, s.config.write_interval)
            if frame.setdefault(s.output, key) != key:
                raise UserInputError(
                    f"stages written to output {s.output!r} must share timestep_fs and "
                    f"write_interval (one frame interval per trajectory); stage {s.name!r} "
                    f"has {key}, an earlier one {frame[s.output]}")

    def __add__(self, other: "Protocol") -> "Protocol":
        """``self`` then ``other``; ``other`` continues the dynamics (its stages'
        ``init_velocities`` are switched off). The seed is ``self``'s (else ``other``'s)."""
        if not isinstance(other, Protocol):
            return NotImplemented
        cont = tuple(dataclasses.replace(s, config=dataclasses.replace(
            s.config, init_velocities=False)) for s in other.stages)
        return Protocol(self.stages + cont, seed=self.seed if self.seed is not None
                        else other.seed)

    def with_seed(self, seed: int | None) -> "Protocol":
        """The same protocol with another seed."""
        return dataclasses.replace(self, seed=seed)

    @property
    def n_steps(self) -> int:
        """Steps of all stages."""
        return sum(s.config.n_steps for s in self.stages)

    @property
    def duration_fs(self) -> float:
        """Simulated time of all stages, fs."""
        return sum(s.config.duration_fs for s in self.stages)

    @property
    def outputs(self) -> tuple[str, ...]:
        """Output keys in order of first use."""
        return tuple(dict.fromkeys(s.output for s in self.stages if s.output is not None))

    def schedule(self) -> ScheduleArrays:
        """Target temperature and pressure against time (:class:`ScheduleArrays`)."""
        times, temps, pressures, index = [], [], [], []
        t = 0.0
        for k, s in enumerate(self.stages):
            c, entry = s.config, get_integrator(s.config.ensemble)
            t_end = c.temperature_K if c.end_temperature_K is None else c.end_temperature_K
            p_end = c.pressure_GPa if c.end_pressure_GPa is None else c.end_pressure_GPa
            times += [t, t + c.duration_fs]
            temps += [c.temperature_K, t_end] if entry.thermostat else [np.nan, np.nan]
            pressures += [c.pressure_GPa, p_end] if entry.barostat else [np.nan, np.nan]
            index += [k, k]
            t += c.duration_fs
        return ScheduleArrays(np.array(times), np.array(temps, dtype=float),
                              np.array(pressures, dtype=float), np.array(index),
                              tuple(s.name for s in self.stages),
                              tuple(s.config.ensemble for s in self.stages))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable description (stages with their configs, seed)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


def steps_for(duration_ps: float, config: MDConfig) -> int:
    """Steps of ``duration_ps`` at ``config.timestep_fs``, rounded to a whole number of
    write intervals (at least one), so that every stage ends on a written frame."""
    if not (isinstance(duration_ps, (int, float)) and duration_ps > 0):
        raise UserInputError(f"a stage duration must be > 0 ps, got {duration_ps!r}")
    frames = max(1, round(duration_ps * 1000.0 / config.timestep_fs / config.write_interval))
    return int(frames * config.write_interval)


def md_stage(name: str, duration_ps: float, *, ensemble: str, temperature_K: float,
             end_temperature_K: float | None = None, pressure_GPa: float = 0.0,
             base: MDConfig | None = None, output: str | None = "main",
             init_velocities: bool = False, start_cell: StartCell = "current") -> Stage:
    """One :class:`Stage` of ``duration_ps`` picoseconds.

    Parameters
    ----------
    name : str
        Stage label.
    duration_ps : float
        Length, ps (rounded by :func:`steps_for`).
    ensemble : str
        Integrator name.
    temperature_K, end_temperature_K : float
        Target at the start, and at the end for a linear ramp, K.
    pressure_GPa : float
        Barostat target (NPT ensembles only), GPa.
    base : MDConfig, optional
        Shared settings (time step, write interval, thermostat and barostat times,
        checks); its ensemble, targets and length are replaced.
    output : str or None
        Output key (None: not written).
    init_velocities : bool
        Draw Maxwell-Boltzmann velocities at ``temperature_K`` at the start.
    start_cell : {"current", "mean"}
        See :class:`Stage`.
    """
    base = base or MDConfig()
    barostat = get_integrator(ensemble).barostat
    config = dataclasses.replace(
        base, ensemble=ensemble, temperature_K=float(temperature_K),
        end_temperature_K=None if end_temperature_K is None else float(end_temperature_K),
        pressure_GPa=float(pressure_GPa) if barostat else 0.0, end_pressure_GPa=None,
        n_steps=steps_for(duration_ps, base), init_velocities=init_velocities, seed=None)
    return Stage(name, config, output=output, start_cell=start_cell)


def equilibrate(temperature_K: float, duration_ps: float, *, ensemble: str = "nvt-bussi",
                pressure_GPa: float = 0.0, base: MDConfig | None = None,
                output: str | None = "main", name: str = "equilibrate",
                init_velocities: bool = True, seed: int | None = None) -> Protocol:
    """Hold ``temperature_K`` (and ``pressure_GPa`` with an NPT ensemble) for
    ``duration_ps``; velocities drawn at the start unless ``init_velocities=False``."""
    return Protocol((md_stage(name, duration_ps, ensemble=ensemble, temperature_K=temperature_K,
                              pressure_GPa=pressure_GPa, base=base, output=output,
                              init_velocities=init_velocities),), seed=seed)


def temperature_ramp(start_K: float, end_K: float, *, rate_K_per_ps: float,
                     ensemble: str = "npt-mtk-iso", pressure_GPa: float = 0.0,
                     base: MDConfig | None = None, output: str | None = "main",
                     name: str = "ramp", init_velocities: bool = True,
                     seed: int | None = None) -> Protocol:
    """Heat or cool linearly from ``start_K`` to ``end_K`` at ``rate_K_per_ps`` (K/ps, > 0),
    by default at constant pressure so that the volume (density) follows: a jump in
    volume or enthalpy against T marks a phase transition or the glass transition.

    The target changes every ``base.schedule_interval`` steps.
    """
    if not (isinstance(rate_K_per_ps, (int, float)) and rate_K_per_ps > 0):
        raise UserInputError(f"rate_K_per_ps must be > 0 K/ps, got {rate_K_per_ps!r}")
    if start_K == end_K:
        raise UserInputError("a temperature ramp needs start_K != end_K; use equilibrate() "
                             "to hold one temperature")
    duration = abs(end_K - start_K) / rate_K_per_ps
    return Protocol((md_stage(name, duration, ensemble=ensemble, temperature_K=start_K,
                              end_temperature_K=end_K, pressure_GPa=pressure_GPa, base=base,
                              output=output, init_velocities=init_velocities),), seed=seed)
