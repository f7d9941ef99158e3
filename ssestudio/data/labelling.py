"""Label a dataset's pending configurations with a teacher, resumably.

Labels are written batch by batch, each batch in one database transaction, so a run that is
killed loses at most the batch in flight: the next run finds only the rows still pending and
never labels a row twice. Rows whose labels are not finite, whose forces exceed the sanity
bound, or whose calculation failed are stored as ``rejected`` with the reason. When all
pending rows are done, the labelled rows become a new dataset version.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ssestudio.data.store import Dataset, DatasetVersion
from ssestudio.data.teachers import Teacher, label_batch

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class LabelReport:
    """What :func:`label_pending` did.

    Attributes
    ----------
    labelled, rejected : int
        Rows labelled and rejected by this run.
    remaining : int
        Rows still pending (non-zero only when cancelled).
    n_atoms : int
        Atoms in the rows this run processed.
    wall_s : float
        Time spent labelling, s.
    version : DatasetVersion or None
        The version committed at the end (None when cancelled or nothing was labelled).
    level : str
        The teacher's level string.
    """

    labelled: int
    rejected: int
    remaining: int
    n_atoms: int
    wall_s: float
    version: DatasetVersion | None
    level: str

    def to_dict(self) -> dict:
        """JSON-ready summary, with throughput in configurations and atoms per second."""
        done = self.labelled + self.rejected
        return {"labelled": self.labelled, "rejected": self.rejected,
                "remaining": self.remaining, "n_atoms": self.n_atoms, "wall_s": self.wall_s,
                "configs_per_s": done / self.wall_s if self.wall_s > 0 else None,
                "atoms_per_s": self.n_atoms / self.wall_s if self.wall_s > 0 else None,
                "version": None if self.version is None else self.version.version,
                "level": self.level}


def label_pending(dataset: Dataset, teacher: Teacher, *, batch_size: int = 8,
                  max_force_eV_A: float = 50.0, limit: int | None = None,
                  progress: Progress | None = None,
                  cancelled: Callable[[], bool] | None = None) -> LabelReport:
    """Label every pending row of ``dataset`` with ``teacher``.

    Parameters
    ----------
    dataset : Dataset
    teacher : Teacher
        From :func:`ssestudio.data.teachers.get_teacher`.
    batch_size : int
        Rows per transaction (and per model call where the teacher batches).
    max_force_eV_A : float
        Reject labels with a force component beyond this, eV/Å.
    limit : int, optional
        Label at most this many rows (then stop without committing a version).
    progress : callable, optional
        ``progress(fraction, message)`` after each batch.
    cancelled : callable, optional
        Checked before each batch; when it returns True the run stops (labelled rows stay
        staged and are committed by the next run).

    Returns
    -------
    LabelReport
    """
    if batch_size < 1:
        from ssestudio.core.errors import UserInputError
        raise UserInputError(f"batch_size must be at least 1, got {batch_size}")
    pending = dataset.pending_ids()
    todo = pending if limit is None else pending[:max(0, int(limit))]
    labelled = rejected = n_atoms = 0
    start = time.perf_counter()
    stopped = False
    for first in range(0, len(todo), batch_size):
        if cancelled is not None and cancelled():
            stopped = True
            break
        ids = todo[first:first + batch_size]
        configs = [dataset.get(i) for i in ids]
        results = label_batch(teacher, configs, batch_size=batch_size)
        done, bad = dataset.set_labels([(i, lab, err) for i, (lab, err) in zip(ids, results)],
                                       level=teacher.level, max_force_eV_A=max_force_eV_A)
        labelled, rejected = labelled + done, rejected + bad
        n_atoms += sum(len(a) for a in configs)
        if progress is not None:
            n = first + len(ids)
            progress(n / len(todo), f"labelled {n}/{len(todo)} with {teacher.level}"
                                    f" ({rejected} rejected)")
    wall = time.perf_counter() - start
    complete = not stopped and len(todo) == len(pending)
    version = (dataset.commit_version(f"labelled {labelled} configurations with {teacher.level}"
                                      f" ({rejected} rejected)") if complete else None)
    return LabelReport(labelled=labelled, rejected=rejected,
                       remaining=len(dataset.pending_ids()), n_atoms=n_atoms, wall_s=wall,
                       version=version, level=teacher.level)
