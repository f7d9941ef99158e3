"""What a running job sees: progress, log, cancellation, its folder and the workspace."""

from __future__ import annotations

import logging
import math
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ssestudio.core.errors import SSEStudioError
from ssestudio.jobs import store

if TYPE_CHECKING:
    from ssestudio.workspace import Workspace


class JobCancelled(SSEStudioError):
    """Raised inside a job when a cancel was requested; the job ends as ``cancelled``."""


class JobContext:
    """Services a :class:`~ssestudio.jobs.spec.JobSpec` uses while it runs.

    Parameters
    ----------
    workspace : Workspace
        The open workspace (``ctx.workspace``).
    job_id : int
        The job's id (``ctx.job_id``); its folder is ``ctx.job_dir``.
    progress_interval_s : float
        Minimum time between progress writes to the database, s.
    cancel_interval_s : float
        Minimum time between cancel-flag reads, s.
    clock : callable
        Monotonic clock in s (tests inject a fake one).
    """

    def __init__(self, workspace: "Workspace", job_id: int, *, progress_interval_s: float = 0.25,
                 cancel_interval_s: float = 0.5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.workspace = workspace
        self.job_id = int(job_id)
        self.job_dir: Path = workspace.job_dir(self.job_id)
        self._clock = clock
        self._t0 = clock()
        self._progress_interval_s = progress_interval_s
        self._cancel_interval_s = cancel_interval_s
        self._last_progress = -math.inf
        self._last_cancel_check = -math.inf
        self._logger = logging.getLogger(f"ssestudio.jobs.job{self.job_id}")

    @property
    def log_path(self) -> Path:
        """``jobs/<id>/log.txt``."""
        return self.job_dir / "log.txt"

    def progress(self, fraction: float | None, message: str = "") -> None:
        """Report progress: ``fraction`` done (0..1, None if unknown) and a message.

        Writes at most once per ``progress_interval_s`` (the final 1.0 always), with an
        ETA in s from the elapsed time, ``eta = elapsed * (1 - f) / f``; refreshes the
        heartbeat.
        """
        now = self._clock()
        f = None if fraction is None else min(1.0, max(0.0, float(fraction)))
        if now - self._last_progress < self._progress_interval_s and f != 1.0:
            return
        self._last_progress = now
        eta = (now - self._t0) * (1.0 - f) / f if f else None
        store.update_progress(self.workspace, self.job_id, fraction=f, message=str(message),
                              eta_s=eta)

    def heartbeat(self) -> None:
        """Tell the manager this job is alive (also done by :meth:`progress`)."""
        store.touch_heartbeat(self.workspace, self.job_id)

    def check_cancelled(self) -> None:
        """Raise :class:`JobCancelled` if a cancel was requested (reads the database at
        most once per ``cancel_interval_s``)."""
        now = self._clock()
        if now - self._last_cancel_check < self._cancel_interval_s:
            return
        self._last_cancel_check = now
        if store.is_cancel_requested(self.workspace, self.job_id):
            raise JobCancelled(f"job {self.job_id} was cancelled on request")

    def log(self, msg: str) -> None:
        """Append a timestamped line to ``jobs/<id>/log.txt`` and to Python logging."""
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with open(self.log_path, "a", encoding="utf-8") as fh:
            fh.write(f"{stamp} {msg}\n")
        self._logger.info(msg)
