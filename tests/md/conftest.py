"""Fixtures for MD tests: small EMT copper systems, a workspace, job managers."""

import os
import signal
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # mdtest_helpers, also for in-process jobs
    sys.path.insert(0, str(HERE))

from mdtest_helpers import copper  # noqa: E402


@pytest.fixture
def cu_file(tmp_path):
    """A 4-atom fcc Cu cell written as CIF."""
    import ase.io

    path = tmp_path / "cu.cif"
    ase.io.write(path, copper(1))
    return path


@pytest.fixture
def ws(tmp_path):
    """A fresh, unseeded workspace."""
    from ssestudio.workspace import Workspace

    with Workspace.open(tmp_path / "ws", seed=False) as workspace:
        yield workspace


@pytest.fixture
def make_manager(ws):
    """JobManagers with a fast LocalExecutor; kills the workers these tests started."""
    from ssestudio.jobs import JobManager, LocalExecutor
    from ssestudio.jobs.local import _is_worker_of
    from ssestudio.jobs.store import list_jobs

    managers = []

    def make(*, cancel_grace_s=10.0):
        executor = LocalExecutor(max_workers=2, cancel_grace_s=cancel_grace_s, kill_grace_s=2.0)
        managers.append(JobManager(ws, executor, poll_interval_s=0.05))
        return managers[-1]

    yield make
    for manager in managers:
        manager.close()
    for rec in list_jobs(ws, limit=None):
        if rec.pid and _is_worker_of(rec.pid, rec.id):
            try:
                os.killpg(rec.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
