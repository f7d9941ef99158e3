"""Reading and writing the ``jobs`` table.

Every state change is one short transaction guarded by the current status, so the
manager, workers and other processes can race safely (the first writer wins).
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from ssestudio.jobs.records import ACTIVE, JobRecord, JobStatus
from ssestudio.workspace.errors import RecordNotFoundError
from ssestudio.workspace.records import to_json
from ssestudio.workspace.schema import utc_now

if TYPE_CHECKING:
    from ssestudio.workspace import Workspace

#: This machine's host name, recorded with running jobs.
HOST = socket.gethostname()


def insert_job(ws: "Workspace", spec: dict[str, Any], *, executor: str) -> int:
    """Add a queued job; return its id."""
    from ssestudio.core.version import code_version

    with ws.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO jobs (kind, spec, status, message, created, executor, code_version)"
            " VALUES (?, ?, ?, 'queued', ?, ?, ?)",
            (spec["kind"], to_json(spec, what="job spec"), JobStatus.QUEUED.value, utc_now(),
             executor, code_version()))
    return int(cur.lastrowid)


def get_job(ws: "Workspace", job_id: int) -> JobRecord:
    """The job with this id (:class:`RecordNotFoundError` if none)."""
    rows = ws.query("SELECT * FROM jobs WHERE id = ?", (int(job_id),))
    if not rows:
        raise RecordNotFoundError(f"no job {job_id} in workspace {ws.root}; list jobs to see "
                                  "which exist")
    return JobRecord.from_row(rows[0])


def list_jobs(ws: "Workspace", *, limit: int | None = 100,
              status: JobStatus | str | Iterable[JobStatus | str] | None = None,
              executor: str | None = None) -> list[JobRecord]:
    """Jobs, newest first, optionally filtered by status(es) and executor."""
    where, params = [], []
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        where.append(f"status IN ({','.join('?' * len(wanted))})")
        params += [JobStatus(s).value for s in wanted]
    if executor is not None:
        where.append("executor = ?")
        params.append(executor)
    sql = "SELECT * FROM jobs" + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit is not None else "")
    return [JobRecord.from_row(r) for r in ws.query(sql, tuple(params))]


def reserve_queued(ws: "Workspace", *, executor: str, max_running: int) -> list[int]:
    """Mark the oldest queued jobs of ``executor`` running on this host, up to
    ``max_running`` running there at once; return their ids (pid still unset)."""
    if not ws.query("SELECT 1 FROM jobs WHERE status = 'queued' AND executor = ? LIMIT 1",
                    (executor,)):
        return []  # the common case: no write lock taken
    now = utc_now()
    with ws.transaction() as conn:
        running = conn.execute("SELECT COUNT(*) FROM jobs WHERE status = 'running' AND "
                               "executor = ? AND host = ?", (executor, HOST)).fetchone()[0]
        free = max(0, max_running - running)
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM jobs WHERE status = 'queued' AND executor = ? ORDER BY id LIMIT ?",
            (executor, free))]
        conn.executemany(
            "UPDATE jobs SET status = 'running', host = ?, started = ?, heartbeat = ?, "
            "message = 'starting worker' WHERE id = ?", [(HOST, now, now, i) for i in ids])
    return ids


def claim_job(ws: "Workspace", job_id: int, *, executor: str) -> bool:
    """Let the current process run the job: queued -> running, or take over a job
    reserved for this host by :func:`reserve_queued`. False if another process has it
    or it was cancelled."""
    now = utc_now()
    pid = os.getpid()
    return ws.execute(
        "UPDATE jobs SET status = 'running', pid = ?, host = ?, executor = ?, "
        "started = COALESCE(started, ?), heartbeat = ?, message = 'running' "
        "WHERE id = ? AND cancel_requested = 0 AND (status = 'queued' OR (status = 'running' "
        "AND host = ? AND (pid IS NULL OR pid = ?)))",
        (pid, HOST, executor, now, now, int(job_id), HOST, pid)) == 1


def set_pid(ws: "Workspace", job_id: int, pid: int) -> None:
    """Record the worker process of a reserved job."""
    ws.execute("UPDATE jobs SET pid = ? WHERE id = ? AND status = 'running' AND pid IS NULL",
               (int(pid), int(job_id)))


def update_progress(ws: "Workspace", job_id: int, *, fraction: float | None, message: str,
                    eta_s: float | None) -> None:
    """Store progress (fraction 0..1, message, ETA in s) and refresh the heartbeat."""
    ws.execute("UPDATE jobs SET progress = ?, message = ?, eta_s = ?, heartbeat = ? "
               "WHERE id = ? AND status = 'running'",
               (fraction, message, eta_s, utc_now(), int(job_id)))


def touch_heartbeat(ws: "Workspace", job_id: int) -> None:
    """Refresh the heartbeat of a running job."""
    ws.execute("UPDATE jobs SET heartbeat = ? WHERE id = ? AND status = 'running'",
               (utc_now(), int(job_id)))


def is_cancel_requested(ws: "Workspace", job_id: int) -> bool:
    """Whether a cancel was requested for the job."""
    rows = ws.query("SELECT cancel_requested FROM jobs WHERE id = ?", (int(job_id),))
    return bool(rows and rows[0][0])


def request_cancel(ws: "Workspace", job_id: int) -> JobStatus:
    """Flag a job for cancellation; a queued job is cancelled at once. Returns the status."""
    now = utc_now()
    with ws.transaction() as conn:
        conn.execute("UPDATE jobs SET status = 'cancelled', finished = ?, cancel_requested = 1,"
                     " cancel_requested_at = ?, message = 'cancelled before it started' "
                     "WHERE id = ? AND status = 'queued'", (now, now, int(job_id)))
        conn.execute("UPDATE jobs SET cancel_requested = 1, cancel_requested_at = ?, "
                     "message = 'cancel requested' WHERE id = ? AND status = 'running' "
                     "AND cancel_requested = 0", (now, int(job_id)))
    return get_job(ws, job_id).status


def cancel_age_s(ws: "Workspace", job_id: int) -> float | None:
    """Seconds since a cancel was requested (None if never)."""
    rows = ws.query("SELECT cancel_requested_at FROM jobs WHERE id = ?", (int(job_id),))
    return age_s(rows[0][0]) if rows and rows[0][0] else None


def finish_job(ws: "Workspace", job_id: int, status: JobStatus, *, message: str = "",
               result: dict | None = None, error: str | None = None) -> bool:
    """Move an active job to a finished ``status``; False if it had finished already."""
    if not status.finished:
        raise ValueError(f"finish_job needs a finished status, got {status}")
    progress = ", progress = 1.0, eta_s = 0" if status is JobStatus.SUCCEEDED else ""
    active = tuple(s.value for s in ACTIVE)
    return ws.execute(
        f"UPDATE jobs SET status = ?, finished = ?, message = ?, result = ?, error = ?{progress}"
        f" WHERE id = ? AND status IN ({','.join('?' * len(active))})",
        (status.value, utc_now(), message or status.value,
         None if result is None else to_json(result, what="job result"), error, int(job_id),
         *active)) == 1


def age_s(iso: str | None) -> float:
    """Seconds since a UTC ISO time (infinity for None)."""
    if not iso:
        return float("inf")
    return (datetime.now(timezone.utc) - datetime.fromisoformat(iso)).total_seconds()


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def mark_lost_jobs(ws: "Workspace", *, stale_after_s: float) -> list[int]:
    """Mark running jobs whose worker is gone as interrupted; return their ids.

    A worker is gone when its pid is not alive on this host, or, on any host, when its
    heartbeat is older than ``stale_after_s``.
    """
    lost = []
    for rec in list_jobs(ws, limit=None, status=JobStatus.RUNNING):
        if rec.host == HOST and rec.pid is not None and not pid_alive(rec.pid):
            why = f"worker process {rec.pid} on {rec.host} is gone"
        elif age_s(rec.heartbeat) > stale_after_s:
            why = f"no heartbeat from the worker for {age_s(rec.heartbeat):.0f} s"
        else:
            continue
        if finish_job(ws, rec.id, JobStatus.INTERRUPTED, message=f"interrupted: {why}",
                      error=f"{why}; the job did not finish: resubmit it"):
            lost.append(rec.id)
    return lost


__all__ = ["HOST", "age_s", "cancel_age_s", "claim_job", "finish_job", "get_job", "insert_job",
           "is_cancel_requested", "list_jobs", "mark_lost_jobs", "pid_alive",
           "request_cancel", "reserve_queued", "set_pid", "touch_heartbeat", "update_progress"]
