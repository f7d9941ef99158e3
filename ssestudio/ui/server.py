"""Serve the app with Panel's (Bokeh's Tornado) server."""

from __future__ import annotations

import socket
from dataclasses import dataclass

#: Extra room on top of the upload limit for base64 encoding and message framing.
_WS_OVERHEAD = 1.4


@dataclass(frozen=True)
class ServeOptions:
    """How ``ssestudio serve`` listens.

    Attributes
    ----------
    port : int
        TCP port; 0 picks a free one.
    address : str
        Address to bind (the CLI checks that a non-loopback one has authentication).
    show : bool
        Open a browser tab.
    basic_auth : str or None
        Panel basic-auth password or credentials file.
    cookie_secret : str or None
        Secret for signed cookies (required by Panel when basic_auth is set).
    websocket_origins : tuple of str
        Allowed browser origins; empty means this machine's names on ``port``.
    max_upload_mb : float
        Largest upload accepted, MB.
    """

    port: int = 5006
    address: str = "127.0.0.1"
    show: bool = False
    basic_auth: str | None = None
    cookie_secret: str | None = None
    websocket_origins: tuple[str, ...] = ()
    max_upload_mb: float = 200.0


def free_port(address: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``address``."""
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def _server_kwargs(workspace, manager, options: ServeOptions) -> dict:
    from ssestudio.ui.app import create_app

    port = options.port or free_port(options.address)
    origins = list(options.websocket_origins) or [f"localhost:{port}", f"127.0.0.1:{port}"]
    return dict(
        panels={"/": lambda: create_app(workspace, manager, max_upload_mb=options.max_upload_mb)},
        port=port, address=options.address, show=options.show, title="SSE Studio",
        websocket_origin=origins, basic_auth=options.basic_auth,
        cookie_secret=options.cookie_secret,
        websocket_max_message_size=int(options.max_upload_mb * _WS_OVERHEAD * 2**20) + 2**20,
    )


def serve_app(workspace, manager, options: ServeOptions) -> None:
    """Serve the app and block until interrupted (Ctrl-C)."""
    import panel as pn

    kw = _server_kwargs(workspace, manager, options)
    print(f"open http://{'localhost' if options.address in ('127.0.0.1', 'localhost') else options.address}"
          f":{kw['port']}/  (Ctrl-C stops the server; running jobs go on in the background)")
    pn.serve(kw.pop("panels"), start=True, threaded=False, **kw)


def start_server_thread(workspace, manager, options: ServeOptions):
    """Start the app in a background thread (tests, notebooks).

    Returns
    -------
    (server_thread, url)
        Call ``server_thread.stop()`` to shut it down.
    """
    import time

    import panel as pn

    kw = _server_kwargs(workspace, manager, options)
    port = kw["port"]
    thread = pn.serve(kw.pop("panels"), start=True, threaded=True, **kw)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex((options.address, port)) == 0:
                break
        time.sleep(0.05)
    return thread, f"http://{options.address}:{port}/"
