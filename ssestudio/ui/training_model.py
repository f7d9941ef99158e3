"""View model of the Training tab (no widgets; driven directly by tests).

:class:`TrainingModel` holds the form of a training run (the main fields of a
:class:`~ssestudio.training.TrainConfig`), submits ``train`` jobs, lists every ``train`` job
of the workspace, and follows the ticked ones through their run folders (``history.jsonl``,
``parity.json``, ``final.json``; one ``member_k/`` folder per member of an ensemble, see
:mod:`ssestudio.jobs.training`), re-reading a file only when its modification time or size
changed (:class:`RunFiles`). It stops a running run gracefully (a cancel request: the trainer
validates the step in progress and keeps the best model) and evaluates a finished run's model
on a dataset split in-process (:func:`ssestudio.training.evaluation.evaluate_on_dataset`).
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from typing import Any, Callable

import param

from ssestudio.core.errors import UserInputError

#: TrainConfig fields edited by the form (besides ``dataset`` and ``model_options``).
FORM_FIELDS = ("model", "ensemble_size", "max_epochs", "max_time_min", "batch_size", "lr",
               "schedule", "energy_weight", "force_weight", "stress_weight", "seed", "dtype",
               "threads")
#: Typical accuracy of published ML force fields of solid-state electrolytes (the seed
#: review, Table 1): RMSE of the energy per atom, meV/atom, and of force components, eV/Å.
PUBLISHED_RANGE = {"energy_rmse_meV_atom": (1.0, 10.0), "force_rmse_eV_A": (0.03, 0.2)}
PUBLISHED_TEXT = ("Published ML force fields of solid-state electrolytes typically reach "
                  "1–10 meV/atom and 0.03–0.2 eV/Å (seed review, Table 1): the shaded bands.")
STOP_NOTE = "stopping after the current step; the best model is kept"
#: Metric keys of :class:`ssestudio.training.Metrics` shown in the metrics table.
METRIC_KEYS = ("energy_rmse_meV_atom", "energy_mae_meV_atom", "force_rmse_eV_A",
               "force_mae_eV_A", "stress_rmse_GPa", "stress_mae_GPa")
EVAL_SPLITS = ("test", "validation", "train", "all")
#: How a finished run ended, in words (``stop_reason`` of the job result).
STOP_REASONS = {"max_epochs": "reached max epochs", "early_stopping": "early stopping",
                "time_budget": "wall-time budget spent", "stopped": "stopped by the user",
                "completed": "all members trained"}


# ---- run folders ---------------------------------------------------------------------------
def parse_history(text: str) -> list[dict]:
    """The records of ``history.jsonl`` (a line still being written is skipped)."""
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def best_record(history: list[dict]) -> dict | None:
    """The epoch record of lowest validation loss (None for an empty history)."""
    finite = [r for r in history if isinstance(r.get("val_loss"), (int, float))
              and math.isfinite(r["val_loss"])]
    return min(finite, key=lambda r: r["val_loss"]) if finite else None


class RunFiles:
    """Cache of parsed run files: a file is re-read only when its mtime or size changed.

    ``reads`` counts the files parsed so far (a change of it means new data).
    """

    def __init__(self) -> None:
        self._cache: dict[Path, tuple[tuple[int, int], Any]] = {}
        self.reads = 0

    def read(self, path: Path, parse: Callable[[str], Any]) -> Any:
        """``parse(text)`` of ``path``, cached; None when the file does not exist. A file
        that does not parse (half written) keeps its last good value."""
        try:
            st = path.stat()
        except OSError:
            self._cache.pop(path, None)
            return None
        key = (st.st_mtime_ns, st.st_size)
        hit = self._cache.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
        try:
            value = parse(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None if hit is None else hit[1]
        self._cache[path] = (key, value)
        self.reads += 1
        return value

    def history(self, folder: Path) -> list[dict] | None:
        return self.read(folder / "history.jsonl", parse_history)

    def json(self, path: Path) -> dict | None:
        return self.read(path, json.loads)


def _config_of(rec) -> dict:
    return (rec.spec.get("params") or {}).get("config") or {}


def _metrics_row(label: str, which: str, epoch, metrics: dict) -> dict:
    per_element = metrics.get("force_rmse_per_element_eV_A") or {}
    return {"run": label, "set": which, "epoch": epoch,
            **{k: metrics.get(k) for k in METRIC_KEYS},
            "force_rmse_per_element": " · ".join(f"{el} {v:.3g}" for el, v in
                                                 sorted(per_element.items())),
            "n_structures": metrics.get("n_structures")}


# ---- the view model ------------------------------------------------------------------------
class TrainingModel(param.Parameterized):
    """View model of the Training tab.

    Parameters
    ----------
    workspace : ssestudio.workspace.Workspace
    manager : ssestudio.jobs.JobManager
    """

    dataset = param.String(default="", doc="Dataset reference name@version ('' = none)")
    dataset_options = param.Dict(default={}, doc="Label (with split counts) -> name@version")
    presets = param.Dict(default={}, doc="Model preset -> {description, missing: install hint}")
    model = param.String(default="default", doc="Model preset")
    model_options = param.String(default="", doc="Hyper-parameter overrides, a JSON object")
    ensemble_size = param.Integer(default=1, bounds=(1, None))
    max_epochs = param.Integer(default=200, bounds=(1, None))
    max_time_min = param.Number(default=None, allow_None=True, bounds=(0, None),
                                doc="Wall-time budget, min (None or 0: unlimited)")
    batch_size = param.Integer(default=8, bounds=(1, None))
    lr = param.Number(default=1e-3, bounds=(0, None))
    schedule = param.Selector(default="plateau", objects=["plateau", "cosine"])
    energy_weight = param.Number(default=1.0, bounds=(0, None))
    force_weight = param.Number(default=100.0, bounds=(0, None))
    stress_weight = param.Number(default=1e4, bounds=(0, None))
    seed = param.Integer(default=0, bounds=(0, None))
    dtype = param.Selector(default="float32", objects=["float32", "float64"])
    threads = param.Integer(default=None, allow_None=True, bounds=(1, None),
                            doc="torch threads (None: torch's default)")
    model_name = param.String(default="", doc="Workspace model name ('' = <dataset>-<model>)")
    runs = param.List(default=[], doc="One row per train job, newest first")
    selected = param.List(default=[], doc="Ticked job ids, compared side by side")
    data_version = param.Integer(default=0, doc="Bumped when the ticked runs' data changed")
    evaluations = param.List(default=[], doc="Results of evaluate(), oldest first")
    message = param.String(default="")

    def __init__(self, workspace, manager, **params) -> None:
        from ssestudio.training import TrainConfig

        defaults = TrainConfig(dataset="defaults").to_dict()
        super().__init__(**{**{k: defaults[k] for k in FORM_FIELDS}, **params})
        self.workspace, self.manager = workspace, manager
        self.files = RunFiles()
        self._records: dict[int, Any] = {}
        self._done_rows: dict[int, dict] = {}
        self._loaded: list[dict] = []
        self._signature: tuple = ()
        self.refresh_presets()
        self.refresh_datasets()
        self.poll()

    # ---- form --------------------------------------------------------------------------
    def refresh_datasets(self) -> None:
        """Re-list the workspace's dataset versions with their split counts (keeps the
        choice when it still exists; else the latest version of the first dataset)."""
        from ssestudio.jobs.dataset import list_datasets

        options = {}
        for ds in list_datasets(self.workspace):
            for v in reversed(ds.versions()):
                c = v.counts
                options[f"{ds.name}@{v.version}: train {c.get('train', 0)} · validation "
                        f"{c.get('validation', 0)} · test {c.get('test', 0)}"] = \
                    f"{ds.name}@{v.version}"
        if options != self.dataset_options:
            self.dataset_options = options
        if self.dataset not in options.values():
            self.dataset = next(iter(options.values()), "")

    def refresh_presets(self) -> None:
        """Model presets with their description and, when a package is missing, its hint."""
        from ssestudio.models import presets

        self.presets = {name: {"description": p.description, "missing": "; ".join(
            f"needs `{module}`: {hint}" for module, hint in p.requires
            if importlib.util.find_spec(module) is None)} for name, p in presets().items()}

    def config(self):
        """The :class:`~ssestudio.training.TrainConfig` of the form.

        Raises
        ------
        UserInputError
            No dataset chosen, model options that are not a JSON object, an invalid field.
        """
        from ssestudio.training import TrainConfig

        if not self.dataset:
            raise UserInputError("choose a dataset and version to train on (create and label "
                                 "one in the Dataset tab)")
        try:
            options = json.loads(self.model_options) if self.model_options.strip() else {}
        except ValueError as exc:
            raise UserInputError(f"model options must be a JSON object such as "
                                 f'{{"cutoff_A": 5.5}}: {exc}') from None
        values = {k: getattr(self, k) for k in FORM_FIELDS}
        values["max_time_min"] = self.max_time_min or None
        return TrainConfig(dataset=self.dataset, model_options=options, **values)

    def start(self) -> int:
        """Submit a ``train`` job of the form (its run is ticked); returns the job id. The
        form keeps its values whatever happens."""
        from ssestudio.jobs.training import TrainSpec
        from ssestudio.workspace.records import check_name

        cfg = self.config()
        missing = self.presets.get(cfg.model, {}).get("missing")
        if missing:
            raise UserInputError(f"model {cfg.model!r} cannot be trained here: {missing}")
        name = check_name(self.model_name) if self.model_name.strip() else None
        job_id = self.manager.submit(TrainSpec(config=cfg.to_dict(), name=name))
        self.message = (f"Started job {job_id}: {cfg.model} model"
                        + (f" ensemble of {cfg.ensemble_size}" if cfg.ensemble_size > 1 else "")
                        + f" on {cfg.dataset}, up to {cfg.max_epochs} epochs. Its curves "
                          "appear below as epochs finish.")
        self.select([*self.selected, job_id])
        return job_id

    # ---- runs --------------------------------------------------------------------------
    def _run_dir(self, rec) -> Path | None:
        from ssestudio.jobs.training import run_info

        folder = (rec.result or {}).get("run_dir") or (run_info(self.workspace, rec.id)
                                                        or {}).get("run_dir")
        return Path(folder) if folder else None

    def _series(self, rec) -> list[dict]:
        """The run's models: one, or one per ensemble member with a folder."""
        folder = self._run_dir(rec)
        if folder is None:
            return []
        n = int(_config_of(rec).get("ensemble_size") or 1)
        if n == 1:
            return [{"job_id": rec.id, "label": f"job {rec.id}", "folder": folder}]
        return [{"job_id": rec.id, "label": f"job {rec.id} · member {k}",
                 "folder": folder / f"member_{k}"} for k in range(n)
                if (folder / f"member_{k}").is_dir()]

    def _run_row(self, rec) -> dict:
        from ssestudio.jobs.training import run_info
        from ssestudio.ui.jobs_panel import format_eta

        cfg, result = _config_of(rec), rec.result or {}
        info = run_info(self.workspace, rec.id) or {}
        histories = [h for s in self._series(rec) if (h := self.files.history(s["folder"]))]
        best = [b["val_metrics"] for b in map(best_record, histories) if b]
        if not best and result.get("val_metrics"):
            best = [result["val_metrics"]]
        n, max_epochs = int(cfg.get("ensemble_size") or 1), cfg.get("max_epochs")
        epochs = f"{histories[-1][-1]['epoch'] if histories else 0}/{max_epochs}"
        if n > 1:
            epochs += f" (member {max(len(histories), 1)}/{n})"
        status = str(rec.status)
        if rec.cancel_requested and not rec.done:
            status = "stopping"
        reason = result.get("stop_reason")
        note = (STOP_REASONS.get(reason, str(reason)) if reason
                else "" if status in ("running", "queued", "stopping") else rec.message)

        def mean(key):
            values = [m[key] for m in best if m.get(key) is not None]
            return sum(values) / len(values) if values else None

        return {"id": rec.id, "status": status,
                "name": info.get("name") or result.get("model") or "",
                "dataset": info.get("dataset") or cfg.get("dataset", ""),
                "model": f"{cfg.get('model', '')}" + (f" ×{n}" if n > 1 else ""),
                "epochs": epochs, "val_energy_rmse_meV_atom": mean("energy_rmse_meV_atom"),
                "val_force_rmse_eV_A": mean("force_rmse_eV_A"),
                "progress_pct": round(100 * (rec.progress or 0.0), 1),
                "eta": "" if rec.done else format_eta(rec.eta_s), "note": note}

    def refresh_runs(self, *, limit: int = 500) -> None:
        """Re-list the workspace's train jobs (a finished job's row is computed once)."""
        records = [r for r in self.manager.list(limit=limit) if r.kind == "train"]
        self._records = {r.id: r for r in records}
        rows = []
        for rec in records:
            row = self._done_rows.get(rec.id) if rec.done else None
            if row is None:
                row = self._run_row(rec)
                if rec.done:
                    self._done_rows[rec.id] = row
            rows.append(row)
        if rows != self.runs:
            self.runs = rows

    def select(self, job_ids) -> None:
        """Tick exactly these runs (unknown ids are dropped)."""
        self.refresh_runs()
        ids = [int(i) for i in dict.fromkeys(job_ids) if int(i) in self._records]
        if ids != self.selected:
            self.selected = ids
        self._load()

    def poll(self) -> bool:
        """Re-list the train jobs and re-read the ticked runs' changed files (the periodic
        refresh); True when the shown data changed (``data_version`` is bumped)."""
        self.refresh_runs()
        return self._load()

    def _load(self) -> bool:
        loaded = []
        for job_id in self.selected:
            rec = self._records.get(job_id)
            if rec is None:
                continue
            for s in self._series(rec):
                folder = s["folder"]
                loaded.append({**s, "status": self.run_row(job_id)["status"],
                               "history": self.files.history(folder),
                               "parity": self.files.json(folder / "parity.json"),
                               "final": self.files.json(folder / "final.json")})
        # the cache returns the same objects while the files are unchanged
        signature = tuple((s["label"], s["status"], *(id(s[k]) for k in
                                                      ("history", "parity", "final")))
                          for s in loaded)
        self._loaded = [{**s, "history": s["history"] or []} for s in loaded]
        if signature == self._signature:
            return False
        self._signature = signature
        self.data_version += 1
        return True

    def run_row(self, job_id: int) -> dict:
        """The runs-list row of a job."""
        for row in self.runs:
            if row["id"] == job_id:
                return row
        raise UserInputError(f"no training run with job id {job_id} in this workspace")

    @property
    def active(self) -> list[int]:
        """Ticked runs that are queued or running."""
        return [i for i in self.selected if i in self._records and not self._records[i].done]

    def stop(self, job_id: int) -> None:
        """Stop a run gracefully: it validates the step in progress, keeps the best model
        and succeeds with ``stop_reason = "stopped"``."""
        rec = self.manager.get(job_id)
        if rec.kind != "train":
            raise UserInputError(f"job {job_id} is not a training run")
        if rec.done:
            raise UserInputError(f"job {job_id} has already finished ({rec.status})")
        self.manager.cancel(job_id)
        self.message = f"Job {job_id}: {STOP_NOTE}."
        self.poll()

    def evaluate(self, job_id: int, dataset: str, split: str = "test") -> dict:
        """Errors of a finished run's model on a dataset split (in-process).

        Parameters
        ----------
        job_id : int
            A succeeded train job.
        dataset : str
            ``name@version`` (or ``name``: the latest version).
        split : {"test", "validation", "train", "all"}

        Returns
        -------
        dict
            :func:`ssestudio.training.evaluation.evaluate_on_dataset` output; it is also
            appended to ``evaluations`` (without the parity data).
        """
        from ssestudio.training.evaluation import evaluate_on_dataset

        rec = self.manager.get(job_id)
        path = (rec.result or {}).get("model_path")
        if rec.kind != "train" or str(rec.status) != "succeeded" or not path:
            raise UserInputError(f"job {job_id} has no trained model ({rec.status}): evaluate "
                                 "a run that has finished")
        if not dataset:
            raise UserInputError("choose the dataset to evaluate on")
        if split not in EVAL_SPLITS:
            raise UserInputError(f"split must be one of {', '.join(EVAL_SPLITS)}, got {split!r}")
        out = evaluate_on_dataset(path, self.workspace, dataset,
                                  split=None if split == "all" else split)
        self.evaluations = [*self.evaluations, {"job_id": job_id, **{
            k: v for k, v in out.items() if k != "parity"}}]
        self.message = (f"Job {job_id} on {out['dataset']} ({out['split']}, "
                        f"{out['n_structures']} structures): energy RMSE "
                        f"{out['energy_rmse_meV_atom']:.3g} meV/atom, force RMSE "
                        f"{out['force_rmse_eV_A']:.3g} eV/Å.")
        return out

    # ---- what the figures and tables show ---------------------------------------------
    def _colored(self) -> list[dict]:
        from ssestudio.ui.plots import color

        return [{**s, "color": color(i)} for i, s in enumerate(self._loaded)]

    def curves(self) -> list[dict]:
        """Per ticked model: ``label``, ``color``, ``epoch``, ``train_loss``, ``val_loss``,
        ``energy_rmse_meV_atom``, ``force_rmse_eV_A`` (lists, one entry per epoch)."""
        out = []
        for s in self._colored():
            h = s["history"]
            metric = {k: [(r.get("val_metrics") or {}).get(k) for r in h]
                      for k in PUBLISHED_RANGE}
            out.append({"label": s["label"], "color": s["color"],
                        "epoch": [r["epoch"] for r in h],
                        "train_loss": [r.get("train_loss") for r in h],
                        "val_loss": [r.get("val_loss") for r in h], **metric})
        return out

    def metrics_rows(self) -> list[dict]:
        """Latest and best validation metrics, and the test metrics of a finished model,
        per ticked model; then the evaluations."""
        rows = []
        for s in self._loaded:
            h, final = s["history"], s["final"]
            if h:
                rows.append(_metrics_row(s["label"], "validation (latest)", h[-1]["epoch"],
                                         h[-1].get("val_metrics") or {}))
            best = best_record(h)
            if final and final.get("validation"):
                rows.append(_metrics_row(s["label"], "validation (best)", final["best_epoch"],
                                         final["validation"]))
            elif best:
                rows.append(_metrics_row(s["label"], "validation (best)", best["epoch"],
                                         best.get("val_metrics") or {}))
            if final and final.get("test"):
                rows.append(_metrics_row(s["label"], "test (best model)", final["best_epoch"],
                                         final["test"]))
        for e in self.evaluations:
            rows.append(_metrics_row(f"job {e['job_id']}", f"{e['dataset']} {e['split']} "
                                     "(evaluated)", None, e))
        return rows

    def parity(self) -> list[dict]:
        """Parity data per ticked model and set: ``label``, ``color``, ``source``,
        ``marker`` and the ``energy_per_atom_eV`` and ``forces_eV_A`` {reference,
        predicted}: the validation and test sets of a finished model's best epoch, else the
        latest validation snapshot (``parity.json``) of a running one."""
        out = []
        for s in self._colored():
            final_parity = (s["final"] or {}).get("parity") or {}
            sets = [(f"{split}, best model", marker, final_parity[split])
                    for split, marker in (("validation", "circle"), ("test", "triangle"))
                    if final_parity.get(split)]
            if not sets and s["parity"] and s["parity"].get("validation"):
                sets = [(f"validation, epoch {s['parity']['epoch']}", "circle",
                         s["parity"]["validation"])]
            out += [{"label": s["label"], "color": s["color"], "source": source,
                     "marker": marker, "energy_per_atom_eV": data["energy_per_atom_eV"],
                     "forces_eV_A": data["forces_eV_A"]} for source, marker, data in sets]
        return out

    def element_errors(self) -> list[dict]:
        """Per ticked model: ``label``, ``color``, ``source`` and ``values`` {element:
        force RMSE, eV/Å} of the test split of a finished model, else the best validation."""
        out = []
        for s in self._colored():
            final, best = s["final"] or {}, best_record(s["history"])
            if final.get("test"):
                source, metrics = "test", final["test"]
            elif final.get("validation"):
                source, metrics = "validation (best)", final["validation"]
            elif best:
                source, metrics = "validation (best)", best.get("val_metrics") or {}
            else:
                continue
            values = metrics.get("force_rmse_per_element_eV_A") or {}
            if values:
                out.append({"label": s["label"], "color": s["color"], "source": source,
                            "values": values})
        return out

    def status_lines(self) -> list[str]:
        """Progress, ETA and stop state of the ticked runs that have not finished, and why
        a ticked run failed."""
        lines = []
        active = self.active
        for job_id in self.selected:
            row = self.run_row(job_id)
            if job_id not in active:
                if row["status"] in ("failed", "cancelled", "interrupted"):
                    lines.append(f"job {job_id}: {row['note'] or row['status']}")
                continue
            line = (f"job {job_id} ({row['name'] or row['dataset']}): {row['status']}, epoch "
                    f"{row['epochs']}, {row['progress_pct']:g} %"
                    + (f", ETA {row['eta']}" if row["eta"] else ""))
            if row["status"] == "stopping":
                line += f" — {STOP_NOTE}"
            lines.append(line)
        return lines
