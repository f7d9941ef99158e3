"""Benchmark: end-to-end MD throughput of SSE Studio's engine with the default model.

The bundled sample model (``sample_data/models/lps_default.pt``, the built-in ``default``
preset trained on SevenNet-0 labels) drives :func:`ssestudio.md.run_md` on the 64-atom
Li3PS4 start tiled to 512 atoms (``--repeat``): Bussi NVT at 600 K, 2 fs steps, a frame
and a thermo line every ``--write-interval`` steps into a native trajectory, explosion
checks on: everything a production run does. Prints atom-steps per second (wall and this
process's CPU time), the ratio to the 30,000 atom-steps/s target of issue 5, and where the
time goes, measured by timers around the functions of each part in the same run:

* model: energy, forces (and stress when asked) in :class:`ModelCalculator.calculate`,
  less the graph below;
* neighbour list: :func:`ssestudio.models.graph.structure_graph` (vesin cell list, sort by
  centre, layout) and :func:`ssestudio.models.graph.collate`;
* I/O: trajectory frames (:meth:`TrajectoryWriter.append`), thermo lines, checkpoints;
* integrator and the rest: everything else (ASE dynamics, thermostat, kinetic energy,
  explosion checks, Python glue).

The reference measured in the same run is the bare model: ``calc.calculate`` of the same
cell (graph included) repeated, so ``engine / bare model`` is the engine's overhead.

Run: ``python benchmarks/bench_md_throughput.py [--steps 400] [--threads 2] [--json]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import ase.io
import torch

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "sample_data" / "models" / "lps_default.pt"
START = ROOT / "sample_data" / "structures" / "Li3PS4_random_start_64.extxyz"
TARGET = 30_000.0


class Timers:
    """Wall and CPU seconds spent inside wrapped functions (outermost call only)."""

    def __init__(self) -> None:
        self.wall = defaultdict(float)
        self.cpu = defaultdict(float)
        self._depth = defaultdict(int)

    def wrap(self, owner, name: str, part: str) -> None:
        inner = getattr(owner, name)

        def timed(*args, **kwargs):
            self._depth[part] += 1
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                self._depth[part] -= 1
                if not self._depth[part]:
                    self.wall[part] += time.perf_counter() - t0
                    self.cpu[part] += time.process_time() - c0

        setattr(owner, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--write-interval", type=int, default=10)
    parser.add_argument("--repeat", type=int, nargs=3, default=[2, 2, 2])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import ssestudio.io.native as native
    import ssestudio.md.engine as engine
    import ssestudio.md.thermo as thermo
    import ssestudio.models.calculator as calculator
    import ssestudio.models.graph as graph
    from ssestudio.md import MDConfig, open_md_writer, run_md
    from ssestudio.models.calculator import load_calculator

    atoms = ase.io.read(START) * tuple(args.repeat)
    atoms.rattle(0.01, seed=1)
    calc = load_calculator(MODEL, device="cpu")

    # reference in the same run: the bare model (graph + energy + forces), no MD
    probe = atoms.copy()
    probe.calc = calc
    probe.get_forces()
    n_ref = 20
    t0 = time.perf_counter()
    for k in range(n_ref):
        probe.positions[0, 0] += 1e-4 * (-1) ** k  # a change, so that it recomputes
        probe.get_forces()
    ref_wall = time.perf_counter() - t0

    timers = Timers()
    timers.wrap(calculator.ModelCalculator, "calculate", "model")
    timers.wrap(calculator, "structure_graph", "neighbour list")
    timers.wrap(calculator, "collate", "neighbour list")
    timers.wrap(graph, "structure_graph", "neighbour list")
    timers.wrap(native.TrajectoryWriter, "append", "I/O")
    timers.wrap(thermo.ThermoLog, "write", "I/O")
    timers.wrap(engine._Run, "save_checkpoint", "I/O")

    config = MDConfig(ensemble="nvt-bussi", temperature_K=600.0, timestep_fs=2.0,
                      n_steps=args.steps, write_interval=args.write_interval, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        writer = open_md_writer(Path(tmp) / "bench.h5", atoms, config)
        t0, c0 = time.perf_counter(), time.process_time()
        result = run_md(atoms, calc, config, writer=writer)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        writer.close()

    n = len(atoms)
    model_wall = timers.wall["model"] - timers.wall["neighbour list"]
    model_cpu = timers.cpu["model"] - timers.cpu["neighbour list"]
    parts = {"model": (model_wall, model_cpu),
             "neighbour list": (timers.wall["neighbour list"], timers.cpu["neighbour list"]),
             "I/O": (timers.wall["I/O"], timers.cpu["I/O"])}
    parts["integrator and the rest"] = (wall - sum(w for w, _ in parts.values()),
                                        cpu - sum(c for _, c in parts.values()))
    speed, speed_cpu = n * args.steps / wall, n * args.steps / cpu
    ref_speed = n * n_ref / ref_wall
    out = {"n_atoms": n, "steps": args.steps, "threads": args.threads,
           "frames": result.n_frames,
           "atom_steps_per_s": speed, "atom_steps_per_cpu_s": speed_cpu,
           "ratio_to_target": speed / TARGET, "bare_model_atom_steps_per_s": ref_speed,
           "engine_over_bare_model": speed / ref_speed,
           "share_wall": {k: w / wall for k, (w, _) in parts.items()},
           "share_cpu": {k: c / cpu for k, (_, c) in parts.items()}}
    if args.json:
        print(json.dumps(out, indent=1))
        return
    print(f"{n} atoms, {args.steps} steps of 2 fs, frame every {args.write_interval} steps, "
          f"{args.threads} torch threads")
    print(f"engine: {speed:,.0f} atom-steps/s wall ({speed_cpu:,.0f} per CPU-second); "
          f"target {TARGET:,.0f}: ratio {speed / TARGET:.2f}")
    print(f"bare model (same cell, same run): {ref_speed:,.0f} atom-steps/s; engine / bare "
          f"model = {speed / ref_speed:.2f}")
    print(f"{'part':26s} {'wall s':>8s} {'share':>7s} {'CPU s':>8s} {'share':>7s}")
    for k, (w, c) in parts.items():
        print(f"{k:26s} {w:8.2f} {w / wall:7.1%} {c:8.2f} {c / cpu:7.1%}")


if __name__ == "__main__":
    main()
