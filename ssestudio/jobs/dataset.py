"""Datasets in a workspace, and the jobs that fill them.

A workspace dataset lives in ``<workspace>/datasets/<name>/dataset.db``
(:class:`ssestudio.data.store.Dataset`); each of its versions is also registered in the
workspace's ``datasets`` table (artifact version = dataset version) so that models can
record ``name@version`` with provenance.

Jobs:

* ``dataset-add`` (:class:`DatasetAddSpec`): starting structures (library, glass packing,
  workspace structure or file) through a generator pipeline into pending rows;
* ``dataset-import`` (:class:`DatasetImportSpec`): labelled DFT/AIMD files into a version;
* ``dataset-label`` (:class:`DatasetLabelSpec`): the pending rows labelled by a teacher,
  resumable after a kill.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssestudio.core.errors import UserInputError
from ssestudio.jobs.context import JobCancelled
from ssestudio.jobs.md import as_option_pairs
from ssestudio.jobs.spec import JobSpec, register_job

if TYPE_CHECKING:
    from ssestudio.data.store import Dataset, SplitPolicy
    from ssestudio.jobs.context import JobContext
    from ssestudio.workspace import Workspace

DATASETS_DIR = "datasets"


# ---- datasets in a workspace ---------------------------------------------------------------
def dataset_folder(workspace: Workspace, name: str) -> Path:
    """``<workspace>/datasets/<safe name>``."""
    from ssestudio.workspace.store import safe_folder_name

    return workspace.root / DATASETS_DIR / safe_folder_name(str(name).strip())


def create_dataset(workspace: Workspace, name: str, *, split: SplitPolicy | None = None,
                   description: str = "") -> Dataset:
    """Create the empty dataset ``name`` in the workspace.

    Raises
    ------
    UserInputError
        A dataset of that name exists, or the name is empty.
    """
    from ssestudio.data.store import Dataset
    from ssestudio.workspace.records import check_name

    name = check_name(name)
    folder = dataset_folder(workspace, name)
    if (folder / "dataset.db").exists():
        raise UserInputError(f"a dataset named {name!r} already exists in this workspace; "
                             "add to it, or choose another name")
    return Dataset.create(folder, name=name, split=split, description=description)


def open_dataset(workspace: Workspace, name: str) -> Dataset:
    """The workspace dataset ``name`` (a trailing ``@version`` is ignored here).

    Raises
    ------
    UserInputError
        No such dataset (the message lists those present).
    """
    from ssestudio.data.store import Dataset, parse_reference

    name, _ = parse_reference(name)
    folder = dataset_folder(workspace, name)
    if not (folder / "dataset.db").is_file():
        names = [d.name for d in list_datasets(workspace)]
        raise UserInputError(f"no dataset named {name!r} in this workspace; datasets: "
                             f"{', '.join(names) or 'none'} (create one with 'ssestudio "
                             "dataset new NAME')")
    return Dataset.open(folder)


def open_or_create_dataset(workspace: Workspace, name: str) -> Dataset:
    """The workspace dataset ``name``, created (empty, default split) when missing."""
    if (dataset_folder(workspace, name) / "dataset.db").is_file():
        return open_dataset(workspace, name)
    return create_dataset(workspace, name)


def list_datasets(workspace: Workspace) -> list[Dataset]:
    """Every dataset of the workspace, by name."""
    from ssestudio.data.store import Dataset

    root = workspace.root / DATASETS_DIR
    folders = sorted(p.parent for p in root.glob("*/dataset.db")) if root.is_dir() else []
    return sorted((Dataset.open(f) for f in folders), key=lambda d: d.name)


def sync_versions(workspace: Workspace, dataset: Dataset, *, job_id: int | None = None) -> None:
    """Register in the workspace's ``datasets`` table every version not yet registered."""
    known = {a.version for a in workspace.list_artifacts("datasets", name=dataset.name)}
    for v in dataset.versions():
        if v.version in known:
            continue
        workspace.add_artifact("datasets", dataset.folder, name=dataset.name, job_id=job_id,
                               description=v.note,
                               provenance={"parameters": {**v.to_dict(), "reference":
                                                          f"{dataset.name}@{v.version}"}})


def dataset_summary(dataset: Dataset) -> dict:
    """Name, folder, latest version, rows per status, and the versions (JSON-ready)."""
    return {"name": dataset.name, "path": str(dataset.folder), "rows": len(dataset),
            "latest_version": dataset.latest_version, "status": dataset.status_counts(),
            "split": dataset.metadata["split"],
            "versions": [v.to_dict() for v in dataset.versions()]}


# ---- jobs --------------------------------------------------------------------------------
def _check_dataset_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise UserInputError("the job needs the name of a workspace dataset")
    return name.strip()


