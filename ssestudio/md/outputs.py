"""Trajectory outputs of MD jobs: register, follow, keep, reopen to resume.

:func:`run_protocol_job` runs a :class:`~ssestudio.md.protocol.Protocol` inside a job
(:class:`~ssestudio.jobs.context.JobContext`): each output key of the protocol becomes a
native trajectory registered in the workspace before the first frame (so the app can
follow it live; its frame count is updated every :data:`STATS_INTERVAL_S`), progress goes
to the job, a cancel request stops the run at the next written frame, a checkpoint is
kept next to the first output, and a cancelled or failed run keeps the frames written
so far (an output without frames is removed). To resume, the same function reopens the
outputs recorded in the checkpoint and cuts them back to its frame counts.

The job specs using it are in :mod:`ssestudio.jobs.md`.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ssestudio.core.errors import UserInputError

if TYPE_CHECKING:
    from ase import Atoms

    from ssestudio.io import TrajectoryWriter
    from ssestudio.jobs.context import JobContext
    from ssestudio.md.checkpoint import Checkpoint
    from ssestudio.md.engine import ProtocolResult
    from ssestudio.md.protocol import Protocol
    from ssestudio.workspace import TrajectoryRecord

#: Minimum time between updates of a trajectory record's frame count, s.
STATS_INTERVAL_S = 2.0


@dataclass(frozen=True)
class OutputPlan:
    """How a job registers one output of its protocol.

    Attributes
    ----------
    key : str
        Output key of the protocol's stages.
    name : str or None
        Requested trajectory name (None: ``default_name`` made unique).
    default_name : str
    description : str
    parameters : dict
        Provenance parameters (``temperature_K`` and ``ensemble`` for the Conductivity tab).
    inputs : tuple of str
        Provenance inputs.
    """

    key: str
    name: str | None
    default_name: str
    description: str
    parameters: dict
    inputs: tuple[str, ...]


@dataclass
class _Opened:
    plan: OutputPlan
    writer: "TrajectoryWriter"
    record: "TrajectoryRecord"


def _writer_metadata(protocol: "Protocol", key: str, ctx: "JobContext", params: dict) -> dict:
    """Trajectory metadata: the protocol, and ``md_config`` when one thermostat target
    holds for all the output's stages (readers take the temperature from it)."""
    stages = [s for s in protocol.stages if s.output == key]
    meta = {"ssestudio_job_id": ctx.job_id, "job": params, "output": key,
            "protocol": protocol.to_dict()}
    targets = {(s.config.ensemble, s.config.temperature_K, s.config.end_temperature_K)
               for s in stages}
    if len(targets) == 1 and stages[0].config.end_temperature_K is None:
        meta["md_config"] = dataclasses.asdict(stages[0].config)
    return meta


def _open_outputs(ctx: "JobContext", atoms: "Atoms", protocol: "Protocol",
                  plans: Sequence[OutputPlan]) -> dict[str, _Opened]:
    """Create each output's native file and register it at once (0 frames)."""
    import shutil

    from ssestudio.io import TrajectoryWriter
    from ssestudio.workspace.store import safe_folder_name

    ws, opened = ctx.workspace, {}
    try:
        for plan in plans:
            name = ws.available_name("trajectories", plan.name, default=plan.default_name)
            folder = ws.new_artifact_dir("trajectories", name)
            stage = next(s for s in protocol.stages if s.output == plan.key)
            try:
                writer = TrajectoryWriter(
                    folder / f"{safe_folder_name(name)}.h5", atoms.get_chemical_symbols(),
                    atoms.get_masses(), timestep_fs=stage.config.frame_interval_fs,
                    store_velocities=True, store_forces=True,
                    store_stress=stage.config.log_stress, flush_every=1,
                    metadata=_writer_metadata(protocol, plan.key, ctx, plan.parameters))
                record = ws.register_trajectory(
                    writer.path, name=name, format="native", job_id=ctx.job_id, n_frames=0,
                    n_atoms=len(atoms), formula=atoms.get_chemical_formula("hill"),
                    timestep_fs=stage.config.frame_interval_fs, description=plan.description,
                    provenance={"inputs": list(plan.inputs), "parameters": plan.parameters})
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            opened[plan.key] = _Opened(plan, writer, record)
    except BaseException as exc:  # remove the outputs registered so far (no frames yet)
        _close_outputs(ctx, opened, exc)
        raise
    return opened


