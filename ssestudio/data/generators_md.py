"""MD generators: ``md_snapshots`` and ``melt_snapshots``.

Short Langevin NVT runs through the project's MD runner (:func:`ssestudio.md.run_md`,
integrator ``"nvt-langevin"``), with a calculator given by name and options
(:func:`ssestudio.calculators.get_calculator`), so a pipeline stays JSON. Every run starts
from the input structure (each temperature independently), equilibrates, then takes one
snapshot every ``interval`` steps. The runner's explosion checks (non-finite energy or
positions, two atoms closer than ``min_distance_A``, temperature above 10x the target)
stop a run with :class:`~ssestudio.data.generators_core.GeneratorError`. Each snapshot's
provenance records ``temperature_K`` (the thermostat's target). Units: K, fs, Å.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ssestudio.core.errors import UserInputError
from ssestudio.data.generators_core import (
    GeneratorError,
    annotate,
    as_float,
    as_int,
    draw_until_sane,
    fresh_copy,
    register_generator,
    require_cell,
)

if TYPE_CHECKING:
    from ase import Atoms
    from ase.constraints import FixConstraint

    from ssestudio.md import MDConfig


@dataclass(frozen=True)
class _Sampling:
    """How to sample one temperature (validated generator parameters)."""

    calculator: str
    calculator_options: dict[str, Any]
    n_snapshots: int
    equilibration_steps: int
    interval: int
    timestep_fs: float
    friction_per_fs: float
    min_distance_A: float
    where: str

    @classmethod
    def from_params(cls, where: str, *, calculator: Any, calculator_options: Any,
                    n_snapshots: Any, equilibration_steps: Any, interval: Any, timestep_fs: Any,
                    friction_per_fs: Any, min_distance_A: Any) -> _Sampling:
        if not isinstance(calculator, str) or not calculator.strip():
            raise UserInputError(f"{where}.calculator must be a calculator name such as 'emt', "
                                 f"'sevenn' or 'module:Class', got {calculator!r}")
        if calculator_options is not None and not isinstance(calculator_options, dict):
            raise UserInputError(f"{where}.calculator_options must be a dict of keyword "
                                 f"arguments, got {calculator_options!r}")
        return cls(calculator.strip(), dict(calculator_options or {}),
                   as_int(n_snapshots, where=f"{where}.n_snapshots", minimum=1),
                   as_int(equilibration_steps, where=f"{where}.equilibration_steps"),
                   as_int(interval, where=f"{where}.interval", minimum=1),
                   as_float(timestep_fs, where=f"{where}.timestep_fs", low=0.0, low_open=True),
                   as_float(friction_per_fs, where=f"{where}.friction_per_fs", low=0.0,
                            low_open=True),
                   as_float(min_distance_A, where=f"{where}.min_distance_A", low=0.0), where)

    def config(self, temperature_K: float, *, n_steps: int, write_interval: int,
               seed: int, init_velocities: bool) -> MDConfig:
        """The runner's :class:`~ssestudio.md.MDConfig` of one phase."""
        from ssestudio.md import MDConfig

        return MDConfig(ensemble="nvt-langevin", temperature_K=temperature_K,
                        timestep_fs=self.timestep_fs, n_steps=n_steps,
                        write_interval=write_interval, friction_per_fs=self.friction_per_fs,
                        seed=seed, init_velocities=init_velocities,
                        min_distance_A=self.min_distance_A)


def _snapshot(work: Atoms, *, constraints: list[FixConstraint], temperature_K: float,
              step: int, timestep_fs: float) -> Atoms:
    """The current state of ``work`` without velocities, with the input's constraints (the
    runner holds the centre of mass by an extra FixCom during the run)."""
    snap = fresh_copy(work)
    snap.set_constraint(copy.deepcopy(constraints))
    kinetic_K = float(work.get_temperature())
    if "momenta" in snap.arrays:
        del snap.arrays["momenta"]
    return annotate(snap, temperature_K=temperature_K, md_step=step,
                    time_fs=step * timestep_fs, kinetic_temperature_K=round(kinetic_K, 3))


