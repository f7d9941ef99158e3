"""Li tracer diffusion coefficient D* from real Li6PS5Cl AIMD, computed with peer tools.

Cross-check data for SSE Studio's own diffusion analysis. Run with the separate peer venv
(NOT the project environment):

    python3 -m venv /work/venv-peers
    /work/venv-peers/bin/pip install kinisi pymatgen-analysis-diffusion pymatgen ase
    /work/venv-peers/bin/python benchmarks/peers/peer_diffusion.py [--data DIR] [--out FILE]

Data: shared/data/argyrodite_aimd (B. J. Morgan, Chem. Mater. 33, 2004 (2021); MIT licence).
Gzipped VASP XDATCAR, 416 atoms (Li192), one frame every 100 fs (MD step 2 fs, every 50th
step written). Consecutive segments are concatenated in order (the segment boundary is
continuous: the step across it is as large as any other 100 fs step, no repeated frame).
Positions are wrapped; both tools unwrap (minimum-image of the frame-to-frame step) and
subtract the framework (non-Li) centre-of-mass drift.

Temperature: not in the data README; the source repository's MSD notebook states the runs
are at 500 K. D* does not depend on T; T is passed only because pymatgen's API demands it
(it is used for conductivity, which is not reported here).
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[2] / "shared" / "data" / "argyrodite_aimd" / "Li6PS5Cl"
if not DEFAULT_DATA.exists():
    DEFAULT_DATA = Path("/work/shared/data/argyrodite_aimd/Li6PS5Cl")

DATASETS = {"0p": 5, "100p": 6}          # number of consecutive run segments
TIME_STEP_FS = 2.0                        # MD integrator step
STEP_SKIP = 50                            # frames written every 50 steps -> 100 fs per frame
FRAME_PS = TIME_STEP_FS * STEP_SKIP / 1000.0
TEMPERATURE_K = 500.0                     # only used by pymatgen's API (conductivity); not by D*
KINISI_START_DT_PS = (1.0, 5.0, 10.0, 20.0)  # 1 ps = start of pymatgen smoothed="max" window
PMG_CONSTANT_AVG_NSTEPS = 350             # default 1000 > 700 frames -> ValueError
SEED = 20261125


def read_segments(folder: Path, n_runs: int):
    """Read run1..n XDATCAR.gz with ASE, concatenated in order."""
    import ase.io

    frames, lengths = [], []
    for i in range(1, n_runs + 1):
        seg = ase.io.read(folder / f"run{i}.XDATCAR.gz", index=":", format="vasp-xdatcar")
        frames.extend(seg)
        lengths.append(len(seg))
    return frames, lengths


def boundary_check(frames, lengths):
    """Mean Li step (Angstrom) across segment boundaries vs. the median step elsewhere."""
    f = np.array([a.get_scaled_positions(wrap=False) for a in frames])
    d = f[1:] - f[:-1]
    d -= np.round(d)
    step = np.linalg.norm(d @ np.asarray(frames[0].cell), axis=-1)
    li = np.array([s == "Li" for s in frames[0].get_chemical_symbols()])
    mean_step = step[:, li].mean(axis=1)
    bounds = np.cumsum(lengths)[:-1] - 1   # step from last frame of a segment to first of the next
    return {
        "segment_lengths": [int(n) for n in lengths],
        "mean_Li_step_across_boundaries_A": [float(mean_step[b]) for b in bounds],
        "median_mean_Li_step_A": float(np.median(mean_step)),
        "max_single_atom_step_A": float(step.max()),
        "min_mean_Li_step_A": float(mean_step.min()),
    }


def numpy_msd(frames, lags):
    """Independent all-origin Li MSD (A^2), drift-corrected, for cross-checking the tools' MSDs."""
    f = np.array([a.get_scaled_positions(wrap=False) for a in frames])
    d = f[1:] - f[:-1]
    d -= np.round(d)
    disp = np.concatenate([np.zeros((1,) + f.shape[1:]), np.cumsum(d, axis=0)]) @ np.asarray(frames[0].cell)
    li = np.array([s == "Li" for s in frames[0].get_chemical_symbols()])
    disp = disp - disp[:, ~li].mean(axis=1, keepdims=True)
    x = disp[:, li]
    return {int(n): float(np.mean(np.sum((x[n:] - x[:-n]) ** 2, axis=-1))) for n in lags}


