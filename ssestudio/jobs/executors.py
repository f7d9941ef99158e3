"""Choose an executor from user options (CLI/app): local processes or a Dask cluster."""

from __future__ import annotations

from ssestudio.jobs.local import LocalExecutor


def make_executor(*, dask_scheduler: str | None = None, max_parallel: int = 1):
    """The executor that runs jobs for a server or CLI session.

    Parameters
    ----------
    dask_scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:8786``); jobs then run on
        its workers, which must see the workspace at the same path.
    max_parallel : int
        Jobs run at once by the local executor (ignored with Dask).
    """
    if dask_scheduler:
        from ssestudio.jobs.dask_executor import DaskExecutor

        return DaskExecutor(dask_scheduler)
    return LocalExecutor(max_workers=max_parallel)
