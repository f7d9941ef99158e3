"""``ssestudio serve``: start the browser app on a workspace.

The server binds to 127.0.0.1 unless told otherwise, and refuses any other address
unless authentication is configured: the app can read and write files and start jobs,
so an open port on a shared network would hand that power to anyone who finds it.
"""

from __future__ import annotations

import argparse
import ipaddress
import secrets

from ssestudio.cli.common import add_workspace_arg, env_flag, open_workspace
from ssestudio.core.errors import UserInputError

AUTH_ENV = "SSESTUDIO_BASIC_AUTH"
COOKIE_ENV = "SSESTUDIO_COOKIE_SECRET"


def add_parser(parser: argparse.ArgumentParser) -> None:
    add_workspace_arg(parser)
    parser.add_argument("--port", type=int, default=5006, help="port (default 5006; 0 picks a free one)")
    parser.add_argument("--address", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1, this computer only)")
    parser.add_argument("--show", action="store_true", help="open the app in a browser")
    parser.add_argument("--basic-auth", metavar="PASSWORD_OR_FILE", default=None,
                        help=f"require a login: a password, or a JSON file of user: password "
                             f"pairs (also ${AUTH_ENV}); needed to listen on a non-local address")
    parser.add_argument("--cookie-secret", default=None,
                        help=f"secret that signs login cookies (also ${COOKIE_ENV}; "
                             "random per start if not given)")
    parser.add_argument("--allow-websocket-origin", action="append", default=None, metavar="HOST[:PORT]",
                        help="host name(s) browsers use to reach the app when it is not local")
    parser.add_argument("--max-upload-mb", type=float, default=200.0,
                        help="largest file accepted by the upload widget, MB (default 200)")
    parser.add_argument("--dask-scheduler", metavar="ADDRESS", default=None,
                        help="run jobs on a Dask distributed cluster (tcp://host:8786) "
                             "that shares the workspace's file system")
    parser.add_argument("--max-parallel-jobs", type=int, default=1,
                        help="jobs run at once by the local executor (default 1)")


def is_loopback(address: str) -> bool:
    """True for addresses that only this computer can reach (127.0.0.0/8, ::1, localhost)."""
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind_address(address: str, *, auth_configured: bool) -> None:
    """Refuse to listen on a non-loopback address without authentication.

    Raises
    ------
    UserInputError
        When ``address`` is reachable from other machines and no login is configured;
        the message says how to configure one.
    """
    if is_loopback(address) or auth_configured:
        return
    raise UserInputError(
        f"refusing to listen on {address!r} without authentication: anyone who can reach "
        "this computer could read your workspace and start jobs. Either keep the default "
        "--address 127.0.0.1 (and use an SSH tunnel, e.g. `ssh -L 5006:localhost:5006 host`), "
        f"or require a login with --basic-auth PASSWORD (or a JSON file of users; or set "
        f"${AUTH_ENV}) and preferably --cookie-secret SECRET."
    )


def run(args: argparse.Namespace) -> int:
    basic_auth = args.basic_auth or env_flag(AUTH_ENV)
    check_bind_address(args.address, auth_configured=bool(basic_auth))
    workspace = open_workspace(args)
    from ssestudio.jobs import JobManager, make_executor

    executor = make_executor(dask_scheduler=args.dask_scheduler,
                             max_parallel=args.max_parallel_jobs)
    manager = JobManager(workspace, executor=executor)
    recovered = manager.recover()
    if recovered:
        print(f"marked {len(recovered)} job(s) interrupted by the last shutdown")

    from ssestudio.ui.server import ServeOptions, serve_app

    cookie_secret = args.cookie_secret or env_flag(COOKIE_ENV)
    if basic_auth and not cookie_secret:
        cookie_secret = secrets.token_urlsafe(32)
    origins = args.allow_websocket_origin
    if origins is None and not is_loopback(args.address):
        origins = ["*"]
    options = ServeOptions(port=args.port, address=args.address, show=args.show,
                           basic_auth=basic_auth, cookie_secret=cookie_secret,
                           websocket_origins=tuple(origins or ()),
                           max_upload_mb=args.max_upload_mb)
    print(f"SSE Studio on workspace {workspace.root}")
    serve_app(workspace, manager, options)
    return 0