def _sample(atoms: Atoms, plan: _Sampling, temperature_K: float,
            rng: np.random.Generator) -> list[Atoms]:
    """Equilibrate a copy of ``atoms`` at ``temperature_K``, then take the snapshots."""
    from ssestudio.calculators import get_calculator
    from ssestudio.md import run_md

    calc = get_calculator(plan.calculator, **plan.calculator_options)
    work = fresh_copy(atoms)
    equil = plan.equilibration_steps
    snaps: list[Atoms] = []

    def take() -> bool:
        step = equil + len(snaps) * plan.interval  # the first call is at production step 0
        snaps.append(_snapshot(work, constraints=atoms.constraints, temperature_K=temperature_K,
                               step=step, timestep_fs=plan.timestep_fs))
        return False

    if equil:
        run_md(work, calc, plan.config(temperature_K, n_steps=equil,
                                       write_interval=min(plan.interval, equil),
                                       seed=int(rng.integers(2**32)), init_velocities=True))
    run_md(work, calc, plan.config(temperature_K, n_steps=plan.n_snapshots * plan.interval,
                                   write_interval=plan.interval, seed=int(rng.integers(2**32)),
                                   init_velocities=not equil), should_stop=take)
    work.calc = None
    return snaps[1:]


def _run(atoms: Atoms, plan: _Sampling, temperatures_K: list[float],
         rng: np.random.Generator) -> list[Atoms]:
    from ssestudio.md import MDExplodedError

    out = []
    for temperature in temperatures_K:
        try:
            out += _sample(atoms, plan, temperature, rng)
        except MDExplodedError as exc:
            raise GeneratorError(f"{plan.where} at {temperature:g} K with calculator "
                                 f"{plan.calculator!r}: {exc}") from exc
    return out


def _temperatures(value: Any, *, where: str) -> list[float]:
    values = value if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise UserInputError(f"{where} must list at least one temperature in K, e.g. [300, 600]")
    return [as_float(t, where=where, low=0.0, low_open=True) for t in values]


@register_generator("md_snapshots")
def md_snapshots(atoms: Atoms, *, rng: np.random.Generator, calculator: str,
                 calculator_options: dict[str, Any] | None = None,
                 temperatures_K: list[float] = (300.0,), n_snapshots: int = 5,
                 equilibration_steps: int = 100, interval: int = 10, timestep_fs: float = 1.0,
                 friction_per_fs: float = 0.01, min_distance_A: float = 0.5) -> list[Atoms]:
    """Snapshots of short Langevin NVT runs at one or several temperatures.

    Parameters
    ----------
    atoms : ase.Atoms
        Starting structure of every run.
    rng : numpy.random.Generator
        Source of the runs' seeds (velocities and thermostat noise).
    calculator : str
        Calculator name for :func:`ssestudio.calculators.get_calculator` (``"emt"``,
        ``"lj"``, ``"sevenn"``, ``"chgnet"`` or ``"module.path:ClassName"``).
    calculator_options : dict, optional
        Keyword arguments of the calculator, e.g. ``{"sigma": 2.0}`` for ``lj``.
    temperatures_K : list of float
        Thermostat temperatures, K; one independent run per temperature.
    n_snapshots : int
        Snapshots per temperature.
    equilibration_steps : int
        Steps run before the first snapshot window (0: start sampling at once).
    interval : int
        Steps between snapshots.
    timestep_fs : float
        Time step, fs.
    friction_per_fs : float
        Langevin friction, fs^-1 (0.01 fs^-1 = 10 ps^-1).
    min_distance_A : float
        The run stops with an error when two atoms come closer than this, Å.

    Returns
    -------
    list of ase.Atoms
        ``len(temperatures_K) * n_snapshots`` snapshots, temperature by temperature, taken
        at steps ``equilibration_steps + k * interval`` (k = 1..n_snapshots); notes
        ``temperature_K``, ``md_step``, ``time_fs``, ``kinetic_temperature_K``.
    """
    temperatures = _temperatures(temperatures_K, where="md_snapshots.temperatures_K")
    plan = _Sampling.from_params(
        "md_snapshots", calculator=calculator, calculator_options=calculator_options,
        n_snapshots=n_snapshots, equilibration_steps=equilibration_steps, interval=interval,
        timestep_fs=timestep_fs, friction_per_fs=friction_per_fs, min_distance_A=min_distance_A)
    return _run(atoms, plan, temperatures, rng)


