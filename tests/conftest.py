"""Shared fixtures: paths to the shared third-party data and the bundled sample data."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLE_DATA = REPO / "sample_data"


@pytest.fixture(scope="session")
def argyrodite_dir() -> Path:
    """``../shared/data/argyrodite_aimd/Li6PS5Cl`` (skips when the shared data is absent)."""
    path = SHARED_DATA / "argyrodite_aimd" / "Li6PS5Cl"
    if not path.is_dir():
        pytest.skip(f"shared AIMD data not found at {path}")
    return path


@pytest.fixture(scope="session")
def sample_data_dir() -> Path:
    """The repository's ``sample_data`` folder."""
    return SAMPLE_DATA


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
