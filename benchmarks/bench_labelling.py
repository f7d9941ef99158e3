"""Benchmark: labelling throughput of the offline teachers on 128-atom Li-P-S cells.

Labels ``--n`` rattled copies of a 128-atom Li3PS4 cell (the bundled 64-atom random
packing, doubled) with each installed teacher through :func:`ssestudio.data.teachers.label_batch`
(one by one on CPU; CHGNet batches on a GPU), one torch thread, after one warm-up call (model
loading is reported separately). Prints configurations/s and atoms/s per teacher and the
ratio to SevenNet-0 measured in the same run.

Run: ``python benchmarks/bench_labelling.py [--n 16] [--threads 1] [--json]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import ase.io
import numpy as np

from ssestudio.data.teachers import get_teacher, label_batch

START = Path(__file__).resolve().parents[1] / "sample_data" / "structures" / "Li3PS4_random_start_64.extxyz"


def cells(n: int, seed: int = 0):
    base = ase.io.read(START) * (2, 1, 1)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        atoms = base.copy()
        atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
        out.append(atoms)
    return out


def measure(name: str, configs, threads: int, batch_size: int) -> dict:
    teacher = get_teacher(name, options={"num_threads": threads})
    t0 = time.perf_counter()
    label_batch(teacher, configs[:1])  # loads the model and warms up
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = label_batch(teacher, configs, batch_size=batch_size)
    wall = time.perf_counter() - t0
    assert all(err is None for _, err in results), [err for _, err in results if err]
    n_atoms = sum(len(a) for a in configs)
    return {"teacher": name, "level": teacher.level, "n_configs": len(configs),
            "atoms_per_config": len(configs[0]), "load_and_first_s": load_s, "wall_s": wall,
            "configs_per_s": len(configs) / wall, "atoms_per_s": n_atoms / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configs = cells(args.n)
    rows = []
    for name in ("sevenn", "chgnet"):
        try:
            rows.append(measure(name, configs, args.threads, args.batch_size))
        except ImportError as exc:
            rows.append({"teacher": name, "skipped": str(exc)})
    ref = next((r for r in rows if r["teacher"] == "sevenn" and "wall_s" in r), None)
    for r in rows:
        if ref is not None and "wall_s" in r:
            r["speed_vs_sevenn"] = r["configs_per_s"] / ref["configs_per_s"]
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    for r in rows:
        if "skipped" in r:
            print(f"{r['teacher']:8s} skipped: {r['skipped']}")
            continue
        print(f"{r['teacher']:8s} {r['n_configs']} x {r['atoms_per_config']} atoms: "
              f"{r['configs_per_s']:.2f} configs/s, {r['atoms_per_s']:.0f} atoms/s "
              f"(load + first {r['load_and_first_s']:.1f} s; {r.get('speed_vs_sevenn', 1):.2f}x SevenNet-0)")


if __name__ == "__main__":
    main()
