"""``ssestudio rotation``: anion rotation, cation hops and their coincidence (paddle-wheel)."""

from __future__ import annotations

import argparse
import sys

from ssestudio.cli.common import add_json_arg, add_workspace_arg, print_json


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Anion-rotation (paddle-wheel) analysis of a trajectory: polyanion units by "
        "connectivity, their orientation per frame (quaternions), C1/C2 reorientation times "
        "(stretched exponential), rotation and hop events, and whether rotations coincide "
        "with nearby hops more often than chance (enrichment over a time-shift null model, "
        "with a confidence interval).")
    parser.add_argument("target", metavar="TRAJ",
                        help="a trajectory file, or the name/id of a workspace trajectory")
    parser.add_argument("--anion", default="PS4",
                        help="PS4, P2S7, SiS4, BH4, B12H12, AlCl4, NbOCl4, or a label for "
                             "--centre/--ligand (default PS4)")
    parser.add_argument("--cation", default="Li", help="mobile species (default Li)")
    parser.add_argument("--centre", default=None,
                        help="user-defined anion: centre element(s), comma-separated")
    parser.add_argument("--ligand", default=None,
                        help="user-defined anion: ligand element(s), comma-separated")
    parser.add_argument("--n-ligands", type=int, default=None,
                        help="user-defined anion: ligands per unit (default: most common)")
    parser.add_argument("--bond-cutoff-A", type=float, default=None,
                        help="bond cutoff of the anion, Å (default 1.18 x covalent radii: P-S 2.50)")
    parser.add_argument("--start", type=int, default=None, help="first frame (default 0)")
    parser.add_argument("--stop", type=int, default=None, help="stop before this frame")
    parser.add_argument("--stride", type=int, default=None, help="use every n-th frame")
    parser.add_argument("--timestep-fs", type=float, default=None,
                        help="time between stored frames, fs, if the file does not record it")
    parser.add_argument("--temperature-K", type=float, default=None,
                        help="temperature to record (default: from a native file)")
    parser.add_argument("--rotation-window-fs", type=float, default=500.0,
                        help="window of the rotation angle, fs (default 500)")
    parser.add_argument("--rotation-threshold-deg", type=float, default=60.0,
                        help="smallest angle of a rotation event, degrees (default 60)")
    parser.add_argument("--hop-window-fs", type=float, default=500.0,
                        help="window of the cation displacement, fs (default 500)")
    parser.add_argument("--hop-threshold-A", type=float, default=1.5,
                        help="smallest displacement of a hop, Å (default 1.5)")
    parser.add_argument("--sites", default=None, metavar="STRUCTURE",
                        help="hops as site-to-site changes; the sites are the cations of this "
                             "structure file (same cell as the trajectory)")
    parser.add_argument("--site-radius-A", type=float, default=1.0,
                        help="core radius of a site, Å (default 1.0)")
    parser.add_argument("--lag-fs", type=float, default=None,
                        help="lag of the rotation-angle distribution, fs (default: the window)")
    parser.add_argument("--max-lag-fs", type=float, default=None,
                        help="longest lag of C1/C2, fs (default: half the run)")
    parser.add_argument("--dt-ps", type=float, default=0.5,
                        help="coincidence window |t_rot - t_hop| of the verdict, ps (default 0.5)")
    parser.add_argument("--r-A", type=float, default=4.0,
                        help="coincidence distance of the verdict, Å (default 4.0)")
    parser.add_argument("--dt-grid-ps", type=float, nargs="+", default=None, metavar="DT",
                        help="time windows of the enrichment heatmap, ps")
    parser.add_argument("--r-grid-A", type=float, nargs="+", default=None, metavar="R",
                        help="distances of the enrichment heatmap, Å")
    parser.add_argument("--shuffles", type=int, default=200, help="null-model draws (200)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates (1000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--include-broken", action="store_true",
                        help="also analyse units whose bonds broke during the run")
    parser.add_argument("--format", default=None, help="trajectory reader (default: detected)")
    parser.add_argument("--full", action="store_true",
                        help="with --json: include curves, event lists and the heatmap")
    add_workspace_arg(parser)
    add_json_arg(parser)


