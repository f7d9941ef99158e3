"""Run one job in the current process: the code path shared by every executor.

:func:`execute_job` claims the job in the database, runs its spec with a
:class:`~ssestudio.jobs.context.JobContext` while a thread keeps the heartbeat fresh,
and stores the outcome: ``succeeded`` with the result, ``cancelled`` on
:class:`~ssestudio.jobs.context.JobCancelled`, ``failed`` with the traceback otherwise.
"""

from __future__ import annotations

import logging
import os
import threading
import traceback
from typing import TYPE_CHECKING, Callable

from ssestudio.jobs import store
from ssestudio.jobs.context import JobCancelled, JobContext
from ssestudio.jobs.records import JobStatus
from ssestudio.jobs.spec import JobSpec
from ssestudio.workspace.records import to_json

if TYPE_CHECKING:
    from ssestudio.workspace import Workspace

logger = logging.getLogger(__name__)


class _Heartbeat:
    """Daemon thread refreshing a running job's heartbeat every ``interval_s``."""

    def __init__(self, ws: "Workspace", job_id: int, interval_s: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(ws, job_id, interval_s),
                                        name=f"ssestudio-heartbeat-{job_id}", daemon=True)

    def _beat(self, ws: "Workspace", job_id: int, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            try:
                store.touch_heartbeat(ws, job_id)
            except Exception as exc:  # a busy database must not kill the job
                logger.warning("heartbeat of job %s failed: %s", job_id, exc)

    def __enter__(self) -> "_Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _run_spec(ctx: JobContext) -> tuple[JobStatus, dict | None, str | None, str]:
    """Run the job's spec; return (status, result, error, message)."""
    try:
        spec = JobSpec.from_dict(store.get_job(ctx.workspace, ctx.job_id).spec)
        ctx.log(f"started {spec.kind} job (pid {os.getpid()} on {store.HOST})")
        result = spec.run(ctx)
        if result is None:
            result = {}
        if not isinstance(result, dict):
            raise TypeError(f"{type(spec).__name__}.run returned {type(result).__name__}; "
                            "it must return a dict")
        to_json(result, what="job result")
        return JobStatus.SUCCEEDED, result, None, "succeeded"
    except JobCancelled as exc:
        return JobStatus.CANCELLED, None, None, str(exc)
    except Exception as exc:
        return (JobStatus.FAILED, None, traceback.format_exc(),
                f"failed: {type(exc).__name__}: {exc}")


def execute_job(ws: "Workspace", job_id: int, *, executor: str,
                heartbeat_interval_s: float = 10.0,
                on_body_done: Callable[[], None] | None = None) -> JobStatus | None:
    """Claim and run job ``job_id`` here, storing its outcome.

    Parameters
    ----------
    ws : Workspace
        Open workspace holding the job.
    job_id : int
        Job to run.
    executor : str
        Name recorded with the job (``"local"``, ``"dask"``).
    heartbeat_interval_s : float
        Heartbeat period, s.
    on_body_done : callable, optional
        Called when the spec has returned or raised, before the outcome is stored
        (the local worker stops treating SIGTERM as a cancel there).

    Returns
    -------
    JobStatus or None
        Final status, or None when the job could not be claimed (another worker has
        it, it was cancelled, or it finished).
    """
    if not store.claim_job(ws, job_id, executor=executor):
        logger.info("job %s was not claimed: not queued for this worker", job_id)
        return None
    ctx = JobContext(ws, job_id)
    with _Heartbeat(ws, job_id, heartbeat_interval_s):
        try:
            status, result, error, message = _run_spec(ctx)
        except JobCancelled as exc:  # SIGTERM between the spec's end and on_body_done
            status, result, error, message = JobStatus.CANCELLED, None, None, str(exc)
        except BaseException:  # KeyboardInterrupt, SystemExit: record, then propagate
            store.finish_job(ws, job_id, JobStatus.INTERRUPTED, message="worker interrupted",
                             error=traceback.format_exc())
            raise
        finally:
            if on_body_done is not None:
                on_body_done()
    if not store.finish_job(ws, job_id, status, message=message, result=result, error=error):
        ctx.log(f"could not store the final status {status}: the job row is now "
                f"{store.get_job(ws, job_id).status} (finished by someone else)")
    ctx.log(f"{status}: {message}" + (f"\n{error}" if error else ""))
    return status
