"""``structure`` jobs: structure analysis of a workspace trajectory in the background.

The job runs :func:`ssestudio.analysis.structure.analyze_structure` over a frame
selection of the trajectory and writes ``structure.json`` (its ``to_dict(curves=True)``:
density and lattice per frame, partial RDFs, coordination, bond angles, speciation,
neutron and X-ray S(q), powder XRD) into the job folder; the MD tab draws it. When the
trajectory has a thermo log (an MD run of SSE Studio, one line per written frame), the
temperature of each frame comes from it (the thermostat target where there is one, else the
kinetic temperature), so that density and lattice parameters can be shown against T.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ssestudio.core.errors import UserInputError
from ssestudio.core.files import atomic_write
from ssestudio.jobs.spec import JobSpec, register_job

if TYPE_CHECKING:
    from ssestudio.jobs.context import JobContext
    from ssestudio.workspace import Workspace

__all__ = ["RESULT_FILE", "StructureSpec", "auto_stride", "frame_temperatures_K",
           "load_structure_result"]

#: The analysis, as JSON, in the job folder.
RESULT_FILE = "structure.json"
#: Frames analysed by default (the stride is chosen to keep about this many).
DEFAULT_MAX_FRAMES = 100


def auto_stride(n_selected: int, max_frames: int = DEFAULT_MAX_FRAMES) -> int:
    """The smallest stride that keeps at most ``max_frames`` of ``n_selected`` frames."""
    return max(1, math.ceil(n_selected / max(1, max_frames)))


def frame_temperatures_K(trajectory_path: str | Path, n_frames: int) -> np.ndarray | None:
    """Temperature of each frame from the run's thermo log, K, shape (n_frames,).

    The thermostat target where it is finite, else the kinetic temperature; None when there
    is no thermo log or its length does not match the trajectory.
    """
    from ssestudio.md import default_thermo_path
    from ssestudio.md.thermo import read_thermo

    path = default_thermo_path(trajectory_path)
    if not path.is_file():
        return None
    try:
        thermo = read_thermo(path)
    except (OSError, ValueError):
        return None
    if "T_K" not in thermo or len(thermo["T_K"]) != n_frames:
        return None
    target = thermo.get("target_T_K", np.full(n_frames, np.nan))
    return np.where(np.isfinite(target), target, thermo["T_K"])


@register_job("structure")
@dataclass(frozen=True)
class StructureSpec(JobSpec):
    """Structure analysis of a workspace trajectory.

    Parameters
    ----------
    trajectory : str or int
        Workspace trajectory name or id.
    start, stop : int, optional
        Frame range (slice semantics; negative counts from the end).
    stride : int, optional
        Every n-th frame; None keeps about 100 frames of the range.
    former, anion : str, optional
        Network former(s) (comma-separated) and anion; guessed from the composition.
    rmax_A : float, optional
        RDF range, Å (default: up to 10 Å within half the smallest cell width).
    """

    trajectory: str | int
    start: int | None = None
    stop: int | None = None
    stride: int | None = None
    former: str | None = None
    anion: str | None = None
    rmax_A: float | None = None

    def validate(self) -> None:
        if not isinstance(self.trajectory, (str, int)) or str(self.trajectory).strip() == "":
            raise UserInputError("give a trajectory: a workspace trajectory name or id")
        for name in ("start", "stop"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise UserInputError(f"{name} must be a frame index (integer), got {value!r}")
        if self.stride is not None and (isinstance(self.stride, bool)
                                        or not isinstance(self.stride, int) or self.stride < 1):
            raise UserInputError(f"stride must be an integer >= 1, got {self.stride!r}")
        if self.rmax_A is not None and not (isinstance(self.rmax_A, (int, float))
                                            and self.rmax_A > 0):
            raise UserInputError(f"rmax_A must be > 0 Å, got {self.rmax_A!r}")

    def preflight(self, workspace: "Workspace") -> None:
        rec = workspace.get_trajectory(self.trajectory)
        if rec.n_frames < 1:
            raise UserInputError(f"trajectory {rec.name!r} has no frames yet")

    def config(self, n_frames: int, temperatures_K: np.ndarray | None):
        """The :class:`~ssestudio.analysis.structure.StructureConfig` of this job."""
        from ssestudio.analysis.structure import StructureConfig

        selected = len(range(*slice(self.start, self.stop).indices(n_frames)))
        former = None if not self.former else tuple(
            f.strip() for f in self.former.split(",") if f.strip())
        return StructureConfig(start=self.start, stop=self.stop,
                               stride=self.stride or auto_stride(selected), former=former,
                               anion=self.anion or None, rmax_A=self.rmax_A,
                               temperatures_K=temperatures_K)

    def run(self, ctx: "JobContext") -> dict:
        from ssestudio.analysis.structure import analyze_structure
        from ssestudio.core.jsonsafe import json_safe

        rec = ctx.workspace.get_trajectory(self.trajectory)
        ctx.progress(0.0, f"reading {rec.name}")
        with ctx.workspace.open_trajectory(rec.id) as traj:
            n = traj.n_frames
            temperatures = frame_temperatures_K(rec.paths[0], n)
            cfg = self.config(n, temperatures)
            ctx.log(f"structure analysis of {rec.name!r} (id {rec.id}, {n} frames): frames "
                    f"{cfg.start}:{cfg.stop}:{cfg.stride}" + (
                        ", temperatures from the thermo log" if temperatures is not None else ""))
            ctx.check_cancelled()
            analysis = analyze_structure(traj, cfg)
        ctx.check_cancelled()
        data = json_safe({**analysis.to_dict(curves=True), "trajectory_id": rec.id,
                          "trajectory": rec.name})
        path = ctx.job_dir / RESULT_FILE
        atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(data), encoding="utf-8"))
        for w in analysis.warnings:
            ctx.log(f"warning: {w}")
        spec = data.get("speciation") or {}
        ctx.log(f"density {data['density_g_cm3']:.4g} g/cm^3 over {data['n_frames']} frames"
                if data.get("density_g_cm3") is not None else "no density")
        return {"trajectory_id": rec.id, "trajectory": rec.name, "path": str(path),
                "n_frames": data["n_frames"], "density_g_cm3": data.get("density_g_cm3"),
                "unit_fraction_by_unit": spec.get("unit_fraction_by_unit")}


def load_structure_result(path: str | Path) -> dict[str, Any]:
    """The ``structure.json`` of a finished ``structure`` job (its result's ``path``)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
