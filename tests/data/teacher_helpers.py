"""A teacher for tests: EMT that counts (and optionally slows down) its calculations.

Reached by the calculator registry as ``tests.data.teacher_helpers:CountingEMT``.
"""

from __future__ import annotations

import os
import time

import numpy as np
from ase.build import bulk
from ase.calculators.emt import EMT


class CountingEMT(EMT):
    """EMT appending one line per calculation to ``log`` and sleeping ``delay_s``."""

    def __init__(self, *, log: str, delay_s: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.log, self.delay_s = log, float(delay_s)

    def calculate(self, atoms=None, properties=("energy",), system_changes=()):
        super().calculate(atoms, properties, system_changes)
        with open(self.log, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()}\n")
        time.sleep(self.delay_s)


def copper_configs(n: int, *, seed: int = 0, size: int = 2):
    """``n`` rattled Cu fcc cells (4 size^3 atoms) with provenance, unlabelled."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        atoms = bulk("Cu", "fcc", a=3.6, cubic=True) * (size, size, size)
        atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
        atoms.info["provenance"] = {"source": f"test:{i % 3}", "group": f"g{i % 4}"}
        out.append(atoms)
    return out


def count_calls(log) -> int:
    """Calculations recorded in ``log`` so far."""
    try:
        with open(log, encoding="utf-8") as fh:
            return sum(1 for _ in fh)
    except FileNotFoundError:
        return 0
