"""The MD loop: run a :class:`~ssestudio.md.protocol.Protocol` stage by stage.

For each stage the engine holds the centre of mass if asked, draws velocities if asked,
builds the stage's integrator and propagates in chunks that end at every written step
and at every update of a ramped target. At a written step it measures the state
(:func:`~ssestudio.md.thermo.measure`), runs the explosion checks, appends the frame and
the thermo line to the stage's output, saves a checkpoint when one is due, reports
progress and asks whether to stop. A checkpoint is also saved at the end of each stage
and when ``should_stop`` stops the run or raises (a job's cancel), so such a run resumes
exactly where it stopped; a killed one resumes from its last periodic checkpoint.

Only this module loops; integrators, checks, the thermo log and checkpoints are
separate modules.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Mapping

import numpy as np

from ssestudio.core.errors import UserInputError
from ssestudio.md.checks import check_state
from ssestudio.md.integrators import (Integrator, degrees_of_freedom, get_integrator,
                                      integrator_state, make_integrator,
                                      restore_integrator_state)
from ssestudio.md.runner import MDResult, ProgressCallback
from ssestudio.md.stats import ProtocolResult, StageStats
from ssestudio.md.thermo import (AMU_A3_TO_G_CM3, ThermoLog, ThermoState, can_compute_stress,
                                 measure)

if TYPE_CHECKING:
    from ase import Atoms
    from ase.calculators.calculator import BaseCalculator
    from ase.md.md import MolecularDynamics

    from ssestudio.io import TrajectoryWriter
    from ssestudio.md.checkpoint import Checkpoint
    from ssestudio.md.protocol import Protocol, Stage


@dataclass
class Output:
    """Where the frames of one output key go (either may be None).

    Attributes
    ----------
    writer : TrajectoryWriter, optional
        Native writer (:func:`~ssestudio.md.runner.open_md_writer`); the caller closes it.
    thermo_path : Path, optional
        Thermo log (CSV).
    """

    writer: "TrajectoryWriter | None" = None
    thermo_path: Path | None = None


@dataclass
class _OutputState:
    """Counters of one output key during a run."""

    output: Output
    frames: int = 0
    rows: int = 0
    step_offset: int = 0
    time_offset_fs: float = 0.0
    log: ThermoLog | None = None


@contextlib.contextmanager
def _com_fixed(atoms: "Atoms", fix: bool) -> Iterator[None]:
    """Add a FixCom constraint for the stage (if asked and absent), restore afterwards."""
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


def _stress_with_forces(calc):
    """For NPT: a calculator computing energy, forces and stress in one call.

    An MTK step asks for forces and for the stress at the same positions; a calculator
    that computes the stress only on request (ML models) would run twice per step.
    Calculators outside ASE's ``Calculator`` class are returned unchanged.
    """
    from ase.calculators.calculator import Calculator, all_changes

    if not isinstance(calc, Calculator) or "stress" not in calc.implemented_properties:
        return calc

    class StressWithForces(Calculator):
        implemented_properties = list(calc.implemented_properties)

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            wanted = list(dict.fromkeys([*properties, "energy", "forces", "stress"]))
            calc.calculate(self.atoms, wanted, system_changes)
            self.results = dict(calc.results)

    return StressWithForces()


class _Run:
    """One call of :func:`run_protocol`: the state shared by its stages."""

    def __init__(self, atoms: "Atoms", protocol: "Protocol", *, seed: int,
                 outputs: Mapping[str, Output], progress: ProgressCallback | None,
                 should_stop: Callable[[], bool | None] | None,
                 checkpoint_path: Path | None, checkpoint_interval: int,
                 checkpoint_extra: dict) -> None:
        self.atoms, self.protocol, self.seed = atoms, protocol, seed
        self.rng = np.random.default_rng(seed)
        self.outs = {k: _OutputState(outputs.get(k) or Output()) for k in protocol.outputs}
        self.progress, self.should_stop = progress, should_stop
        self.ckpt_path, self.ckpt_interval = checkpoint_path, checkpoint_interval
        self.ckpt_extra = checkpoint_extra
        self.results: list[MDResult] = []
        self.t0 = self.t_steps = time.perf_counter()
        self.steps_here = 0
        self.last_ckpt = 0
        self.total_steps = protocol.n_steps
        self.stage_index = 0
        self.stats = StageStats()
        self.dyn: "MolecularDynamics | None" = None
        self.t_stage_steps: float | None = None

    # -- bookkeeping ---------------------------------------------------------------------
    def global_step(self, stage: int, step: int) -> int:
        return sum(s.config.n_steps for s in self.protocol.stages[:stage]) + step

    def open_logs(self, keep: Mapping[str, int] | None) -> None:
        for key, out in self.outs.items():
            if out.output.thermo_path is not None:
                out.log = ThermoLog(out.output.thermo_path,
                                    keep_rows=None if keep is None else keep[key])

    def close(self) -> None:
        for out in self.outs.values():
            if out.output.writer is not None:
                out.output.writer.flush()
            if out.log is not None:
                out.log.close()

    # -- checkpoints ---------------------------------------------------------------------
    def save_checkpoint(self, step: int) -> None:
        from ssestudio.md.checkpoint import Checkpoint

        if self.ckpt_path is None or self.dyn is None:
            return
        entry = get_integrator(self.protocol.stages[self.stage_index].config.ensemble)
        a = self.atoms
        Checkpoint(
            stage=self.stage_index, step=step, seed=self.seed, protocol=self.protocol.to_dict(),
            numbers=a.numbers.copy(), positions=a.positions.copy(), momenta=a.get_momenta(),
            cell=a.cell[:].copy(), pbc=a.pbc.copy(), integrator=integrator_state(self.dyn, entry),
            rng_state=self.rng.bit_generator.state,
            outputs={k: {"frames": o.frames, "rows": o.rows, "step_offset": o.step_offset,
                         "time_offset_fs": o.time_offset_fs} for k, o in self.outs.items()},
            stats=self.stats.to_arrays(),
            stage_results=tuple(r.to_dict() for r in self.results),
            extra=self.ckpt_extra).save(self.ckpt_path)
        self.last_ckpt = self.global_step(self.stage_index, step)

    def restore(self, ckpt: "Checkpoint") -> None:
        """Put the atoms, counters and statistics of ``ckpt`` in place."""
        a = self.atoms
        if not np.array_equal(ckpt.numbers, a.numbers):
            raise UserInputError("the checkpoint holds other atoms than the structure given "
                                 f"({len(ckpt.numbers)} vs {len(a)} atoms or another order)")
        a.set_cell(ckpt.cell, scale_atoms=False, apply_constraint=False)
        a.pbc = ckpt.pbc
        a.arrays["positions"][:] = ckpt.positions
        a.set_momenta(ckpt.momenta, apply_constraint=False)
        self.rng.bit_generator.state = ckpt.rng_state
        for key, out in self.outs.items():
            saved = ckpt.outputs.get(key, {})
            out.frames, out.rows = int(saved.get("frames", 0)), int(saved.get("rows", 0))
            out.step_offset = int(saved.get("step_offset", 0))
            out.time_offset_fs = float(saved.get("time_offset_fs", 0.0))
            writer = out.output.writer
            if writer is not None and writer.n_frames != out.frames:
                raise UserInputError(
                    f"output {key!r}: the writer holds {writer.n_frames} frames, the checkpoint "
                    f"{out.frames}; reopen the trajectory with reopen_trajectory(path, "
                    f"{out.frames})")
        self.results = [MDResult(**{k: Path(v) if k.endswith("_path") and v else v
                                    for k, v in r.items()}) for r in ckpt.stage_results]
        self.stats = StageStats.from_arrays(ckpt.stats)
        self.stage_index = ckpt.stage
        self.last_ckpt = self.global_step(ckpt.stage, ckpt.step)

    # -- recording -----------------------------------------------------------------------
    def record(self, stage: "Stage", entry: Integrator, step: int, *, n_dof: int,
               stress: bool) -> bool:
        """Check and write the state at ``step`` of ``stage``; True when asked to stop."""
        cfg, atoms, dyn = stage.config, self.atoms, self.dyn
        target_K, _ = cfg.targets_at(step)
        conserved = None if entry.conserved is None else (lambda: entry.conserved(dyn))
        state = measure(atoms, n_dof=n_dof, stress=stress, conserved=conserved)
        ratio = state.volume_A3 / self.stats.volume0_A3 if entry.barostat else None
        check_state(atoms, step=step, epot_eV=state.epot_eV, temperature_K=state.temperature_K,
                    target_K=target_K if entry.thermostat else 0.0,
                    max_temperature_factor=cfg.max_temperature_factor,
                    min_distance_A=cfg.min_distance_A,
                    max_force_deviation_eV_A=state.max_force_deviation_eV_A,
                    max_uncertainty_eV_A=cfg.max_uncertainty_eV_A,
                    volume_ratio=ratio if ratio is not None and np.isfinite(ratio) else None,
                    max_volume_factor=cfg.max_volume_factor)
        self.write(stage, step, state, target_K if entry.thermostat else np.nan)
        self.stats.add(state, atoms.cell[:], step=step)
        if self.ckpt_interval and (self.global_step(self.stage_index, step) - self.last_ckpt
                                   >= self.ckpt_interval):
            self.save_checkpoint(step)
        self.report(stage, step, state.temperature_K)
        return self.ask_stop(step)

    def write(self, stage: "Stage", step: int, state: ThermoState, target_K: float) -> None:
        if stage.output is None:
            return
        out = self.outs[stage.output]
        out_step = out.step_offset + step
        time_fs = out.time_offset_fs + step * stage.config.timestep_fs
        if out.output.writer is not None:
            out.output.writer.append_atoms(self.atoms, time_fs=time_fs)
            out.output.writer.flush()
        if out.log is not None:
            out.log.write(state.line(step=out_step, time_fs=time_fs, target_K=target_K,
                                     stage=self.stage_index))
            out.rows += 1
        out.frames += 1

    def report(self, stage: "Stage", step: int, temperature_K: float) -> None:
        if self.progress is None:
            return
        done = self.global_step(self.stage_index, step)
        rate = len(self.atoms) * self.steps_here / max(time.perf_counter() - self.t_steps, 1e-9)
        name = f"{stage.name} " if len(self.protocol.stages) > 1 else ""
        self.progress(done / self.total_steps,
                      f"{name}step {step}/{stage.config.n_steps}, T {temperature_K:.0f} K, "
                      f"{rate:,.0f} atom-steps/s")

    def ask_stop(self, step: int) -> bool:
        if self.should_stop is None:
            return False
        try:
            stop = bool(self.should_stop())
        except BaseException:
            self.save_checkpoint(step)  # a cancelled run resumes where it stopped
            raise
        if stop:
            self.save_checkpoint(step)
        return stop

    # -- stages --------------------------------------------------------------------------
    def start_stage(self, k: int) -> None:
        """Fresh start of stage ``k``: cell, velocities, statistics."""
        stage, prev = self.protocol.stages[k], self.stats
        cfg = stage.config
        if stage.start_cell == "mean" and (cell := prev.mean_cell()) is not None:
            self.atoms.set_cell(cell, scale_atoms=True, apply_constraint=False)
        if cfg.init_velocities:
            _init_velocities(self.atoms, cfg.temperature_K, self.rng)
        elif cfg.fix_com:
            from ase.md.velocitydistribution import Stationary

            Stationary(self.atoms)
        self.stage_index, self.stats = k, StageStats()
        self.stats.volume0_A3 = float(self.atoms.get_volume()) if self.atoms.pbc.all() else 1.0

    def run_stage(self, k: int, start: int, ckpt: "Checkpoint | None") -> bool:
        """Run stage ``k`` from step ``start``; return True when stopped early."""
        stage = self.protocol.stages[k]
        entry = get_integrator(stage.config.ensemble)
        calc = self.atoms.calc
        if entry.barostat:
            self.atoms.calc = _stress_with_forces(calc)
        try:
            return self._run_stage(stage, entry, k, start, ckpt)
        finally:
            self.atoms.calc = calc

    def _run_stage(self, stage: "Stage", entry: Integrator, k: int, start: int,
                   ckpt: "Checkpoint | None") -> bool:
        cfg = stage.config
        with _com_fixed(self.atoms, cfg.fix_com and entry.constraints):
            self.dyn = make_integrator(self.atoms, cfg, self.rng)
            if ckpt is not None:
                restore_integrator_state(self.dyn, entry, ckpt.integrator)
            n_dof = degrees_of_freedom(self.atoms, cfg)
            stress = cfg.log_stress and can_compute_stress(self.atoms)
            out = None if stage.output is None else self.outs[stage.output]
            t_stage, steps0 = time.perf_counter(), self.steps_here
            self.t_stage_steps = None
            stopped, step = False, start
            if ckpt is None and (k == 0 or (out is not None and out.frames == 0)):
                stopped = self.record(stage, entry, 0, n_dof=n_dof, stress=stress)
            if not stopped:
                step, stopped = self._loop(stage, entry, start, n_dof=n_dof, stress=stress)
            if not stopped:
                self.save_checkpoint(step)
            now = time.perf_counter()
            rate = len(self.atoms) * (self.steps_here - steps0) / max(
                now - (self.t_stage_steps or now), 1e-9)
            self.results.append(self._stage_result(stage, step, now - t_stage, rate, stopped))
            if out is not None and not stopped:
                out.step_offset += cfg.n_steps
                out.time_offset_fs += cfg.duration_fs
        return stopped

    def _loop(self, stage: "Stage", entry: Integrator, step: int, *, n_dof: int,
              stress: bool) -> tuple[int, bool]:
        from ase.units import GPa

        cfg = stage.config
        retarget = entry.retarget if cfg.ramped else None
        wi, si = cfg.write_interval, cfg.schedule_interval
        while step < cfg.n_steps:
            nxt = min(cfg.n_steps, (step // wi + 1) * wi)
            if retarget is not None:
                nxt = min(nxt, (step // si + 1) * si)
                t_K, p_GPa = cfg.targets_at(step)
                retarget(self.dyn, t_K, p_GPa * GPa)
            if self.steps_here == 0:
                self.t_steps = time.perf_counter()
            if self.t_stage_steps is None:
                self.t_stage_steps = time.perf_counter()
            self.dyn.run(nxt - step)
            self.steps_here += nxt - step
            step = nxt
            if step % wi == 0 and self.record(stage, entry, step, n_dof=n_dof, stress=stress):
                return step, True
        return step, False

    def _stage_result(self, stage: "Stage", step: int, wall: float, rate: float,
                      stopped: bool) -> MDResult:
        a = self.atoms
        epot = float(a.get_potential_energy())
        out = None if stage.output is None else self.outs[stage.output]
        writer = None if out is None else out.output.writer
        return self.stats.result(
            n_steps_done=step, wall_s=wall, atom_steps_per_s=rate,
            final_epot_eV=epot, final_etot_eV=epot + float(a.get_kinetic_energy()),
            seed=self.seed, stopped=stopped,
            trajectory_path=None if writer is None else Path(writer.path),
            thermo_path=None if out is None else out.output.thermo_path)


def run_protocol(atoms: "Atoms", calculator: "BaseCalculator", protocol: "Protocol", *,
                 outputs: Mapping[str, Output] | None = None,
                 progress: ProgressCallback | None = None,
                 should_stop: Callable[[], bool | None] | None = None,
                 checkpoint_path: str | Path | None = None, checkpoint_interval: int = 0,
                 checkpoint_extra: dict | None = None,
                 resume: "Checkpoint | None" = None) -> ProtocolResult:
    """Run the stages of ``protocol`` on ``atoms`` (propagated in place).

    Parameters
    ----------
    atoms : ase.Atoms, n_atoms atoms
        Initial state (with ``resume``: the same atoms, whose state the checkpoint
        replaces). ``calculator`` is attached; its constraints are restored at the end.
    calculator : ase calculator
        Energies (eV), forces (eV/Å) and, for NPT stages, stress.
    protocol : Protocol
        The stages; its seed (None: drawn, or the checkpoint's) drives all random numbers.
    outputs : mapping of str to Output, optional
        Writer and thermo log of each output key the stages name; keys left out are
        counted but not written.
    progress : callable, optional
        ``progress(fraction, message)`` at every written step, fraction of all steps.
    should_stop : callable, optional
        Called at every written step; true ends the run early (``stopped=True``), an
        exception propagates (a checkpoint is saved first in both cases).
    checkpoint_path : str or Path, optional
        Checkpoint file, saved every ``checkpoint_interval`` steps (at the first written
        step at or after each multiple), at the end of every stage and when stopped.
    checkpoint_interval : int
        Steps between periodic checkpoints (0: none).
    checkpoint_extra : dict, optional
        JSON data stored in each checkpoint (``Checkpoint.extra``).
    resume : Checkpoint, optional
        Continue from this checkpoint of the same protocol: the atoms, integrator and
        random state are restored, the writers must hold exactly the checkpoint's frames
        (:func:`~ssestudio.md.checkpoint.reopen_trajectory`) and the thermo logs are cut to
        its rows.

    Returns
    -------
    ProtocolResult

    Raises
    ------
    MDExplodedError
        See :func:`ssestudio.md.check_state`; the exploded state is not written.
    UserInputError
        ``resume`` belongs to another protocol or other atoms, or a stage cannot start.
    """
    if checkpoint_interval < 0:
        raise UserInputError(f"checkpoint_interval must be >= 0 steps, got "
                             f"{checkpoint_interval}")
    seed = _seed(protocol, resume)
    run = _Run(atoms, protocol.with_seed(seed), seed=seed, outputs=outputs or {},
               progress=progress, should_stop=should_stop,
               checkpoint_path=None if checkpoint_path is None else Path(checkpoint_path),
               checkpoint_interval=int(checkpoint_interval),
               checkpoint_extra=dict(checkpoint_extra or {}))
    atoms.calc = calculator
    stopped = False
    try:
        if resume is not None:
            run.restore(resume)
        run.open_logs(None if resume is None else {k: o.rows for k, o in run.outs.items()})
        first = 0 if resume is None else resume.stage
        for k in range(first, len(protocol.stages)):
            if resume is not None and k == resume.stage:
                stopped = run.run_stage(k, resume.step, resume)
            else:
                run.start_stage(k)
                stopped = run.run_stage(k, 0, None)
            if stopped:
                break
    finally:
        run.close()
    return _result(run, stopped)


def _seed(protocol: "Protocol", resume: "Checkpoint | None") -> int:
    if resume is None:
        return protocol.seed if protocol.seed is not None else secrets.randbits(32)
    if protocol.seed is not None and protocol.seed != resume.seed:
        raise UserInputError(f"the checkpoint was written with seed {resume.seed}, the protocol "
                             f"has seed {protocol.seed}: resume with the same seed")
    mine, theirs = protocol.with_seed(resume.seed).to_dict(), resume.protocol
    if mine != theirs:
        raise UserInputError("the checkpoint was written by a different protocol (stages, "
                             "ensembles, targets or lengths differ); resume with the settings "
                             "of the run that wrote it")
    return resume.seed


def _result(run: _Run, stopped: bool) -> ProtocolResult:
    a = run.atoms
    elapsed = time.perf_counter() - run.t_steps
    volume = float(a.get_volume()) if a.pbc.all() else None
    if run.progress is not None and not stopped:
        frames = sum(o.frames for o in run.outs.values())
        run.progress(1.0, f"done: {run.protocol.n_steps} steps, {frames} frames")
    return ProtocolResult(
        stages=tuple(run.results), stage_names=tuple(s.name for s in run.protocol.stages
                                                     [:len(run.results)]),
        n_steps_done=sum(r.n_steps_done for r in run.results),
        wall_s=time.perf_counter() - run.t0,
        atom_steps_per_s=len(a) * run.steps_here / max(elapsed, 1e-9) if run.steps_here else 0.0,
        seed=run.seed, stopped=stopped, n_frames={k: o.frames for k, o in run.outs.items()},
        final_volume_A3=volume,
        final_density_g_cm3=None if volume is None
        else float(a.get_masses().sum()) / volume * AMU_A3_TO_G_CM3)
