"""``ssestudio dataset``: build, label, inspect and export training datasets.

One verb each::

    ssestudio dataset new li-p-s --split 0.8 0.1 0.1 --split-by group
    ssestudio dataset add li-p-s --source library:beta-Li3PS4 --step rattle stdev_A=0.05 n_copies=20
    ssestudio dataset add li-p-s --source glass:75Li2S-25P2S5:96 --step melt_snapshots n_snapshots=20
    ssestudio dataset label li-p-s --teacher sevenn
    ssestudio dataset import li-p-s vasprun.xml OUTCAR --level "DFT PBE"
    ssestudio dataset stats li-p-s@2 --json
    ssestudio dataset export li-p-s train.xyz --format extxyz --split train
    ssestudio dataset split li-p-s --fractions 0.9 0.05 0.05 --seed 1
    ssestudio dataset list | library | generators | teachers

Jobs (``add``, ``import``, ``label``) run in the background and are followed here (Ctrl-C
cancels; a cancelled label job keeps what it labelled and the next run continues).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ssestudio.cli.common import add_json_arg, add_workspace_arg, fail, open_workspace, print_json
from ssestudio.cli.jobrun import add_detach_arg, parse_options, report_job, submit_and_follow

VERBS = {
    "new": "create an empty dataset",
    "add": "generate configurations (library / glass / file + generators) as pending rows",
    "label": "label the pending rows with a teacher (resumable)",
    "import": "import labelled DFT/AIMD files (OUTCAR, vasprun.xml, extxyz, DeePMD, ASE db)",
    "stats": "counts, label distributions, minimum distances (and the 2-D map with --map)",
    "export": "write a version as extxyz (MACE/NequIP keys) or DeePMD npy",
    "split": "re-split into train/validation/test (a new version)",
    "list": "list the workspace's datasets",
    "library": "list the structure library",
    "generators": "list the configuration generators and their parameters",
    "teachers": "list the labelling teachers",
}


def add_parser(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    parsers = {}
    for verb, help_ in VERBS.items():
        p = sub.add_parser(verb, help=help_, description=help_)
        add_workspace_arg(p)
        add_json_arg(p)
        parsers[verb] = p
    for verb in ("new", "add", "label", "import", "split"):
        parsers[verb].add_argument("name", help="dataset name")
    for verb in ("stats", "export"):
        parsers[verb].add_argument("name", help="dataset NAME or NAME@VERSION")
    _split_args(parsers["new"])
    _split_args(parsers["split"])
    p = parsers["add"]
    p.add_argument("--source", action="append", required=True, metavar="SOURCE",
                   help="library:NAME[:AxBxC], glass:COMPOSITION:N_ATOMS[:DENSITY], "
                        "structure:NAME (workspace) or a structure file; repeatable")
    p.add_argument("--step", action="append", nargs="+", default=[], metavar="ARG",
                   help="generator step: NAME [KEY=VALUE ...], repeatable, applied in order")
    p.add_argument("--pipeline", type=Path, help="JSON file with a list of steps instead")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    add_detach_arg(p)
    p = parsers["label"]
    p.add_argument("--teacher", default="sevenn", help="sevenn (default), sevenn-l3i5, chgnet, "
                                                       "or a calculator name / module:Class")
    p.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                   help="teacher calculator option (e.g. -o num_threads=2)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-force", type=float, default=50.0, metavar="EV_A",
                   help="reject labels with a force component above this, eV/Å (default 50)")
    p.add_argument("--limit", type=int, default=None, help="label at most this many rows")
    add_detach_arg(p)
    p = parsers["import"]
    p.add_argument("paths", nargs="+", type=Path, help="files or DeePMD folders")
    p.add_argument("--format", default=None, help="importer (default: detected)")
    p.add_argument("--level", default="DFT", help="level of theory recorded (default DFT)")
    add_detach_arg(p)
    parsers["stats"].add_argument("--map", action="store_true",
                                  help="also compute the 2-D map of all configurations")
    p = parsers["export"]
    p.add_argument("output", type=Path, help="output file (extxyz) or folder (deepmd)")
    p.add_argument("--format", default="extxyz", help="extxyz (default) or deepmd")
    p.add_argument("--split", default=None, choices=("train", "validation", "test"))
    p.add_argument("--energy-key", default="REF_energy")
    p.add_argument("--forces-key", default="REF_forces")
    p.add_argument("--stress-key", default="REF_stress")


def _split_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fractions", type=float, nargs=3, default=(0.8, 0.1, 0.1),
                   metavar=("TRAIN", "VAL", "TEST"), help="default 0.8 0.1 0.1")
    p.add_argument("--by", default="configuration", choices=("configuration", "group"),
                   help="assign configurations one by one, or whole groups (source files, "
                        "library structures) together")
    p.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    return _VERB_RUNNERS[args.verb](args)


def _policy(args):
    from ssestudio.data.store import SplitPolicy

    return SplitPolicy(fractions=tuple(args.fractions), seed=args.seed, by=args.by)


def _new(args) -> int:
    from ssestudio.jobs.dataset import create_dataset, dataset_summary

    ds = create_dataset(open_workspace(args), args.name, split=_policy(args))
    summary = dataset_summary(ds)
    print_json(summary) if args.json else print(f"created dataset {ds.name!r} in {ds.folder}")
    return 0


def _steps(args) -> list[dict]:
    if args.pipeline is not None:
        try:
            return json.loads(args.pipeline.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SystemExit(f"error: cannot read the pipeline {args.pipeline}: {exc}") from None
    return [{"name": step[0], "params": parse_options(step[1:], what="generator parameter")}
            for step in args.step]


def _add(args) -> int:
    from ssestudio.jobs.dataset import DatasetAddSpec

    spec = DatasetAddSpec(dataset=args.name, sources=tuple(args.source),
                          pipeline=json.dumps(_steps(args)), seed=args.seed)
    return _finish(args, submit_and_follow(args, spec),
                   lambda r: f"added {r['added']} configurations to {r['dataset']!r} "
                             f"({r['duplicates']} duplicates skipped, {r['pending']} waiting "
                             "for labels: run 'ssestudio dataset label')")


def _label(args) -> int:
    from ssestudio.jobs.dataset import DatasetLabelSpec

    spec = DatasetLabelSpec(dataset=args.name, teacher=args.teacher,
                            teacher_options=parse_options(args.option, what="teacher option"),
                            batch_size=args.batch_size, max_force_eV_A=args.max_force,
                            limit=args.limit)
    rec = submit_and_follow(args, spec, on_interrupt="labelled rows are kept; run the label "
                                                     "command again to continue")
    return _finish(args, rec, lambda r: (
        f"labelled {r['labelled']} ({r['rejected']} rejected) with {r['level']}: "
        f"{r['configs_per_s'] or 0:.3g} configs/s, {r['atoms_per_s'] or 0:.4g} atoms/s; "
        f"version {r['version']}"))


def _import(args) -> int:
    from ssestudio.jobs.dataset import DatasetImportSpec

    spec = DatasetImportSpec(dataset=args.name, paths=tuple(str(p) for p in args.paths),
                             format=args.format, level=args.level)
    return _finish(args, submit_and_follow(args, spec), lambda r: "\n".join(
        [f"imported {r['labelled']} configurations into {r['dataset']!r} "
         f"({r['duplicates']} duplicates), version {r['version']}"]
        + [f"  {f}" for f in r["files"]]))


def _finish(args, rec, describe) -> int:
    return report_job(rec, as_json=args.json, describe=describe)


def _open_version(args):
    from ssestudio.data.store import parse_reference
    from ssestudio.jobs.dataset import open_dataset

    name, version = parse_reference(args.name)
    ds = open_dataset(open_workspace(args), name)
    return ds, ds.version(version)


def _stats(args) -> int:
    from ssestudio.data.stats import dataset_map, dataset_statistics
    from ssestudio.jobs.dataset import dataset_summary

    ds, v = _open_version(args)
    configs = ds.configurations(version=v.version)
    out = {"dataset": ds.name, "version": v.version, "summary": dataset_summary(ds),
           **dataset_statistics(configs)}
    if args.map:
        out["map"] = dataset_map(configs).to_dict()
    if args.json:
        print_json(out)
        return 0
    print(f"{ds.name}@{v.version}: {out['n_configurations']} configurations, "
          f"{out['n_atoms']} atoms; splits {out['by_split']}; rows {out['summary']['status']}")
    for warning in v.warnings:
        print(f"  warning: {warning}")
    for key in ("by_formula", "by_source", "by_level"):
        print(f"  {key[3:]:8s} " + ", ".join(f"{k} ({n})" for k, n in out[key].items()))
    e = out["energy_per_atom_eV"]
    if e["n"]:
        print(f"  energy/atom {e['mean']:.4f} ± {e['std']:.4f} eV [{e['min']:.4f}, {e['max']:.4f}]")
    for el, f in out["force_components_eV_A"].items():
        print(f"  forces {el:3s} std {f['std']:.3f} eV/Å, max |F| {max(-f['min'], f['max']):.3f}")
    print("  min distances " + ", ".join(f"{k} {d:.2f} Å" for k, d in out["min_distance_A"].items()))
    return 0


def _export(args) -> int:
    from ssestudio.data.export import export_configurations

    ds, v = _open_version(args)
    configs = ds.configurations(version=v.version, split=args.split)
    if not configs:
        return fail(f"{ds.name}@{v.version} has no configurations"
                    + (f" in the {args.split} split" if args.split else ""))
    options = ({"energy_key": args.energy_key, "forces_key": args.forces_key,
                "stress_key": args.stress_key} if args.format == "extxyz" else {})
    path = export_configurations(configs, args.output, format=args.format, **options)
    out = {"dataset": ds.name, "version": v.version, "split": args.split,
           "n_configurations": len(configs), "format": args.format, "path": str(path or args.output)}
    print_json(out) if args.json else print(
        f"wrote {len(configs)} configurations of {ds.name}@{v.version} to {out['path']}")
    return 0


def _split(args) -> int:
    from ssestudio.jobs.dataset import open_dataset, sync_versions

    ws = open_workspace(args)
    ds = open_dataset(ws, args.name)
    version = ds.resplit(_policy(args))
    sync_versions(ws, ds)
    if version is None:
        return fail(f"{ds.name!r} already uses this split; nothing changed", 1)
    print_json(version.to_dict()) if args.json else print(
        f"{ds.name}@{version.version}: {version.counts}")
    return 0


def _list(args) -> int:
    from ssestudio.jobs.dataset import dataset_summary, list_datasets

    rows = [dataset_summary(d) for d in list_datasets(open_workspace(args))]
    if args.json:
        print_json(rows)
        return 0
    for r in rows:
        print(f"{r['name']:24s} version {r['latest_version']:3d}  rows {r['status']}")
    if not rows:
        print("no datasets yet: ssestudio dataset new NAME")
    return 0


def _library(args) -> int:
    from ssestudio.data.library import list_structures

    rows = [{"name": e.name, "formula": e.formula, "spacegroup": e.spacegroup,
             "reference": e.reference} for e in list_structures()]
    print_json(rows) if args.json else [print(f"{r['name']:20s} {r['formula']:14s} "
                                              f"{r['spacegroup']}") for r in rows]
    return 0


def _generators(args) -> int:
    from ssestudio.data.generators import describe_generators

    rows = describe_generators()
    print_json(rows) if args.json else [print(f"{r['name']:16s} {r['summary']}")
                                        for r in rows]
    return 0


def _teachers(args) -> int:
    from ssestudio.data.teachers import available_teachers

    rows = available_teachers()
    print_json(rows) if args.json else [print(f"{r['name']:12s} {'installed' if r['installed'] else 'missing':9s} {r['description']}")
                                        for r in rows]
    return 0


_VERB_RUNNERS = {"new": _new, "add": _add, "label": _label, "import": _import,
                 "stats": _stats, "export": _export, "split": _split, "list": _list,
                 "library": _library, "generators": _generators, "teachers": _teachers}
