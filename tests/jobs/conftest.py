"""Fixtures for job tests: test-only specs importable by worker processes."""

import os
import signal
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # where jobtest_specs lives, for this process ...
    sys.path.insert(0, str(HERE))


@pytest.fixture(autouse=True, scope="session")
def _workers_import_test_specs():
    """... and for worker processes (local subprocesses, Dask workers)."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), old]))
    yield
    if old is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old


@pytest.fixture
def ws(tmp_path):
    """A fresh, unseeded workspace."""
    from ssestudio.workspace import Workspace

    with Workspace.open(tmp_path / "ws", seed=False) as workspace:
        yield workspace


@pytest.fixture
def make_manager(ws):
    """Factory for JobManagers with a fast LocalExecutor; kills leftover workers after."""
    from ssestudio.jobs import JobManager, LocalExecutor
    from ssestudio.jobs.local import _is_worker_of
    from ssestudio.jobs.store import list_jobs

    managers = []

    def make(*, workspace=None, max_workers=2, cancel_grace_s=1.0, kill_grace_s=1.0):
        executor = LocalExecutor(max_workers=max_workers, cancel_grace_s=cancel_grace_s,
                                 kill_grace_s=kill_grace_s)
        manager = JobManager(workspace or ws, executor, poll_interval_s=0.05)
        managers.append(manager)
        return manager

    yield make
    for manager in managers:
        manager.close()
    for rec in list_jobs(ws, limit=None):  # only the workers these tests started
        if rec.pid and _is_worker_of(rec.pid, rec.id):
            try:
                os.killpg(rec.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
