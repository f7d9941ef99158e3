"""``ssestudio sweep``: one MD job per temperature, for an Arrhenius plot.

Example::

    ssestudio sweep --structure glass --model my-model --temperatures 500 600 700 800 \\
        --ensemble nvt-bussi --equilibration-steps 5000 --steps 50000 --json

Each temperature is a separate ``md`` job (they run in parallel up to the executor's
worker count, or on other machines with a Dask executor); each trajectory records its
``temperature_K`` in its provenance, so the Conductivity tab picks the runs up directly.
Without ``--detach`` the command waits for all of them (Ctrl-C cancels them all).
"""

from __future__ import annotations

import argparse

from ssestudio.cli.common import add_json_arg, add_workspace_arg, fail, open_workspace, print_json
from ssestudio.cli.jobrun import add_detach_arg, follow
from ssestudio.cli.md import add_calculator_args, add_md_args, md_fields

#: Keys of each job's result printed by ``--json``.
RESULT_KEYS = ("trajectory", "trajectory_id", "n_frames", "atom_steps_per_s", "mean_T_K",
               "std_T_K", "mean_P_GPa", "mean_density_g_cm3", "wall_s", "seed")


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--structure", required=True,
                        help="workspace structure name/id, or a structure file ASE reads")
    parser.add_argument("--temperatures", type=float, nargs="+", required=True, metavar="T_K",
                        help="target temperatures, K (one job each)")
    add_calculator_args(parser)
    add_md_args(parser)
    parser.add_argument("--name", default=None,
                        help="trajectory name prefix: <name>-<T>K (default md-<formula>-<T>K)")
    add_detach_arg(parser)
    add_workspace_arg(parser)
    add_json_arg(parser)


def build_specs(args: argparse.Namespace):
    """The :class:`~ssestudio.jobs.md.MDSpec` of each temperature."""
    from ssestudio.jobs.md import MDSpec, sweep_specs

    base = MDSpec(structure=args.structure, temperature_K=args.temperatures[0], name=args.name,
                  **md_fields(args))
    return base, sweep_specs(base, args.temperatures)


def run(args: argparse.Namespace) -> int:
    from ssestudio.jobs import JobManager
    from ssestudio.jobs.md import submit_sweep

    base, specs = build_specs(args)
    manager = JobManager(open_workspace(args))
    try:
        ids = submit_sweep(manager, base, args.temperatures)
        if args.detach:
            rows = [{"temperature_K": s.temperature_K, "job_id": i} for s, i in zip(specs, ids)]
            print_json({"jobs": rows}) if args.json else print(
                f"submitted md jobs {', '.join(map(str, ids))}; follow them with: "
                f"ssestudio jobs wait ID")
            return 0
        try:
            records = [follow(manager, i, quiet=args.json) for i in ids]
        except KeyboardInterrupt:
            for i in ids:
                manager.cancel(i)
            raise
    finally:
        manager.close()
    return _report(specs, records, as_json=args.json)


def _report(specs, records, *, as_json: bool) -> int:
    rows = []
    for spec, rec in zip(specs, records):
        result = rec.result or {}
        rows.append({"temperature_K": spec.temperature_K, "job_id": rec.id,
                     "status": str(rec.status), "message": rec.message,
                     **{k: result.get(k) for k in RESULT_KEYS}})
    if as_json:
        print_json({"jobs": rows})
    else:
        for row in rows:
            print(f"{row['temperature_K']:7.1f} K  job {row['job_id']} {row['status']}: "
                  + (f"trajectory {row['trajectory']!r}, {row['n_frames']} frames, "
                     f"<T> = {row['mean_T_K']:.1f} K" if row["status"] == "succeeded"
                     else row["message"]))
    failed = [r for r in rows if r["status"] != "succeeded"]
    if failed:
        return fail(f"{len(failed)} of {len(rows)} sweep jobs did not succeed: "
                    + "; ".join(f"{r['temperature_K']:g} K: {r['message']}" for r in failed), 1)
    return 0
