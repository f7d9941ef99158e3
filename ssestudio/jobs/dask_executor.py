"""Run jobs on a Dask distributed cluster (``pip install ssestudio[dask]``).

The task :func:`run_job` opens the workspace by path on the Dask worker and runs the same
code as the local worker (:func:`~ssestudio.jobs.runner.execute_job`). This assumes the
workspace folder is visible at the same path on every Dask worker (a shared filesystem)
and that SQLite locking works there: fine for a LocalCluster or workers on one machine;
network filesystems such as NFS do not support SQLite's WAL mode across hosts.

Dask decides where and when tasks run; cancelling sets the database flag (the job stops
at its next check) and cancels the future, which removes a task that has not started.
A running task cannot be killed from here: cancellation is cooperative only.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import TYPE_CHECKING, Any

from ssestudio.core.errors import UserInputError
from ssestudio.jobs import store
from ssestudio.jobs.records import JobStatus

if TYPE_CHECKING:
    from ssestudio.workspace import Workspace

logger = logging.getLogger(__name__)


def run_job(workspace_root: str, job_id: int) -> str:
    """Dask task: open the workspace at ``workspace_root`` and run job ``job_id``.

    Returns
    -------
    str
        Final status, or ``"not-claimed"`` when another worker had the job.
    """
    from ssestudio.jobs.runner import execute_job
    from ssestudio.workspace import Workspace

    with Workspace.open(workspace_root, create=False, seed=False) as ws:
        status = execute_job(ws, job_id, executor=DaskExecutor.name)
    return str(status) if status is not None else "not-claimed"


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise UserInputError("the Dask executor needs the 'distributed' package: "
                             "pip install ssestudio[dask]") from exc
    return distributed


class DaskExecutor:
    """Submit jobs to a Dask scheduler.

    Parameters
    ----------
    address : str, optional
        Scheduler address (``"tcp://host:8786"``); ignored when ``client`` is given. With
        neither, Dask starts a local cluster (its ``Client()`` default).
    client : distributed.Client, optional
        An existing client (not closed by :meth:`close`).
    """

    name = "dask"

    def __init__(self, address: str | None = None, *, client: Any = None) -> None:
        if client is None:
            client = _import_distributed().Client(address)
            self._owns_client = True
        else:
            self._owns_client = False
        self.client = client
        self._futures: dict[int, Any] = {}
        self._lock = threading.RLock()

    def submit(self, ws: "Workspace", job_id: int) -> None:
        """Send the job to the cluster (it stays queued until a Dask worker claims it)."""
        with self._lock:
            if job_id not in self._futures:
                self._futures[job_id] = self.client.submit(
                    run_job, str(ws.root), int(job_id),
                    key=f"ssestudio-job-{job_id}-{uuid.uuid4().hex[:12]}", pure=False)

    def cancel(self, ws: "Workspace", job_id: int) -> None:
        """Cancel the future (the database flag was set by the manager)."""
        future = self._futures.get(job_id)
        if future is not None:
            future.cancel()

    def poll(self, ws: "Workspace") -> None:
        """Record tasks that failed outside the job code; resubmit queued jobs this
        executor does not hold a future for (e.g. after a restart)."""
        with self._lock:
            self._check_futures(ws)
            for rec in store.list_jobs(ws, limit=None, status=JobStatus.QUEUED,
                                       executor=self.name):
                self.submit(ws, rec.id)

    def _check_futures(self, ws: "Workspace") -> None:
        for job_id, future in list(self._futures.items()):
            if not future.done():
                continue
            del self._futures[job_id]
            if future.status == "error":
                exc = future.exception()
                store.finish_job(ws, job_id, JobStatus.FAILED, message="dask task failed",
                                 error=f"the Dask task failed outside the job: {exc!r}")

    def close(self) -> None:
        """Drop futures (queued jobs stay queued) and close a client this object opened."""
        with self._lock:
            self._futures.clear()
        if self._owns_client:
            self.client.close()
