"""Specs, registry, context and the in-process execution path (no subprocesses)."""

import dataclasses
import sys
import threading
import time

import pytest

from jobtest_specs import SleepSpec
from ssestudio.core.errors import UserInputError
from ssestudio.jobs import (JobCancelled, JobContext, JobSpec, JobStatus, execute_job,
                            get_job_class, job_kinds, register_job)
from ssestudio.jobs import store
from ssestudio.jobs.builtin import ConvertTrajectorySpec
from ssestudio.jobs.manager import serialise_spec


def test_round_trip_and_registry():
    spec = SleepSpec(steps=3, dt_s=0.5)
    data = spec.to_dict()
    assert data == {"kind": "test-sleep", "module": "jobtest_specs",
                    "params": {"steps": 3, "dt_s": 0.5, "fail_at": -1, "cooperative": True,
                               "ignore_sigterm": False}}
    assert JobSpec.from_dict(data) == spec
    assert "convert-trajectory" in job_kinds() and get_job_class("test-sleep") is SleepSpec
    conv = ConvertTrajectorySpec(source_paths="rel/md.xyz", timestep_fs=2)
    assert conv.source_paths[0].endswith("/rel/md.xyz")
    assert JobSpec.from_dict(serialise_spec(conv)) == conv


def test_bad_specs_are_explained():
    with pytest.raises(UserInputError, match="unknown job kind 'nope'.*convert-trajectory"):
        JobSpec.from_dict({"kind": "nope", "params": {}})
    with pytest.raises(UserInputError, match=r"unknown \['stepz'\].*valid parameters"):
        JobSpec.from_dict({"kind": "test-sleep", "params": {"stepz": 1}})
    with pytest.raises(UserInputError, match=r"missing \['source_paths'\]"):
        JobSpec.from_dict({"kind": "convert-trajectory", "params": {}})
    with pytest.raises(UserInputError, match="cannot be imported"):
        JobSpec.from_dict({"kind": "ghost", "module": "no_such_module_xyz", "params": {}})
    with pytest.raises(UserInputError, match="timestep_fs must be > 0"):
        ConvertTrajectorySpec(source_paths=("a.xyz",), timestep_fs=-1.0)


def test_from_dict_imports_the_spec_module():
    sys.modules.pop("jobtest_plugin", None)
    spec = JobSpec.from_dict({"kind": "test-plugin", "module": "jobtest_plugin",
                              "params": {"value": 7}})
    assert spec.value == 7 and type(spec).__module__ == "jobtest_plugin"


def test_register_job_checks_classes():
    with pytest.raises(TypeError, match="frozen"):
        @register_job("test-mutable")
        @dataclasses.dataclass
        class Mutable(JobSpec):
            x: int = 0

    with pytest.raises(ValueError, match="already registered"):
        @register_job("test-sleep")
        @dataclasses.dataclass(frozen=True)
        class Impostor(JobSpec):
            pass


def test_specs_from_main_are_refused():
    @register_job("test-main")
    @dataclasses.dataclass(frozen=True)
    class InMain(JobSpec):
        def run(self, ctx):
            return {}

    InMain.__module__ = "__main__"
    with pytest.raises(UserInputError, match="__main__"):
        serialise_spec(InMain())


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_context_progress_eta_and_throttle(ws):
    job_id = store.insert_job(ws, SleepSpec().to_dict(), executor="test")
    assert store.claim_job(ws, job_id, executor="test")
    clock = FakeClock()
    ctx = JobContext(ws, job_id, clock=clock)
    clock.t = 10.0
    ctx.progress(0.25, "a quarter")
    rec = store.get_job(ws, job_id)
    assert (rec.progress, rec.message, rec.eta_s) == (0.25, "a quarter", pytest.approx(30.0))
    clock.t = 10.1
    ctx.progress(0.5, "throttled")
    assert store.get_job(ws, job_id).message == "a quarter"
    ctx.progress(1.0, "final always written")
    assert store.get_job(ws, job_id).eta_s == 0.0
    ctx.check_cancelled()
    store.request_cancel(ws, job_id)
    ctx.check_cancelled()  # throttled: within 0.5 s of the last read
    clock.t = 11.0
    with pytest.raises(JobCancelled):
        ctx.check_cancelled()
    ctx.log("hello")
    assert ctx.log_path == ws.root / "jobs" / str(job_id) / "log.txt"
    assert ctx.log_path.read_text().rstrip().endswith("hello")


def test_execute_in_process_success_and_failure(ws):
    ok = store.insert_job(ws, SleepSpec(steps=2, dt_s=0.0).to_dict(), executor="test")
    bad = store.insert_job(ws, SleepSpec(fail_at=1, dt_s=0.0).to_dict(), executor="test")
    assert execute_job(ws, ok, executor="test") is JobStatus.SUCCEEDED
    assert execute_job(ws, bad, executor="test") is JobStatus.FAILED
    rec = store.get_job(ws, ok)
    assert rec.result["steps"] == 2 and rec.progress == 1.0 and rec.finished and rec.done
    failed = store.get_job(ws, bad)
    assert "RuntimeError: planned failure at step 1" in failed.error
    assert "Traceback" in failed.error and failed.message.startswith("failed")
    assert execute_job(ws, ok, executor="test") is None  # finished jobs are not rerun


def test_cancel_queued_and_running_in_process(ws):
    queued = store.insert_job(ws, SleepSpec().to_dict(), executor="test")
    assert store.request_cancel(ws, queued) is JobStatus.CANCELLED
    assert execute_job(ws, queued, executor="test") is None
    long = store.insert_job(ws, SleepSpec(steps=500, dt_s=0.01).to_dict(), executor="test")
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(
        execute_job(ws, long, executor="test")))
    worker.start()
    while store.get_job(ws, long).status is not JobStatus.RUNNING:
        time.sleep(0.01)
    t0 = time.monotonic()
    store.request_cancel(ws, long)
    worker.join(timeout=10)
    assert outcome == [JobStatus.CANCELLED] and time.monotonic() - t0 < 2.0
    assert store.get_job(ws, long).message.endswith("cancelled on request")
