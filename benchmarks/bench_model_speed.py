"""Benchmark: MD speed of the built-in force fields against SevenNet-0 on Li-P-S cells.

Tiles the bundled 64-atom Li3PS4 random packing to 128 / 512 / 2048 atoms and times, per
model, ``--steps`` velocity-Verlet MD steps through the model's ASE calculator (neighbour
list, energy, forces: everything an MD step costs), one torch thread, after warm-up steps.
Weights are untrained (speed does not depend on them). Prints atom-steps/s and the ratios
to SevenNet-0 (the offline teacher, when installed) and to MACE ``32x0e`` (the ``mace``
preset: 5 Å, 2 interactions, correlation 3; when ``mace-torch`` is installed) measured in
the same run, through the same ASE calculator path.

Run: ``python benchmarks/bench_model_speed.py [--sizes 128 512] [--steps 20] [--json]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import ase.io
import numpy as np
import torch
from ase import units
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
from ase.md.verlet import VelocityVerlet

from ssestudio.models import build_model, presets
from ssestudio.models.calculator import ModelCalculator

START = Path(__file__).resolve().parents[1] / "sample_data" / "structures" / "Li3PS4_random_start_64.extxyz"
REPEATS = {128: (2, 1, 1), 512: (2, 2, 2), 2048: (4, 4, 2)}


def cell(n_atoms: int):
    atoms = ase.io.read(START) * REPEATS[n_atoms]
    atoms.rattle(0.02, seed=1)
    return atoms


def calculators():
    elements = ["Li", "P", "S"]
    out = {}
    for name in ("default", "large", "mace"):
        if name in presets():
            try:
                torch.manual_seed(0)
                out[name] = ModelCalculator(build_model(name, elements), device="cpu")
            except Exception as exc:  # e.g. mace not installed
                print(f"skipping {name}: {exc}")
    try:
        from sevenn.calculator import SevenNetCalculator
        out["sevenn (SevenNet-0)"] = SevenNetCalculator("7net-0", device="cpu")
    except ImportError:
        print("sevenn not installed: no SevenNet-0 reference")
    return out


def atom_steps_per_s(calc, atoms, steps: int, warmup: int = 3) -> tuple[float, float]:
    """Atom-steps per second of wall time and per second of this process's CPU time (the
    second is robust against other load on a shared machine; one thread, so both agree on
    an idle machine)."""
    atoms = atoms.copy()
    atoms.calc = calc
    MaxwellBoltzmannDistribution(atoms, temperature_K=600, rng=np.random.default_rng(0))
    md = VelocityVerlet(atoms, timestep=1.0 * units.fs)
    md.run(warmup)
    t0, c0 = time.perf_counter(), time.process_time()
    md.run(steps)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return len(atoms) * steps / wall, len(atoms) * steps / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 512], choices=sorted(REPEATS))
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    calcs = calculators()
    rows = []
    for n in args.sizes:
        atoms = cell(n)
        measured = {name: atom_steps_per_s(calc, atoms, args.steps)
                    for name, calc in calcs.items()}
        cpu = {name: m[1] for name, m in measured.items()}
        ref = next((v for k, v in cpu.items() if k.startswith("sevenn")), None)
        mace = cpu.get("mace")
        for name, (wall, per_cpu) in measured.items():
            rows.append({"model": name, "n_atoms": n, "atom_steps_per_s": wall,
                         "atom_steps_per_cpu_s": per_cpu,
                         "ratio_to_sevenn": per_cpu / ref if ref else None,
                         "ratio_to_mace": per_cpu / mace if mace else None})
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print("ratios from CPU time (robust to other load); wall-clock speed alongside")
    print(f"{'model':22s} {'atoms':>6s} {'atom-steps/s':>13s} {'per CPU s':>10s} "
          f"{'x SevenNet-0':>13s} {'x MACE':>8s}")
    for r in rows:
        ratio = f"{r['ratio_to_sevenn']:.1f}" if r["ratio_to_sevenn"] else "-"
        mace = f"{r['ratio_to_mace']:.1f}" if r["ratio_to_mace"] else "-"
        print(f"{r['model']:22s} {r['n_atoms']:6d} {r['atom_steps_per_s']:13.0f} "
              f"{r['atom_steps_per_cpu_s']:10.0f} {ratio:>13s} {mace:>8s}")


if __name__ == "__main__":
    main()
