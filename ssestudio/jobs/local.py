"""Run jobs as background processes on this machine.

Each job runs in ``python -m ssestudio.jobs.worker`` in its own session (so it survives
a restart of the server that started it), with stdout/stderr in ``jobs/<id>/worker.log``.
At most ``max_workers`` jobs run at once on this host; the rest wait as ``queued`` in
the database and are started by :meth:`LocalExecutor.poll` (called by the manager's
scheduler thread) when a slot frees, also after a restart.

Cancelling is cooperative first (the job sees the flag at its next check); after
``cancel_grace_s`` the worker's process group gets SIGTERM (the worker then records
``cancelled``), and after ``kill_grace_s`` more SIGKILL (the executor records it).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ssestudio.jobs import store
from ssestudio.jobs.records import JobStatus
from ssestudio.jobs.spec import get_job_class

if TYPE_CHECKING:
    from ssestudio.workspace import Workspace

logger = logging.getLogger(__name__)


def _worker_env() -> dict[str, str]:
    """Environment for workers; a source checkout's root goes on PYTHONPATH so the
    worker imports the same ``ssestudio`` as this process."""
    import ssestudio

    env = dict(os.environ)
    root = Path(ssestudio.__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file():
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    return env


def _is_worker_of(pid: int, job_id: int) -> bool:
    """Whether ``pid`` is (still) the worker process of ``job_id`` (guards against pid reuse)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"ssestudio.jobs.worker" in argv and str(job_id).encode() in argv


def _signal_group(pid: int, sig: int) -> None:
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class LocalExecutor:
    """Background worker processes on this machine.

    Parameters
    ----------
    max_workers : int
        Jobs running at once on this host (default 2).
    cancel_grace_s : float
        Time a job has to stop cooperatively after a cancel request before SIGTERM, s.
    kill_grace_s : float
        Time after SIGTERM before SIGKILL, s.
    python : str
        Interpreter for the workers (default: this one).
    """

    name = "local"

    def __init__(self, *, max_workers: int = 2, cancel_grace_s: float = 5.0,
                 kill_grace_s: float = 5.0, python: str = sys.executable) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        self.max_workers = max_workers
        self.cancel_grace_s = cancel_grace_s
        self.kill_grace_s = kill_grace_s
        self.python = python
        self._procs: dict[int, subprocess.Popen] = {}
        self._termed: set[int] = set()
        self._lock = threading.RLock()

    def submit(self, ws: "Workspace", job_id: int) -> None:
        """Start the new job now if a slot is free (it stays queued otherwise)."""
        self.poll(ws)

    def cancel(self, ws: "Workspace", job_id: int) -> None:
        """Nothing beyond the database flag; :meth:`poll` escalates to signals."""

    def poll(self, ws: "Workspace") -> None:
        """Reap finished workers, escalate overdue cancels, start queued jobs."""
        with self._lock:
            self._reap(ws)
            self._escalate_cancels(ws)
            for job_id in store.reserve_queued(ws, executor=self.name,
                                               max_running=self.max_workers):
                self._start(ws, job_id)

    def close(self) -> None:
        """Forget the worker handles; running workers carry on by themselves."""
        with self._lock:
            self._procs.clear()

    def _start(self, ws: "Workspace", job_id: int) -> None:
        log = ws.job_dir(job_id) / "worker.log"
        cmd = [self.python, "-m", "ssestudio.jobs.worker", "--workspace", str(ws.root),
               "--job", str(job_id), "--executor", self.name]
        try:
            with open(log, "ab") as out:
                proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True,
                                        env=_worker_env())
        except OSError as exc:
            store.finish_job(ws, job_id, JobStatus.FAILED, message="could not start worker",
                             error=f"starting {' '.join(cmd)} failed: {exc}")
            return
        self._procs[job_id] = proc
        store.set_pid(ws, job_id, proc.pid)
        logger.info("job %s: started worker pid %s", job_id, proc.pid)

    def _reap(self, ws: "Workspace") -> None:
        for job_id, proc in list(self._procs.items()):
            code = proc.poll()
            if code is None:
                continue
            del self._procs[job_id]
            self._termed.discard(job_id)
            rec = store.get_job(ws, job_id)
            if rec.status is JobStatus.RUNNING:  # died without reporting
                status = JobStatus.CANCELLED if rec.cancel_requested else JobStatus.FAILED
                store.finish_job(ws, job_id, status, message=f"worker exited with code {code}",
                                 error=(f"worker process {proc.pid} exited with code {code} "
                                        f"without reporting; see {ws.job_dir(job_id)}/worker.log"))

    def _grace_s(self, kind: str) -> float:
        """Cooperative-stop time of a job kind: the longer of ours and the spec's."""
        try:
            spec_grace = get_job_class(kind).cancel_grace_s
        except Exception:  # an unknown kind still gets the default
            spec_grace = None
        return max(self.cancel_grace_s, spec_grace or 0.0)

    def _escalate_cancels(self, ws: "Workspace") -> None:
        for rec in store.list_jobs(ws, limit=None, status=JobStatus.RUNNING,
                                   executor=self.name):
            if not rec.cancel_requested or rec.host != store.HOST or rec.pid is None:
                continue
            mine = rec.id in self._procs or _is_worker_of(rec.pid, rec.id)
            age = store.cancel_age_s(ws, rec.id) or 0.0
            if not mine:
                continue
            grace = self._grace_s(rec.kind)
            if age > grace + self.kill_grace_s:
                _signal_group(rec.pid, signal.SIGKILL)
                store.finish_job(ws, rec.id, JobStatus.CANCELLED,
                                 message="cancelled: worker killed after it ignored SIGTERM")
            elif age > grace and rec.id not in self._termed:
                _signal_group(rec.pid, signal.SIGTERM)
                self._termed.add(rec.id)