def _reopen_outputs(ctx: "JobContext", ckpt: "Checkpoint", atoms: "Atoms",
                    protocol: "Protocol", plans: Sequence[OutputPlan]) -> dict[str, _Opened]:
    """Cut each output back to the checkpoint's frames and append after them; outputs
    that had no frame yet (and may have been removed) are created anew."""
    from ssestudio.md import reopen_trajectory
    from ssestudio.workspace import RecordNotFoundError

    ws, ids = ctx.workspace, ckpt.extra.get("outputs", {})
    opened, fresh = {}, []
    try:
        for plan in plans:
            n = int(ckpt.outputs.get(plan.key, {}).get("frames", 0))
            try:
                record = ws.get_trajectory(int(ids[plan.key]))
            except (KeyError, RecordNotFoundError):
                if n:
                    raise UserInputError(f"output {plan.key!r} of the checkpoint has {n} "
                                         "frames but its trajectory is no longer registered; "
                                         "start the run again") from None
                fresh.append(plan)
                continue
            writer = reopen_trajectory(record.paths[0], n)
            opened[plan.key] = _Opened(plan, writer,
                                       ws.update_trajectory_stats(record.id, n_frames=n))
        opened.update(_open_outputs(ctx, atoms, protocol, fresh))
    except BaseException:
        for out in opened.values():
            out.writer.close()
        raise
    return {plan.key: opened[plan.key] for plan in plans}


def _close_outputs(ctx: "JobContext", opened: dict[str, _Opened],
                   exc: BaseException | None) -> None:
    """Close the writers and record their frame counts; after a failure, drop outputs
    that got no frame. Never raises: problems are logged, the original error goes on."""
    from ssestudio.jobs.context import JobCancelled

    why = ("cancelled" if isinstance(exc, JobCancelled) else f"stopped ({exc})") if exc else ""
    for out in opened.values():
        try:
            n = out.writer.n_frames
            out.writer.close()
            if exc is None:
                ctx.workspace.update_trajectory_stats(out.record.id, n_frames=n)
            elif n == 0:
                from ssestudio.md import default_thermo_path

                default_thermo_path(out.writer.path).unlink(missing_ok=True)
                ctx.workspace.delete_trajectory(out.record.id, delete_files=True)
                ctx.log(f"MD {why} before any frame of {out.record.name!r} was written; "
                        "trajectory removed")
            else:
                ctx.workspace.update_trajectory_stats(out.record.id, n_frames=n)
                ctx.log(f"MD {why}: trajectory {out.record.name!r} (id {out.record.id}) kept "
                        f"with the {n} frames written so far; resume with "
                        f"resume={out.record.name!r}")
        except Exception as cleanup_exc:  # keep the original exception
            ctx.log(f"MD {why}; updating trajectory {out.record.name!r} failed: {cleanup_exc}")


def _progress_reporter(ctx: "JobContext", opened: dict[str, _Opened]
                       ) -> Callable[[float, str], None]:
    """``progress`` for the runner: job progress (with ETA) and, at most every
    :data:`STATS_INTERVAL_S`, the trajectory records' frame counts."""
    last = [-float("inf")]

    def progress(fraction: float, message: str) -> None:
        ctx.progress(fraction, message)
        now = time.monotonic()
        if now - last[0] >= STATS_INTERVAL_S:
            last[0] = now
            for out in opened.values():
                ctx.workspace.update_trajectory_stats(out.record.id,
                                                      n_frames=out.writer.n_frames)
    return progress


def load_resume_checkpoint(ctx: "JobContext", ref: str | int) -> "Checkpoint":
    """The checkpoint of the run that wrote trajectory ``ref`` (name or id; any output of
    that run), refusing while its job still runs.

    Raises
    ------
    UserInputError
        The job is still active, or there is no checkpoint.
    """
    from ssestudio.jobs import store
    from ssestudio.md import default_checkpoint_path, load_checkpoint

    ws = ctx.workspace
    record = ws.get_trajectory(ref)
    siblings = []
    if record.job_id is not None and record.job_id != ctx.job_id:
        job = store.get_job(ws, record.job_id)
        dead = job.host == store.HOST and job.pid is not None and not store.pid_alive(job.pid)
        if not job.done and not dead:
            raise UserInputError(f"job {job.id} that writes {record.name!r} is still {job.status}"
                                 f"; cancel it or wait for it before resuming")
        siblings = [t for t in ws.list_trajectories() if t.job_id == record.job_id]
    for candidate in [record, *siblings]:  # the checkpoint lies next to the first output
        path = default_checkpoint_path(candidate.paths[0])
        if path.is_file():
            return load_checkpoint(path)
    return load_checkpoint(default_checkpoint_path(record.paths[0]))  # raises: none saved


