"""Background jobs: specs, context, manager and executors.

A job is a registered, JSON-serialisable :class:`JobSpec`; a :class:`JobManager`
queues it in the workspace database and an executor runs it in another process
(:class:`LocalExecutor`, default) or on a Dask cluster
(:class:`~ssestudio.jobs.dask_executor.DaskExecutor`, imported from its module).
Worker entry point: ``python -m ssestudio.jobs.worker --workspace DIR --job ID``.
"""

from ssestudio.jobs.context import JobCancelled, JobContext
from ssestudio.jobs.executors import make_executor
from ssestudio.jobs.local import LocalExecutor
from ssestudio.jobs.manager import Executor, JobManager, JobTimeoutError
from ssestudio.jobs.records import JobRecord, JobStatus
from ssestudio.jobs.runner import execute_job
from ssestudio.jobs.spec import JobSpec, get_job_class, job_kinds, register_job

__all__ = [
    "Executor", "JobCancelled", "JobContext", "JobManager", "JobRecord", "JobSpec",
    "JobStatus", "JobTimeoutError", "LocalExecutor", "execute_job", "get_job_class",
    "job_kinds", "make_executor", "register_job",
]
