"""Distributed data-parallel training under ``torchrun`` (also usable as one process).

Usage::

    torchrun --nproc_per_node 4 -m ssestudio.training.ddp config.json runs/lps \\
        --workspace ~/ssestudio-workspace [--resume]
    python -m ssestudio.training.ddp config.json runs/lps --dataset-dir ws/datasets/lps

``config.json`` is a :class:`~ssestudio.training.config.TrainConfig` as JSON. Each process
reads the dataset (``--workspace``: the workspace dataset that ``config.dataset`` names;
``--dataset-dir``: a dataset folder), joins the process group (``WORLD_SIZE``, ``RANK``,
``LOCAL_RANK`` from ``torchrun``; NCCL on CUDA, gloo on CPU) and runs the same
:class:`~ssestudio.training.trainer.Trainer`: ``batch_size`` is the global batch, shared
by the processes, so the loss trajectory does not depend on their number. Rank 0 writes
the files and prints the result as JSON on stdout; the exit status is 0 on success, 2 on
a user error (message on stderr).

Every process reads ``OUT_DIR/checkpoint.pt`` when resuming, so on several nodes the
folder must be on a shared file system.

``--import MODULE`` (repeatable) imports a module first, e.g. one that registers a custom
model family with :func:`ssestudio.models.register_family`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence

import torch

from ssestudio.core.errors import UserInputError


def init_distributed(device: str = "auto") -> tuple[int, int, int]:
    """Join the process group ``torchrun`` describes (no-op for a single process).

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"}
        The config's device: NCCL when it resolves to CUDA, gloo otherwise.

    Returns
    -------
    (int, int, int)
        World size, rank and local rank.
    """
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if world > 1 and not dist.is_initialized():
        cuda = device != "cpu" and torch.cuda.is_available()
        if cuda:
            torch.cuda.set_device(local % torch.cuda.device_count())
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    return world, rank, local


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ssestudio.training.ddp",
                                description="Train a force field (single process or under "
                                            "torchrun).")
    p.add_argument("config", help="training config JSON file (TrainConfig)")
    p.add_argument("out_dir", help="output folder (checkpoint.pt, best.pt, history.jsonl, ...)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--workspace", help="workspace folder holding the dataset")
    where.add_argument("--dataset-dir", help="a dataset folder (holding dataset.db)")
    p.add_argument("--resume", action="store_true", help="continue from out_dir/checkpoint.pt")
    p.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                   help="import MODULE first (e.g. to register a model family)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; see the module docstring."""
    args = _parser().parse_args(argv)
    import torch.distributed as dist

    from ssestudio.training.config import TrainConfig
    from ssestudio.training.data import load_training_data
    from ssestudio.training.ensemble import train

    rank = int(os.environ.get("RANK", "0"))
    try:
        for module in args.imports:
            importlib.import_module(module)
        config = TrainConfig.from_file(args.config)
        init_distributed(config.device)
        if args.workspace:
            from ssestudio.workspace import Workspace

            with Workspace.open(args.workspace, create=False, seed=False) as ws:
                data = load_training_data(config, workspace=ws)
        else:
            data = load_training_data(config, dataset_dir=args.dataset_dir)
        result = train(config, data, args.out_dir, resume=args.resume)
        if rank == 0:
            print(json.dumps(result.to_dict(), indent=1))
        return 0
    except UserInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