def run_kinisi(frames, msd_ref):
    import scipp as sc
    from kinisi.analyze import DiffusionAnalyzer

    out = []
    t0 = time.perf_counter()
    da = DiffusionAnalyzer.from_ase(
        frames,
        specie="Li",
        time_step=sc.scalar(TIME_STEP_FS / 1000.0, unit="ps"),
        step_skip=sc.scalar(STEP_SKIP),
        progress=False,
    )
    t_msd = time.perf_counter() - t0
    tcoord = da.da.coords["time interval"].values
    msd_k = da.msd.values
    check = {}
    for n, ref in msd_ref.items():
        i = int(np.argmin(np.abs(tcoord - n * FRAME_PS)))
        check[f"{n * FRAME_PS:g}ps"] = {"kinisi": float(msd_k[i]), "numpy_all_origins": ref}
    for start in KINISI_START_DT_PS:
        t1 = time.perf_counter()
        da.diffusion(
            start_dt=sc.scalar(start, unit="ps"),
            progress=False,
            random_state=np.random.RandomState(SEED),
        )
        t_fit = time.perf_counter() - t1
        s = np.asarray(da.D.values)
        assert str(da.D.unit) in ("cm^2/s", "cm**2/s", "cm2/s"), da.D.unit
        lo, med, hi = np.percentile(s, [2.5, 50, 97.5])
        window = [float(tcoord[tcoord >= start - 1e-9][0]), float(tcoord[-1])]
        out.append({
            "tool": "kinisi",
            "version": md.version("kinisi"),
            "setting": f"DiffusionAnalyzer.from_ase + diffusion(start_dt={start:g} ps), defaults "
                       "(GLS likelihood with modelled MSD covariance, fit_intercept=True, "
                       "emcee 32 walkers x 1000 samples after 500 burn, thin 10)",
            "start_dt_ps": start,
            "D_cm2_s": float(np.mean(s)),
            "D_median_cm2_s": float(med),
            "error": {"std_cm2_s": float(np.std(s, ddof=1)),
                      "ci95_cm2_s": [float(lo), float(hi)],
                      "definition": "posterior std and central 95% credible interval of D* samples"},
            "fit_window_ps": window,
            "n_msd_points_in_fit": int(np.sum(tcoord >= start - 1e-9)),
            "runtime_s": {"msd": round(t_msd, 2), "fit": round(t_fit, 2), "total": round(t_msd + t_fit, 2)},
        })
    return out, check, t_msd


