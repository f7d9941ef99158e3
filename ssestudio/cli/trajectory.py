"""``ssestudio trajectory``: import, list, inspect and convert trajectories."""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from ssestudio.cli.common import add_json_arg, add_workspace_arg, open_workspace, print_json


def add_parser(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="copy a trajectory into the workspace and register it",
                         description="Copy trajectory file(s) (several files = consecutive "
                                     "segments) into the workspace and register them in their "
                                     "own format; `convert` writes the native format.")
    imp.add_argument("paths", nargs="+", type=Path, help="trajectory file(s), in time order")
    imp.add_argument("--name", default=None, help="name in the workspace (default: file name)")
    _add_read_args(imp)
    lst = sub.add_parser("list", help="list the workspace's trajectories")
    info = sub.add_parser("info", help="metadata of a workspace trajectory or of a file")
    info.add_argument("target", help="workspace trajectory name/id, or a file path")
    _add_read_args(info)
    conv = sub.add_parser("convert", help="convert file(s) to a native HDF5 file (no workspace)")
    conv.add_argument("paths", nargs="+", type=Path, help="input file(s), then the output .h5")
    _add_read_args(conv)
    for p in (imp, lst, info, conv):
        add_workspace_arg(p)
        add_json_arg(p)


def _add_read_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", default=None, help="reader name (default: from the file name)")
    p.add_argument("--timestep-fs", type=float, default=None,
                   help="time between frames, fs, when the file does not say")


def run(args: argparse.Namespace) -> int:
    return {"import": _import, "list": _list, "info": _info, "convert": _convert}[args.action](args)


def _progress_printer(quiet: bool):
    last = [0.0]

    def progress(fraction: float, message: str = "") -> None:
        if not quiet and time.monotonic() - last[0] > 0.5:
            last[0] = time.monotonic()
            print(f"  {100 * fraction:5.1f}% {message}", flush=True)

    return progress


def _import(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    record = ws.import_trajectory([str(p) for p in args.paths], name=args.name,
                                  format=args.format, timestep_fs=args.timestep_fs)
    out = _record_dict(record)
    print_json(out) if args.json else print(f"imported {record.name}: {record.n_frames} frames "
                                            f"x {record.n_atoms} atoms ({record.formula})")
    return 0


def _list(args: argparse.Namespace) -> int:
    records = open_workspace(args).list_trajectories()
    if args.json:
        print_json([_record_dict(r) for r in records])
        return 0
    for r in records:
        print(f"{r.id:4d}  {r.name:32s} {r.formula:20s} {r.n_atoms:6d} atoms {r.n_frames:7d} frames")
    return 0


def _info(args: argparse.Namespace) -> int:
    from ssestudio.io import open_trajectory

    if Path(args.target).exists():
        traj = open_trajectory(args.target, format=args.format, timestep_fs=args.timestep_fs)
    else:
        traj = open_workspace(args).open_trajectory(args.target)
    with traj:
        times = traj.times_fs([0, -1])
        out = {"format": traj.info.format, "sources": list(traj.info.sources),
               "n_frames": traj.n_frames, "n_atoms": traj.n_atoms, "formula": traj.formula,
               "timestep_fs": traj.info.timestep_fs, "duration_ps": float(times[-1] - times[0]) / 1000,
               "cell_first_frame": traj.cells(0)[0].tolist(),
               "has_velocities": traj.info.has_velocities, "has_energies": traj.info.has_energies,
               "has_forces": traj.info.has_forces}
    if args.json:
        print_json(out)
    else:
        for k, v in out.items():
            print(f"{k:16s} {v}")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from ssestudio.io import convert_trajectory, open_trajectory

    if len(args.paths) < 2:
        raise SystemExit("error: give input file(s) and then the output .h5 path")
    *inputs, output = args.paths
    with open_trajectory([str(p) for p in inputs], format=args.format,
                         timestep_fs=args.timestep_fs) as traj:
        convert_trajectory(traj, output, progress=_progress_printer(args.json))
        out = {"output": str(output), "n_frames": traj.n_frames, "n_atoms": traj.n_atoms}
    print_json(out) if args.json else print(f"wrote {output}: {out['n_frames']} frames")
    return 0


def _record_dict(record) -> dict:
    return dataclasses.asdict(record)
