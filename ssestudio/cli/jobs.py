"""``ssestudio jobs``: list, show, follow and cancel background jobs."""

from __future__ import annotations

import argparse
import dataclasses
import time

from ssestudio.cli.common import add_json_arg, add_workspace_arg, open_workspace, print_json


def add_parser(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    lst = sub.add_parser("list", help="recent jobs, newest first")
    lst.add_argument("--limit", type=int, default=20)
    show = sub.add_parser("show", help="one job's status, progress and result")
    log = sub.add_parser("log", help="print a job's log")
    cancel = sub.add_parser("cancel", help="ask a job to stop")
    wait = sub.add_parser("wait", help="follow a job's progress until it ends")
    for p in (show, log, cancel, wait):
        p.add_argument("job_id", type=int)
    cancel.add_argument("--timeout", type=float, default=20.0,
                        help="seconds to wait for the job to stop (default 20)")
    for p in (lst, show, log, cancel, wait):
        add_workspace_arg(p)
        add_json_arg(p)


def run(args: argparse.Namespace) -> int:
    from ssestudio.jobs import JobManager

    manager = JobManager(open_workspace(args))
    action = {"list": _list, "show": _show, "log": _log, "cancel": _cancel, "wait": _wait}
    return action[args.action](manager, args)


def _as_dict(record) -> dict:
    return dataclasses.asdict(record)


def _line(r) -> str:
    return (f"{r.id:5d}  {r.kind:20s} {r.status:12s} {100 * (r.progress or 0):5.1f}%  "
            f"{r.message or ''}")


def _list(manager, args) -> int:
    records = manager.list(limit=args.limit)
    if args.json:
        print_json([_as_dict(r) for r in records])
    else:
        for r in records:
            print(_line(r))
    return 0


def _show(manager, args) -> int:
    r = manager.get(args.job_id)
    print_json(_as_dict(r)) if args.json else print(_line(r))
    return 0


def _log(manager, args) -> int:
    text = manager.log_text(args.job_id)
    print_json({"job_id": args.job_id, "log": text}) if args.json else print(text, end="")
    return 0


def _cancel(manager, args) -> int:
    from ssestudio.jobs import JobTimeoutError

    manager.cancel(args.job_id)
    try:  # keep this manager alive while the executor escalates to SIGTERM/SIGKILL
        r = manager.wait(args.job_id, timeout=args.timeout)
    except JobTimeoutError:
        r = manager.get(args.job_id)
    print_json(_as_dict(r)) if args.json else print(_line(r))
    return 0


def _wait(manager, args) -> int:
    manager.start()  # queued local jobs start while a manager runs
    while True:
        r = manager.get(args.job_id)
        if not args.json:
            print(_line(r), flush=True)
        if r.status in ("succeeded", "failed", "cancelled", "interrupted"):
            break
        time.sleep(1.0)
    if args.json:
        print_json(_as_dict(r))
    return 0 if r.status == "succeeded" else 1
