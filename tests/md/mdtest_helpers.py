"""Helpers of the MD tests: small copper systems and a calculator that blows up.

Importable by in-process jobs as ``mdtest_helpers:FailingEMT`` (conftest puts this folder
on ``sys.path``).
"""

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
