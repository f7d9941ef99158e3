"""Job worker process: ``python -m ssestudio.jobs.worker --workspace DIR --job ID``.

Runs one job with :func:`~ssestudio.jobs.runner.execute_job` (the same code path as
the Dask executor). SIGTERM while the job runs ends it as ``cancelled``. Exit status:
0 succeeded, 1 failed/cancelled/interrupted, 2 job not claimed, 3 workspace unusable.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from ssestudio.jobs.context import JobCancelled
from ssestudio.jobs.records import JobStatus


def _cancel_on_sigterm(signum: int, frame: object) -> None:
    raise JobCancelled("job was terminated (SIGTERM), usually after a cancel request")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ssestudio.jobs.worker",
                                     description="Run one queued SSE Studio job.")
    parser.add_argument("--workspace", required=True, help="workspace folder")
    parser.add_argument("--job", required=True, type=int, help="job id")
    parser.add_argument("--executor", default="local", help="executor name to record")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    from ssestudio.jobs.runner import execute_job
    from ssestudio.workspace import Workspace, WorkspaceError

    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _cancel_on_sigterm)
    try:
        ws = Workspace.open(args.workspace, create=False, seed=False)
    except WorkspaceError as exc:
        logging.getLogger(__name__).error("cannot open workspace: %s", exc)
        return 3
    with ws:
        status = execute_job(ws, args.job, executor=args.executor,
                             on_body_done=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN))
    if status is None:
        return 2
    return 0 if status is JobStatus.SUCCEEDED else 1


if __name__ == "__main__":
    sys.exit(main())
