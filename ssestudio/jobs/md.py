"""The ``md`` job: run MD on a structure and write a trajectory the app can follow live.

The trajectory is registered in the workspace when the run starts (format ``native``,
frame count kept current every few seconds), so a viewer can open it and call
``refresh()`` while frames are appended. A cancelled or failed run keeps the frames
written so far, registered with their final count.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ssestudio.core.errors import UserInputError
from ssestudio.jobs.spec import JobSpec, register_job

if TYPE_CHECKING:
    from ase import Atoms

    from ssestudio.io import TrajectoryWriter
    from ssestudio.jobs.context import JobContext
    from ssestudio.md.runner import MDConfig, MDResult
    from ssestudio.workspace import TrajectoryRecord, Workspace

#: Minimum time between updates of the trajectory record's frame count, s.
STATS_INTERVAL_S = 2.0
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
        (:func:`ssestudio.calculators.get_calculator`).
    calculator_options : dict or tuple of (str, value) pairs
        Keyword options of the calculator, stored as sorted pairs; JSON values only.
    temperature_K : float
        Target and initial temperature, K (>= 0).
    timestep_fs : float
        Time step, fs (0 < dt <= 10).
    n_steps : int
        Steps (>= 1).
    write_interval : int
        Steps between written frames (>= 1).
    ensemble : str
        ``"nvt-langevin"`` or ``"nve"``.
    friction_per_fs : float
        Langevin friction, fs^-1.
    seed : int, optional
        Random seed; None draws one (recorded in the provenance and the result).
    supercell : tuple of 3 int
        Repetitions of the structure's cell along a, b, c.
    name : str, optional
        Trajectory name; default ``md-<formula>-<T>K`` made unique.
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

    def validate(self) -> None:
        if not isinstance(self.structure, (str, Path)) or not str(self.structure).strip():
            raise UserInputError("md needs a structure: a workspace structure name/id or a file")
        path = Path(str(self.structure)).expanduser()
        structure = str(path.absolute()) if path.is_file() else str(self.structure).strip()
        object.__setattr__(self, "structure", structure)
        object.__setattr__(self, "calculator_options", as_option_pairs(self.calculator_options))
        object.__setattr__(self, "supercell", _check_supercell(self.supercell))
        if not isinstance(self.calculator, str) or not self.calculator.strip():
            raise UserInputError(f"calculator must be a name such as 'emt', got {self.calculator!r}")
        if isinstance(self.timestep_fs, (int, float)) and not 0 < self.timestep_fs <= MAX_TIMESTEP_FS:
            raise UserInputError(f"timestep_fs must be > 0 and <= {MAX_TIMESTEP_FS:g} fs, got "
                                 f"{self.timestep_fs}; 0.5-2 fs suits Li-containing solids")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)
                                      or self.seed < 0):
            raise UserInputError(f"seed must be a non-negative integer or None, got {self.seed!r}")
        self.md_config()  # checks the remaining values

    @property
    def options(self) -> dict[str, Any]:
        """Calculator options as a dict (lists where given as lists)."""
        return json.loads(json.dumps(dict(self.calculator_options)))

    def md_config(self, *, seed: int | None = None) -> "MDConfig":
        """The :class:`~ssestudio.md.runner.MDConfig` of this job (``seed`` overrides)."""
        from ssestudio.md.runner import MDConfig

        return MDConfig(ensemble=self.ensemble, temperature_K=self.temperature_K,
                        timestep_fs=self.timestep_fs, n_steps=self.n_steps,
                        write_interval=self.write_interval, friction_per_fs=self.friction_per_fs,
                        seed=self.seed if seed is None else seed)

    def preflight(self, workspace: "Workspace") -> None:
        from ssestudio.calculators import check_calculator

        self.load_atoms(workspace)
        check_calculator(self.calculator)
        if self.name is not None:
            workspace.available_name("trajectories", self.name, default="")

    def load_atoms(self, workspace: "Workspace") -> "Atoms":
        """The structure (from the workspace, else the file), repeated by ``supercell``."""
        from ssestudio.workspace.structures import read_atoms

        path = Path(self.structure)
        atoms = read_atoms(path) if path.is_absolute() else workspace.read_structure(self.structure)
        return atoms.repeat(self.supercell) if self.supercell != (1, 1, 1) else atoms

    def run(self, ctx: "JobContext") -> dict:
        import secrets

        from ssestudio.calculators import get_calculator

        atoms = self.load_atoms(ctx.workspace)
        calc = get_calculator(self.calculator, **self.options)
        config = self.md_config(seed=self.seed if self.seed is not None else secrets.randbits(32))
        writer, record = self._open_output(ctx, atoms, config)
        try:
            ctx.log(f"MD of {atoms.get_chemical_formula()} ({len(atoms)} atoms) with "
                    f"{self.calculator!r}: {config.ensemble}, {config.temperature_K:g} K, "
                    f"{config.timestep_fs:g} fs x {config.n_steps} steps, seed {config.seed}; "
                    f"writing trajectory {record.name!r} (id {record.id}) to {writer.path}")
            result = self._run(ctx, atoms, calc, config, writer, record)
        except BaseException as exc:
            self._keep_partial(ctx, writer, record, exc)
            raise
        finally:
            writer.close()
        ctx.workspace.update_trajectory_stats(record.id, n_frames=result.n_frames)
        ctx.log(f"finished: {result.n_frames} frames, {result.atom_steps_per_s:,.0f} atom-steps/s,"
                f" <T> = {result.mean_T_K:.1f} ± {result.std_T_K:.1f} K, {result.wall_s:.1f} s")
        return {"trajectory_id": record.id, "name": record.name, "trajectory": record.name,
                "path": str(writer.path), "n_frames": result.n_frames, "n_atoms": len(atoms),
                "n_steps_done": result.n_steps_done, "atom_steps_per_s": result.atom_steps_per_s,
                "mean_T_K": result.mean_T_K, "std_T_K": result.std_T_K, "wall_s": result.wall_s,
                "final_epot_eV": result.final_epot_eV, "seed": result.seed,
                "thermo_path": str(result.thermo_path)}

    def _open_output(self, ctx: "JobContext", atoms: "Atoms", config: "MDConfig"
                     ) -> tuple["TrajectoryWriter", "TrajectoryRecord"]:
        """Create the native file and register it at once (0 frames), for live viewing."""
        import shutil

        from ssestudio.md.runner import open_md_writer
        from ssestudio.workspace.store import safe_folder_name

        ws = ctx.workspace
        formula = atoms.get_chemical_formula("hill")
        name = ws.available_name("trajectories", self.name,
                                 default=f"md-{formula}-{config.temperature_K:g}K")
        folder = ws.new_artifact_dir("trajectories", name)
        params = {**self.to_dict()["params"], "seed": config.seed}
        try:
            writer = open_md_writer(folder / f"{safe_folder_name(name)}.h5", atoms, config,
                                    metadata={"ssestudio_job_id": ctx.job_id, "job": params})
            record = ws.register_trajectory(
                writer.path, name=name, format="native", job_id=ctx.job_id, n_frames=0,
                n_atoms=len(atoms), formula=formula, timestep_fs=config.frame_interval_fs,
                provenance={"inputs": [self.structure], "parameters": params},
                description=f"MD {config.ensemble} {config.temperature_K:g} K ({self.calculator})")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return writer, record

    def _run(self, ctx: "JobContext", atoms: "Atoms", calc: Any, config: "MDConfig",
             writer: "TrajectoryWriter", record: "TrajectoryRecord") -> "MDResult":
        from ssestudio.md.runner import run_md

        def should_stop() -> bool:
            ctx.check_cancelled()  # raises JobCancelled
            return False

        return run_md(atoms, calc, config, writer=writer,
                      progress=_progress_reporter(ctx, writer, record.id),
                      should_stop=should_stop)

    def _keep_partial(self, ctx: "JobContext", writer: "TrajectoryWriter",
                      record: "TrajectoryRecord", exc: BaseException) -> None:
        """After a cancel or failure: keep the frames written (or drop an empty file).

        Never raises: a cleanup problem is logged and the original error goes on.
        """
        from ssestudio.jobs.context import JobCancelled
        from ssestudio.md.runner import default_thermo_path

        ws, n = ctx.workspace, writer.n_frames
        why = "cancelled" if isinstance(exc, JobCancelled) else f"stopped ({exc})"
        try:
            writer.close()
            if n == 0:
                default_thermo_path(writer.path).unlink(missing_ok=True)
                ws.delete_trajectory(record.id, delete_files=True)
                ctx.log(f"MD {why} before any frame was written; trajectory {record.name!r} "
                        "removed")
                return
            ws.update_trajectory_stats(record.id, n_frames=n)
            ctx.log(f"MD {why}: trajectory {record.name!r} (id {record.id}) kept with the {n} "
                    f"frames written so far (up to step {(n - 1) * self.write_interval})")
        except Exception as cleanup_exc:  # keep the original exception
            ctx.log(f"MD {why}; updating trajectory {record.name!r} failed: {cleanup_exc}")


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


def _progress_reporter(ctx: "JobContext", writer: "TrajectoryWriter",
                       trajectory_id: int) -> Callable[[float, str], None]:
    """``progress`` for :func:`run_md`: job progress (with ETA) and, at most every
    :data:`STATS_INTERVAL_S`, the trajectory record's frame count."""
    last = [-float("inf")]

    def progress(fraction: float, message: str) -> None:
        ctx.progress(fraction, message)
        now = time.monotonic()
        if now - last[0] >= STATS_INTERVAL_S:
            last[0] = now
            ctx.workspace.update_trajectory_stats(trajectory_id, n_frames=writer.n_frames)
    return progress
