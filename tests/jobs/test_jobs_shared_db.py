"""Job outcomes stay visible when one process holds several connections to the workspace.

Regression test for a rare "failed: worker exited with code 0" (the dataset CLI test, once
a browser test): opening the workspace again while another connection of the same process
was open released that process's SQLite file locks (POSIX locks belong to the process, and
closing *any* descriptor of the database file drops them all). A worker that exited then
believed it held the last connection, checkpointed and deleted ``ssestudio.sqlite-wal`` and
``-shm``, and the two processes went on with different copies of the database: the worker's
``succeeded`` never reached the manager, which still saw the job ``running``.
"""

import subprocess
import sys

from jobtest_specs import SleepSpec
from ssestudio.jobs import JobStatus, store
from ssestudio.workspace import Workspace


def test_worker_outcome_seen_after_the_workspace_was_opened_again(ws):
    Workspace.open(ws.root, create=False).close()  # e.g. a web request, while ws stays open
    wal = ws.db_path.with_name(ws.db_path.name + "-wal")
    for _ in range(3):
        job_id = store.insert_job(ws, SleepSpec(steps=1, dt_s=0.0).to_dict(), executor="cli")
        cmd = [sys.executable, "-m", "ssestudio.jobs.worker", "--workspace", str(ws.root),
               "--job", str(job_id)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr  # 2: the worker did not see the new job
        assert wal.exists(), "the exiting worker thought it had the last connection"
        assert store.get_job(ws, job_id).status is JobStatus.SUCCEEDED


def test_manager_sees_every_outcome_while_another_connection_is_open(ws, make_manager):
    manager = make_manager(max_workers=2)
    with Workspace.open(ws.root, create=False) as server:  # the web server's connection
        ids = [manager.submit(SleepSpec(steps=2, dt_s=0.0)) for _ in range(4)]
        recs = [manager.wait(i, timeout=60) for i in ids]
        assert [(r.status, r.message) for r in recs] == [(JobStatus.SUCCEEDED, "succeeded")] * 4
        assert [store.get_job(server, i).status for i in ids] == [JobStatus.SUCCEEDED] * 4
