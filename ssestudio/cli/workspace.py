"""``ssestudio workspace``: create a workspace or show what it holds."""

from __future__ import annotations

import argparse

from ssestudio.cli.common import add_json_arg, add_workspace_arg, open_workspace, print_json


def add_parser(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, help_ in (("init", "create (and seed) the workspace if it does not exist"),
                        ("info", "show the workspace's location, schema and contents")):
        p = sub.add_parser(name, help=help_, description=help_)
        add_workspace_arg(p)
        add_json_arg(p)


def run(args: argparse.Namespace) -> int:
    ws = open_workspace(args, create=True)
    summary = ws.summary()
    if args.json:
        print_json(summary)
        return 0
    print(f"workspace {summary['root']} (schema {summary['schema_version']})")
    for key, value in summary["counts"].items():
        print(f"  {key:14s} {value}")
    return 0
