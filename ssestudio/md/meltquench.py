"""The melt-quench protocol that turns a random packing (or a crystal) into a glass.

Stages (:func:`melt_quench_protocol`; those of zero length are left out):

1. ``heat``: NVT ramp from ``start_K`` to ``melt_K`` over ``heat_ps`` (velocities drawn
   at ``start_K``);
2. ``melt``: NVT at ``melt_K`` for ``hold_ps`` (the liquid forgets its start);
3. ``quench``: NVT ramp from ``melt_K`` to ``anneal_K`` at ``quench_rate_K_per_ps``;
4. ``anneal``: NVT at ``anneal_K`` for ``anneal_ps``;
5. ``cool``: NVT ramp ``anneal_K`` to ``final_K`` at the quench rate (only when they differ);
6. ``relax``: NPT (MTK barostat) at ``final_K`` and ``pressure_GPa`` for ``relax_ps``: the
   glass finds its density;
7. ``production``: NVT at ``final_K`` for ``production_ps`` in the mean cell of the second
   half of ``relax``, written to its own output (``"production"``), for transport.

Stages 1-6 write to the output ``"protocol"``. The heating, melting and quenching run at
the volume of the start structure (a random packing at the expected glass density,
:func:`ssestudio.data.glass.random_glass`). Quench rates reachable by MD (1-100 K/ps, i.e.
1e12-1e14 K/s) are many orders above experiment; slower quenches give more relaxed
glasses, so compare densities and speciation between rates before trusting one.

Presets (:data:`MELT_QUENCH_PRESETS`) trade accuracy for time: ``quick`` (minutes on two
CPU cores with a default-size model: 200 atoms, 26 ps with 2 fs steps), ``workshop``
(about half an hour: 256 atoms, 130 ps) and ``research`` (1,000 atoms, 830 ps; hours).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from ssestudio.core.errors import UserInputError
from ssestudio.md.integrators import get_integrator
from ssestudio.md.protocol import Protocol, ScheduleArrays, Stage, md_stage
from ssestudio.md.runner import MDConfig


@dataclass(frozen=True)
class MeltQuenchConfig:
    """Temperatures, durations and MD settings of a melt-quench.

    Parameters
    ----------
    start_K : float
        Temperature of the initial velocities, K.
    melt_K : float
        Melt temperature, K (well above the liquidus; 1500 K for Li2S-P2S5).
    heat_ps : float
        Heating ramp ``start_K`` -> ``melt_K``, ps (0: start at ``melt_K``).
    hold_ps : float
        Time in the melt, ps (> 0).
    quench_rate_K_per_ps : float
        Cooling rate, K/ps (> 0; 10 K/ps = 1e13 K/s).
    final_K : float
        Temperature of the glass, K.
    anneal_K : float, optional
        Annealing temperature, K (between ``final_K`` and ``melt_K``; None: ``final_K``).
    anneal_ps : float
        Time at ``anneal_K``, ps (0: none).
    relax_ps : float
        NPT relaxation at ``final_K`` and ``pressure_GPa``, ps (0: none).
    pressure_GPa : float
        Pressure of the NPT relaxation, GPa.
    production_ps : float
        NVT production at ``final_K`` in the relaxed cell, ps (0: none).
    timestep_fs : float
        Time step, fs (1 fs is safe for Li at 1500 K; 2 fs trades accuracy for speed).
    write_interval : int
        Steps between written frames.
    thermostat : str
        NVT ensemble of the NVT stages (``nvt-bussi``: canonical, dynamics barely touched).
    barostat : str
        NPT ensemble of the relaxation (``npt-mtk-iso``; ``npt-mtk-aniso`` for a cell
        that may shear).
    thermostat_time_fs, barostat_time_fs : float
        Thermostat and barostat time constants, fs.
    schedule_interval : int
        Steps between target updates during ramps.
    min_distance_A : float
        Explosion check: closest allowed approach of two atoms, Å.
    max_uncertainty_eV_A : float, optional
        Stop when an ensemble's force deviation exceeds this, eV/Å.
    """

    start_K: float = 300.0
    melt_K: float = 1500.0
    heat_ps: float = 5.0
    hold_ps: float = 20.0
    quench_rate_K_per_ps: float = 50.0
    final_K: float = 300.0
    anneal_K: float | None = None
    anneal_ps: float = 10.0
    relax_ps: float = 20.0
    pressure_GPa: float = 0.0
    production_ps: float = 50.0
    timestep_fs: float = 1.0
    write_interval: int = 50
    thermostat: str = "nvt-bussi"
    barostat: str = "npt-mtk-iso"
    thermostat_time_fs: float = 100.0
    barostat_time_fs: float = 1000.0
    schedule_interval: int = 10
    min_distance_A: float = 0.5
    max_uncertainty_eV_A: float | None = 1.0

    def __post_init__(self) -> None:
        for name in ("hold_ps", "quench_rate_K_per_ps", "melt_K"):
            if not _number(getattr(self, name)) or getattr(self, name) <= 0:
                raise UserInputError(f"melt-quench {name} must be > 0, got "
                                     f"{getattr(self, name)!r}")
        for name in ("start_K", "final_K", "heat_ps", "anneal_ps", "relax_ps", "production_ps"):
            if not _number(getattr(self, name)) or getattr(self, name) < 0:
                raise UserInputError(f"melt-quench {name} must be >= 0, got "
                                     f"{getattr(self, name)!r}")
        anneal = self.anneal_temperature_K
        if not self.final_K <= anneal < self.melt_K:
            raise UserInputError(f"melt-quench temperatures must satisfy final_K <= anneal_K < "
                                 f"melt_K, got final {self.final_K} K, anneal {anneal} K, melt "
                                 f"{self.melt_K} K")
        if not get_integrator(self.thermostat).thermostat or get_integrator(
                self.thermostat).barostat:
            raise UserInputError(f"thermostat must be an NVT ensemble (nvt-bussi, nvt-langevin, "
                                 f"nvt-nhc), got {self.thermostat!r}")
        if not get_integrator(self.barostat).barostat:
            raise UserInputError(f"barostat must be an NPT ensemble (npt-mtk-iso, npt-mtk-aniso, "
                                 f"npt-mtk-axes), got {self.barostat!r}")
        self.base()  # checks the MD settings

    @property
    def anneal_temperature_K(self) -> float:
        """``anneal_K``, or ``final_K`` when None."""
        return self.final_K if self.anneal_K is None else float(self.anneal_K)

    def base(self) -> MDConfig:
        """The MD settings shared by all stages."""
        return MDConfig(timestep_fs=self.timestep_fs, write_interval=self.write_interval,
                        thermostat_time_fs=self.thermostat_time_fs,
                        barostat_time_fs=self.barostat_time_fs,
                        schedule_interval=self.schedule_interval,
                        min_distance_A=self.min_distance_A,
                        max_uncertainty_eV_A=self.max_uncertainty_eV_A)

    @property
    def quench_ps(self) -> float:
        """Duration of the quench, ps."""
        return (self.melt_K - self.anneal_temperature_K) / self.quench_rate_K_per_ps


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class MeltQuenchPreset:
    """A named melt-quench: its config and the system size it is meant for.

    Attributes
    ----------
    config : MeltQuenchConfig
    n_atoms : int
        Default number of atoms of the random start.
    description : str
        One line for listings.
    """

    config: MeltQuenchConfig
    n_atoms: int
    description: str


#: Presets trading accuracy for time (see the module docstring).
MELT_QUENCH_PRESETS: Mapping[str, MeltQuenchPreset] = MappingProxyType({
    "quick": MeltQuenchPreset(
        MeltQuenchConfig(heat_ps=2.0, hold_ps=4.0, quench_rate_K_per_ps=200.0, anneal_ps=2.0,
                         relax_ps=6.0, production_ps=6.0, timestep_fs=2.0, write_interval=25),
        200, "minutes: 200 atoms, 2 fs steps, 4 ps melt, 200 K/ps quench, 26 ps in all"),
    "workshop": MeltQuenchPreset(
        MeltQuenchConfig(heat_ps=5.0, hold_ps=20.0, quench_rate_K_per_ps=50.0, anneal_ps=10.0,
                         relax_ps=20.0, production_ps=50.0, timestep_fs=1.0, write_interval=50),
        256, "about half an hour: 256 atoms, 1 fs steps, 20 ps melt, 50 K/ps quench, 129 ps"),
    "research": MeltQuenchPreset(
        MeltQuenchConfig(heat_ps=10.0, hold_ps=50.0, quench_rate_K_per_ps=10.0, anneal_ps=50.0,
                         relax_ps=100.0, production_ps=500.0, timestep_fs=1.0,
                         write_interval=100),
        1000, "hours: 1000 atoms, 1 fs steps, 50 ps melt, 10 K/ps quench, 830 ps"),
})


def get_preset(name: str) -> MeltQuenchPreset:
    """The preset ``name`` (UserInputError listing the choices if unknown)."""
    if name not in MELT_QUENCH_PRESETS:
        raise UserInputError(f"unknown melt-quench preset {name!r}; choose one of "
                             f"{', '.join(MELT_QUENCH_PRESETS)}")
    return MELT_QUENCH_PRESETS[name]


def preset_config(preset: str = "quick", overrides: Mapping | None = None) -> MeltQuenchConfig:
    """The config of ``preset`` with some fields replaced.

    Raises
    ------
    UserInputError
        Unknown preset or field, or an invalid value.
    """
    fields = {f.name for f in dataclasses.fields(MeltQuenchConfig)}
    unknown = sorted(set(overrides or {}) - fields)
    if unknown:
        raise UserInputError(f"unknown melt-quench settings {unknown}; valid ones: "
                             f"{', '.join(sorted(fields))}")
    return dataclasses.replace(get_preset(preset).config, **dict(overrides or {}))


def melt_quench_protocol(config: MeltQuenchConfig | None = None, *,
                         seed: int | None = None) -> Protocol:
    """The stages of a melt-quench (module docstring), as a :class:`Protocol`.

    Parameters
    ----------
    config : MeltQuenchConfig, optional
        Default ``MeltQuenchConfig()``.
    seed : int, optional
        Protocol seed (None: drawn when run).
    """
    c = config or MeltQuenchConfig()
    base, anneal = c.base(), c.anneal_temperature_K

    def nvt(name, duration, t0, t1=None, **kwargs) -> Stage:
        return md_stage(name, duration, ensemble=c.thermostat, temperature_K=t0,
                        end_temperature_K=t1, base=base, output="protocol", **kwargs)

    stages = []
    if c.heat_ps > 0:
        stages.append(nvt("heat", c.heat_ps, c.start_K, c.melt_K, init_velocities=True))
    stages.append(nvt("melt", c.hold_ps, c.melt_K, init_velocities=not stages))
    stages.append(nvt("quench", c.quench_ps, c.melt_K, anneal))
    if c.anneal_ps > 0:
        stages.append(nvt("anneal", c.anneal_ps, anneal))
    if anneal > c.final_K:
        stages.append(nvt("cool", (anneal - c.final_K) / c.quench_rate_K_per_ps, anneal,
                          c.final_K))
    if c.relax_ps > 0:
        stages.append(md_stage("relax", c.relax_ps, ensemble=c.barostat, temperature_K=c.final_K,
                               pressure_GPa=c.pressure_GPa, base=base, output="protocol"))
    if c.production_ps > 0:
        stages.append(dataclasses.replace(
            nvt("production", c.production_ps, c.final_K), output="production",
            start_cell="mean" if c.relax_ps > 0 else "current"))
    return Protocol(tuple(stages), seed=seed)


def melt_quench_schedule(config: MeltQuenchConfig | str | None = None) -> ScheduleArrays:
    """Target temperature and pressure of a melt-quench against time, before it runs.

    Parameters
    ----------
    config : MeltQuenchConfig or str, optional
        A config, or a preset name (:data:`MELT_QUENCH_PRESETS`); default
        ``MeltQuenchConfig()``.

    Returns
    -------
    ScheduleArrays
        Breakpoints (two per stage) of ``temperature_K`` and ``pressure_GPa`` (NaN outside
        the NPT relaxation) against ``time_fs``; ``stage_names`` name the stages.
    """
    if isinstance(config, str):
        config = get_preset(config).config
    return melt_quench_protocol(config).schedule()
