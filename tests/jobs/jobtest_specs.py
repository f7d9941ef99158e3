"""Job specs used only by the tests (imported by worker processes through PYTHONPATH)."""

import os
import signal
import time
from dataclasses import dataclass

from ssestudio.jobs import JobSpec, register_job


@register_job("test-sleep")
@dataclass(frozen=True)
class SleepSpec(JobSpec):
    """Sleep ``steps`` x ``dt_s`` reporting progress; optionally fail or ignore cancels."""

    steps: int = 10
    dt_s: float = 0.02
    fail_at: int = -1
    cooperative: bool = True
    ignore_sigterm: bool = False

    def validate(self):
        if self.steps < 1:
            raise ValueError("steps must be >= 1")

    def run(self, ctx):
        if self.ignore_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for i in range(self.steps):
            if i == self.fail_at:
                raise RuntimeError(f"planned failure at step {i}")
            time.sleep(self.dt_s)
            ctx.progress((i + 1) / self.steps, f"step {i + 1} of {self.steps}")
            if self.cooperative:
                ctx.check_cancelled()
        ctx.log("sleep done")
        return {"steps": self.steps, "pid": os.getpid()}
