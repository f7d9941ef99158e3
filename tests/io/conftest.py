"""Shared helpers for the trajectory I/O tests: tiny synthetic files and the AIMD data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
ARGYRODITE = REPO / ".." / "shared" / "data" / "argyrodite_aimd"


@pytest.fixture
def argyrodite_0p() -> list[Path]:
    """The five consecutive Li6PS5Cl XDATCAR segments (skip when the data are absent)."""
    paths = [ARGYRODITE / "Li6PS5Cl" / "0p" / f"run{k}.XDATCAR.gz" for k in range(1, 6)]
    if not all(p.is_file() for p in paths):
        pytest.skip(f"argyrodite AIMD data not found under {ARGYRODITE.resolve()} "
                    "(shared/data is provided beside the project checkout)")
    return paths


@pytest.fixture
def subprocess_env() -> dict:
    """Environment in which a child Python imports this checkout of ssestudio."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def _xdatcar_text(species: dict[str, int], cells: np.ndarray, frac: np.ndarray, *,
                  variable_cell: bool = False) -> str:
    """VASP 5 XDATCAR text for fractional coordinates ``frac`` (T, N, 3) and cells (T, 3, 3)."""
    def header(cell):
        rows = "".join(f"  {a:12.6f}{b:12.6f}{c:12.6f}\n" for a, b, c in cell)
        return (f"synthetic\n 1.000000\n{rows}   {'   '.join(species)}\n"
                f"   {'   '.join(str(n) for n in species.values())}\n")

    out = [] if variable_cell else [header(cells[0])]
    for t, s in enumerate(frac):
        if variable_cell:
            out.append(header(cells[t]))
        out.append(f"Direct configuration= {t + 1:5d}\n")
        out.extend(f"  {x:.8f}  {y:.8f}  {z:.8f}\n" for x, y, z in s)
    return "".join(out)


def _random_walk(rng: np.random.Generator, n_frames: int, n_atoms: int, step: float = 0.02):
    """Fractional coordinates (T, N, 3) of atoms taking small random steps, wrapped to [0, 1)."""
    frac = rng.random((1, n_atoms, 3)) + np.cumsum(
        rng.normal(scale=step, size=(n_frames, n_atoms, 3)), axis=0)
    return np.round(frac % 1.0, 8) % 1.0


@pytest.fixture
def xdatcar_text():
    """``xdatcar_text(species, cells, frac, variable_cell=False) -> str``."""
    return _xdatcar_text


@pytest.fixture
def random_walk():
    """``random_walk(rng, n_frames, n_atoms, step=0.02) -> frac (T, N, 3)``."""
    return _random_walk
