"""``ssestudio transport``: tracer D*, conductivity and Haven ratio of a trajectory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ssestudio.cli.common import add_json_arg, print_json
from ssestudio.core.errors import UserInputError


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Tracer diffusion coefficient D* (GLS fit of the MSD with GLS, "
                          "fit-window and hop-count errors), Nernst-Einstein conductivity and "
                          "Haven ratio of one mobile species. Several FILEs are consecutive "
                          "segments of one trajectory, in the given order.")
    parser.add_argument("paths", nargs="+", type=Path, metavar="FILE",
                        help="trajectory file(s), in time order")
    parser.add_argument("--species", default="Li", help="mobile species (default: Li)")
    parser.add_argument("--timestep-fs", type=float, default=None,
                        help="time between stored frames, fs (MD step x write interval)")
    parser.add_argument("--temperature-K", type=float, default=None,
                        help="temperature, K (needed for the conductivity)")
    parser.add_argument("--charge", action="append", default=[], metavar="EL=Q",
                        help="charge of a species in e, e.g. Li=1 (repeatable; default: formal)")
    parser.add_argument("--fit-window-ps", type=float, nargs=2, default=None, metavar=("T0", "T1"),
                        help="fit window, ps (default: automatic)")
    parser.add_argument("--hop-distance-A", type=float, default=None,
                        help="hop distance for the He et al. error, Å (default: nearest-neighbour)")
    parser.add_argument("--keep-drift", action="store_true",
                        help="do not remove the framework's centre-of-mass drift")
    parser.add_argument("--format", default=None, help="reader name (default: from the file name)")
    add_json_arg(parser)


def parse_charges(items: list[str]) -> dict[str, float]:
    """``["Li=1", "Mg=2"]`` -> ``{"Li": 1.0, "Mg": 2.0}``; :class:`UserInputError` if malformed."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise UserInputError(f"--charge {item!r} is not of the form EL=Q, e.g. --charge Li=1")
    return out


def run(args: argparse.Namespace) -> int:
    from ssestudio.analysis import analyze_transport

    result = analyze_transport(
        [str(p) for p in args.paths], species=args.species, temperature_K=args.temperature_K,
        timestep_fs=args.timestep_fs, charges=parse_charges(args.charge),
        fit_window_ps=tuple(args.fit_window_ps) if args.fit_window_ps else None,
        remove_drift=not args.keep_drift, format=args.format, hop_distance_A=args.hop_distance_A)
    out = result.to_dict()
    if args.json:
        print_json(out)
    else:
        _print_text(out)
    return 0


def _print_text(out: dict) -> None:
    def pm(value, err, unit):
        return "n/a" if value is None else f"{value:.3g} +- {err:.2g} {unit}" if err is not None \
            else f"{value:.3g} {unit}"

    t0, t1 = out["fit_window_ps"]
    print(f"{out['species']}: {out['n_ions']} ions, {out['n_frames']} frames x "
          f"{out['timestep_fs']:g} fs ({out['duration_ps']:g} ps)")
    print(f"D*        {pm(out['D_cm2_s'], out['D_err_cm2_s'], 'cm^2/s')}  (GLS "
          f"{out['D_gls_err_cm2_s']:.2g}, window {out['D_window_err_cm2_s']:.2g}, He et al. "
          f"{'n/a' if out['D_hop_err_cm2_s'] is None else format(out['D_hop_err_cm2_s'], '.2g')})")
    print(f"window    {t0:g}-{t1:g} ps, diffusive: {'yes' if out['diffusive'] else 'NO'}, "
          f"N_eff hops: {'n/a' if out['n_eff_hops'] is None else format(out['n_eff_hops'], '.0f')}")
    print(f"sigma     {pm(out['sigma_mS_cm'], out['sigma_err_mS_cm'], 'mS/cm')} (from D*), "
          f"{pm(out['sigma_collective_mS_cm'], out['sigma_collective_err_mS_cm'], 'mS/cm')} "
          "(charge MSD)")
    print(f"Haven     {pm(out['haven_ratio'], out['haven_ratio_err'], '')}")
    for w in out["warnings"]:
        print(f"warning: {w}", file=sys.stderr)