class _Cancel:
    """``cancelled()`` for the data layer from a job context (which raises instead)."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx, self.flag = ctx, False

    def __call__(self) -> bool:
        try:
            self.ctx.check_cancelled()
        except JobCancelled:
            self.flag = True
        return self.flag


@register_job("dataset-add")
@dataclass(frozen=True)
class DatasetAddSpec(JobSpec):
    """Generate configurations and add them to a dataset as pending (unlabelled) rows.

    Parameters
    ----------
    dataset : str
        Workspace dataset name (created when missing).
    sources : tuple of str
        Starting structures: ``library:NAME[:AxBxC]``, ``glass:COMPOSITION:N[:DENSITY]``,
        ``structure:NAME`` (a workspace structure) or a file path
        (:mod:`ssestudio.data.sources`).
    pipeline : str
        JSON list of generator steps ``[{"name": "rattle", "params": {...}}, ...]``
        (:mod:`ssestudio.data.generators`); ``"[]"`` adds the structures themselves.
    seed : int
        Seed of the orderings, packings and generators.
    """

    dataset: str
    sources: tuple[str, ...]
    pipeline: str = "[]"
    seed: int = 0

    def validate(self) -> None:
        object.__setattr__(self, "dataset", _check_dataset_name(self.dataset))
        sources = (self.sources,) if isinstance(self.sources, str) else tuple(self.sources)
        if not sources or not all(isinstance(s, str) and s.strip() for s in sources):
            raise UserInputError("give at least one structure source, e.g. "
                                 "'library:beta-Li3PS4' or 'glass:75Li2S-25P2S5:128'")
        object.__setattr__(self, "sources", tuple(s.strip() for s in sources))
        steps = self.pipeline if isinstance(self.pipeline, str) else json.dumps(self.pipeline)
        object.__setattr__(self, "pipeline", steps)
        self.steps()

    def steps(self):
        """The generator steps (validated)."""
        from ssestudio.data.generators import pipeline_from_json

        try:
            data = json.loads(self.pipeline)
        except json.JSONDecodeError as exc:
            raise UserInputError(f"the pipeline must be a JSON list of steps: {exc}") from None
        return pipeline_from_json(data)

    def structures(self, workspace: Workspace):
        """The starting structures, with provenance."""
        from ssestudio.data.sources import load_source

        out = []
        for i, text in enumerate(self.sources):
            kind, sep, arg = text.partition(":")
            if sep and kind == "structure":
                rec = workspace.get_structure(arg.strip())
                frames = load_source(f"file:{rec.path}", seed=self.seed + i)
                for atoms in frames:
                    atoms.info["provenance"].update(source=f"structure:{rec.name}",
                                                    group=f"structure:{rec.name}")
                out += frames
            else:
                out += load_source(text, seed=self.seed + i)
        return out

    def preflight(self, workspace: Workspace) -> None:
        self.structures(workspace)

    def run(self, ctx: JobContext) -> dict:
        from ssestudio.data.generators import GenerationCancelled, apply_pipeline

        ws = ctx.workspace
        dataset = open_or_create_dataset(ws, self.dataset)
        ctx.progress(0.0, "building starting structures")
        start = self.structures(ws)
        ctx.log(f"{len(start)} starting structure(s) from {', '.join(self.sources)}")
        try:
            configs = apply_pipeline(start, self.steps(), seed=self.seed,
                                     progress=lambda f, m="": ctx.progress(0.95 * f, m),
                                     cancel=_Cancel(ctx))
        except GenerationCancelled as exc:
            raise JobCancelled(f"cancelled after {exc.n_done} configurations; nothing was "
                               "added") from None
        report = dataset.add(configs, note=f"added from {', '.join(self.sources)}")
        sync_versions(ws, dataset, job_id=ctx.job_id)
        ctx.log(f"added {len(report.added)} configurations ({report.duplicates} duplicates "
                f"skipped, {report.pending} pending labels)")
        return {**report.to_dict(), "dataset": dataset.name, "generated": len(configs)}


@register_job("dataset-import")
@dataclass(frozen=True)
class DatasetImportSpec(JobSpec):
    """Import labelled DFT/AIMD files into a dataset (one new version).

    Parameters
    ----------
    dataset : str
        Workspace dataset name (created when missing).
    paths : tuple of str
        Files or DeePMD folders (made absolute).
    format : str, optional
        Importer name (:mod:`ssestudio.data.importers`); detected when None.
    level : str
        Level of theory recorded with the labels, e.g. ``"DFT PBE"``.
    """

    dataset: str
    paths: tuple[str, ...]
    format: str | None = None
    level: str = "DFT"

    def validate(self) -> None:
        object.__setattr__(self, "dataset", _check_dataset_name(self.dataset))
        paths = (self.paths,) if isinstance(self.paths, str) else tuple(self.paths)
        if not paths:
            raise UserInputError("give at least one file to import")
        object.__setattr__(self, "paths", tuple(str(Path(p).expanduser().resolve()) for p in paths))

    def preflight(self, workspace: Workspace) -> None:
        missing = [p for p in self.paths if not Path(p).exists()]
        if missing:
            raise UserInputError(f"file(s) not found: {', '.join(missing)}")

    def run(self, ctx: JobContext) -> dict:
        from ssestudio.data.importers import import_configurations

        reports = []
        for i, path in enumerate(self.paths):
            ctx.progress(i / len(self.paths), f"reading {Path(path).name}")
            ctx.check_cancelled()
            reports.append(import_configurations(path, format=self.format, level=self.level))
        ws = ctx.workspace
        dataset = open_or_create_dataset(ws, self.dataset)
        configs = [c for r in reports for c in r.configurations]
        added = dataset.add(configs, note=f"imported {len(configs)} configurations from "
                                          f"{', '.join(Path(p).name for p in self.paths)}")
        sync_versions(ws, dataset, job_id=ctx.job_id)
        files = [r.summary() for r in reports]
        for f in files:
            ctx.log(f"{f}")
        return {**added.to_dict(), "dataset": dataset.name, "files": files}


@register_job("dataset-label")
@dataclass(frozen=True)
class DatasetLabelSpec(JobSpec):
    """Label a dataset's pending rows with a teacher (resumes where a killed run stopped).

    Parameters
    ----------
    dataset : str
        Workspace dataset name.
    teacher : str
        Teacher (``sevenn``, ``sevenn-l3i5``, ``chgnet``) or calculator name.
    teacher_options : dict or tuple of pairs
        Calculator options (e.g. ``{"num_threads": 2}``).
    batch_size : int
        Rows per transaction and per batched model call.
    max_force_eV_A : float
        Sanity bound: labels with a larger force component are rejected, eV/Å.
    limit : int, optional
        Label at most this many rows in this run.
    """

    dataset: str
    teacher: str = "sevenn"
    teacher_options: Any = ()
    batch_size: int = 8
    max_force_eV_A: float = 50.0
    limit: int | None = None

    def validate(self) -> None:
        object.__setattr__(self, "dataset", _check_dataset_name(self.dataset))
        object.__setattr__(self, "teacher_options", as_option_pairs(self.teacher_options))
        if int(self.batch_size) < 1 or not float(self.max_force_eV_A) > 0:
            raise UserInputError("batch_size must be >= 1 and max_force_eV_A > 0")
        if self.limit is not None and int(self.limit) < 1:
            raise UserInputError(f"limit must be a positive number of rows, got {self.limit}")

    def build_teacher(self):
        """The :class:`~ssestudio.data.teachers.Teacher` (its calculator is built lazily)."""
        from ssestudio.data.teachers import get_teacher

        return get_teacher(self.teacher, options=dict(self.teacher_options))

    def preflight(self, workspace: Workspace) -> None:
        from ssestudio.calculators import check_calculator

        check_calculator(self.build_teacher().calculator)
        dataset = open_dataset(workspace, self.dataset)
        if not dataset.pending_ids():
            raise UserInputError(f"dataset {dataset.name!r} has no configuration waiting for "
                                 "labels: add some first (ssestudio dataset add)")

    def run(self, ctx: JobContext) -> dict:
        from ssestudio.data.labelling import label_pending

        dataset = open_dataset(ctx.workspace, self.dataset)
        teacher = self.build_teacher()
        ctx.log(f"labelling {len(dataset.pending_ids())} pending rows of {dataset.name!r} "
                f"with {teacher.level}")
        ctx.progress(0.0, f"loading {teacher.name}")
        cancel = _Cancel(ctx)
        report = label_pending(dataset, teacher, batch_size=int(self.batch_size),
                               max_force_eV_A=float(self.max_force_eV_A), limit=self.limit,
                               progress=ctx.progress, cancelled=cancel)
        sync_versions(ctx.workspace, dataset, job_id=ctx.job_id)
        summary = report.to_dict()
        ctx.log(f"labelled {report.labelled}, rejected {report.rejected}, remaining "
                f"{report.remaining}; {summary['configs_per_s'] or 0:.3g} configs/s")
        if cancel.flag:
            raise JobCancelled(f"cancelled after labelling {report.labelled} rows (kept); run "
                               "the label job again to continue where it stopped")
        return {**summary, "dataset": dataset.name}
