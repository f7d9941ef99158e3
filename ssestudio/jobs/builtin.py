"""Built-in job kinds.

``convert-trajectory``: read any supported trajectory and write it, in the native HDF5
format, into the workspace, registered with the job as provenance.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ssestudio.core.errors import UserInputError
from ssestudio.jobs.spec import JobSpec, register_job

if TYPE_CHECKING:
    from ssestudio.jobs.context import JobContext
    from ssestudio.workspace import Workspace


def progress_callback(ctx: "JobContext") -> Callable[[float, str], None]:
    """A converter ``progress(fraction, message)`` callback that reports to ``ctx`` and
    raises :class:`~ssestudio.jobs.context.JobCancelled` when a cancel was requested."""
    def callback(fraction: float, message: str = "") -> None:
        ctx.progress(fraction, message)
        ctx.check_cancelled()
    return callback


@register_job("convert-trajectory")
@dataclass(frozen=True)
class ConvertTrajectorySpec(JobSpec):
    """Convert a trajectory to native HDF5 inside the workspace and register it.

    Parameters
    ----------
    source_paths : tuple of str
        Trajectory file(s), in order (several for a multi-segment trajectory).
    format : str, optional
        Reader name; default detected by :func:`ssestudio.io.open_trajectory`.
    timestep_fs : float, optional
        Time between frames, fs, when the file does not say.
    name : str, optional
        Name of the new trajectory; default the first file's stem, made unique.
    """

    source_paths: tuple[str, ...]
    format: str | None = None
    timestep_fs: float | None = None
    name: str | None = None

    def validate(self) -> None:
        paths = [self.source_paths] if isinstance(self.source_paths, str) else self.source_paths
        if not paths or not all(isinstance(p, (str, Path)) for p in paths):
            raise UserInputError("convert-trajectory needs source_paths: one or more file paths")
        object.__setattr__(self, "source_paths",
                           tuple(str(Path(p).expanduser().absolute()) for p in paths))
        if self.timestep_fs is not None and not float(self.timestep_fs) > 0:
            raise UserInputError(f"timestep_fs must be > 0 fs, got {self.timestep_fs}")

    def preflight(self, workspace: "Workspace") -> None:
        missing = [p for p in self.source_paths if not Path(p).is_file()]
        if missing:
            raise UserInputError(f"trajectory file not found: {', '.join(missing)}")
        if self.name is not None:
            workspace.available_name("trajectories", self.name, default="")

    def run(self, ctx: "JobContext") -> dict:
        from ssestudio.workspace.store import safe_folder_name

        ws = ctx.workspace
        name = ws.available_name("trajectories", self.name,
                                 default=Path(self.source_paths[0]).stem)
        folder = ws.new_artifact_dir("trajectories", name)
        dst = folder / f"{safe_folder_name(name)}.h5"
        try:
            meta = self._convert(ctx, dst)
            rec = ws.register_trajectory(
                dst, name=name, format="native", job_id=ctx.job_id, **meta,
                provenance={"inputs": list(self.source_paths),
                            "parameters": {"source_format": self.format,
                                           "timestep_fs": self.timestep_fs}})
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        ctx.log(f"registered trajectory {rec.name!r} (id {rec.id}): {rec.n_frames} frames")
        return {"trajectory_id": rec.id, "name": rec.name, "path": str(dst),
                "n_frames": rec.n_frames, "n_atoms": rec.n_atoms}

    def _convert(self, ctx: "JobContext", dst: Path) -> dict[str, Any]:
        from ssestudio.io import convert_trajectory, open_trajectory

        src = list(self.source_paths) if len(self.source_paths) > 1 else self.source_paths[0]
        with open_trajectory(src, format=self.format, timestep_fs=self.timestep_fs) as traj:
            ctx.log(f"converting {traj!r} to {dst}")
            ctx.progress(0.0, f"converting {traj.n_frames} frames")
            convert_trajectory(traj, dst, progress=progress_callback(ctx),
                               metadata={"ssestudio_job_id": ctx.job_id})
        with open_trajectory(str(dst), format="native") as out:
            return {"n_frames": out.n_frames, "n_atoms": out.n_atoms, "formula": out.formula,
                    "timestep_fs": out.info.timestep_fs}
