"""Real-browser helpers: Playwright driving Debian's Chromium against a local Panel server.

Never downloads a browser (no ``playwright install``); WebGL runs through SwiftShader.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import time
from urllib.parse import urlsplit

import panel as pn
import pytest

CHROMIUM = shutil.which("chromium")
#: In CI (``SSESTUDIO_REQUIRE_BROWSER=1``) a missing browser is a failure, not a skip.
REQUIRE_BROWSER = bool(os.environ.get("SSESTUDIO_REQUIRE_BROWSER"))
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not REQUIRE_BROWSER,
    reason="Debian's chromium is not installed (sudo apt-get install chromium)")

FIND_CANVAS = """
window.__canvas = () => {
  const find = (root) => {
    const c = root.querySelector('canvas.ssestudio-structure-canvas');
    if (c) return c;
    for (const e of root.querySelectorAll('*')) {
      if (e.shadowRoot) { const r = find(e.shadowRoot); if (r) return r; }
    }
    return null;
  };
  return find(document);
};
"""

PIXELS = """
() => {
  const c = window.__canvas();
  const cv = document.createElement('canvas');
  cv.width = c.width; cv.height = c.height;
  const ctx = cv.getContext('2d');
  ctx.drawImage(c, 0, 0);
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  const seen = new Set();
  let foreground = 0, orange = 0;
  for (let i = 0; i < d.length; i += 4) {
    seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    if (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250) foreground++;
    if (d[i] > 240 && Math.abs(d[i + 1] - 140) < 15 && d[i + 2] < 20) orange++;
  }
  return {width: c.width, height: c.height, distinct: seen.size, foreground, orange,
          webgl: c.dataset.webgl};
}
"""

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(obj):
    """Serve ``obj`` (a viewable or a function making one) on a local port; yield the URL."""
    port = free_port()
    server = pn.serve(obj, port=port, address="127.0.0.1", threaded=True, show=False,
                      websocket_origin=[f"127.0.0.1:{port}"])
    deadline = time.monotonic() + 30
    while True:  # wait until the server accepts connections
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            break
        assert time.monotonic() < deadline, "panel server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.stop()


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--enable-unsafe-swiftshader"]  # software WebGL (SwiftShader), no GPU needed


def assert_all_local(urls):
    assert urls
    for url in urls:
        parts = urlsplit(url[5:] if url.startswith("blob:") else url)
        assert parts.scheme in ("http", "ws", "data") and (
            parts.scheme == "data" or parts.hostname in LOCAL_HOSTS), f"request left the machine: {url}"


def draw_count(page) -> int:
    return int(page.evaluate("() => window.__canvas().dataset.drawCount"))


def wait_frame(page, frame: int, timeout_ms: int = 60_000) -> None:
    page.wait_for_function(f"() => {{ const c = window.__canvas(); return c && c.dataset.frame === '{frame}' }}",
                           timeout=timeout_ms)


def wait_drawn(page, timeout_ms: int = 60_000) -> None:
    page.wait_for_function("() => { const c = window.__canvas(); return c && +c.dataset.drawCount >= 1 }",
                           timeout=timeout_ms)


@contextlib.contextmanager
def recording_page(browser, *, width: int, height: int):
    """A new page whose ``urls`` lists every URL it requested (HTTP and websockets)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.urls = []
    page.on("request", lambda r: page.urls.append(r.url))
    page.on("websocket", lambda ws: page.urls.append(ws.url))
    page.add_init_script(FIND_CANVAS)
    try:
        yield page
    finally:
        context.close()
