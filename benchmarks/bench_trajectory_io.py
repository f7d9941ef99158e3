"""Benchmark of the trajectory I/O layer.

(a) Native HDF5 random access: write a 20,000-frame x 1,000-atom file into a temporary
    folder, then time 50 random frames, each with its own open (as a viewer or a worker
    process would), and 50 more on an already open file. Target: < 50 ms per frame
    including open.
(b) XDATCAR parsing: all frames of a real AIMD segment (416 atoms x 140 frames, gzipped)
    with ``open_trajectory(...).positions()`` against ``ase.io.read(path, index=":")``.
    Target: at least as fast as ASE (ratio >= 1).

Usage::

    python benchmarks/bench_trajectory_io.py [--quick] [--frames N] [--atoms N]

``--quick`` writes 2,000 frames instead of 20,000. Timings use warm operating-system file
caches (the file was just written); report the machine with the numbers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ssestudio.io import TrajectoryWriter, open_trajectory  # noqa: E402
from ssestudio.io.native import NativeTrajectory  # noqa: E402

XDATCAR = REPO / ".." / "shared" / "data" / "argyrodite_aimd" / "Li6PS5Cl" / "0p" / "run1.XDATCAR.gz"
N_RANDOM = 50


def write_native(path: Path, n_frames: int, n_atoms: int) -> float:
    """Write a synthetic trajectory in 500-frame blocks; return the seconds taken."""
    rng = np.random.default_rng(0)
    cell = np.eye(3) * (n_atoms ** (1 / 3) * 2.5)
    start = time.perf_counter()
    with TrajectoryWriter(path, ["Li"] * n_atoms, timestep_fs=10.0, flush_every=500,
                          overwrite=True) as writer:
        for a in range(0, n_frames, 500):
            k = min(500, n_frames - a)
            writer.extend(rng.random((k, n_atoms, 3)) @ cell, cell,
                          energies=rng.normal(size=k))
    return time.perf_counter() - start


def time_random_frames(path: Path, n_frames: int) -> tuple[list[float], list[float]]:
    """Seconds per random frame with a fresh open each time, and with one open file."""
    rng = np.random.default_rng(1)
    with_open = []
    for i in rng.integers(0, n_frames, N_RANDOM):
        start = time.perf_counter()
        traj = NativeTrajectory(path)
        frame = traj[int(i)]
        traj.close()
        with_open.append(time.perf_counter() - start)
        assert frame.positions.shape[1] == 3
    traj, already_open = NativeTrajectory(path), []
    for i in rng.integers(0, n_frames, N_RANDOM):
        start = time.perf_counter()
        traj[int(i)]
        already_open.append(time.perf_counter() - start)
    traj.close()
    return with_open, already_open


def best_of(fn, repeats: int = 3) -> float:
    """Smallest wall time of ``repeats`` calls, s."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_xdatcar(path: Path) -> tuple[float, float, int]:
    """Seconds to parse all frames with ssestudio and with ASE, and the frame count."""
    from ase.io import read

    def ours():
        with open_trajectory(path) as traj:
            traj.positions(), traj.cells()
            return traj.n_frames

    n = ours()
    return best_of(ours), best_of(lambda: read(path, index=":", format="vasp-xdatcar")), n


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 frames instead of 20,000")
    parser.add_argument("--frames", type=int, default=None)
    parser.add_argument("--atoms", type=int, default=1000)
    args = parser.parse_args(argv)
    n_frames = args.frames or (2000 if args.quick else 20000)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.h5"
        write_s = write_native(path, n_frames, args.atoms)
        size_mb = path.stat().st_size / 1e6
        with_open, already_open = time_random_frames(path, n_frames)
    rows.append((f"native write {n_frames} x {args.atoms} atoms", f"{write_s:.2f} s",
                 f"{size_mb / write_s:.0f} MB/s, {size_mb:.0f} MB"))
    med = statistics.median(with_open) * 1e3
    verdict = "PASS" if med < 50 else "FAIL"
    rows.append(("native random frame incl. open (median)", f"{med:.2f} ms",
                 f"target < 50 ms: {verdict}; max {max(with_open) * 1e3:.1f} ms"))
    rows.append(("native random frame, file open (median)",
                 f"{statistics.median(already_open) * 1e3:.2f} ms", f"{N_RANDOM} frames"))
    if XDATCAR.is_file():
        ours, ase_s, n = bench_xdatcar(XDATCAR)
        rows.append((f"XDATCAR all {n} frames, ssestudio", f"{ours * 1e3:.1f} ms", "best of 3"))
        rows.append((f"XDATCAR all {n} frames, ase.io.read", f"{ase_s * 1e3:.1f} ms", "best of 3"))
        rows.append(("XDATCAR speed-up over ASE", f"{ase_s / ours:.1f}x",
                     f"target >= 1x: {'PASS' if ase_s >= ours else 'FAIL'}"))
    else:
        rows.append(("XDATCAR benchmark", "skipped", f"{XDATCAR} not found"))
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'result':>10}  notes\n{'-' * (width + 40)}")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")


if __name__ == "__main__":
    main()
