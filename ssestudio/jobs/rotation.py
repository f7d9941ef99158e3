"""``rotation`` jobs: anion-rotation (paddle-wheel) analysis of a workspace trajectory.

Runs :func:`ssestudio.analysis.rotation.analyze_rotation` with progress and cancellation
and writes ``rotation.json`` into the job folder: ``RotationResult.to_dict(detail=True)``
(headline numbers, unit report, C1/C2 curves and fits, angle distribution, event lists,
enrichment heatmap, cross-correlation, parameters) plus ``trajectory_id`` and
``trajectory``. The job's result is the flat summary (``RotationResult.summary()``) with
``trajectory_id``, ``trajectory`` and ``path`` (of ``rotation.json``);
:func:`load_rotation_result` reads the file back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssestudio.core.errors import UserInputError
from ssestudio.jobs.spec import JobSpec, register_job

if TYPE_CHECKING:
    from ssestudio.analysis.rotation import RotationConfig
    from ssestudio.jobs.context import JobContext
    from ssestudio.workspace import Workspace

__all__ = ["RESULT_FILE", "RotationSpec", "load_rotation_result"]

#: The analysis, as JSON, in the job folder.
RESULT_FILE = "rotation.json"


@register_job("rotation")
@dataclass(frozen=True)
class RotationSpec(JobSpec):
    """Anion-rotation analysis of a workspace trajectory.

    Parameters
    ----------
    trajectory : str or int
        Workspace trajectory name or id.
    anion : str
        Registry anion (``"PS4"``, ``"P2S7"``, ``"SiS4"``, ``"BH4"``, ``"B12H12"``,
        ``"AlCl4"``, ``"NbOCl4"``), or the label of a user-defined one (with ``centre``).
    cation : str
        Mobile species.
    centre, ligands : str, optional
        Centre and ligand elements (comma-separated) of a user-defined anion.
    n_ligands : int, optional
        Ligands per user-defined unit.
    bond_cutoff_A : float, optional
        Bond cutoff replacing the anion's defaults, Å.
    start, stop, stride : int, optional
        Frame selection.
    timestep_fs : float, optional
        Time between stored frames, fs, when the trajectory does not record it.
    temperature_K : float, optional
        Temperature recorded with the result (for Arrhenius plots across jobs).
    rotation_window_fs, rotation_threshold_deg : float
        Rotation events: angle over the window above the threshold.
    hop_window_fs, hop_threshold_A : float
        Hop events: displacement over the window above the threshold.
    sites_path : str, optional
        Structure file (the trajectory's cell) whose cations are the sites: hops become
        site-to-site changes.
    coincidence_dt_ps, coincidence_r_A : float
        The (dt, r) the verdict quotes.
    max_lag_fs : float, optional
        Longest lag of C1/C2, fs (default half the run).
    include_broken : bool
        Also analyse units whose bonds broke.
    seed : int
        Seed of the null model and bootstraps.
    """

    trajectory: str | int
    anion: str = "PS4"
    cation: str = "Li"
    centre: str | None = None
    ligands: str | None = None
    n_ligands: int | None = None
    bond_cutoff_A: float | None = None
    start: int | None = None
    stop: int | None = None
    stride: int | None = None
    timestep_fs: float | None = None
    temperature_K: float | None = None
    rotation_window_fs: float = 500.0
    rotation_threshold_deg: float = 60.0
    hop_window_fs: float = 500.0
    hop_threshold_A: float = 1.5
    sites_path: str | None = None
    coincidence_dt_ps: float = 0.5
    coincidence_r_A: float = 4.0
    max_lag_fs: float | None = None
    include_broken: bool = False
    seed: int = 0

    def validate(self) -> None:
        if isinstance(self.trajectory, bool) or not isinstance(self.trajectory, (str, int)) \
                or str(self.trajectory).strip() == "":
            raise UserInputError("give a trajectory: a workspace trajectory name or id")
        for name in ("start", "stop", "stride", "n_ligands", "seed"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise UserInputError(f"{name} must be an integer, got {value!r}")
        if self.stride is not None and self.stride < 1:
            raise UserInputError(f"stride must be >= 1, got {self.stride}")
        if (self.centre is None) != (self.ligands is None):
            raise UserInputError("a user-defined anion needs both centre and ligands "
                                 "(e.g. centre='Ge', ligands='S')")
        self.config(sites=None)  # checks every number and the anion

    def preflight(self, workspace: Workspace) -> None:
        rec = workspace.get_trajectory(self.trajectory)
        if rec.n_frames < 8:
            raise UserInputError(f"trajectory {rec.name!r} has {rec.n_frames} frames; a "
                                 "rotation analysis needs a run of many frames")
        if self.timestep_fs is None and rec.timestep_fs is None and rec.format != "native":
            raise UserInputError(f"trajectory {rec.name!r} does not record the time between "
                                 "frames: give timestep_fs")
        if self.sites_path is not None and not Path(self.sites_path).is_file():
            raise UserInputError(f"sites file {self.sites_path} does not exist")

    def config(self, *, sites: Any = None) -> RotationConfig:
        """The :class:`~ssestudio.analysis.rotation.RotationConfig` of this job."""
        from ssestudio.analysis.rotation import (
            ANIONS,
            RotationConfig,
            custom_anion,
            resolve_anion,
        )

        if self.centre is not None:  # a registry name as label would mislead: label it anew
            label = None if not self.anion or self.anion in ANIONS else self.anion
            anion = custom_anion(self.centre, self.ligands, n_ligands=self.n_ligands, name=label)
        else:
            anion = resolve_anion(self.anion)
        return RotationConfig(
            anion=anion, cation=self.cation, bond_cutoff_A=self.bond_cutoff_A,
            start=self.start, stop=self.stop, stride=self.stride, timestep_fs=self.timestep_fs,
            temperature_K=self.temperature_K, rotation_window_fs=self.rotation_window_fs,
            rotation_threshold_deg=self.rotation_threshold_deg,
            hop_window_fs=self.hop_window_fs, hop_threshold_A=self.hop_threshold_A,
            hop_method="sites" if sites is not None else "displacement", sites_frac=sites,
            coincidence_dt_ps=self.coincidence_dt_ps, coincidence_r_A=self.coincidence_r_A,
            max_lag_fs=self.max_lag_fs, include_broken=self.include_broken, seed=self.seed)

    def run(self, ctx: JobContext) -> dict:
        from ssestudio.analysis.rotation import analyze_rotation
        from ssestudio.analysis.rotation.analyze import sites_from_structure
        from ssestudio.core.jsonsafe import json_safe
        from ssestudio.core.files import atomic_write

        rec = ctx.workspace.get_trajectory(self.trajectory)
        sites = None if self.sites_path is None else sites_from_structure(self.sites_path,
                                                                          self.cation)
        cfg = self.config(sites=sites)
        ctx.log(f"rotation analysis of {self.anion} / {self.cation} in {rec.name!r} (id "
                f"{rec.id}): frames {self.start}:{self.stop}:{self.stride}")
        ctx.progress(0.0, f"reading {rec.name}")

        def progress(fraction: float, message: str = "") -> None:
            ctx.progress(fraction, message)
            ctx.check_cancelled()

        with ctx.workspace.open_trajectory(rec.id) as traj:
            result = analyze_rotation(traj, cfg, progress=progress)
        data = json_safe({**result.to_dict(detail=True), "trajectory_id": rec.id,
                          "trajectory": rec.name})
        path = ctx.job_dir / RESULT_FILE
        atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(data), encoding="utf-8"))
        for w in result.warnings:
            ctx.log(f"warning: {w}")
        ctx.log(result.verdict)
        summary = json_safe(result.summary())
        return {**summary, "trajectory_id": rec.id, "trajectory": rec.name, "path": str(path)}


def load_rotation_result(path: str | Path) -> dict[str, Any]:
    """The ``rotation.json`` of a finished ``rotation`` job: its result's ``path``, or the
    job folder.

    Raises
    ------
    UserInputError
        No saved rotation analysis there.
    """
    path = Path(path)
    if path.is_dir():
        path = path / RESULT_FILE
    if not path.is_file():
        raise UserInputError(f"no saved rotation analysis at {path} (written by a finished "
                             "rotation job)")
    return json.loads(path.read_text(encoding="utf-8"))
