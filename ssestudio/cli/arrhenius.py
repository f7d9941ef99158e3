"""``ssestudio arrhenius``: temperature dependence of D or sigma from a CSV table."""

from __future__ import annotations

import argparse
from pathlib import Path

from ssestudio.cli.common import add_json_arg, print_json


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Fit Arrhenius, two-regime and VFT models to D(T) or sigma(T) (sigma is fitted as "
        "sigma*T), choose one by BIC, and extrapolate with a confidence interval. The table "
        "has the columns T_K,D_cm2_s,D_err_cm2_s or T_K,sigma_mS_cm,sigma_err_mS_cm; "
        "several rows per temperature are fine.")
    parser.add_argument("table", type=Path, help="CSV table of D or sigma versus T")
    parser.add_argument("--target-T-K", type=float, default=300.0,
                        help="extrapolation temperature, K (default 300)")
    parser.add_argument("--quantity", choices=("D", "sigma"), default=None,
                        help="which columns to fit when the table has both (default D)")
    parser.add_argument("--models", nargs="+", default=None, metavar="MODEL",
                        help="models to compare (default: arrhenius two_regime vft); "
                             "arrhenius is always fitted")
    parser.add_argument("--confidence", type=float, default=0.95,
                        help="confidence level of the intervals (default 0.95)")
    add_json_arg(parser)


def run(args: argparse.Namespace) -> int:
    from ssestudio.analysis.arrhenius import (
        fit_temperature_dependence,
        read_transport_table,
    )

    table = read_transport_table(args.table, quantity=args.quantity)
    fit = fit_temperature_dependence(table.T_K, table.values, table.errors,
                                     quantity=table.quantity, target_T_K=args.target_T_K,
                                     models=args.models, confidence=args.confidence)
    out = {"table": str(args.table), **fit.to_dict()}
    if args.json:
        print_json(out)
    else:
        _print_text(out)
    return 0


def _print_text(out: dict) -> None:
    q, unit, T_t = out["quantity"], out["unit"], out["target_T_K"]
    lo_T, hi_T = out["T_range_K"]
    print(f"{q} ({unit}): {out['n_points']} points at {out['n_temperatures']} temperatures, "
          f"{lo_T:g}-{hi_T:g} K")
    print(f"{'model':12s} {'chi2':>9s} {'BIC':>9s} {'dBIC':>7s}   {q}({T_t:g} K) "
          f"[{100 * out['confidence']:g}% interval]")
    for name, m in out["models"].items():
        lo, hi = (_g(v) for v in m["extrapolated_interval"])
        print(f"{name:12s} {m['chi2']:9.2f} {m['bic']:9.2f} {out['delta_bic'][name]:7.2f}   "
              f"{_g(m['extrapolated'])} [{lo}, {hi}]")
    print(f"preferred model: {out['model']}")
    print(f"Ea = {out['Ea_eV']:.4f} +- {out['Ea_err_eV']:.4f} eV, prefactor = "
          f"{_g(out['prefactor'])} +- {_g(out['prefactor_err'])} {out['prefactor_unit']}")
    if out["breakpoint_K"] is not None:
        print(f"breakpoint = {out['breakpoint_K']:.0f} +- {_g(out['breakpoint_err_K'])} K")
    lo, hi = (_g(v) for v in out["extrapolated_300K_interval"])
    scope = "preferred model" if out["extrapolation_reliable"] else "ALL models"
    print(f"{q}({T_t:g} K) = {_g(out['extrapolated_300K'])} {unit}, interval [{lo}, {hi}] "
          f"({scope})")
    for w in out["warnings"]:
        print(f"warning: {w}")


def _g(value) -> str:
    return "n/a" if value is None else f"{value:.3g}"
