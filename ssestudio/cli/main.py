"""Entry point of the ``ssestudio`` command.

Subcommands are registered in :data:`COMMANDS` (name -> module with ``add_parser`` and
``run``); modules are imported only when their command is parsed.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ssestudio import __version__

#: command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("ssestudio.cli.serve", "start the browser app"),
    "workspace": ("ssestudio.cli.workspace", "create or inspect a workspace"),
    "trajectory": ("ssestudio.cli.trajectory", "import, list, inspect and convert trajectories"),
    "jobs": ("ssestudio.cli.jobs", "list, follow and cancel background jobs"),
    "transport": ("ssestudio.cli.transport",
                  "tracer diffusion D*, conductivity and Haven ratio of a trajectory"),
    "arrhenius": ("ssestudio.cli.arrhenius",
                  "Arrhenius / two-regime / VFT fit of D or sigma vs T, with extrapolation"),
    "md": ("ssestudio.cli.md", "run molecular dynamics as a background job (live trajectory)"),
    "meltquench": ("ssestudio.cli.meltquench",
                   "make a glass by melt-quench (random packing or crystal start) as a job"),
    "sweep": ("ssestudio.cli.sweep",
              "one MD job per temperature (for Arrhenius plots in the Conductivity tab)"),
    "dataset": ("ssestudio.cli.dataset",
                "build, label (offline teacher), import, inspect and export training datasets"),
    "train": ("ssestudio.cli.train",
              "train a force field or an ensemble on a dataset (background job, live)"),
    "evaluate": ("ssestudio.cli.evaluate",
                 "errors of a model or ensemble on a dataset split (energy, forces, stress)"),
    "structure": ("ssestudio.cli.structure",
                  "density, RDFs, coordination, bond angles, speciation, S(q), XRD of a structure"),
    "rotation": ("ssestudio.cli.rotation",
                 "anion rotation (paddle-wheel) vs cation hops: C1/C2 times, events, enrichment"),
}


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (all subcommands)."""
    parser = argparse.ArgumentParser(
        prog="ssestudio",
        description="SSE Studio: ML force fields for solid-state electrolytes.",
    )
    parser.add_argument("--version", action="version", version=f"ssestudio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_) in COMMANDS.items():
        mod = importlib.import_module(module)
        cmd = sub.add_parser(name, help=help_, description=help_)
        mod.add_parser(cmd)
        cmd.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    from ssestudio.core.errors import SSEStudioError

    from ssestudio.cli.common import fail

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 1
    try:
        return int(args._run(args) or 0)
    except SSEStudioError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return fail("interrupted", 130)


if __name__ == "__main__":
    sys.exit(main())