def atoms_from_checkpoint(ckpt: "Checkpoint") -> "Atoms":
    """Atoms with the checkpoint's numbers, positions, cell and periodicity (standard
    masses); the run's state is restored from the checkpoint itself."""
    from ase import Atoms

    return Atoms(numbers=ckpt.numbers, positions=ckpt.positions, cell=ckpt.cell, pbc=ckpt.pbc)


def run_protocol_job(ctx: "JobContext", atoms: "Atoms", calc: Any, protocol: "Protocol",
                     plans: Sequence[OutputPlan], *, checkpoint_interval: int,
                     resume: "Checkpoint | None" = None
                     ) -> tuple["ProtocolResult", dict[str, _Opened]]:
    """Run ``protocol`` inside a job: register the outputs (or reopen them to resume),
    report progress, stop on cancel, checkpoint next to the first output, and keep the
    frames written when stopped or failed.

    Returns
    -------
    (ProtocolResult, dict)
        The result and, per output key, the (closed) writer and its trajectory record.
    """
    from ssestudio.md import Output, default_checkpoint_path, default_thermo_path, run_protocol

    opened = (_open_outputs(ctx, atoms, protocol, plans) if resume is None
              else _reopen_outputs(ctx, resume, atoms, protocol, plans))
    first = opened[plans[0].key]
    ckpt_path = default_checkpoint_path(first.writer.path)
    outputs = {k: Output(o.writer, default_thermo_path(o.writer.path)) for k, o in opened.items()}

    def should_stop() -> bool:
        ctx.check_cancelled()  # raises JobCancelled
        return False

    try:
        names = ", ".join(f"{o.record.name!r} (id {o.record.id})" for o in opened.values())
        ctx.log(f"{'resuming' if resume else 'running'} {len(protocol.stages)} stage(s) "
                f"({', '.join(s.name for s in protocol.stages)}) on {len(atoms)} atoms, "
                f"seed {protocol.seed if resume is None else resume.seed}; writing {names}; "
                f"checkpoint {ckpt_path}")
        result = run_protocol(atoms, calc, protocol, outputs=outputs,
                              progress=_progress_reporter(ctx, opened), should_stop=should_stop,
                              checkpoint_path=ckpt_path, checkpoint_interval=checkpoint_interval,
                              checkpoint_extra={"outputs": {k: o.record.id
                                                            for k, o in opened.items()}},
                              resume=resume)
    except BaseException as exc:
        _close_outputs(ctx, opened, exc)
        raise
    _close_outputs(ctx, opened, None)
    return result, opened


def register_glass(ctx: "JobContext", atoms: "Atoms", opened: dict):
    """Register ``atoms`` (the glass a melt-quench made) as the workspace structure
    ``<protocol trajectory>-glass`` (extended XYZ, made unique); return its record."""
    import ase.io

    main = opened["protocol"].record
    path = ctx.job_dir / "glass.extxyz"
    glass = atoms.copy()
    glass.calc = None
    ase.io.write(path, glass, format="extxyz")
    name = ctx.workspace.available_name("structures", None, default=f"{main.name}-glass")
    return ctx.workspace.import_structure(
        path, name=name, job_id=ctx.job_id, description=f"glass from melt-quench {main.name!r}",
        provenance={"inputs": [o.record.name for o in opened.values()],
                    "parameters": {"job_id": ctx.job_id}})


def glass_analysis(ctx: "JobContext", atoms: "Atoms", opened: dict) -> dict:
    """:func:`~ssestudio.analysis.structure.analyze_structure` (no XRD) of the production
    output's frames (at most 20, evenly spaced), else of ``atoms``, as its JSON dict:
    ``density_g_cm3``, ``speciation`` (None without a former/anion pair), ``warnings``...
    An analysis that fails on bad input is logged and gives ``{"warnings": [...]}``."""
    from ssestudio.analysis.structure import analyze_structure

    prod = opened.get("production")
    if prod is not None and prod.writer.n_frames:
        n = prod.writer.n_frames
        source, stride = str(prod.writer.path), max(1, n // 20)
    else:
        source, stride = atoms, None
    try:
        result = analyze_structure(source, stride=stride, xrd_method="none").to_dict(curves=False)
    except UserInputError as exc:  # e.g. a non-periodic start: report, do not fail the job
        ctx.log(f"structure analysis of the glass failed: {exc}")
        return {"warnings": [str(exc)]}
    return result
