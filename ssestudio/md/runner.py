"""Run molecular dynamics with an ASE calculator, writing a live native trajectory.

The runner owns the loop: it propagates the atoms ``write_interval`` steps at a time
with the integrator of :mod:`ssestudio.md.integrators`, and at every written step
checks for an explosion (:mod:`ssestudio.md.checks`), appends a frame to the native
:class:`~ssestudio.io.TrajectoryWriter` and flushes it (a concurrent reader's
``refresh()`` sees it), appends a line to the thermo log, reports progress and asks
whether to stop.

Units: temperatures K, times fs, energies eV, lengths Å.
"""

from __future__ import annotations

import contextlib
import math
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, TextIO

import numpy as np

from ssestudio.core.errors import UserInputError
from ssestudio.md.checks import check_state
from ssestudio.md.integrators import check_ensemble, make_integrator

if TYPE_CHECKING:
    from ase import Atoms
    from ase.calculators.calculator import BaseCalculator

    from ssestudio.io import TrajectoryWriter

ProgressCallback = Callable[[float, str], None]
#: Columns of the thermo log (CSV).
THERMO_COLUMNS = ("step", "time_fs", "T_K", "Epot_eV", "Ekin_eV", "Etot_eV")


@dataclass(frozen=True)
class MDConfig:
    """What to simulate and how often to record it.

    Parameters
    ----------
    ensemble : str
        Integrator name: ``"nvt-langevin"`` (Langevin thermostat) or ``"nve"`` (velocity
        Verlet); see :func:`~ssestudio.md.integrators.available_ensembles`.
    temperature_K : float
        Target (NVT) and initial-velocity temperature, K (>= 0).
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
        Hold the centre of mass (an :class:`ase.constraints.FixCom` for the run, so the
        temperature counts 3N - 3 degrees of freedom).
    min_distance_A : float
        Explosion check: fail when two atoms come closer, Å (0 disables).
    max_temperature_factor : float
        Explosion check: fail when T exceeds this multiple of ``temperature_K``.
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

    def __post_init__(self) -> None:
        check_ensemble(self.ensemble)
        for name in ("temperature_K", "timestep_fs", "friction_per_fs", "min_distance_A",
                     "max_temperature_factor"):
            if isinstance(getattr(self, name), bool) or not isinstance(getattr(self, name),
                                                                       (int, float, np.number)):
                raise UserInputError(f"MD {name} must be a number, got {getattr(self, name)!r}")
        checks = {"temperature_K": self.temperature_K >= 0, "timestep_fs": self.timestep_fs > 0,
                  "friction_per_fs": self.friction_per_fs > 0,
                  "min_distance_A": self.min_distance_A >= 0,
                  "max_temperature_factor": self.max_temperature_factor > 1}
        for name, ok in checks.items():
            if not (ok and math.isfinite(getattr(self, name))):
                raise UserInputError(f"MD {name} = {getattr(self, name)!r} is invalid: see the "
                                     "MDConfig docstring for the allowed range")
        for name in ("n_steps", "write_interval"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise UserInputError(f"MD {name} must be an integer >= 1, got {value!r}")

    @property
    def frame_interval_fs(self) -> float:
        """Time between written frames, fs (``write_interval * timestep_fs``)."""
        return self.write_interval * self.timestep_fs


@dataclass(frozen=True)
class MDResult:
    """Outcome of :func:`run_md`.

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

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (paths as strings)."""
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


def default_thermo_path(trajectory_path: str | Path) -> Path:
    """``<trajectory stem>.thermo.csv`` next to the trajectory."""
    path = Path(trajectory_path)
    return path.with_name(f"{path.stem}.thermo.csv")


def open_md_writer(path: str | Path, atoms: "Atoms", config: MDConfig, *,
                   metadata: dict | None = None) -> "TrajectoryWriter":
    """A native writer for :func:`run_md`: velocities and forces stored, frames every
    ``config.frame_interval_fs``, flushed at every frame.

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
                            store_forces=True, metadata=meta, flush_every=1)


@contextlib.contextmanager
def _com_fixed(atoms: "Atoms", fix: bool) -> Iterator[None]:
    """Add a FixCom constraint for the run (if asked and absent), restore afterwards."""
    from ase.constraints import FixCom

    old = list(atoms.constraints)
    if fix and not any(isinstance(c, FixCom) for c in old):
        atoms.set_constraint([*old, FixCom()])
    try:
        yield
    finally:
        atoms.set_constraint(old)


def _init_velocities(atoms: "Atoms", temperature_K: float, rng: np.random.Generator) -> None:
    """Maxwell-Boltzmann momenta at ``temperature_K``, centre-of-mass momentum removed."""
    from ase.md import velocitydistribution as vd

    thermalize = getattr(vd, "thermalize_momenta", None)  # ASE >= 3.29
    if thermalize is not None:
        thermalize(atoms, temperature_K, rng=rng)
    else:
        vd.MaxwellBoltzmannDistribution(atoms, temperature_K=temperature_K, rng=rng)
    vd.Stationary(atoms)


