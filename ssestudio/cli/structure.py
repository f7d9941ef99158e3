"""``ssestudio structure``: density, RDF peaks, coordination, bond angles, speciation,
S(q) and XRD of a structure or trajectory."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path

from ssestudio.cli.common import (
    add_json_arg,
    add_workspace_arg,
    open_workspace,
    print_json,
)
from ssestudio.core.errors import UserInputError


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Structure analysis of one structure or a trajectory (averaged over the selected "
        "frames): density and lattice parameters, partial RDF first peaks and minima, "
        "coordination numbers, bond angles, network speciation (Q^n, PS4/P2S7/P2S6 units, "
        "bridging/free anions), neutron and X-ray S(q), powder XRD.")
    parser.add_argument("target", metavar="TRAJ_OR_STRUCTURE",
                        help="a structure or trajectory file (anything ssestudio.io or ase.io "
                             "reads), or the name/id of a workspace trajectory")
    parser.add_argument("--start", type=int, default=None, help="first frame (default 0)")
    parser.add_argument("--stop", type=int, default=None, help="stop before this frame")
    parser.add_argument("--stride", type=int, default=None, help="use every n-th frame")
    parser.add_argument("--former", default=None,
                        help="network former(s), comma-separated (default: from the composition,"
                             " e.g. P)")
    parser.add_argument("--anion", default=None, help="network anion (default: S, Se or O)")
    parser.add_argument("--bond-cutoff-A", type=float, default=None,
                        help="former-anion bond cutoff, Å (default 1.18 x covalent radii: P-S 2.50)")
    parser.add_argument("--ff-cutoff-A", type=float, default=None,
                        help="former-former bond cutoff, Å (default P-P 2.40)")
    parser.add_argument("--rmax", "--rmax-A", dest="rmax_A", type=float, default=None,
                        help="RDF range, Å (default min(10, half the smallest cell width))")
    parser.add_argument("--dr-A", type=float, default=0.02, help="RDF bin width, Å")
    parser.add_argument("--cutoff", action="append", default=[], metavar="A-B=R",
                        help="coordination cutoff of a pair in Å instead of the first minimum, "
                             "e.g. --cutoff Li-S=3.0 (repeatable)")
    parser.add_argument("--angle", action="append", default=[], metavar="A-B-C",
                        help="bond angle to compute, centre in the middle, e.g. --angle S-P-S "
                             "(repeatable; default anion-former-anion and former-anion-former)")
    parser.add_argument("--wavelength-A", type=float, default=None,
                        help="X-ray wavelength, Å (default Cu K-alpha1 1.5406)")
    parser.add_argument("--two-theta", type=float, nargs=2, default=None, metavar=("MIN", "MAX"),
                        help="XRD range, degrees (default 10 80)")
    parser.add_argument("--xrd", dest="xrd_method", default="auto",
                        choices=("auto", "bragg", "debye", "none"),
                        help="powder pattern from Bragg reflections, from the RDFs, or none "
                             "(default: Bragg for one frame, Debye for a trajectory)")
    parser.add_argument("--format", default=None, help="trajectory reader (default: detected)")
    parser.add_argument("--curves", action="store_true",
                        help="with --json: include the RDF, S(q), angle and XRD curves")
    add_workspace_arg(parser)
    add_json_arg(parser)


def parse_pair_values(items: list[str], option: str) -> dict[str, float]:
    """``["Li-S=3.0"]`` -> ``{"Li-S": 3.0}``; :class:`UserInputError` if malformed."""
    out = {}
    for item in items:
        pair, sep, value = item.partition("=")
        try:
            out[pair.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or "-" not in pair:
            raise UserInputError(f"{option} {item!r} is not of the form A-B=R, e.g. {option} Li-S=3.0")
    return out


def build_config(args: argparse.Namespace):
    """The :class:`~ssestudio.analysis.structure.StructureConfig` of the command line."""
    from dataclasses import replace

    from ssestudio.analysis.structure import StructureConfig, XRDSettings

    xrd = XRDSettings()
    if args.wavelength_A is not None:
        xrd = replace(xrd, wavelength_A=args.wavelength_A)
    if args.two_theta is not None:
        xrd = replace(xrd, two_theta_min_deg=args.two_theta[0], two_theta_max_deg=args.two_theta[1])
    former = None
    if args.former:
        former = tuple(f.strip() for f in args.former.split(",") if f.strip())
    return StructureConfig(
        start=args.start, stop=args.stop, stride=args.stride, format=args.format,
        rmax_A=args.rmax_A, dr_A=args.dr_A,
        coordination_cutoffs_A=parse_pair_values(args.cutoff, "--cutoff") or None,
        former=former, anion=args.anion, bond_cutoff_A=args.bond_cutoff_A,
        former_former_cutoff_A=args.ff_cutoff_A,
        angle_triplets=tuple(args.angle) or None, xrd=xrd.check(), xrd_method=args.xrd_method)


def open_target(args: argparse.Namespace):
    """A file path as is; otherwise the workspace trajectory of that name or id (opened)."""
    path = Path(args.target)
    if path.exists():
        return str(path)
    try:
        ws = open_workspace(args, create=False)
    except UserInputError as exc:
        raise UserInputError(f"{args.target} is not a file, and there is no workspace to look it "
                             f"up in ({exc})") from None
    try:
        return ws.open_trajectory(int(args.target) if args.target.isdigit() else args.target)
    except UserInputError as exc:
        raise UserInputError(f"{args.target} is neither a file nor a trajectory of the workspace "
                             f"{ws.root} ({exc}); `ssestudio trajectory list` shows them") from None


@contextmanager
def opened_target(args: argparse.Namespace):
    """:func:`open_target` as a context: a workspace trajectory is closed at the end."""
    from ssestudio.io import Trajectory

    target = open_target(args)
    try:
        yield target
    finally:
        if isinstance(target, Trajectory):
            target.close()


def run(args: argparse.Namespace) -> int:
    from ssestudio.analysis.structure import analyze_structure

    config = build_config(args)
    with opened_target(args) as target:
        result = analyze_structure(target, config)
    out = result.to_dict(curves=args.curves)
    if args.json:
        print_json(out)
    else:
        _print_text(out)
    return 0


def _fmt(value, spec=".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def _print_text(out: dict) -> None:
    lat = out["lattice"]
    print(f"{out['formula']}: {out['n_atoms']} atoms, {out['n_frames']} frame(s) from {out['source']}")
    print(f"density   {out['density_g_cm3']:.4f} +- {out['density_std_g_cm3']:.4f} g/cm^3, "
          f"V = {lat['volume_A3']:.2f} Å^3")
    print(f"lattice   a {lat['a_A']:.4f}  b {lat['b_A']:.4f}  c {lat['c_A']:.4f} Å   "
          f"alpha {lat['alpha_deg']:.2f}  beta {lat['beta_deg']:.2f}  gamma {lat['gamma_deg']:.2f}")
    print(f"RDF peaks (r <= {out['rmax_A']:.2f} Å)      peak/Å   g(peak)   min/Å   g(min)")
    for pair, p in out["rdf_peaks"].items():
        print(f"  {pair:8s} {_fmt(p['first_peak_A']):>20s} {_fmt(p['first_peak_g'], '.2f'):>8s} "
              f"{_fmt(p['first_min_A']):>7s} {_fmt(p['first_min_g'], '.2f'):>8s}")
    print("coordination (B around A, to the first minimum or --cutoff)")
    for pair, c in out["coordination"].items():
        if c["n"] is not None:
            print(f"  {pair:8s} {c['n']:7.3f}   (r < {c['cutoff_A']:.2f} Å)")
    for name, a in out["angles"].items():
        print(f"angle {name:8s} mean {_fmt(a['mean_deg'], '.1f')} deg, std {_fmt(a['std_deg'], '.1f')},"
              f" {a['angles_per_centre']:.2f} per centre")
    _print_speciation(out["speciation"])
    xray = out["structure_factor"]["xray"]
    print("S(q) X-ray peaks  " + ", ".join(f"{p['q_inv_A']:.2f}" for p in xray["peaks"]) + " 1/Å")
    if out["xrd"] and out["xrd"]["strongest_peaks"]:
        print("XRD (" + f"{out['xrd']['wavelength_A']} Å) " + ", ".join(
            f"{p['two_theta_deg']:.2f}° {tuple(p['hkl'])} {p['intensity']:.0f}"
            for p in out["xrd"]["strongest_peaks"][:6]))
    for w in out["warnings"]:
        print(f"note: {w}", file=sys.stderr)


def _print_speciation(spec: dict | None) -> None:
    if spec is None:
        return
    print(f"speciation ({'/'.join(spec['formers'])}-{spec['anion']}, "
          f"{spec['n_formers']} formers, {spec['n_anions']} anions)")
    qn = ", ".join(f"{k} {v:.3f}" for k, v in spec["qn_fraction"].items() if v > 0)
    print(f"  Q^n of formers    {qn or 'none'}")
    units = ", ".join(f"{k} {v:.3f}" for k, v in spec["unit_fraction_by_former"].items())
    print(f"  formers in units  {units or 'none'}")
    a = spec["anion_fraction"]
    print(f"  anions            bridging {a['bridging']:.3f}, non-bridging {a['non_bridging']:.3f},"
          f" free {a['free']:.3f}")