def run_pymatgen(frames, msd_ref):
    from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer
    from pymatgen.io.ase import AseAtomsAdaptor

    t0 = time.perf_counter()
    structures = [AseAtomsAdaptor.get_structure(a) for a in frames]
    t_conv = time.perf_counter() - t0
    n_frames = len(structures)
    settings = [
        ("max", {"smoothed": "max"}),            # min_obs=30 default
        ("False", {"smoothed": False}),
        ("constant(avg_nsteps=1000, default)", {"smoothed": "constant"}),
        (f"constant(avg_nsteps={PMG_CONSTANT_AVG_NSTEPS})",
         {"smoothed": "constant", "avg_nsteps": PMG_CONSTANT_AVG_NSTEPS}),
    ]
    out, check = [], {}
    for label, kw in settings:
        t1 = time.perf_counter()
        rec = {"tool": "pymatgen-analysis-diffusion", "version": md.version("pymatgen-analysis-diffusion"),
               "setting": f"DiffusionAnalyzer.from_structures(specie='Li', temperature={TEMPERATURE_K:g}, "
                          f"time_step={TIME_STEP_FS:g}, step_skip={STEP_SKIP}, "
                          + ", ".join(f"{k}={v!r}" for k, v in kw.items()) + ")"}
        try:
            a = DiffusionAnalyzer.from_structures(
                structures, "Li", TEMPERATURE_K, TIME_STEP_FS, STEP_SKIP, **kw)
        except ValueError as exc:
            rec.update({"D_cm2_s": None, "failed": f"ValueError: {exc}",
                        "runtime_s": round(time.perf_counter() - t1, 2)})
            out.append(rec)
            continue
        t_fit = time.perf_counter() - t1
        dt_ps = np.asarray(a.dt) / 1000.0
        if kw["smoothed"] == "max":
            for n, ref in msd_ref.items():
                i = int(np.argmin(np.abs(dt_ps - n * FRAME_PS)))
                check[f"{n * FRAME_PS:g}ps"] = {"pymatgen_max": float(a.msd[i]), "at_ps": float(dt_ps[i])}
        win_def = {
            "max": "MSD averaged over all time origins (FFT) at lags from int(1000 fs/(time_step*step_skip)) "
                   "frames = 1 ps to min(N_Li*nsteps//min_obs, nsteps), ~200 lags; fit weighted by 1/dt",
            False: "single time origin (displacement from frame 0), all frames; unweighted OLS",
            "constant": "lags 0..nsteps-avg_nsteps, each averaged over the first avg_nsteps origins; unweighted OLS",
        }[kw["smoothed"]]
        rec.update({
            "D_cm2_s": float(a.diffusivity),
            "error": {"std_cm2_s": float(a.diffusivity_std_dev),
                      "definition": "standard error of the least-squares slope from fit residuals "
                                    "(pymatgen docs: meaningful only for non-smoothed analyses)"},
            "fit_window_ps": [float(dt_ps.min()), float(dt_ps.max())],
            "n_msd_points_in_fit": int(len(dt_ps)),
            "fit_window_definition": win_def,
            "haven_ratio_tool": float(a.haven_ratio),
            "runtime_s": {"fit": round(t_fit, 2)},
        })
        out.append(rec)
    return out, check, t_conv, n_frames


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=HERE / "peer_results.json")
    ap.add_argument("--datasets", nargs="*", default=list(DATASETS))
    args = ap.parse_args()

    results = {
        "description": "Li tracer D* (cm^2/s) for Li6PS5Cl AIMD from peer tools",
        "data": str(args.data),
        "frame_interval_ps": FRAME_PS,
        "temperature_K_used_for_api_only": TEMPERATURE_K,
        "temperature_note": "runs are at 500 K per the source repository's MSD notebook; D* does not use T",
        "versions": {p: md.version(p) for p in
                     ("kinisi", "pymatgen-analysis-diffusion", "pymatgen", "ase", "numpy", "scipy", "scipp")},
        "datasets": {},
    }
    for name in args.datasets:
        t0 = time.perf_counter()
        frames, lengths = read_segments(args.data / name, DATASETS[name])
        t_read = time.perf_counter() - t0
        print(f"[{name}] read {len(frames)} frames x {len(frames[0])} atoms in {t_read:.1f} s", flush=True)
        bc = boundary_check(frames, lengths)
        lags = [1, 10, 100, 350, 699]
        ref = numpy_msd(frames, lags)
        kin, kcheck, _ = run_kinisi(frames, ref)
        for r in kin:
            print(f"[{name}] kinisi start_dt={r['start_dt_ps']:g} ps: D={r['D_cm2_s']:.3e} "
                  f"+- {r['error']['std_cm2_s']:.1e} ({r['runtime_s']})", flush=True)
        pmg, pcheck, t_conv, _ = run_pymatgen(frames, ref)
        for r in pmg:
            print(f"[{name}] pymatgen {r['setting']}: D={r.get('D_cm2_s')} "
                  f"{r.get('error', {}).get('std_cm2_s', r.get('failed'))} ({r['runtime_s']})", flush=True)
        for k in kcheck:
            kcheck[k].update(pcheck.get(k, {}))
        results["datasets"][name] = {
            "segments": [f"run{i}.XDATCAR.gz" for i in range(1, DATASETS[name] + 1)],
            "n_frames": len(frames),
            "n_atoms": len(frames[0]),
            "read_s_ase": round(t_read, 2),
            "ase_to_pymatgen_structures_s": round(t_conv, 2),
            "continuity_check": bc,
            "msd_crosscheck_A2": kcheck,
            "results": kin + pmg,
        }
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
