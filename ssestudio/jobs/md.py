"""MD jobs: ``md`` (one run, optionally after an equilibration), ``meltquench`` (a glass
from a random packing or a crystal) and temperature sweeps (one ``md`` job per
temperature, :func:`submit_sweep`).

Each output of a job's protocol is a native trajectory registered in the workspace when
the run starts (frame count kept current every few seconds; :mod:`ssestudio.md.outputs`),
so a viewer can open it and call ``refresh()`` while frames are appended. A cancelled or
failed run keeps the frames written so far, registered with their final count, and its
checkpoint (``<trajectory>.checkpoint.npz``): a job submitted with ``resume=<trajectory>``
(the same spec otherwise; :func:`resume_spec` builds it from the killed job) continues
the same trajectories from the last checkpoint, without duplicated frames.

Provenance: every trajectory records its job's parameters; the ``temperature_K`` and
``ensemble`` in them are what the Conductivity tab reads for Arrhenius plots (a ramp
records ``temperature_K: None``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ssestudio.core.errors import UserInputError
from ssestudio.jobs.spec import JobSpec, register_job
from ssestudio.md.outputs import (STATS_INTERVAL_S, OutputPlan, atoms_from_checkpoint,
                                  load_resume_checkpoint, run_protocol_job)

if TYPE_CHECKING:
    from ase import Atoms

    from ssestudio.jobs.context import JobContext
    from ssestudio.jobs.manager import JobManager
    from ssestudio.md import MDConfig, Protocol
    from ssestudio.workspace import Workspace

__all__ = ["MAX_TIMESTEP_FS", "MDSpec", "OutputPlan", "STATS_INTERVAL_S",
           "as_option_pairs", "model_calculator", "resume_spec", "run_protocol_job",
           "submit_sweep", "sweep_specs"]

#: Largest accepted time step, fs (beyond it ionic MD is unstable for any potential).
MAX_TIMESTEP_FS = 10.0


def as_option_pairs(options: Any) -> tuple[tuple[str, Any], ...]:
    """Calculator options as sorted ``(name, JSON value)`` pairs (frozen), for job specs."""
    if options is None:
        return ()
    try:
        items = dict(options).items()
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"calculator_options must be a dict (or name/value pairs), got "
                             f"{options!r}") from exc
    try:
        normalised = json.loads(json.dumps({str(k): v for k, v in items}, sort_keys=True))
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"calculator_options must be JSON-serialisable (str, numbers, "
                             f"bools, None, lists, dicts): {exc}") from exc
    return tuple((k, _freeze(v)) for k, v in sorted(normalised.items()))


def _freeze(value: Any) -> Any:
    return tuple(_freeze(v) for v in value) if isinstance(value, list) else value


def _thaw(pairs: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    return json.loads(json.dumps(dict(pairs)))


def model_calculator(workspace: "Workspace | None", ref: str) -> tuple[str, dict[str, Any]]:
    """``("model", {"path": ...})`` for a workspace model name (``name[@version]``, id) or a
    model file / training run folder (:func:`ssestudio.training.evaluation.resolve_model_path`)."""
    from ssestudio.training.evaluation import resolve_model_path

    return "model", {"path": str(Path(resolve_model_path(workspace, ref)).absolute())}


# ---------------------------------------------------------------------------------------
# md
# ---------------------------------------------------------------------------------------
def _check_supercell(value: Any) -> tuple[int, int, int]:
    try:
        reps = tuple(int(v) for v in value)
        ok = len(reps) == 3 and all(r >= 1 and r == v for r, v in zip(reps, value))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise UserInputError(f"supercell must be three integers >= 1 such as (2, 2, 2), got "
                             f"{value!r}")
    return reps


def _check_common(spec: Any) -> None:
    """Checks shared by the MD job specs: calculator, options, seed, checkpoints, resume."""
    object.__setattr__(spec, "calculator_options", as_option_pairs(spec.calculator_options))
    if not isinstance(spec.calculator, str) or not spec.calculator.strip():
        raise UserInputError(f"calculator must be a name such as 'emt', got {spec.calculator!r}")
    if spec.seed is not None and (isinstance(spec.seed, bool) or not isinstance(spec.seed, int)
                                  or spec.seed < 0):
        raise UserInputError(f"seed must be a non-negative integer or None, got {spec.seed!r}")
    if (isinstance(spec.checkpoint_interval, bool) or not isinstance(spec.checkpoint_interval, int)
            or spec.checkpoint_interval < 0):
        raise UserInputError(f"checkpoint_interval must be an integer >= 0 steps (0: none), got "
                             f"{spec.checkpoint_interval!r}")
    if spec.resume is not None and not isinstance(spec.resume, (str, int)):
        raise UserInputError(f"resume must be a trajectory name or id, got {spec.resume!r}")


def _load_structure(workspace: "Workspace", structure: str,
                    supercell: tuple[int, int, int]) -> "Atoms":
    from ssestudio.workspace.structures import read_atoms

    path = Path(structure)
    atoms = read_atoms(path) if path.is_absolute() else workspace.read_structure(structure)
    return atoms.repeat(supercell) if supercell != (1, 1, 1) else atoms


def _absolute_structure(value: Any) -> str:
    if not isinstance(value, (str, Path)) or not str(value).strip():
        raise UserInputError("give a structure: a workspace structure name/id or a file")
    path = Path(str(value)).expanduser()
    return str(path.absolute()) if path.is_file() else str(value).strip()


@register_job("md")
@dataclass(frozen=True)
class MDSpec(JobSpec):
    """Molecular dynamics of a structure with a named calculator, written live.

    Parameters
    ----------
    structure : str
        Workspace structure name or id, or a structure file ASE reads (made absolute).
    calculator : str
        Calculator name or ``"module.path:ClassName"``
        (:func:`ssestudio.calculators.get_calculator`); ``"model"`` with option ``path``
        for a trained model (:func:`model_calculator`).
    calculator_options : dict or tuple of (str, value) pairs
        Keyword options of the calculator, stored as sorted pairs; JSON values only.
    temperature_K : float
        Target and initial temperature, K (>= 0).
    timestep_fs : float
        Time step, fs (0 < dt <= 10).
    n_steps : int
        Steps of the recorded run (>= 1).
    write_interval : int
        Steps between written frames (>= 1).
    ensemble : str
        Integrator (:func:`ssestudio.md.available_ensembles`), e.g. ``"nvt-bussi"``.
    friction_per_fs : float
        Langevin friction, fs^-1.
    seed : int, optional
        Random seed; None draws one (recorded in the provenance and the result).
    supercell : tuple of 3 int
        Repetitions of the structure's cell along a, b, c.
    name : str, optional
        Trajectory name; default ``md-<formula>-<T>K`` made unique.
    pressure_GPa : float
        Barostat target of NPT ensembles, GPa.
    end_temperature_K, end_pressure_GPa : float, optional
        Linear ramps of the targets over the recorded run (heating/cooling).
    thermostat_time_fs, barostat_time_fs : float
        Thermostat (Bussi, Nosé-Hoover) and MTK barostat time constants, fs.
    equilibration_steps : int
        Steps run before the recorded run and not written (0: none).
    equilibration_ensemble : str, optional
        Its ensemble (default ``ensemble``); with an NPT equilibration and an NVT run the
        run starts in the mean cell of the equilibration's second half.
    checkpoint_interval : int
        Steps between checkpoints (0: only at the end and when cancelled).
    max_uncertainty_eV_A : float, optional
        Stop when an ensemble model's force deviation exceeds this, eV/Å.
    resume : str or int, optional
        Continue the run that wrote this trajectory (name or id) from its checkpoint.
    """

    structure: str
    calculator: str = "emt"
    calculator_options: tuple[tuple[str, Any], ...] = ()
    temperature_K: float = 300.0
    timestep_fs: float = 1.0
    n_steps: int = 1000
    write_interval: int = 10
    ensemble: str = "nvt-langevin"
    friction_per_fs: float = 0.01
    seed: int | None = None
    supercell: tuple[int, int, int] = (1, 1, 1)
    name: str | None = None
    pressure_GPa: float = 0.0
    end_temperature_K: float | None = None
    end_pressure_GPa: float | None = None
    thermostat_time_fs: float = 100.0
    barostat_time_fs: float = 1000.0
    equilibration_steps: int = 0
    equilibration_ensemble: str | None = None
    checkpoint_interval: int = 1000
    max_uncertainty_eV_A: float | None = 1.0
    resume: str | int | None = None

    def validate(self) -> None:
        from ssestudio.md import get_integrator

        object.__setattr__(self, "structure", _absolute_structure(self.structure))
        object.__setattr__(self, "supercell", _check_supercell(self.supercell))
        _check_common(self)
        dt = self.timestep_fs
        if isinstance(dt, (int, float)) and not 0 < dt <= MAX_TIMESTEP_FS:
            raise UserInputError(f"timestep_fs must be > 0 and <= {MAX_TIMESTEP_FS:g} fs, got "
                                 f"{self.timestep_fs}; 0.5-2 fs suits Li-containing solids")
        if (isinstance(self.equilibration_steps, bool)
                or not isinstance(self.equilibration_steps, int) or self.equilibration_steps < 0):
            raise UserInputError(f"equilibration_steps must be an integer >= 0, got "
                                 f"{self.equilibration_steps!r}")
        ensembles = {self.ensemble, self.equilibration_ensemble or self.ensemble}
        if self.pressure_GPa != 0 and not any(get_integrator(e).barostat for e in ensembles):
            raise UserInputError(f"pressure_GPa applies to NPT ensembles (npt-mtk-iso, "
                                 f"npt-mtk-aniso, npt-mtk-axes); neither the ensemble nor the "
                                 f"equilibration is one ({', '.join(sorted(ensembles))})")
        self.protocol(seed=0)  # checks the remaining values

    @property
    def options(self) -> dict[str, Any]:
        """Calculator options as a dict (lists where given as lists)."""
        return _thaw(self.calculator_options)

    def md_config(self, *, seed: int | None = None) -> "MDConfig":
        """The :class:`~ssestudio.md.MDConfig` of the recorded run (``seed`` overrides;
        ``pressure_GPa`` only when its ensemble has a barostat)."""
        from ssestudio.md import MDConfig, get_integrator

        npt = get_integrator(self.ensemble).barostat
        return MDConfig(ensemble=self.ensemble, temperature_K=self.temperature_K,
                        timestep_fs=self.timestep_fs, n_steps=self.n_steps,
                        write_interval=self.write_interval, friction_per_fs=self.friction_per_fs,
                        seed=self.seed if seed is None else seed,
                        pressure_GPa=self.pressure_GPa if npt else 0.0,
                        end_temperature_K=self.end_temperature_K,
                        end_pressure_GPa=self.end_pressure_GPa,
                        thermostat_time_fs=self.thermostat_time_fs,
                        barostat_time_fs=self.barostat_time_fs,
                        max_uncertainty_eV_A=self.max_uncertainty_eV_A)

    def protocol(self, *, seed: int | None = None) -> "Protocol":
        """The stages: an unwritten equilibration (if asked), then the recorded run."""
        from ssestudio.md import Protocol, Stage, get_integrator

        config = self.md_config(seed=seed)
        if not self.equilibration_steps:
            return Protocol((Stage("md", config, output="main"),), seed=config.seed)
        ens = self.equilibration_ensemble or self.ensemble
        npt = get_integrator(ens).barostat
        eq = dataclasses.replace(config, ensemble=ens, n_steps=self.equilibration_steps,
                                 end_temperature_K=None, end_pressure_GPa=None,
                                 pressure_GPa=self.pressure_GPa if npt else 0.0)
        mean = npt and not get_integrator(self.ensemble).barostat
        run = Stage("md", dataclasses.replace(config, init_velocities=False), output="main",
                    start_cell="mean" if mean else "current")
        return Protocol((Stage("equilibrate", eq, output=None), run), seed=config.seed)

    def provenance_parameters(self, seed: int) -> dict[str, Any]:
        """Parameters recorded with the trajectory (``temperature_K`` None for a ramp)."""
        params = {**self.to_dict()["params"], "seed": seed}
        if self.end_temperature_K is not None:
            params.update(temperature_K=None, start_temperature_K=self.temperature_K)
        return params

    def preflight(self, workspace: "Workspace") -> None:
        from ssestudio.calculators import check_calculator

        check_calculator(self.calculator)
        if self.resume is not None:
            workspace.get_trajectory(self.resume)
            return
        self.load_atoms(workspace)
        if self.name is not None:
            workspace.available_name("trajectories", self.name, default="")

    def load_atoms(self, workspace: "Workspace") -> "Atoms":
        """The structure (from the workspace, else the file), repeated by ``supercell``."""
        return _load_structure(workspace, self.structure, self.supercell)

    def run(self, ctx: "JobContext") -> dict:
        import secrets

        from ssestudio.calculators import get_calculator

        ckpt = None if self.resume is None else load_resume_checkpoint(ctx, self.resume)
        atoms = self.load_atoms(ctx.workspace) if ckpt is None else atoms_from_checkpoint(ckpt)
        seed = ckpt.seed if ckpt else self.seed if self.seed is not None else secrets.randbits(32)
        protocol = self.protocol(seed=seed)
        calc = get_calculator(self.calculator, **self.options)
        config = protocol.stages[-1].config
        formula = atoms.get_chemical_formula("hill")
        plan = OutputPlan("main", self.name, f"md-{formula}-{config.temperature_K:g}K",
                          f"MD {config.ensemble} {config.temperature_K:g} K ({self.calculator})",
                          self.provenance_parameters(seed), (self.structure,))
        ctx.log(f"MD of {formula} ({len(atoms)} atoms) with {self.calculator!r}: "
                f"{config.ensemble}, {config.temperature_K:g} K, {config.timestep_fs:g} fs x "
                f"{config.n_steps} steps" + (f" after {self.equilibration_steps} steps of "
                                             f"equilibration" if self.equilibration_steps else ""))
        result, opened = run_protocol_job(ctx, atoms, calc, protocol, [plan], resume=ckpt,
                                          checkpoint_interval=self.checkpoint_interval)
        out, md = opened["main"], result.stages[-1]
        ctx.log(f"finished: {out.writer.n_frames} frames, {md.atom_steps_per_s:,.0f} "
                f"atom-steps/s, <T> = {md.mean_T_K:.1f} ± {md.std_T_K:.1f} K, {md.wall_s:.1f} s")
        return {"trajectory_id": out.record.id, "name": out.record.name,
                "trajectory": out.record.name, "path": str(out.writer.path),
                "n_frames": out.writer.n_frames, "n_atoms": len(atoms),
                "n_steps_done": md.n_steps_done, "atom_steps_per_s": md.atom_steps_per_s,
                "mean_T_K": md.mean_T_K, "std_T_K": md.std_T_K, "wall_s": result.wall_s,
                "final_epot_eV": md.final_epot_eV, "seed": result.seed,
                "thermo_path": str(md.thermo_path), "temperature_K": self.temperature_K,
                "ensemble": self.ensemble, "mean_P_GPa": md.mean_P_GPa,
                "mean_density_g_cm3": md.mean_density_g_cm3,
                "max_force_deviation_eV_A": md.max_force_deviation_eV_A,
                "resumed_from_step": None if ckpt is None else
                protocol.stages[ckpt.stage].name + f":{ckpt.step}"}


def resume_spec(workspace: "Workspace", trajectory: str | int) -> JobSpec:
    """The spec that continues the (killed, cancelled or failed) job that wrote
    ``trajectory``: its own spec with ``resume`` set.

    Raises
    ------
    UserInputError
        The trajectory was not written by an MD job of this workspace.
    """
    from ssestudio.jobs import store

    record = workspace.get_trajectory(trajectory)
    if record.job_id is None:
        raise UserInputError(f"trajectory {record.name!r} was not written by a job; only MD "
                             "and melt-quench runs can be resumed")
    data = store.get_job(workspace, record.job_id).spec
    spec = JobSpec.from_dict(data)
    if not hasattr(spec, "resume"):
        raise UserInputError(f"trajectory {record.name!r} was written by a {spec.kind} job, "
                             "which cannot be resumed")
    return dataclasses.replace(spec, resume=record.id)


# ---------------------------------------------------------------------------------------
# temperature sweeps
# ---------------------------------------------------------------------------------------
def sweep_specs(base: MDSpec, temperatures_K: Sequence[float]) -> list[MDSpec]:
    """One :class:`MDSpec` per temperature (for an Arrhenius plot of D or sigma).

    Each copy of ``base`` gets ``temperature_K = T`` (recorded in its trajectory's
    provenance), the name ``<base.name>-<T>K`` when ``base.name`` is set (else the default
    ``md-<formula>-<T>K``), and the seed ``base.seed + k`` when ``base.seed`` is set.

    Raises
    ------
    UserInputError
        No temperatures, a repeated one, one that is not > 0 K, or a ramp in ``base``.
    """
    temps = [float(t) for t in temperatures_K]
    if not temps or any(not t > 0 for t in temps) or len(set(temps)) != len(temps):
        raise UserInputError(f"a sweep needs distinct temperatures > 0 K, got {temperatures_K!r}")
    if base.end_temperature_K is not None or base.resume is not None:
        raise UserInputError("a sweep runs each temperature at constant target: give no "
                             "end_temperature_K and no resume in its base spec")
    return [dataclasses.replace(
        base, temperature_K=t, name=None if base.name is None else f"{base.name}-{t:g}K",
        seed=None if base.seed is None else base.seed + k) for k, t in enumerate(temps)]


def submit_sweep(manager: "JobManager", base: MDSpec,
                 temperatures_K: Sequence[float]) -> list[int]:
    """Submit one ``md`` job per temperature (:func:`sweep_specs`); return their ids.

    Every spec is checked (preflight) before the first is submitted, so a bad input
    submits nothing. The jobs run wherever the manager's executor puts them (several
    local workers, or a Dask cluster).
    """
    specs = sweep_specs(base, temperatures_K)
    for spec in specs:
        spec.preflight(manager.workspace)
    return [manager.submit(spec) for spec in specs]
