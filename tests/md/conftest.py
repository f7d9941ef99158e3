"""Fixtures for MD tests: small EMT copper systems (workspace and managers: tests/conftest.py)."""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # mdtest_helpers, also for in-process jobs
    sys.path.insert(0, str(HERE))

from mdtest_helpers import copper  # noqa: E402


@pytest.fixture
def cu_file(tmp_path):
    """A 4-atom fcc Cu cell written as CIF."""
    import ase.io

    path = tmp_path / "cu.cif"
    ase.io.write(path, copper(1))
    return path
