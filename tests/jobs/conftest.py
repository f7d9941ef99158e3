"""Fixtures for job tests: test-only specs importable by worker processes."""

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # where jobtest_specs lives, for this process ...
    sys.path.insert(0, str(HERE))


@pytest.fixture(autouse=True, scope="session")
def _workers_import_test_specs():
    """... and for worker processes (local subprocesses, Dask workers)."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), old]))
    yield
    if old is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old
