"""Helpers of the MD tests: small copper systems and a calculator that blows up.

Importable by in-process jobs as ``mdtest_helpers:FailingEMT`` (conftest puts this folder
on ``sys.path``).
"""

import time
from pathlib import Path

import numpy as np
from ase.build import bulk
from ase.calculators.emt import EMT


def copper(repeat: int = 2):
    """fcc Cu, conventional cell (4 atoms) repeated ``repeat`` times along each axis."""
    return bulk("Cu", "fcc", a=3.61, cubic=True).repeat(repeat)


class FailingEMT(EMT):
    """EMT whose energy becomes NaN after ``good_calls`` calculations (a blown-up model)."""

    def __init__(self, good_calls: int = 5, **kwargs):
        super().__init__(**kwargs)
        self.good_calls = good_calls
        self.calls = 0

    def calculate(self, *args, **kwargs):
        super().calculate(*args, **kwargs)
        self.calls += 1
        if self.calls > self.good_calls:
            self.results["energy"] = np.nan


class UncertainEMT(EMT):
    """EMT that reports an ensemble-style ``max_force_deviation`` (eV/Å) growing by
    ``rate`` per calculation, like a model drifting out of its training domain."""

    implemented_properties = [*EMT.implemented_properties, "max_force_deviation"]

    def __init__(self, rate: float = 0.01, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.calls = 0

    def calculate(self, *args, **kwargs):
        super().calculate(*args, **kwargs)
        self.calls += 1
        self.results["max_force_deviation"] = self.rate * self.calls


class CancelAfterEMT(EMT):
    """EMT that requests the cancellation of the running jobs of workspace ``workspace``
    at its ``cancel_at``-th calculation (an in-process stand-in for a user's cancel), once
    per workspace (a marker file remembers it), so that a resumed job runs to the end. It
    then waits 0.6 s, so that the job's next (rate-limited) cancel check sees it."""

    def __init__(self, workspace: str = "", cancel_at: int = 100, **kwargs):
        super().__init__(**kwargs)
        self.workspace, self.cancel_at = workspace, cancel_at
        self.calls = 0

    def calculate(self, *args, **kwargs):
        super().calculate(*args, **kwargs)
        self.calls += 1
        marker = Path(self.workspace) / "cancelled-once"
        if self.calls == self.cancel_at and not marker.exists():
            from ssestudio.jobs import store
            from ssestudio.workspace import Workspace

            marker.touch()
            with Workspace.open(self.workspace, create=False) as ws:
                for rec in store.list_jobs(ws, status="running"):
                    store.request_cancel(ws, rec.id)
            time.sleep(0.6)  # longer than JobContext's cancel_interval_s: seen at once


def argon(repeat=(2, 2, 2)):
    """fcc Ar (a = 5.26 Å, 4 atoms per cell) repeated, for Lennard-Jones runs."""
    return bulk("Ar", "fcc", a=5.26, cubic=True).repeat(repeat)


#: ASE Lennard-Jones parameters of argon (sigma Å, epsilon eV), smooth cutoff.
ARGON_LJ = {"sigma": 3.4, "epsilon": 0.0104, "rc": 8.5, "smooth": True}


def wait_for(predicate, timeout_s, what):
    """Poll ``predicate()`` every 50 ms until it returns something truthy (returned)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
