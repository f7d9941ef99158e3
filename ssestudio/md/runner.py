"""Run molecular dynamics with an ASE calculator, writing a live native trajectory.

:class:`MDConfig` says what to simulate (one segment: ensemble, targets and their linear
ramps, time step, length, checks); :func:`run_md` runs it. The loop itself, shared with
multi-stage protocols, is :func:`ssestudio.md.engine.run_protocol`: it propagates the
atoms in chunks with the integrator of :mod:`ssestudio.md.integrators`, and at every
written step checks for an explosion (:mod:`ssestudio.md.checks`), appends a frame to the
native :class:`~ssestudio.io.TrajectoryWriter` and flushes it (a concurrent reader's
``refresh()`` sees it), appends a line to the thermo log (:mod:`ssestudio.md.thermo`),
reports progress, asks whether to stop and, every ``checkpoint_interval`` steps, saves a
checkpoint from which a killed run resumes (:mod:`ssestudio.md.checkpoint`).

Units: temperatures K, pressures GPa, times fs, energies eV, lengths Å.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ssestudio.core.errors import UserInputError
from ssestudio.md.integrators import check_ensemble, get_integrator
from ssestudio.md.thermo import THERMO_COLUMNS

if TYPE_CHECKING:
    from ase import Atoms
    from ase.calculators.calculator import BaseCalculator

    from ssestudio.io import TrajectoryWriter
    from ssestudio.md.checkpoint import Checkpoint

ProgressCallback = Callable[[float, str], None]

__all__ = ["THERMO_COLUMNS", "MDConfig", "MDResult", "default_thermo_path", "open_md_writer",
           "run_md"]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


@dataclass(frozen=True)
class MDConfig:
    """What to simulate and how often to record it.

    Parameters
    ----------
    ensemble : str
        Integrator name (:func:`~ssestudio.md.integrators.available_ensembles`):
        ``"nve"``, ``"nvt-langevin"``, ``"nvt-bussi"``, ``"nvt-nhc"`` (Nosé-Hoover
        chain), ``"npt-mtk-iso"``, ``"npt-mtk-aniso"``, ``"npt-mtk-axes"`` (MTK barostat).
    temperature_K : float
        Target (thermostats) and initial-velocity temperature, K (>= 0).
    timestep_fs : float
        Integration time step, fs (> 0).
    n_steps : int
        Steps to run (>= 1).
    write_interval : int
        Write a frame every this many steps (>= 1); frames are at steps 0, k, 2k, ...
        (steps after the last multiple of k are run but not written).
    friction_per_fs : float
        Langevin friction gamma, fs^-1 (0.01 fs^-1 = 10 ps^-1); converted to ASE units as
        ``gamma / ase.units.fs``.
    seed : int, optional
        Seed of the velocity and thermostat noise; None draws one (reported in the result).
    init_velocities : bool
        Draw Maxwell-Boltzmann velocities at ``temperature_K`` (else keep the atoms' own).
    fix_com : bool
        Hold the centre of mass: a :class:`ase.constraints.FixCom` for the run where the
        integrator takes constraints (nve, nvt-langevin, nvt-bussi), else the
        integrator's own momentum conservation from a zero start (nvt-nhc, npt-*); the
        temperature counts 3N - 3 degrees of freedom.
    min_distance_A : float
        Explosion check: fail when two atoms come closer, Å (0 disables).
    max_temperature_factor : float
        Explosion check: fail when T exceeds this multiple of the target temperature.
    end_temperature_K : float, optional
        Ramp the thermostat target linearly from ``temperature_K`` to this over the run,
        K (heating/cooling); None keeps it constant.
    pressure_GPa : float
        Barostat target (NPT ensembles), GPa (positive compresses).
    end_pressure_GPa : float, optional
        Ramp the pressure target linearly to this over the run, GPa.
    schedule_interval : int
        Steps between updates of a ramped target (>= 1): the target at step ``s`` is the
        ramp's value at ``floor(s / schedule_interval) * schedule_interval``.
    thermostat_time_fs : float
        Thermostat time constant (Bussi ``tau_T``, Nosé-Hoover ``tdamp``), fs.
    barostat_time_fs : float
        MTK barostat time constant ``pdamp``, fs (~1000 time steps). The cell of a stiff
        solid oscillates faster than this, with period about ``2 pi pdamp
        sqrt(N k_B T / (3 V B))`` (bulk modulus ``B``); keep that above ~20 time steps
        (the runaway-volume check stops a run where it is not).
    chain_length : int
        Nosé-Hoover chain length of the NHC thermostat and MTK barostat.
    log_stress : bool
        Compute the stress at every written frame (thermo log pressure and stress, and
        the trajectory's ``stress``) when the calculator can; costs one more force call
        per frame outside NPT.
    max_uncertainty_eV_A : float, optional
        Stop when an ensemble calculator's ``max_force_deviation`` exceeds this, eV/Å
        (far beyond the 0.1-0.3 eV/Å trust levels of active learning); None disables.
    max_volume_factor : float
        NPT explosion check: fail when the volume leaves ``[V0 / f, f V0]``.
    """

    ensemble: str = "nvt-langevin"
    temperature_K: float = 300.0
    timestep_fs: float = 1.0
    n_steps: int = 1000
    write_interval: int = 10
    friction_per_fs: float = 0.01
    seed: int | None = None
    init_velocities: bool = True
    fix_com: bool = True
    min_distance_A: float = 0.5
    max_temperature_factor: float = 10.0
    end_temperature_K: float | None = None
    pressure_GPa: float = 0.0
    end_pressure_GPa: float | None = None
    schedule_interval: int = 10
    thermostat_time_fs: float = 100.0
    barostat_time_fs: float = 1000.0
    chain_length: int = 3
    log_stress: bool = True
    max_uncertainty_eV_A: float | None = 1.0
    max_volume_factor: float = 2.0

    def __post_init__(self) -> None:
        entry = get_integrator(check_ensemble(self.ensemble))
        numbers = ("temperature_K", "timestep_fs", "friction_per_fs", "min_distance_A",
                   "max_temperature_factor", "pressure_GPa", "thermostat_time_fs",
                   "barostat_time_fs", "max_volume_factor")
        optional = ("end_temperature_K", "end_pressure_GPa", "max_uncertainty_eV_A")
        for name in numbers + optional:
            value = getattr(self, name)
            if not (_is_number(value) or (name in optional and value is None)):
                raise UserInputError(f"MD {name} must be a number, got {value!r}")
        checks = {"temperature_K": self.temperature_K >= 0, "timestep_fs": self.timestep_fs > 0,
                  "friction_per_fs": self.friction_per_fs > 0,
                  "min_distance_A": self.min_distance_A >= 0,
                  "max_temperature_factor": self.max_temperature_factor > 1,
                  "pressure_GPa": True, "thermostat_time_fs": self.thermostat_time_fs > 0,
                  "barostat_time_fs": self.barostat_time_fs > 0,
                  "max_volume_factor": self.max_volume_factor > 1,
                  "end_temperature_K": self.end_temperature_K is None
                  or self.end_temperature_K >= 0, "end_pressure_GPa": True,
                  "max_uncertainty_eV_A": self.max_uncertainty_eV_A is None
                  or self.max_uncertainty_eV_A > 0}
        for name, ok in checks.items():
            value = getattr(self, name)
            if not (ok and (value is None or math.isfinite(value))):
                raise UserInputError(f"MD {name} = {value!r} is invalid: see the MDConfig "
                                     "docstring for the allowed range")
        for name in ("n_steps", "write_interval", "schedule_interval", "chain_length"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise UserInputError(f"MD {name} must be an integer >= 1, got {value!r}")
        if self.end_temperature_K is not None and not entry.thermostat:
            raise UserInputError(f"a temperature ramp (end_temperature_K) needs a thermostat; "
                                 f"ensemble {self.ensemble!r} has none: use nvt-* or npt-*")
        if (self.pressure_GPa != 0 or self.end_pressure_GPa is not None) and not entry.barostat:
            raise UserInputError(f"pressure_GPa applies to NPT ensembles (npt-mtk-iso, "
                                 f"npt-mtk-aniso, npt-mtk-axes), not {self.ensemble!r}")

    @property
    def frame_interval_fs(self) -> float:
        """Time between written frames, fs (``write_interval * timestep_fs``)."""
        return self.write_interval * self.timestep_fs

    @property
    def duration_fs(self) -> float:
        """Simulated time, fs (``n_steps * timestep_fs``)."""
        return self.n_steps * self.timestep_fs

    @property
    def ramped(self) -> bool:
        """A target changes during the run."""
        return self.end_temperature_K is not None or self.end_pressure_GPa is not None

    def targets_at(self, step: int) -> tuple[float, float]:
        """Thermostat (K) and barostat (GPa) targets in force at ``step`` (piecewise
        constant over ``schedule_interval`` steps along the linear ramps)."""
        f = min(1.0, (step // self.schedule_interval) * self.schedule_interval / self.n_steps)
        t1 = self.temperature_K if self.end_temperature_K is None else self.end_temperature_K
        p1 = self.pressure_GPa if self.end_pressure_GPa is None else self.end_pressure_GPa
        return (self.temperature_K + f * (t1 - self.temperature_K),
                self.pressure_GPa + f * (p1 - self.pressure_GPa))


@dataclass(frozen=True)
class MDResult:
    """Outcome of :func:`run_md` (and of each stage of a protocol).

    Attributes
    ----------
    n_steps_done : int
        Steps run (fewer than asked when stopped early).
    n_frames : int
        Frames written by this run.
    wall_s : float
        Wall time of the run from the first force call, s.
    atom_steps_per_s : float
        Throughput of the stepping loop, ``n_atoms * n_steps_done / t``, with ``t`` the
        time after step 0 was recorded (so one-off costs such as the first force call
        and imports are left out); I/O and checks included.
    mean_T_K, std_T_K : float
        Mean and standard deviation of the temperature over the written steps after
        step 0 (step 0 alone when nothing else was written), K.
    final_epot_eV, final_etot_eV : float
        Potential and total energy of the final state, eV.
    seed : int
        Seed used.
    stopped : bool
        ``should_stop()`` ended the run early.
    trajectory_path, thermo_path : Path or None
        Files written.
    mean_P_GPa : float or None
        Mean pressure over the same steps as ``mean_T_K``, GPa (None without stress).
    mean_volume_A3, mean_density_g_cm3 : float or None
        Mean cell volume (Å^3) and density (g/cm^3) over the same steps (None without a
        periodic cell).
    max_force_deviation_eV_A : float or None
        Largest ensemble force deviation seen, eV/Å (None when the calculator gives none).
    """

    n_steps_done: int
    n_frames: int
    wall_s: float
    atom_steps_per_s: float
    mean_T_K: float
    std_T_K: float
    final_epot_eV: float
    final_etot_eV: float
    seed: int
    stopped: bool
    trajectory_path: Path | None
    thermo_path: Path | None
    mean_P_GPa: float | None = None
    mean_volume_A3: float | None = None
    mean_density_g_cm3: float | None = None
    max_force_deviation_eV_A: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (paths as strings)."""
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


def default_thermo_path(trajectory_path: str | Path) -> Path:
    """``<trajectory stem>.thermo.csv`` next to the trajectory."""
    path = Path(trajectory_path)
    return path.with_name(f"{path.stem}.thermo.csv")


def open_md_writer(path: str | Path, atoms: "Atoms", config: MDConfig, *,
                   metadata: dict | None = None) -> "TrajectoryWriter":
    """A native writer for :func:`run_md`: velocities, forces and (with
    ``config.log_stress``) stress stored, frames every ``config.frame_interval_fs``,
    flushed at every frame.

    Parameters
    ----------
    path : str or Path
        New ``.h5`` file (its folder must exist).
    atoms : ase.Atoms
        The system (symbols and masses).
    config : MDConfig
        Stored in the file's metadata.
    metadata : dict, optional
        Extra JSON-serialisable provenance.
    """
    from ssestudio.io import TrajectoryWriter

    meta = {"md_config": asdict(config), **(metadata or {})}
    return TrajectoryWriter(path, atoms.get_chemical_symbols(), atoms.get_masses(),
                            timestep_fs=config.frame_interval_fs, store_velocities=True,
                            store_forces=True, store_stress=config.log_stress, metadata=meta,
                            flush_every=1)


def run_md(atoms: "Atoms", calculator: "BaseCalculator", config: MDConfig, *,
           writer: "TrajectoryWriter | None" = None, thermo_path: str | Path | None = None,
           progress: ProgressCallback | None = None,
           should_stop: Callable[[], bool | None] | None = None,
           checkpoint_path: str | Path | None = None, checkpoint_interval: int = 0,
           resume: "Checkpoint | None" = None) -> MDResult:
    """Run MD on ``atoms`` (propagated in place, as ASE dynamics do).

    Parameters
    ----------
    atoms : ase.Atoms, n_atoms atoms
        Initial state; ``calculator`` is attached to it. Its constraints are restored at
        the end (``fix_com`` adds a FixCom during the run).
    calculator : ase calculator
        Energies (eV) and forces (eV/Å), e.g. from
        :func:`ssestudio.calculators.get_calculator`.
    config : MDConfig
        Ensemble, targets, time step, steps, write interval, seed, checks.
    writer : TrajectoryWriter, optional
        Native writer (see :func:`open_md_writer`); gets positions, cell, velocities,
        energy, forces and stress at steps 0, k, 2k, ... with ``time_fs = step *
        timestep_fs``, flushed at once. The caller closes it.
    thermo_path : str or Path, optional
        Thermo log (CSV with :data:`THERMO_COLUMNS`); default
        :func:`default_thermo_path` of the writer's file, none without a writer.
    progress : callable, optional
        ``progress(fraction, message)`` at every written step.
    should_stop : callable, optional
        Called at every written step; a true return ends the run early (result
        ``stopped=True``); an exception it raises (e.g. a job's cancel) propagates after
        the files are flushed.
    checkpoint_path : str or Path, optional
        Save a checkpoint here every ``checkpoint_interval`` steps (at the first written
        step at or after each multiple) and at the end.
    checkpoint_interval : int
        Steps between checkpoints (0: only with ``checkpoint_path``, at the end).
    resume : Checkpoint, optional
        Continue from this checkpoint (:func:`~ssestudio.md.checkpoint.load_checkpoint`)
        of the same config; the writer must hold exactly the checkpoint's frames
        (:func:`~ssestudio.md.checkpoint.reopen_trajectory`) and the thermo log is cut
        to them.

    Returns
    -------
    MDResult

    Raises
    ------
    MDExplodedError
        Non-finite state, temperature above ``max_temperature_factor x`` the target,
        atoms closer than ``min_distance_A``, a runaway volume, or an ensemble
        uncertainty above ``max_uncertainty_eV_A``; the exploded state is not written.
    """
    from ssestudio.md.engine import Output, run_protocol
    from ssestudio.md.protocol import Protocol, Stage

    if thermo_path is None and writer is not None:
        thermo_path = default_thermo_path(writer.path)
    protocol = Protocol((Stage("md", config),), seed=config.seed)
    outputs = {"main": Output(writer=writer, thermo_path=None if thermo_path is None
                              else Path(thermo_path))}
    result = run_protocol(atoms, calculator, protocol, outputs=outputs, progress=progress,
                          should_stop=should_stop, checkpoint_path=checkpoint_path,
                          checkpoint_interval=checkpoint_interval, resume=resume)
    return result.stages[0]
