"""Fixtures for UI tests: a seeded workspace and a job manager with real workers."""

from __future__ import annotations

import pytest


@pytest.fixture
def seeded_workspace(tmp_path, sample_data_dir):
    from ssestudio.workspace import Workspace

    ws = Workspace.open(tmp_path / "ws", sample_dir=sample_data_dir)
    yield ws
    ws.close()


@pytest.fixture
def manager(seeded_workspace):
    from ssestudio.jobs import JobManager, LocalExecutor

    mgr = JobManager(seeded_workspace, LocalExecutor(max_workers=1), poll_interval_s=0.2)
    yield mgr
    mgr.close()
