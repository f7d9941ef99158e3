"""Shared fixtures: paths to the shared third-party data and the bundled sample data."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLE_DATA = REPO / "sample_data"


@pytest.fixture(scope="session")
def argyrodite_dir() -> Path:
    """``../shared/data/argyrodite_aimd/Li6PS5Cl`` (skips when the shared data is absent)."""
    path = SHARED_DATA / "argyrodite_aimd" / "Li6PS5Cl"
    if not path.is_dir():
        pytest.skip(f"shared AIMD data not found at {path}")
    return path


@pytest.fixture(scope="session")
def sample_data_dir() -> Path:
    """The repository's ``sample_data`` folder."""
    return SAMPLE_DATA
