"""Benchmark: full anion-rotation analysis of 1,000 frames of a 1,000-atom thiophosphate glass.

Builds a 75Li2S-25P2S5 (Li3PS4) glass-like cell of ``--atoms`` atoms at 1.88 g/cm^3 with
:mod:`ssestudio.analysis.rotation.synthetic`: PS4 tetrahedra on a disordered grid
(0.4 Å static disorder; the few pairs that come within a P-S bond of each other are found
as P2S8 units and left out, as a glass's P2S7 would be), librating (rotational diffusion)
and jumping by 120° at Poisson times, and 3 Li per PS4 hopping (half of the rotations trigger a hop, plus independent
hops). Writes ``--frames`` frames to a native HDF5 file, then times
:func:`analyze_rotation` from that file (detection, orientations, C1/C2 with bootstrap
fits, events, enrichment grid with 200 null draws and 1,000 bootstrap replicates,
cross-correlation). Target: under 30 s on 2 cores.

Run: ``python benchmarks/bench_rotation.py [--frames 1000] [--atoms 1000] [--json]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from ssestudio.analysis.rotation import RotationConfig, analyze_rotation
from ssestudio.analysis.rotation.synthetic import RotorModel, simulate

TARGET_S = 30.0
#: Volume per Li3PS4 formula unit at 1.88 g/cm^3, Å^3 (180.1 g/mol).
VOLUME_PER_FU_A3 = 180.1 / 1.88 / 0.602214


def glass_model(n_atoms: int, n_frames: int, seed: int = 0) -> RotorModel:
    """A Li3PS4-composition rotor model with about ``n_atoms`` atoms (8 per PS4)."""
    n_side = max(1, round((n_atoms / 8) ** (1 / 3)))
    return RotorModel(n_per_side=n_side, spacing_A=VOLUME_PER_FU_A3 ** (1 / 3), disorder_A=0.4,
                      cations_per_unit=3, cation_radius_A=3.1, n_frames=n_frames,
                      timestep_fs=20.0, D_r_per_ps=0.02, jump_rate_per_ps=0.1,
                      hop_rate_per_ps=0.1, trigger_probability=0.5, jitter_A=0.05,
                      cation_jitter_A=0.15, seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--atoms", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    model = glass_model(args.atoms, args.frames)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run = simulate(model)
        path = run.write(Path(tmp) / "glass.h5")
        build_s = time.perf_counter() - t0
        analyze_rotation(path, RotationConfig(stop=50, n_bootstrap_fit=2))  # imports, warm-up
        t0 = time.perf_counter()
        result = analyze_rotation(path, RotationConfig())
        seconds = time.perf_counter() - t0
    out = result.summary()
    results = {"frames": args.frames, "atoms": len(run.symbols), "units": out["n_units"],
               "build_s": build_s, "analysis_s": seconds, "target_s": TARGET_S,
               "ratio_to_target": seconds / TARGET_S, "rotation_events": out["rotation_events"],
               "true_rotations": len(run.rotation_frame), "hop_events": out["hop_events"],
               "true_hops": len(run.hop_frame), "tau_C2_ps": out["tau_C2_ps"],
               "enrichment": out["enrichment"], "enrichment_ci": out["enrichment_ci"]}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for key, value in results.items():
        print(f"{key:20s} {value:12.3f}" if isinstance(value, float) else f"{key:20s} {value}")
    print(f"verdict: {out['verdict']}")


if __name__ == "__main__":
    main()
