"""``ssestudio md``: run molecular dynamics as a background job and follow it.

The job writes a native trajectory registered in the workspace from its first frame,
so the browser app can show it while it grows. Without ``--detach`` the command waits,
printing progress (Ctrl-C cancels the job, keeping the frames written so far and a
checkpoint). ``--resume TRAJECTORY`` continues a killed, cancelled or failed run from its
checkpoint, with the settings it was started with.
"""

from __future__ import annotations

import argparse

from ssestudio.cli.common import add_json_arg, add_workspace_arg, open_workspace
from ssestudio.cli.jobrun import add_detach_arg, parse_options, report_job, submit_and_follow

#: Keys of the job result printed by ``--json`` (with ``job_id`` and ``status``).
RESULT_KEYS = ("trajectory", "trajectory_id", "path", "n_frames", "n_atoms", "n_steps_done",
               "atom_steps_per_s", "mean_T_K", "std_T_K", "wall_s", "seed", "temperature_K",
               "ensemble", "mean_P_GPa", "mean_density_g_cm3", "max_force_deviation_eV_A",
               "resumed_from_step")


def add_calculator_args(parser: argparse.ArgumentParser, *, default: str | None = "emt") -> None:
    """``--model``, ``--calculator`` and ``-o KEY=VALUE`` (shared by md, sweep, meltquench)."""
    parser.add_argument("--model", default=None, metavar="MODEL",
                        help="trained model: workspace model name[@version] or id, model file "
                             "or training run folder (sets --calculator model)")
    parser.add_argument("--calculator", default=default,
                        help="calculator name (emt, lj, sevenn, chgnet, model -o path=RUN_DIR) "
                             f"or module.path:Class (default {default})")
    parser.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                        help="calculator option, repeatable; VALUE is parsed as JSON when it "
                             "can be (e.g. -o model=7net-l3i5 -o num_threads=2)")


def calculator_from_args(args: argparse.Namespace) -> tuple[str, dict]:
    """Calculator name and options from ``--model`` / ``--calculator`` / ``-o``.

    Raises
    ------
    SystemExit
        Neither ``--model`` nor ``--calculator`` given.
    """
    from ssestudio.jobs.md import model_calculator

    options = parse_options(args.option, what="calculator option")
    if args.model is None:
        if args.calculator is None:
            raise SystemExit("error: give --model MODEL (a trained model) or --calculator NAME")
        return args.calculator, options
    with open_workspace(args) as ws:
        name, model_options = model_calculator(ws, args.model)
    return name, {**options, **model_options}