def build_config(args: argparse.Namespace):
    """The :class:`~ssestudio.analysis.rotation.RotationConfig` of the command line."""
    from ssestudio.analysis.rotation import RotationConfig, custom_anion
    from ssestudio.analysis.rotation.analyze import sites_from_structure
    from ssestudio.core.errors import UserInputError

    if (args.centre is None) != (args.ligand is None):
        raise UserInputError("a user-defined anion needs both --centre and --ligand")
    anion = args.anion
    if args.centre is not None:
        anion = custom_anion(args.centre, args.ligand, n_ligands=args.n_ligands,
                             name=None if args.anion == "PS4" else args.anion)
    grids = {}
    if args.dt_grid_ps:
        grids["dt_grid_ps"] = tuple(args.dt_grid_ps)
    if args.r_grid_A:
        grids["r_grid_A"] = tuple(args.r_grid_A)
    sites = None if args.sites is None else sites_from_structure(args.sites, args.cation)
    return RotationConfig(
        anion=anion, cation=args.cation, bond_cutoff_A=args.bond_cutoff_A, start=args.start,
        stop=args.stop, stride=args.stride, format=args.format, timestep_fs=args.timestep_fs,
        temperature_K=args.temperature_K, rotation_window_fs=args.rotation_window_fs,
        rotation_threshold_deg=args.rotation_threshold_deg, angle_lag_fs=args.lag_fs,
        hop_method="sites" if sites else "displacement", sites_frac=sites,
        site_radius_A=args.site_radius_A, hop_window_fs=args.hop_window_fs,
        hop_threshold_A=args.hop_threshold_A, max_lag_fs=args.max_lag_fs,
        coincidence_dt_ps=args.dt_ps, coincidence_r_A=args.r_A, n_shuffles=args.shuffles,
        n_bootstrap=args.bootstrap, seed=args.seed, include_broken=args.include_broken, **grids)


def run(args: argparse.Namespace) -> int:
    from ssestudio.analysis.rotation import analyze_rotation
    from ssestudio.cli.structure import opened_target

    config = build_config(args)
    with opened_target(args) as target:
        result = analyze_rotation(target, config)
    if args.json:
        print_json(result.to_dict(detail=args.full))
    else:
        _print_text(result.to_dict(detail=False))
    return 0


def _pm(value, err, unit="") -> str:
    if value is None:
        return "n/a"
    return f"{value:.3g} +- {err:.2g}{unit}" if err is not None else f"{value:.3g}{unit}"


def _print_text(out: dict) -> None:
    print(f"{out['anion']} / {out['cation']}: {out['n_units']} units ({out['n_units_analysed']} "
          f"analysed, {out['n_units_broken']} broke, {out['n_units_reformed']} re-formed), "
          f"{out['n_cations']} cations, {out['n_frames']} frames x {out['timestep_fs']:g} fs "
          f"({out['duration_ps']:.3g} ps) from {out['source']}")
    for n in ("C1", "C2"):
        flag = "" if out[f"{n}_reliable"] else "  (extrapolated: did not decay within the run)"
        print(f"{n}   tau {_pm(out[f'tau_{n}_ps'], out[f'tau_{n}_err_ps'], ' ps')}, beta "
              f"{_pm(out[f'beta_{n}'], out[f'beta_{n}_err'])}, <tau> "
              f"{_pm(out[f'mean_tau_{n}_ps'], out[f'mean_tau_{n}_err_ps'], ' ps')}{flag}")
    print(f"events  {out['rotation_events']} rotations, {out['hop_events']} hops")
    lo, hi = out["enrichment_ci"]
    if out["enrichment"] is not None:
        ci = "n/a" if lo is None else f"{lo:.2f}-{hi:.2f}"
        print(f"enrichment {out['enrichment']:.2f} (CI {ci}, p = {out['p_value']:.3g}) at "
              f"|dt| <= {out['coincidence_dt_ps']:g} ps, r <= {out['coincidence_r_A']:g} Å")
    print(out["verdict"])
    for w in out["warnings"]:
        print(f"note: {w}", file=sys.stderr)
