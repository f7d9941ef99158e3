"""Benchmark: NVE energy conservation of a trained model (issue target: drift of the
default model at 600 K under 1 meV/atom per ps over 10 ps).

Equilibrates ``STRUCTURE`` with Langevin NVT at ``--temperature-K`` for ``--equilibrate-ps``,
then runs velocity-Verlet NVE for ``--ps`` and fits a straight line to the total energy per
atom: the slope is the drift (meV/atom/ps); the RMS of the residual is the fluctuation.
Also reports MD speed (atom-steps/s) and the mean temperature. The model runs through its
ASE calculator (:func:`ssestudio.models.calculator.load_calculator`), as in production MD.

Run: ``python benchmarks/bench_nve_drift.py MODEL STRUCTURE [--ps 10] [--timestep-fs 1]
[--dtype float64] [--json]``
"""

from __future__ import annotations

import argparse
import json
import time

import ase.io
import numpy as np
import torch
from ase import units
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary
from ase.md.verlet import VelocityVerlet

from ssestudio.models.calculator import load_calculator
from ssestudio.models.serialization import model_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="model file or run folder")
    parser.add_argument("structure", help="structure file ASE reads (e.g. a 64-256 atom cell)")
    parser.add_argument("--temperature-K", type=float, default=600.0)
    parser.add_argument("--equilibrate-ps", type=float, default=1.0)
    parser.add_argument("--ps", type=float, default=10.0)
    parser.add_argument("--timestep-fs", type=float, default=1.0)
    parser.add_argument("--dtype", choices=("float32", "float64"), default=None,
                        help="cast the model (default: as saved)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    calc = load_calculator(model_file(args.model), device="cpu")
    if args.dtype:
        calc.model.to(getattr(torch, args.dtype))
        calc.dtype = getattr(torch, args.dtype)
    atoms = ase.io.read(args.structure)
    atoms.calc = calc
    rng = np.random.default_rng(0)
    MaxwellBoltzmannDistribution(atoms, temperature_K=args.temperature_K, rng=rng)
    Stationary(atoms)
    dt = args.timestep_fs * units.fs
    n_eq = int(round(args.equilibrate_ps * 1000 / args.timestep_fs))
    Langevin(atoms, dt, temperature_K=args.temperature_K, friction=0.01 / units.fs,
             rng=rng).run(n_eq)
    n_steps = int(round(args.ps * 1000 / args.timestep_fs))
    every = max(1, n_steps // 1000)
    times, energies, temps = [], [], []
    md = VelocityVerlet(atoms, dt)

    def record():
        times.append(md.nsteps * args.timestep_fs / 1000)
        energies.append(atoms.get_total_energy() / len(atoms))
        temps.append(atoms.get_temperature())

    md.attach(record, interval=every)
    t0 = time.perf_counter()
    md.run(n_steps)
    wall = time.perf_counter() - t0
    t, e = np.array(times), np.array(energies)
    slope, intercept = np.polyfit(t, e, 1)
    resid = e - (slope * t + intercept)
    out = {"model": str(args.model), "n_atoms": len(atoms), "dtype": str(calc.dtype),
           "temperature_K": args.temperature_K, "mean_T_K": float(np.mean(temps)),
           "ps": args.ps, "timestep_fs": args.timestep_fs,
           "drift_meV_atom_ps": float(slope * 1000),
           "fluctuation_rms_meV_atom": float(resid.std() * 1000),
           "max_excursion_meV_atom": float((e - e[0]).__abs__().max() * 1000),
           "atom_steps_per_s": len(atoms) * n_steps / wall, "wall_s": wall,
           "target_drift_meV_atom_ps": 1.0,
           "meets_target": bool(abs(slope * 1000) < 1.0)}
    if args.json:
        print(json.dumps(out, indent=1))
        return
    for k, v in out.items():
        print(f"{k:28s} {v}")


if __name__ == "__main__":
    main()
