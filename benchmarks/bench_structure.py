"""Benchmark: structure analysis of a long trajectory of a ~1,000-atom glass-sized cell.

Writes ``--frames`` frames of a Li3PS4-composition cell of ``--atoms`` atoms at
1.88 g/cm^3 (random positions, re-drawn jitter per frame; pair counts, not structure,
set the cost) to a native HDF5 file, then times from that file:

* :func:`compute_rdf` (all partials; vesin pairs per frame, ``np.bincount`` histograms)
  for each ``--rmax`` (Å; ``half`` = half the box);
* :func:`compute_bond_angles` (S-P-S, P-S-P) and :func:`compute_speciation` (P/S);
* :func:`analyze_structure` on every 10th frame.

Run: ``python benchmarks/bench_structure.py [--frames 1000] [--atoms 1000] [--json]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from ssestudio.analysis.structure import (
    analyze_structure,
    compute_bond_angles,
    compute_rdf,
    compute_speciation,
)
from ssestudio.io import TrajectoryWriter


def write_trajectory(path: Path, n_frames: int, n_atoms: int, seed: int = 0) -> float:
    """Li3PS4-composition random cell at 1.88 g/cm^3; returns the box length, Å."""
    from ase.data import atomic_masses, atomic_numbers

    n_fu = max(1, n_atoms // 8)
    symbols = ["Li"] * (3 * n_fu) + ["P"] * n_fu + ["S"] * (4 * n_fu)
    mass = sum(atomic_masses[atomic_numbers[s]] for s in symbols)
    box = (mass * 1.66053906660 / 1.88) ** (1 / 3)
    rng = np.random.default_rng(seed)
    base = rng.random((len(symbols), 3)) * box
    cell = np.eye(3) * box
    with TrajectoryWriter(path, symbols, overwrite=True) as writer:
        for lo in range(0, n_frames, 100):
            k = min(100, n_frames - lo)
            pos = (base + rng.normal(scale=0.2, size=(k, len(symbols), 3))) % box
            writer.extend(pos, np.broadcast_to(cell, (k, 3, 3)))
    return box


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--atoms", type=int, default=1000)
    parser.add_argument("--rmax", nargs="+", default=["8", "10", "half"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {"frames": args.frames, "atoms": args.atoms}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "glass.h5"
        box = write_trajectory(path, args.frames, args.atoms)
        results["box_A"] = box
        compute_rdf(path, stop=2)                                    # imports, warm-up
        for r in args.rmax:
            rmax = 0.5 * box - 1e-6 if r == "half" else float(r)
            seconds, rdf = timed(compute_rdf, path, rmax_A=rmax)
            pairs = rdf.coordination[:, :, -1] * rdf.counts[:, None]
            results[f"rdf_rmax_{rmax:.2f}_A_s"] = seconds
            results[f"rdf_rmax_{rmax:.2f}_A_pairs_per_frame"] = float(pairs.sum() / 2)
        results["angles_s"], _ = timed(compute_bond_angles, path, ["S-P-S", "P-S-P"])
        results["speciation_s"], _ = timed(compute_speciation, path)
        results["analyze_every_10th_s"], _ = timed(analyze_structure, path, stride=10)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for key, value in results.items():
        print(f"{key:40s} {value:12.3f}" if isinstance(value, float) else f"{key:40s} {value}")


if __name__ == "__main__":
    main()
