"""View model of the Dataset tab (no widgets; driven directly by tests).

:class:`DatasetBuilder` holds the chosen dataset, the starting structures (library, glass
packing, workspace structure or uploaded file) and the generator pipeline; it previews a
few configurations in-process, submits the ``dataset-add``, ``dataset-label`` and
``dataset-import`` jobs, follows them, and loads a version's statistics and 2-D map.
"""

from __future__ import annotations

import json
from pathlib import Path

import param

from ssestudio.core.errors import UserInputError

#: Generators skipped by the preview (they run MD, which takes minutes with a teacher).
SLOW_GENERATORS = ("md_snapshots", "melt_snapshots")


class DatasetBuilder(param.Parameterized):
    """View model of the Dataset tab.

    Parameters
    ----------
    workspace : ssestudio.workspace.Workspace
    manager : ssestudio.jobs.JobManager
    """

    datasets = param.List(default=[], doc="Names of the workspace's datasets")
    dataset = param.String(default="", doc="Chosen dataset")
    sources = param.List(default=[], doc="Structure sources (ssestudio.data.sources syntax)")
    steps = param.List(default=[], doc="Generator steps: {'name', 'params'}")
    seed = param.Integer(default=0, bounds=(0, None))
    teacher = param.String(default="sevenn")
    batch_size = param.Integer(default=8, bounds=(1, 256))
    pending_jobs = param.Dict(default={}, doc="job id -> kind, while running")
    message = param.String(default="")
    stats = param.Dict(default={}, doc="Statistics of the chosen version (dataset_statistics)")
    map = param.Dict(default={}, doc="The 2-D map (DatasetMap.to_dict())")

    def __init__(self, workspace, manager, **params) -> None:
        super().__init__(**params)
        self.workspace, self.manager = workspace, manager
        self._configs: list = []
        self.refresh()

    # ---- datasets ----------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-list the workspace's datasets (keeping the choice when it still exists)."""
        from ssestudio.jobs.dataset import list_datasets

        names = [d.name for d in list_datasets(self.workspace)]
        self.datasets = names
        if self.dataset not in names:
            self.dataset = names[0] if names else ""

    def create(self, name: str) -> str:
        """Create an empty dataset and choose it."""
        from ssestudio.jobs.dataset import create_dataset

        ds = create_dataset(self.workspace, name)
        self.refresh()
        self.dataset = ds.name
        self.message = f"Created dataset {ds.name!r}."
        return ds.name

    def summary(self) -> dict:
        """Rows per status and versions of the chosen dataset ({} when none)."""
        from ssestudio.jobs.dataset import dataset_summary, open_dataset

        return dataset_summary(open_dataset(self.workspace, self.dataset)) if self.dataset else {}

    # ---- sources and pipeline ----------------------------------------------------------
    def add_source(self, text: str) -> None:
        """Add a structure source after checking that it builds."""
        self._structures([text])
        self.sources = [*self.sources, text]

    def library_source(self, name: str, supercell: str = "") -> str:
        """``library:NAME[:AxBxC]``."""
        return f"library:{name}" + (f":{supercell.strip()}" if supercell.strip() else "")

    def glass_source(self, composition: str, n_atoms: int, density_g_cm3: float | None) -> str:
        """``glass:COMPOSITION:N[:DENSITY]``."""
        return f"glass:{composition.strip()}:{int(n_atoms)}" + (
            f":{density_g_cm3:g}" if density_g_cm3 else "")

    def save_upload(self, filename: str, data: bytes) -> str:
        """Store an uploaded structure file in the workspace; returns its source string."""
        folder = self.workspace.root / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / Path(filename).name
        path.write_bytes(data)
        return f"file:{path}"

    def remove_source(self, index: int) -> None:
        self.sources = [s for i, s in enumerate(self.sources) if i != index]

    def add_step(self, name: str, params_json: str = "{}") -> None:
        """Append a generator step; ``params_json`` is a JSON object of its parameters."""
        from ssestudio.data.generators import GeneratorStep

        try:
            params = json.loads(params_json or "{}")
        except json.JSONDecodeError as exc:
            raise UserInputError(f"the parameters of {name} must be a JSON object, e.g. "
                                 f'{{"stdev_A": 0.05}}: {exc}') from None
        if not isinstance(params, dict):
            raise UserInputError(f"the parameters of {name} must be a JSON object")
        GeneratorStep(name, params)  # validates the name and parameter names
        self.steps = [*self.steps, {"name": name, "params": params}]

    def remove_step(self, index: int) -> None:
        self.steps = [s for i, s in enumerate(self.steps) if i != index]

    @staticmethod
    def generator_defaults(name: str) -> str:
        """JSON of a generator's parameters with their defaults (required ones as null)."""
        from ssestudio.data.generators import describe_generators

        for g in describe_generators():
            if g["name"] == name:
                return json.dumps({p["name"]: p["default"] for p in g["parameters"]
                                   if p["name"] != "min_distance_A"})
        raise UserInputError(f"unknown generator {name!r}")

    # ---- preview -----------------------------------------------------------------------
    def _structures(self, sources):
        from ssestudio.jobs.dataset import DatasetAddSpec

        spec = DatasetAddSpec(dataset=self.dataset or "preview", sources=tuple(sources),
                              seed=self.seed)
        return spec.structures(self.workspace)

    def preview(self, *, limit: int = 12) -> list:
        """Configurations the pipeline makes from the first source (MD steps skipped), at
        most ``limit``; also kept for :meth:`configuration`."""
        from ssestudio.data.generators import apply_pipeline

        if not self.sources:
            raise UserInputError("add a structure source first")
        fast = [s for s in self.steps if s["name"] not in SLOW_GENERATORS]
        configs = apply_pipeline(self._structures(self.sources[:1]), fast, seed=self.seed)
        self._configs = configs[:limit]
        skipped = len(self.steps) - len(fast)
        self.message = (f"Preview: {len(self._configs)} of {len(configs)} configurations from "
                        f"{self.sources[0]}" + (f" ({skipped} MD step(s) not run in the "
                                                 "preview)" if skipped else "") + ".")
        return self._configs

    def configuration(self, index: int):
        """Configuration ``index`` of the last preview."""
        return self._configs[index]

    # ---- jobs --------------------------------------------------------------------------
    def _need_dataset(self) -> str:
        if not self.dataset:
            raise UserInputError("create or choose a dataset first")
        return self.dataset

    def _submit(self, spec, verb: str) -> int:
        job_id = self.manager.submit(spec)
        self.manager.start()
        self.pending_jobs = {**self.pending_jobs, job_id: spec.kind}
        self.message = f"Submitted job {job_id} ({verb}); follow it in the Jobs panel."
        return job_id

    def submit_add(self) -> int:
        """Generate the configurations and add them as pending rows (``dataset-add`` job)."""
        from ssestudio.jobs.dataset import DatasetAddSpec

        if not self.sources:
            raise UserInputError("add at least one structure source")
        spec = DatasetAddSpec(dataset=self._need_dataset(), sources=tuple(self.sources),
                              pipeline=json.dumps(self.steps), seed=self.seed)
        return self._submit(spec, "generate configurations")

    def submit_label(self) -> int:
        """Label the pending rows with the chosen teacher (``dataset-label`` job)."""
        from ssestudio.jobs.dataset import DatasetLabelSpec

        spec = DatasetLabelSpec(dataset=self._need_dataset(), teacher=self.teacher,
                                batch_size=self.batch_size)
        spec.preflight(self.workspace)
        return self._submit(spec, f"label with {self.teacher}")

    def submit_import(self, paths: list[str], *, format: str | None = None,
                      level: str = "DFT") -> int:
        """Import labelled files (``dataset-import`` job)."""
        from ssestudio.jobs.dataset import DatasetImportSpec

        spec = DatasetImportSpec(dataset=self._need_dataset(), paths=tuple(paths),
                                 format=format or None, level=level)
        spec.preflight(self.workspace)
        return self._submit(spec, "import")

    def poll(self) -> list[int]:
        """Collect finished jobs; returns their ids (statistics reloaded when any finished)."""
        done = []
        for job_id in list(self.pending_jobs):
            rec = self.manager.get(job_id)
            if rec.done:
                done.append(job_id)
                self.message = (f"Job {job_id} {rec.status}: " + (
                    json.dumps({k: v for k, v in (rec.result or {}).items()
                                if k in ("added", "duplicates", "pending", "labelled",
                                         "rejected", "version")})
                    if str(rec.status) == "succeeded" else rec.message))
        if done:
            self.pending_jobs = {k: v for k, v in self.pending_jobs.items() if k not in done}
            self.refresh()
            self.load_stats()
        return done

    # ---- statistics --------------------------------------------------------------------
    def load_stats(self, version: int | None = None) -> dict:
        """Statistics and map of a version of the chosen dataset ({} when it has none)."""
        from ssestudio.data.stats import dataset_map, dataset_statistics
        from ssestudio.jobs.dataset import open_dataset

        if not self.dataset:
            self.stats, self.map = {}, {}
            return {}
        ds = open_dataset(self.workspace, self.dataset)
        if not ds.latest_version:
            self.stats, self.map = {}, {}
            return {}
        v = ds.version(version)
        self._stat_configs = ds.configurations(version=v.version)
        stats = {"version": v.version, **dataset_statistics(self._stat_configs)}
        self.map = (dataset_map(self._stat_configs).to_dict() if len(self._stat_configs) > 1
                    else {})
        self.stats = stats
        return stats

    def map_configuration(self, index: int):
        """The configuration of point ``index`` of the map."""
        return self._stat_configs[index]

    def export(self, *, format: str = "extxyz", split: str | None = None) -> Path:
        """Write the latest version (or one split) into ``<workspace>/exports``; the path."""
        from ssestudio.data.export import export_configurations
        from ssestudio.jobs.dataset import open_dataset

        ds = open_dataset(self.workspace, self._need_dataset())
        v = ds.version()
        configs = ds.configurations(version=v.version, split=split or None)
        if not configs:
            raise UserInputError(f"{ds.name}@{v.version} has no configurations to export"
                                 + (f" in the {split} split" if split else ""))
        folder = self.workspace.root / "exports"
        folder.mkdir(exist_ok=True)
        name = f"{ds.name}-v{v.version}" + (f"-{split}" if split else "")
        target = folder / (f"{name}.xyz" if format == "extxyz" else name)
        path = export_configurations(configs, target, format=format, overwrite=True)
        self.message = f"Wrote {len(configs)} configurations to {path}."
        return Path(path)
