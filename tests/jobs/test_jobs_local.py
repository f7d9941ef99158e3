"""Job life cycle through the LocalExecutor, with real worker subprocesses."""

import os
import signal
import subprocess
import sys
import time

import pytest

from jobtest_specs import SleepSpec
from ssestudio.jobs import JobManager, JobStatus, LocalExecutor
from ssestudio.jobs import store
from ssestudio.workspace import Workspace


def wait_until(predicate, timeout=10.0):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(0.02)
    return value


def gone(pid):
    return not store.pid_alive(pid)


def test_success_with_progress_seen_from_another_connection(ws, make_manager):
    manager = make_manager()
    job_id = manager.submit(SleepSpec(steps=40, dt_s=0.05))
    with Workspace.open(ws.root, create=False) as other:  # e.g. the web server
        seen = wait_until(lambda: (r := store.get_job(other, job_id)).status is JobStatus.RUNNING
                          and r.progress and r.progress > 0 and r)
        assert seen.pid and seen.pid != os.getpid() and seen.host == store.HOST
        assert seen.message.startswith("step") and seen.eta_s is not None
    rec = manager.wait(job_id, timeout=20)
    assert rec.status is JobStatus.SUCCEEDED and rec.result["pid"] == seen.pid
    assert rec.progress == 1.0 and rec.executor == "local" and rec.started <= rec.finished
    assert "sleep done" in manager.log_text(job_id)
    assert (ws.root / "jobs" / str(job_id) / "worker.log").exists()


def test_failure_stores_traceback(make_manager):
    manager = make_manager()
    rec = manager.wait(manager.submit(SleepSpec(fail_at=1, dt_s=0.0)), timeout=20)
    assert rec.status is JobStatus.FAILED
    assert "RuntimeError: planned failure at step 1" in rec.error


@pytest.mark.parametrize(("spec", "message"), [
    (SleepSpec(steps=10_000, dt_s=0.01), "cancelled on request"),
    (SleepSpec(steps=10_000, dt_s=0.01, cooperative=False), "SIGTERM"),
    (SleepSpec(steps=10_000, dt_s=0.01, cooperative=False, ignore_sigterm=True), "killed"),
], ids=["cooperative", "sigterm", "sigkill"])
def test_cancel_running_job(make_manager, spec, message):
    # a cooperative job reads the flag every 0.5 s (JobContext.cancel_interval_s): give it
    # more than that before SIGTERM, or a loaded machine lets the signal win
    manager = make_manager(cancel_grace_s=3.0 if spec.cooperative else 0.5,
                           kill_grace_s=0.5)
    job_id = manager.submit(spec)
    pid = wait_until(lambda: (r := manager.get(job_id)).progress and r.pid)
    t0 = time.monotonic()
    manager.cancel(job_id)
    rec = manager.wait(job_id, timeout=10)
    assert rec.status is JobStatus.CANCELLED and message in rec.message
    assert time.monotonic() - t0 < 5.0
    wait_until(lambda: gone(pid), timeout=5)


def test_cancel_queued_job(make_manager):
    manager = make_manager(max_workers=1)
    first = manager.submit(SleepSpec(steps=10_000, dt_s=0.01))
    second = manager.submit(SleepSpec())
    assert manager.cancel(second).status is JobStatus.CANCELLED
    manager.cancel(first)
    assert manager.wait(first, timeout=10).status is JobStatus.CANCELLED
    assert manager.get(second).started is None


def test_queue_respects_max_workers(make_manager):
    manager = make_manager(max_workers=1)
    ids = [manager.submit(SleepSpec(steps=3, dt_s=0.02)) for _ in range(3)]
    assert [manager.get(i).status for i in ids[1:]] == [JobStatus.QUEUED] * 2
    peak = 0
    while not all(manager.get(i).done for i in ids):
        peak = max(peak, len(manager.list(status=JobStatus.RUNNING)))
        time.sleep(0.01)
    recs = [manager.get(i) for i in ids]
    assert peak == 1 and all(r.status is JobStatus.SUCCEEDED for r in recs)
    assert recs[0].finished <= recs[1].started and recs[1].finished <= recs[2].started


def test_server_restart_recovers(ws, make_manager):
    first = make_manager(max_workers=1)
    done = first.wait(first.submit(SleepSpec(steps=1, dt_s=0.0)), timeout=20)
    running = first.submit(SleepSpec(steps=10_000, dt_s=0.01))
    queued = first.submit(SleepSpec(steps=2, dt_s=0.0))
    pid = wait_until(lambda: first.get(running).pid)
    first.close()  # the server process goes away ...
    os.killpg(pid, signal.SIGKILL)  # ... and so does the worker
    try:
        os.waitpid(pid, 0)  # reap it: the worker was this process's child
    except ChildProcessError:
        pass
    assert store.get_job(ws, running).status is JobStatus.RUNNING  # nobody noticed yet
    with Workspace.open(ws.root, create=False) as fresh:
        second = make_manager(workspace=fresh, max_workers=1)
        assert second.recover() == [running]
        rec = second.get(running)
        assert rec.status is JobStatus.INTERRUPTED and "is gone" in rec.message
        assert second.wait(queued, timeout=20).status is JobStatus.SUCCEEDED
        assert second.get(done.id).status is JobStatus.SUCCEEDED
        assert {r.id for r in second.list()} == {done.id, running, queued}


def test_recover_marks_stale_heartbeat(ws):
    job_id = store.insert_job(ws, SleepSpec().to_dict(), executor="elsewhere")
    ws.execute("UPDATE jobs SET status = 'running', host = 'other-host', pid = 1, "
               "heartbeat = '2000-01-01T00:00:00.000+00:00' WHERE id = ?", (job_id,))
    manager = JobManager(ws, LocalExecutor(), stale_after_s=60)
    try:
        assert manager.recover() == [job_id]
        assert "no heartbeat" in manager.get(job_id).message
    finally:
        manager.close()


def test_worker_command_line(ws):
    job_id = store.insert_job(ws, SleepSpec(steps=2, dt_s=0.0).to_dict(), executor="cli")
    cmd = [sys.executable, "-m", "ssestudio.jobs.worker", "--workspace", str(ws.root),
           "--job", str(job_id)]
    assert subprocess.run(cmd, capture_output=True, timeout=60).returncode == 0
    assert store.get_job(ws, job_id).status is JobStatus.SUCCEEDED
    assert subprocess.run(cmd, capture_output=True, timeout=60).returncode == 2  # not claimed
    missing = [*cmd[:4], str(ws.root.parent / "nowhere"), *cmd[5:]]
    assert subprocess.run(missing, capture_output=True, timeout=60).returncode == 3


def test_a_job_kind_can_ask_for_a_longer_cooperative_stop():
    from ssestudio.jobs.local import LocalExecutor

    executor = LocalExecutor(cancel_grace_s=2.0)
    assert executor._grace_s("train") == 600.0        # training stops gracefully: give it time
    assert executor._grace_s("convert-trajectory") == 2.0
    assert executor._grace_s("no-such-kind") == 2.0