def _melt_start(atoms: Atoms, *, volume_scale: float, rattle_stdev_A: float,
                min_distance_A: float, rng: np.random.Generator) -> Atoms:
    """``atoms`` with the cell scaled to ``volume_scale`` x its volume, then rattled."""
    start = fresh_copy(atoms)
    start.set_cell(atoms.cell[:] * volume_scale ** (1.0 / 3.0), scale_atoms=True)
    if rattle_stdev_A == 0:
        return start

    def rattled() -> Atoms:
        out = fresh_copy(start)
        out.set_positions(start.positions + rng.normal(0.0, rattle_stdev_A, (len(start), 3)))
        return out

    return draw_until_sane(rattled, min_distance_A=min_distance_A, where="melt_snapshots")


@register_generator("melt_snapshots")
def melt_snapshots(atoms: Atoms, *, rng: np.random.Generator, calculator: str,
                   calculator_options: dict[str, Any] | None = None,
                   temperature_K: float = 1200.0, n_snapshots: int = 5,
                   equilibration_steps: int = 200, interval: int = 20, timestep_fs: float = 1.0,
                   volume_scale: float = 1.0, rattle_stdev_A: float = 0.1,
                   friction_per_fs: float = 0.01, min_distance_A: float = 0.5) -> list[Atoms]:
    """Snapshots of a melt: a rattled, optionally expanded structure run hot (NVT).

    Parameters
    ----------
    atoms : ase.Atoms
        Starting structure (3D cell).
    rng : numpy.random.Generator
        Source of the rattle and the run's seeds.
    calculator : str
        Calculator name for :func:`ssestudio.calculators.get_calculator`.
    calculator_options : dict, optional
        Keyword arguments of the calculator.
    temperature_K : float
        Thermostat temperature, K (above the melting point of the model).
    n_snapshots : int
        Snapshots taken.
    equilibration_steps : int
        Steps run before the first snapshot window.
    interval : int
        Steps between snapshots.
    timestep_fs : float
        Time step, fs.
    volume_scale : float
        Cell volume of the melt relative to the input (atoms scaled with the cell), e.g.
        1.1 for the ~10 % expansion of a melt.
    rattle_stdev_A : float
        Gaussian displacement (per component, Å) applied before the run, to break symmetry.
    friction_per_fs : float
        Langevin friction, fs^-1.
    min_distance_A : float
        The run stops with an error when two atoms come closer than this, Å.

    Returns
    -------
    list of ase.Atoms
        ``n_snapshots`` snapshots; notes ``temperature_K``, ``md_step``, ``time_fs``,
        ``kinetic_temperature_K``, ``volume_scale``.
    """
    require_cell(atoms, where="melt_snapshots")
    temperature = as_float(temperature_K, where="melt_snapshots.temperature_K", low=0.0,
                           low_open=True)
    scale = as_float(volume_scale, where="melt_snapshots.volume_scale", low=0.0, low_open=True)
    stdev = as_float(rattle_stdev_A, where="melt_snapshots.rattle_stdev_A", low=0.0)
    plan = _Sampling.from_params(
        "melt_snapshots", calculator=calculator, calculator_options=calculator_options,
        n_snapshots=n_snapshots, equilibration_steps=equilibration_steps, interval=interval,
        timestep_fs=timestep_fs, friction_per_fs=friction_per_fs, min_distance_A=min_distance_A)
    start = _melt_start(atoms, volume_scale=scale, rattle_stdev_A=stdev,
                        min_distance_A=plan.min_distance_A, rng=rng)
    return [annotate(snap, volume_scale=scale) for snap in _run(start, plan, [temperature], rng)]
