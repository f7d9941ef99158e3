"""``ssestudio meltquench``: make a glass by melt-quench as a background job.

Examples::

    ssestudio meltquench --model my-model --composition 75Li2S-25P2S5 --atoms 200 --json
    ssestudio meltquench --model runs/lps --composition 75Li2S-25P2S5 --preset workshop \\
        --set quench_rate_K_per_ps=20 --set production_ps=100
    ssestudio meltquench --preset quick --schedule --json     # the T(t) schedule only

The job writes the melt-quench trajectory, a production trajectory at the final
temperature (usable in the Conductivity tab) and the glass as a workspace structure, and
reports the glass density and speciation.
"""

from __future__ import annotations

import argparse

from ssestudio.cli.common import add_json_arg, add_workspace_arg, open_workspace, print_json
from ssestudio.cli.jobrun import add_detach_arg, parse_options, report_job, submit_and_follow
from ssestudio.cli.md import add_calculator_args, calculator_from_args

#: Keys of the job result printed by ``--json`` (with ``job_id`` and ``status``).
RESULT_KEYS = ("density_g_cm3", "speciation", "glass_structure", "glass_structure_id",
               "trajectory", "trajectory_id", "production_trajectory",
               "production_trajectory_id", "n_atoms", "formula", "composition", "preset",
               "atom_steps_per_s", "wall_s", "seed", "stages", "analysis_warnings")


def add_parser(parser: argparse.ArgumentParser) -> None:
    start = parser.add_argument_group("start structure (one of)")
    start.add_argument("--composition", default=None,
                       help="random packing of this composition, e.g. 75Li2S-25P2S5")
    start.add_argument("--structure", default=None,
                       help="workspace structure name/id or file (e.g. a crystal)")
    parser.add_argument("--atoms", type=int, default=None, metavar="N",
                        help="atoms of the random packing (default: the preset's)")
    parser.add_argument("--density-g-cm3", type=float, default=None,
                        help="density of the random packing and melt (default: measured or "
                             "estimated glass density)")
    parser.add_argument("--supercell", type=int, nargs=3, default=(1, 1, 1),
                        metavar=("NA", "NB", "NC"), help="repeat --structure (default 1 1 1)")
    add_calculator_args(parser, default=None)
    parser.add_argument("--preset", default="quick", choices=_presets(),
                        help="accuracy vs time (default quick: minutes on 2 cores)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a MeltQuenchConfig setting of the preset, repeatable "
                             "(melt_K, hold_ps, quench_rate_K_per_ps, final_K, anneal_K, "
                             "anneal_ps, relax_ps, pressure_GPa, production_ps, timestep_fs, "
                             "write_interval, ...)")
    parser.add_argument("--schedule", action="store_true",
                        help="print the temperature/pressure schedule and exit (no job)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: drawn)")
    parser.add_argument("--checkpoint-interval", type=int, default=1000,
                        help="steps between checkpoints (default 1000)")
    parser.add_argument("--name", default=None,
                        help="name of the melt-quench trajectory (default "
                             "meltquench-<composition>)")
    parser.add_argument("--resume", default=None, metavar="TRAJECTORY",
                        help="continue the melt-quench that wrote this trajectory")
    add_detach_arg(parser)
    add_workspace_arg(parser)
    add_json_arg(parser)


def _presets() -> tuple[str, ...]:
    from ssestudio.md import MELT_QUENCH_PRESETS

    return tuple(MELT_QUENCH_PRESETS)


def _overrides(args: argparse.Namespace) -> dict:
    return parse_options(args.set, what="--set")


def print_schedule(args: argparse.Namespace) -> int:
    """Print the schedule of the chosen preset and overrides."""
    from ssestudio.md import melt_quench_schedule
    from ssestudio.md.meltquench import preset_config

    schedule = melt_quench_schedule(preset_config(args.preset, _overrides(args)))
    if args.json:
        print_json({"preset": args.preset, **schedule.to_dict()})
        return 0
    for k, name in enumerate(schedule.stage_names):
        t0, t1 = schedule.time_ps[2 * k: 2 * k + 2]
        T0, T1 = schedule.temperature_K[2 * k: 2 * k + 2]
        print(f"{name:<11} {schedule.ensembles[k]:<13} {t0:8.2f} -> {t1:8.2f} ps  "
              f"{T0:6.0f} -> {T1:6.0f} K")
    return 0


def build_spec(args: argparse.Namespace):
    """The :class:`~ssestudio.jobs.meltquench.MeltQuenchSpec` of the parsed arguments."""
    from ssestudio.jobs.md import resume_spec
    from ssestudio.jobs.meltquench import MeltQuenchSpec

    if args.resume is not None:
        with open_workspace(args) as ws:
            return resume_spec(ws, args.resume)
    calculator, options = calculator_from_args(args)
    return MeltQuenchSpec(calculator=calculator, calculator_options=options,
                          composition=args.composition, n_atoms=args.atoms,
                          density_g_cm3=args.density_g_cm3, structure=args.structure,
                          supercell=tuple(args.supercell), preset=args.preset,
                          overrides=_overrides(args), seed=args.seed, name=args.name,
                          checkpoint_interval=args.checkpoint_interval)


def run(args: argparse.Namespace) -> int:
    if args.schedule:
        return print_schedule(args)
    rec = submit_and_follow(args, build_spec(args),
                            on_interrupt="frames written so far and a checkpoint are kept "
                                         "(resume with --resume TRAJECTORY)")
    return report_job(rec, as_json=args.json, keys=RESULT_KEYS, describe=lambda r: (
        f"glass {r['glass_structure']!r}: {r['n_atoms']} atoms, density "
        f"{r['density_g_cm3']:.3f} g/cm^3; trajectories {r['trajectory']!r} and "
        f"{r['production_trajectory']!r}; {r['atom_steps_per_s']:,.0f} atom-steps/s, "
        f"{r['wall_s']:.0f} s"))
