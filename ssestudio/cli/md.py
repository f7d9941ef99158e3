"""``ssestudio md``: run molecular dynamics as a background job and follow it.

The job writes a native trajectory registered in the workspace from its first frame,
so the browser app can show it while it grows. Without ``--detach`` the command waits,
printing progress (Ctrl-C cancels the job, keeping the frames written so far).
"""

from __future__ import annotations

import argparse

from ssestudio.cli.common import add_json_arg, add_workspace_arg
from ssestudio.cli.jobrun import (add_detach_arg, parse_options, report_job,
                                  submit_and_follow)

#: Keys of the job result printed by ``--json`` (with ``job_id`` and ``status``).
RESULT_KEYS = ("trajectory", "trajectory_id", "path", "n_frames", "n_atoms", "n_steps_done",
               "atom_steps_per_s", "mean_T_K", "std_T_K", "wall_s", "seed")


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--structure", required=True,
                        help="workspace structure name/id, or a structure file ASE reads")
    parser.add_argument("--calculator", default="emt",
                        help="calculator name (emt, lj, sevenn, chgnet, model -o path=RUN_DIR) "
                             "or module.path:Class")
    parser.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                        help="calculator option, repeatable; VALUE is parsed as JSON when it "
                             "can be (e.g. -o model=7net-l3i5 -o num_threads=2)")
    parser.add_argument("--temperature-K", type=float, default=300.0, help="K (default 300)")
    parser.add_argument("--timestep-fs", type=float, default=1.0, help="fs (default 1)")
    parser.add_argument("--steps", type=int, default=1000, help="MD steps (default 1000)")
    parser.add_argument("--write-interval", type=int, default=10,
                        help="steps between written frames (default 10)")
    parser.add_argument("--ensemble", default="nvt-langevin", choices=_ensembles(),
                        help="integrator (default nvt-langevin)")
    parser.add_argument("--friction-per-fs", type=float, default=0.01,
                        help="Langevin friction, 1/fs (default 0.01)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: drawn)")
    parser.add_argument("--supercell", type=int, nargs=3, default=(1, 1, 1),
                        metavar=("NA", "NB", "NC"), help="repeat the cell (default 1 1 1)")
    parser.add_argument("--name", default=None, help="trajectory name (default md-<formula>-<T>K)")
    add_detach_arg(parser)
    add_workspace_arg(parser)
    add_json_arg(parser)


def _ensembles() -> tuple[str, ...]:
    from ssestudio.md.integrators import available_ensembles

    return available_ensembles()


def build_spec(args: argparse.Namespace):
    """The :class:`~ssestudio.jobs.md.MDSpec` described by the parsed arguments."""
    from ssestudio.jobs.md import MDSpec

    return MDSpec(structure=args.structure, calculator=args.calculator,
                  calculator_options=parse_options(args.option, what="calculator option"),
                  temperature_K=args.temperature_K, timestep_fs=args.timestep_fs,
                  n_steps=args.steps, write_interval=args.write_interval, ensemble=args.ensemble,
                  friction_per_fs=args.friction_per_fs, seed=args.seed,
                  supercell=tuple(args.supercell), name=args.name)


def run(args: argparse.Namespace) -> int:
    rec = submit_and_follow(args, build_spec(args),
                            on_interrupt="frames written so far are kept (see the job log)")
    return report_job(rec, as_json=args.json, keys=RESULT_KEYS, describe=lambda r: (
        f"trajectory {r['trajectory']!r} (id {r['trajectory_id']}): {r['n_frames']} frames, "
        f"{r['atom_steps_per_s']:,.0f} atom-steps/s, <T> = {r['mean_T_K']:.1f} K, "
        f"{r['wall_s']:.1f} s"))
