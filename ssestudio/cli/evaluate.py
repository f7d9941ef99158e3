"""``ssestudio evaluate``: errors of a saved model or ensemble on a dataset split."""

from __future__ import annotations

import argparse

from ssestudio.cli.common import add_json_arg, add_workspace_arg, open_workspace, print_json


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="workspace model NAME[@VERSION], a model/ensemble file, "
                                      "or a run folder")
    parser.add_argument("--dataset", required=True, help="workspace dataset NAME[@VERSION]")
    parser.add_argument("--split", default="test", choices=("train", "validation", "test", "all"),
                        help="which split (default test)")
    parser.add_argument("--parity", action="store_true",
                        help="include the parity data (reference vs predicted) in --json")
    add_workspace_arg(parser)
    add_json_arg(parser)


def run(args: argparse.Namespace) -> int:
    from ssestudio.training.evaluation import evaluate_on_dataset

    ws = open_workspace(args)
    out = evaluate_on_dataset(args.model, ws, args.dataset,
                              split=None if args.split == "all" else args.split)
    if not args.parity:
        out.pop("parity", None)
    if args.json:
        print_json(out)
        return 0
    stress = out.get("stress_rmse_GPa")
    print(f"{out['model']} on {out['dataset']} ({out['split']}, {out['n_structures']} "
          f"structures, {out['n_atoms']} atoms; trained on {out.get('trained_on')}):")
    print(f"  energy RMSE {out['energy_rmse_meV_atom']:.2f} meV/atom (MAE "
          f"{out['energy_mae_meV_atom']:.2f})")
    print(f"  force RMSE {out['force_rmse_eV_A']:.4f} eV/Å (MAE {out['force_mae_eV_A']:.4f}); "
          + ", ".join(f"{el} {v:.4f}" for el, v in out["force_rmse_per_element_eV_A"].items()))
    if stress is not None:
        print(f"  stress RMSE {stress:.4f} GPa")
    for k, m in enumerate(out.get("members") or []):
        print(f"  member {k}: E {m['energy_rmse_meV_atom']:.2f} meV/atom, F "
              f"{m['force_rmse_eV_A']:.4f} eV/Å")
    return 0
