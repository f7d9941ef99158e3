"""Submit a job from the CLI and follow it: progress lines, Ctrl-C cancels, ``--detach``."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from ssestudio.cli.common import fail, open_workspace, print_json


def add_detach_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--detach``: submit and print the job id without waiting."""
    parser.add_argument("--detach", action="store_true",
                        help="submit and print the job id without waiting")


def parse_options(pairs: list[str], *, what: str = "option") -> dict:
    """``["model=7net-l3i5", "num_threads=2"]`` -> dict; values parsed as JSON when they can be."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"error: {what} {pair!r} must look like KEY=VALUE")
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value
    return options


def submit_and_follow(args: argparse.Namespace, spec, *,
                      on_interrupt: str = "work done so far is kept (see the job log)"):
    """Submit ``spec``; unless ``args.detach``, wait printing progress (quiet with
    ``args.json``). Returns the finished job record, or None when detached (the job id is
    printed). Ctrl-C cancels the job and exits with 130."""
    from ssestudio.jobs import JobManager

    manager = JobManager(open_workspace(args))
    try:
        job_id = manager.submit(spec)
        if getattr(args, "detach", False):
            print_json({"job_id": job_id}) if args.json else print(
                f"submitted {spec.kind} job {job_id}; follow it with: ssestudio jobs wait {job_id}")
            return None
        try:
            return follow(manager, job_id, quiet=args.json)
        except KeyboardInterrupt:
            manager.cancel(job_id)
            rec = manager.wait(job_id, timeout=30)
            print(f"job {job_id} {rec.status}: {rec.message}; {on_interrupt}", flush=True)
            raise SystemExit(130) from None
    finally:
        manager.close()


def follow(manager, job_id: int, *, quiet: bool, poll_s: float = 0.2,
           clock: Callable[[], float] = time.monotonic):
    """Wait for the job, printing a progress line when its message changes (unless quiet)."""
    manager.start()
    last, last_print = None, 0.0
    while not (rec := manager.get(job_id)).done:
        line = f"job {job_id} {rec.status}: {100 * (rec.progress or 0):5.1f}% {rec.message}" + (
            f", ETA {rec.eta_s:.0f} s" if rec.eta_s is not None else "")
        if not quiet and line != last and clock() - last_print >= 1.0:
            print(line, flush=True)
            last, last_print = line, clock()
        time.sleep(poll_s)
    return rec


def report_job(rec, *, as_json: bool, describe: Callable[[dict], str],
               keys: tuple[str, ...] | None = None) -> int:
    """Print a finished job: JSON (the result, or only ``keys`` of it, with ``job_id``,
    ``status`` and ``message``) or ``describe(result)`` when it succeeded; a failed or
    cancelled job prints the reason to stderr and returns 1. ``rec`` None (detached): 0."""
    if rec is None:
        return 0
    result = rec.result or {}
    if as_json:
        shown = result if keys is None else {k: result.get(k) for k in keys}
        print_json({"job_id": rec.id, "status": str(rec.status), "message": rec.message,
                    **shown})
    elif rec.status == "succeeded":
        print(describe(result))
    if rec.status != "succeeded":
        message = rec.message.removeprefix(f"{rec.status}: ")
        return fail(f"{rec.kind} job {rec.id} {rec.status}: {message}"
                    + (f"\n{rec.error}" if rec.error and not as_json else ""), 1)
    return 0
