"""The same job specs run through a Dask LocalCluster (skipped without distributed)."""

import os
import time

import pytest

from jobtest_specs import SleepSpec
from ssestudio.jobs import JobManager, JobStatus

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=1, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as local_cluster:
        yield local_cluster


@pytest.fixture
def manager(ws, cluster):
    from ssestudio.jobs.dask_executor import DaskExecutor

    with JobManager(ws, DaskExecutor(cluster.scheduler_address), poll_interval_s=0.05) as mgr:
        yield mgr


def test_dask_runs_job_to_success(manager):
    job_id = manager.submit(SleepSpec(steps=5, dt_s=0.01))
    rec = manager.wait(job_id, timeout=60)
    assert rec.status is JobStatus.SUCCEEDED and rec.executor == "dask"
    assert rec.result["steps"] == 5 and rec.result["pid"] != os.getpid()
    assert "sleep done" in manager.log_text(job_id)


def test_dask_failure_and_cancel(manager):
    failed = manager.wait(manager.submit(SleepSpec(fail_at=0)), timeout=60)
    assert failed.status is JobStatus.FAILED and "planned failure" in failed.error
    job_id = manager.submit(SleepSpec(steps=10_000, dt_s=0.01))
    deadline = time.monotonic() + 60
    while not manager.get(job_id).progress:
        assert time.monotonic() < deadline, "dask job did not start"
        time.sleep(0.02)
    manager.cancel(job_id)
    rec = manager.wait(job_id, timeout=10)
    assert rec.status is JobStatus.CANCELLED


def test_dask_cancel_before_start(ws, cluster):
    from ssestudio.jobs.dask_executor import DaskExecutor

    with distributed.Client(cluster.scheduler_address) as client:
        with JobManager(ws, DaskExecutor(client=client), poll_interval_s=0.05) as mgr:
            blocker = mgr.submit(SleepSpec(steps=10_000, dt_s=0.01))  # occupies the thread
            waiting = mgr.submit(SleepSpec())
            assert mgr.cancel(waiting).status is JobStatus.CANCELLED
            mgr.cancel(blocker)
            assert mgr.wait(blocker, timeout=60).status is JobStatus.CANCELLED
            assert mgr.get(waiting).started is None
        assert client.status == "running"  # a client passed in is not closed


def test_make_executor_chooses_dask_for_a_scheduler_address(cluster):
    from ssestudio.jobs import LocalExecutor, make_executor
    from ssestudio.jobs.dask_executor import DaskExecutor

    local = make_executor(max_parallel=3)
    assert isinstance(local, LocalExecutor) and local.max_workers == 3
    dask = make_executor(dask_scheduler=cluster.scheduler_address)
    try:
        assert isinstance(dask, DaskExecutor)
    finally:
        dask.close()