class _Recorder:
    """Checks, writes and reports one state every ``write_interval`` steps."""

    def __init__(self, atoms: "Atoms", config: MDConfig, *, writer: "TrajectoryWriter | None",
                 thermo: TextIO | None, progress: ProgressCallback | None,
                 should_stop: Callable[[], bool | None] | None) -> None:
        self.atoms, self.config, self.writer, self.thermo = atoms, config, writer, thermo
        self.progress, self.should_stop = progress, should_stop
        self.temperatures: list[float] = []
        self.t0 = self.t_steps = time.perf_counter()

    def start_steps(self) -> None:
        """Mark the start of stepping (after step 0: first force call, one-off imports)."""
        self.t_steps = time.perf_counter()

    def energies(self) -> tuple[float, float, float]:
        """Temperature (K), potential and kinetic energy (eV) of the current state."""
        epot = float(self.atoms.get_potential_energy())
        return float(self.atoms.get_temperature()), epot, float(self.atoms.get_kinetic_energy())

    def record(self, step: int) -> bool:
        """Check and write the state at ``step``; return True when asked to stop."""
        cfg = self.config
        temp, epot, ekin = self.energies()
        check_state(self.atoms, step=step, epot_eV=epot, temperature_K=temp,
                    target_K=cfg.temperature_K, max_temperature_factor=cfg.max_temperature_factor,
                    min_distance_A=cfg.min_distance_A)
        time_fs = step * cfg.timestep_fs
        if self.writer is not None:
            self.writer.append_atoms(self.atoms, time_fs=time_fs)
            self.writer.flush()
        if self.thermo is not None:
            self.thermo.write(f"{step},{time_fs:.6g},{temp:.6g},{epot:.10g},{ekin:.10g},"
                              f"{epot + ekin:.10g}\n")
            self.thermo.flush()
        self.temperatures.append(temp)
        if self.progress is not None:
            rate = len(self.atoms) * step / max(time.perf_counter() - self.t_steps, 1e-9)
            self.progress(step / cfg.n_steps, f"step {step}/{cfg.n_steps}, T {temp:.0f} K, "
                                              f"{rate:,.0f} atom-steps/s")
        return bool(self.should_stop()) if self.should_stop is not None else False

    def result(self, *, n_steps_done: int, seed: int, stopped: bool,
               thermo_path: Path | None) -> MDResult:
        now = time.perf_counter()
        wall, stepping = now - self.t0, now - self.t_steps
        temp, epot, ekin = self.energies()
        temps = np.array(self.temperatures[1:] or self.temperatures)
        return MDResult(
            n_steps_done=n_steps_done, n_frames=len(self.temperatures), wall_s=wall,
            atom_steps_per_s=len(self.atoms) * n_steps_done / max(stepping, 1e-9),
            mean_T_K=float(temps.mean()), std_T_K=float(temps.std()), final_epot_eV=epot,
            final_etot_eV=epot + ekin, seed=seed, stopped=stopped,
            trajectory_path=None if self.writer is None else Path(self.writer.path),
            thermo_path=thermo_path)


@contextlib.contextmanager
def _thermo_log(path: Path | None) -> Iterator[TextIO | None]:
    if path is None:
        yield None
        return
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(THERMO_COLUMNS) + "\n")
        yield fh


def run_md(atoms: "Atoms", calculator: "BaseCalculator", config: MDConfig, *,
           writer: "TrajectoryWriter | None" = None, thermo_path: str | Path | None = None,
           progress: ProgressCallback | None = None,
           should_stop: Callable[[], bool | None] | None = None) -> MDResult:
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
        Ensemble, temperature, time step, steps, write interval, seed.
    writer : TrajectoryWriter, optional
        Native writer (see :func:`open_md_writer`); gets positions, cell, velocities,
        energy and forces at steps 0, k, 2k, ... with ``time_fs = step * timestep_fs``,
        flushed at once. The caller closes it.
    thermo_path : str or Path, optional
        Thermo log (CSV with :data:`THERMO_COLUMNS`); default
        :func:`default_thermo_path` of the writer's file, none without a writer.
    progress : callable, optional
        ``progress(fraction, message)`` at every written step.
    should_stop : callable, optional
        Called at every written step; a true return ends the run early (result
        ``stopped=True``); an exception it raises (e.g. a job's cancel) propagates after
        the files are flushed.

    Returns
    -------
    MDResult

    Raises
    ------
    MDExplodedError
        Non-finite state, temperature above ``max_temperature_factor x temperature_K``,
        or atoms closer than ``min_distance_A``; the exploded state is not written.
    """
    seed = config.seed if config.seed is not None else secrets.randbits(32)
    rng = np.random.default_rng(seed)
    if thermo_path is None and writer is not None:
        thermo_path = default_thermo_path(writer.path)
    thermo_path = None if thermo_path is None else Path(thermo_path)
    atoms.calc = calculator
    with _com_fixed(atoms, config.fix_com), _thermo_log(thermo_path) as thermo:
        if config.init_velocities:
            _init_velocities(atoms, config.temperature_K, rng)
        dyn = make_integrator(atoms, config, rng)
        rec = _Recorder(atoms, config, writer=writer, thermo=thermo, progress=progress,
                        should_stop=should_stop)
        try:
            done, stopped = _loop(dyn, rec, config)
        finally:
            if writer is not None:
                writer.flush()
        if progress is not None and not stopped:
            progress(1.0, f"done: {done} steps, {len(rec.temperatures)} frames")
        return rec.result(n_steps_done=done, seed=seed, stopped=stopped,
                          thermo_path=thermo_path)


def _loop(dyn, rec: _Recorder, config: MDConfig) -> tuple[int, bool]:
    """Propagate in chunks of ``write_interval`` steps, recording after each full chunk."""
    if rec.record(0):
        return 0, True
    rec.start_steps()
    done = 0
    while done < config.n_steps:
        chunk = min(config.write_interval, config.n_steps - done)
        dyn.run(chunk)
        done += chunk
        if chunk == config.write_interval and rec.record(done):
            return done, True
    return done, False
