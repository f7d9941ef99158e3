"""Benchmark: MSD of 1,000 atoms x 20,000 frames against MDAnalysis ``EinsteinMSD(fft=True)``.

(a) In memory: ``ssestudio.analysis.msd_from_array`` (MSD tensor over all time origins by
    FFT, per-atom spread, non-Gaussian parameter) on a synthetic unwrapped random walk, and
    MDAnalysis ``EinsteinMSD(u, select="all", msd_type="xyz", fft=True)`` on the same array
    (``MemoryReader``), run in the same invocation. MDAnalysis runs in a subprocess with
    its own interpreter (``--mda-python``; MDAnalysis and tidynamics are not dependencies
    of ssestudio), so its import and array loading are outside its timing.
    Targets: at least 4x faster; peak extra memory (tracemalloc) at most 3x the positions
    array.
(b) From a file (``--file``): the same walk wrapped into a triclinic box and written as a
    native HDF5 trajectory, then ``read_displacements`` (chunked read + unwrap) and
    ``compute_msd``, with its peak memory.

Usage::

    python benchmarks/bench_msd.py [--atoms 1000] [--frames 20000] [--repeat 3]
        [--mda-python /work/venv-bench/bin/python] [--file]

Report the machine with the numbers (2 shared cores here: timings are noisy, medians).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ssestudio.analysis import compute_msd, msd_from_array, read_displacements

DT_FS = 10.0
MDA_SCRIPT = """
import json, sys, time
import numpy as np
import MDAnalysis as mda
from MDAnalysis.analysis.msd import EinsteinMSD
from MDAnalysis.coordinates.memory import MemoryReader
x = np.load(sys.argv[1])
u = mda.Universe.empty(x.shape[1], trajectory=True)
u.load_new(x, format=MemoryReader, order="fac", dt=float(sys.argv[2]) / 1000)
del x
times = []
for _ in range(int(sys.argv[3])):
    start = time.perf_counter()
    msd = EinsteinMSD(u, select="all", msd_type="xyz", fft=True).run()
    times.append(time.perf_counter() - start)
np.save(sys.argv[4], msd.results.timeseries)
print(json.dumps({"times_s": times, "version": mda.__version__}))
"""


def random_walk(n_frames: int, n_atoms: int, seed: int = 0) -> np.ndarray:
    """Unwrapped positions (T, N, 3), Å: Gaussian steps of 0.1 Å per axis, float64."""
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=0.1, size=(n_frames, n_atoms, 3))
    x[0] = rng.random((n_atoms, 3)) * 30.0
    return np.cumsum(x, axis=0, out=x)


def time_ours(x: np.ndarray, repeat: int) -> tuple[list[float], float, np.ndarray]:
    """Seconds per run, peak traced memory of one run (bytes), and the MSD (T,)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = msd_from_array(x, timestep_fs=DT_FS)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    msd_from_array(x, timestep_fs=DT_FS)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return times, peak, np.asarray(result.msd_A2)


def time_mdanalysis(x: np.ndarray, python: str, repeat: int, folder: Path) -> dict:
    """Run MDAnalysis on the same array in ``python``; its times, version and MSD."""
    np.save(folder / "x.npy", x)
    out = subprocess.run([python, "-c", MDA_SCRIPT, str(folder / "x.npy"), str(DT_FS), str(repeat),
                          str(folder / "mda_msd.npy")], capture_output=True, text=True, check=True)
    info = json.loads(out.stdout.strip().splitlines()[-1])
    info["msd"] = np.load(folder / "mda_msd.npy")
    (folder / "x.npy").unlink()
    return info


def file_pipeline(x: np.ndarray, folder: Path) -> dict:
    """Write the walk wrapped into a triclinic cell, then time read + unwrap + MSD."""
    from ssestudio.io import TrajectoryWriter, open_trajectory, wrap_positions

    cell = np.array([[40.0, 0, 0], [10.0, 38.0, 0], [-5.0, 4.0, 36.0]])
    path = folder / "walk.h5"
    with TrajectoryWriter(path, ["Li"] * x.shape[1], timestep_fs=DT_FS, flush_every=10**9,
                          overwrite=True) as writer:
        for a in range(0, len(x), 1000):
            writer.extend(wrap_positions(x[a:a + 1000], cell), cell)
    tracemalloc.start()
    start = time.perf_counter()
    with open_trajectory(path) as traj:
        result = compute_msd(read_displacements(traj, species="Li"))
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"seconds": seconds, "peak_bytes": peak, "msd": np.asarray(result.msd_A2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--atoms", type=int, default=1000)
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mda-python", default="/work/venv-bench/bin/python",
                        help="interpreter with MDAnalysis and tidynamics installed")
    parser.add_argument("--file", action="store_true", help="also time the file pipeline (b)")
    args = parser.parse_args(argv)

    x = random_walk(args.frames, args.atoms)
    size = x.nbytes
    print(f"positions: {args.frames} frames x {args.atoms} atoms x 3, float64 = {size / 2**20:.0f} MiB")
    ours, peak, msd = time_ours(x, args.repeat)
    t_ours = statistics.median(ours)
    print(f"ssestudio msd_from_array: median {t_ours:.2f} s (runs {', '.join(f'{t:.2f}' for t in ours)}); "
          f"peak extra memory {peak / 2**20:.0f} MiB = {peak / size:.2f}x the positions array "
          f"(with the array itself: {(peak + size) / size:.2f}x)")
    with tempfile.TemporaryDirectory() as tmp:
        if Path(args.mda_python).exists():
            mda = time_mdanalysis(x, args.mda_python, args.repeat, Path(tmp))
            t_mda = statistics.median(mda["times_s"])
            diff = np.max(np.abs(mda["msd"] - msd)[1:] / msd[1:])
            print(f"MDAnalysis {mda['version']} EinsteinMSD(fft=True): median {t_mda:.2f} s (runs "
                  f"{', '.join(f'{t:.2f}' for t in mda['times_s'])}); max relative MSD difference "
                  f"{diff:.1e}")
            print(f"speed-up: {t_mda / t_ours:.1f}x (target >= 4x)")
        else:
            print(f"MDAnalysis interpreter {args.mda_python} not found: comparison skipped")
        if args.file:
            res = file_pipeline(x, Path(tmp))
            diff = np.max(np.abs(res["msd"] - msd)[1:] / msd[1:])
            print(f"file pipeline (read + unwrap triclinic + MSD): {res['seconds']:.2f} s, peak "
                  f"{res['peak_bytes'] / 2**20:.0f} MiB = {res['peak_bytes'] / size:.2f}x the "
                  f"positions array; max relative difference to in-memory MSD {diff:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
