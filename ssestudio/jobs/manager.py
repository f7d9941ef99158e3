"""Submit, follow, cancel and recover jobs; all state lives in the workspace database.

A browser reload or a server restart loses nothing: a new :class:`JobManager` on the same
workspace sees every job, :meth:`JobManager.recover` marks those whose worker died as
``interrupted``, and queued jobs are started again by the scheduler thread.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Iterable, Protocol

from ssestudio.core.errors import SSEStudioError, UserInputError
from ssestudio.jobs import store
from ssestudio.jobs.records import JobRecord, JobStatus
from ssestudio.jobs.spec import JobSpec

if TYPE_CHECKING:
    from ssestudio.workspace import Workspace

logger = logging.getLogger(__name__)


class Executor(Protocol):
    """What the manager needs from an executor (:class:`LocalExecutor`, :class:`DaskExecutor`)."""

    name: str

    def submit(self, ws: "Workspace", job_id: int) -> None: ...
    def cancel(self, ws: "Workspace", job_id: int) -> None: ...
    def poll(self, ws: "Workspace") -> None: ...
    def close(self) -> None: ...


class JobTimeoutError(SSEStudioError, TimeoutError):
    """:meth:`JobManager.wait` timed out before the job finished."""


def serialise_spec(spec: JobSpec) -> dict:
    """``spec.to_dict()``, checked to round-trip through JSON and a worker's import.

    Raises
    ------
    UserInputError
        If the spec is not a JobSpec, is defined in ``__main__`` or does not round-trip.
    """
    if not isinstance(spec, JobSpec) or not spec.kind:
        raise UserInputError(f"submit a registered JobSpec instance, got {spec!r}")
    if type(spec).__module__ == "__main__":
        raise UserInputError(f"job spec {type(spec).__name__} is defined in __main__ (a script "
                             "or notebook); define it in an importable module so that worker "
                             "processes can import it")
    try:
        data = json.loads(json.dumps(spec.to_dict()))
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"job spec {spec!r} is not JSON-serialisable: {exc}") from exc
    if JobSpec.from_dict(data) != spec:
        raise UserInputError(f"job spec {spec!r} does not survive a JSON round trip; use "
                             "str/number/bool/list/dict fields (tuples for sequences)")
    return data


class JobManager:
    """Front door to the jobs of one workspace.

    Parameters
    ----------
    workspace : Workspace
        Open workspace.
    executor : Executor, optional
        Where jobs run; default :class:`~ssestudio.jobs.local.LocalExecutor`.
    poll_interval_s : float
        Period of the scheduler thread (start queued jobs, reap, escalate cancels), s.
    stale_after_s : float
        A running job whose heartbeat is older than this is considered lost, s.
    """

    def __init__(self, workspace: "Workspace", executor: Executor | None = None, *,
                 poll_interval_s: float = 0.5, stale_after_s: float = 300.0) -> None:
        if executor is None:
            from ssestudio.jobs.local import LocalExecutor

            executor = LocalExecutor()
        self.workspace = workspace
        self.executor = executor
        self.poll_interval_s = poll_interval_s
        self.stale_after_s = stale_after_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, spec: JobSpec) -> int:
        """Queue a job and hand it to the executor; return its id.

        Raises
        ------
        UserInputError
            If the spec cannot be serialised or fails its preflight checks.
        """
        data = serialise_spec(spec)
        spec.preflight(self.workspace)
        job_id = store.insert_job(self.workspace, data, executor=self.executor.name)
        self.workspace.job_dir(job_id)
        self.executor.submit(self.workspace, job_id)
        self.start()
        return job_id

    def get(self, job_id: int) -> JobRecord:
        """The job's current record."""
        return store.get_job(self.workspace, job_id)

    def list(self, *, limit: int | None = 100,
             status: JobStatus | str | Iterable[JobStatus | str] | None = None) -> list[JobRecord]:
        """Jobs, newest first, optionally only those with the given status(es)."""
        return store.list_jobs(self.workspace, limit=limit, status=status)

    def cancel(self, job_id: int) -> JobRecord:
        """Request cancellation: a queued job is cancelled at once, a running one stops at
        its next check (or is terminated after the executor's grace period)."""
        store.request_cancel(self.workspace, job_id)
        self.executor.cancel(self.workspace, job_id)
        self.start()
        return self.get(job_id)

    def wait(self, job_id: int, *, timeout: float | None = None,
             poll_s: float = 0.1) -> JobRecord:
        """Block until the job has finished; return its record.

        Raises
        ------
        JobTimeoutError
            If it is still active after ``timeout`` s.
        """
        self.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not (rec := self.get(job_id)).done:
            if deadline is not None and time.monotonic() > deadline:
                raise JobTimeoutError(f"job {job_id} is still {rec.status} after {timeout} s "
                                      f"({rec.message}); wait longer or cancel it")
            time.sleep(poll_s)
        return rec

    def log_text(self, job_id: int) -> str:
        """Contents of ``jobs/<id>/log.txt`` ('' if nothing was logged yet)."""
        path = self.workspace.job_dir(job_id) / "log.txt"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def recover(self) -> list[int]:
        """Mark jobs whose worker is gone as interrupted and restart the scheduler
        (queued jobs start again). Call when a server starts. Returns interrupted ids."""
        lost = store.mark_lost_jobs(self.workspace, stale_after_s=self.stale_after_s)
        for job_id in lost:
            logger.warning("job %s was interrupted: its worker is gone", job_id)
        self.tick()
        self.start()
        return lost

    def tick(self) -> None:
        """One scheduler step: let the executor poll, then mark lost workers."""
        self.executor.poll(self.workspace)
        store.mark_lost_jobs(self.workspace, stale_after_s=self.stale_after_s)

    def start(self) -> None:
        """Start the scheduler thread (idempotent)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="ssestudio-jobs",
                                            daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_interval_s):
            try:
                self.tick()
            except Exception:  # keep scheduling; the next tick retries
                logger.exception("job scheduler step failed")

    def close(self) -> None:
        """Stop the scheduler thread and release the executor (workers keep running)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.executor.close()

    def __enter__(self) -> "JobManager":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
