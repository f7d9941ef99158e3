"""Job status and the frozen record of one job row."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, fields
from enum import Enum


class JobStatus(str, Enum):
    """Life cycle of a job: queued -> running -> one of the four finished states."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    def __str__(self) -> str:
        return self.value

    @property
    def finished(self) -> bool:
        """True for succeeded, failed, cancelled and interrupted."""
        return self not in ACTIVE


#: Statuses of jobs that have not finished.
ACTIVE = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})


@dataclass(frozen=True)
class JobRecord:
    """One row of the ``jobs`` table.

    Attributes
    ----------
    id : int
        Job id (also the folder name ``jobs/<id>``).
    kind : str
        Registered spec kind, e.g. ``"convert-trajectory"``.
    spec : dict
        The spec as :meth:`JobSpec.to_dict` wrote it.
    status : JobStatus
        Current status.
    progress : float or None
        Fraction done, 0..1.
    message : str
        Last progress or status message.
    eta_s : float or None
        Estimated seconds left.
    created, started, finished, heartbeat : str or None
        UTC ISO times.
    pid, host : int/str or None
        Worker process and host once running.
    executor : str
        ``"local"``, ``"dask"``, ...
    cancel_requested : bool
        A cancel was requested.
    result : dict or None
        What the spec's ``run`` returned.
    error : str or None
        Traceback or explanation when failed or interrupted.
    code_version : str
        Version of the code that submitted the job.
    """

    id: int
    kind: str
    spec: dict
    status: JobStatus
    progress: float | None
    message: str
    eta_s: float | None
    created: str
    started: str | None
    finished: str | None
    pid: int | None
    host: str | None
    executor: str
    cancel_requested: bool
    result: dict | None
    error: str | None
    heartbeat: str | None
    code_version: str

    @property
    def done(self) -> bool:
        """True once the job has finished, whatever the outcome."""
        return self.status.finished

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "JobRecord":
        """Build a record from a ``jobs`` row."""
        names = {f.name for f in fields(cls)}
        data = {k: row[k] for k in row.keys() if k in names}  # newer columns are ignored
        data["spec"] = json.loads(data["spec"])
        data["status"] = JobStatus(data["status"])
        data["cancel_requested"] = bool(data["cancel_requested"])
        data["result"] = json.loads(data["result"]) if data["result"] else None
        return cls(**data)