def add_md_args(parser: argparse.ArgumentParser) -> None:
    """The MD settings shared by ``md`` and ``sweep`` (all but the temperature)."""
    parser.add_argument("--timestep-fs", type=float, default=1.0, help="fs (default 1)")
    parser.add_argument("--steps", type=int, default=1000, help="MD steps (default 1000)")
    parser.add_argument("--write-interval", type=int, default=10,
                        help="steps between written frames (default 10)")
    parser.add_argument("--ensemble", default="nvt-langevin", choices=_ensembles(),
                        help="integrator (default nvt-langevin)")
    parser.add_argument("--pressure-GPa", type=float, default=0.0,
                        help="barostat target of npt-* ensembles, GPa (default 0)")
    parser.add_argument("--friction-per-fs", type=float, default=0.01,
                        help="Langevin friction, 1/fs (default 0.01)")
    parser.add_argument("--thermostat-time-fs", type=float, default=100.0,
                        help="Bussi / Nose-Hoover time constant, fs (default 100)")
    parser.add_argument("--barostat-time-fs", type=float, default=1000.0,
                        help="MTK barostat time constant, fs (default 1000)")
    parser.add_argument("--equilibration-steps", type=int, default=0,
                        help="steps run before the recorded run, not written (default 0)")
    parser.add_argument("--equilibration-ensemble", default=None, choices=_ensembles(),
                        help="ensemble of the equilibration (default --ensemble; an npt-* one "
                             "before an nvt-* run sets the run's cell to the mean volume)")
    parser.add_argument("--checkpoint-interval", type=int, default=1000,
                        help="steps between checkpoints (default 1000; 0: at the end and on "
                             "cancel only)")
    parser.add_argument("--max-uncertainty", type=float, default=1.0, metavar="EV_PER_A",
                        help="stop when an ensemble's force deviation exceeds this, eV/A "
                             "(default 1.0)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: drawn)")
    parser.add_argument("--supercell", type=int, nargs=3, default=(1, 1, 1),
                        metavar=("NA", "NB", "NC"), help="repeat the cell (default 1 1 1)")


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--structure", default=None,
                        help="workspace structure name/id, or a structure file ASE reads "
                             "(required unless --resume)")
    add_calculator_args(parser)
    parser.add_argument("--temperature-K", type=float, default=300.0, help="K (default 300)")
    parser.add_argument("--end-temperature-K", type=float, default=None,
                        help="ramp the target linearly to this over the run, K (heating or "
                             "cooling)")
    parser.add_argument("--end-pressure-GPa", type=float, default=None,
                        help="ramp the pressure target linearly to this, GPa")
    add_md_args(parser)
    parser.add_argument("--name", default=None, help="trajectory name (default md-<formula>-<T>K)")
    parser.add_argument("--resume", default=None, metavar="TRAJECTORY",
                        help="continue the run that wrote this trajectory from its checkpoint "
                             "(other settings are taken from that run)")
    add_detach_arg(parser)
    add_workspace_arg(parser)
    add_json_arg(parser)


def _ensembles() -> tuple[str, ...]:
    from ssestudio.md.integrators import available_ensembles

    return available_ensembles()


def md_fields(args: argparse.Namespace) -> dict:
    """:class:`~ssestudio.jobs.md.MDSpec` fields of the shared MD arguments."""
    calculator, options = calculator_from_args(args)
    return dict(calculator=calculator, calculator_options=options, timestep_fs=args.timestep_fs,
                n_steps=args.steps, write_interval=args.write_interval, ensemble=args.ensemble,
                pressure_GPa=args.pressure_GPa, friction_per_fs=args.friction_per_fs,
                thermostat_time_fs=args.thermostat_time_fs,
                barostat_time_fs=args.barostat_time_fs,
                equilibration_steps=args.equilibration_steps,
                equilibration_ensemble=args.equilibration_ensemble,
                checkpoint_interval=args.checkpoint_interval,
                max_uncertainty_eV_A=args.max_uncertainty, seed=args.seed,
                supercell=tuple(args.supercell))


def build_spec(args: argparse.Namespace):
    """The :class:`~ssestudio.jobs.md.MDSpec` described by the parsed arguments."""
    from ssestudio.jobs.md import MDSpec, resume_spec

    if args.resume is not None:
        with open_workspace(args) as ws:
            return resume_spec(ws, args.resume)
    if args.structure is None:
        raise SystemExit("error: --structure is required (or --resume TRAJECTORY)")
    return MDSpec(structure=args.structure, temperature_K=args.temperature_K,
                  end_temperature_K=args.end_temperature_K,
                  end_pressure_GPa=args.end_pressure_GPa, name=args.name, **md_fields(args))


def run(args: argparse.Namespace) -> int:
    rec = submit_and_follow(args, build_spec(args),
                            on_interrupt="frames written so far and a checkpoint are kept "
                                         "(resume with --resume TRAJECTORY)")
    return report_job(rec, as_json=args.json, keys=RESULT_KEYS, describe=lambda r: (
        f"trajectory {r['trajectory']!r} (id {r['trajectory_id']}): {r['n_frames']} frames, "
        f"{r['atom_steps_per_s']:,.0f} atom-steps/s, <T> = {r['mean_T_K']:.1f} K, "
        f"{r['wall_s']:.1f} s"))
