"""The served app: it answers on loopback, and with basic auth it asks for a login."""

import urllib.error
import urllib.request

from ssestudio.ui.server import ServeOptions, start_server_thread


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.geturl(), resp.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, url, err.read().decode(errors="replace")


def test_app_page_is_served_without_remote_resources(seeded_workspace, manager):
    thread, url = start_server_thread(seeded_workspace, manager, ServeOptions(port=0))
    try:
        status, _, html = _get(url)
    finally:
        thread.stop()
    assert status == 200 and "SSE Studio" in html
    assert "https://" not in html.replace("https://www.w3.org", "")


def test_basic_auth_requires_a_login(seeded_workspace, manager):
    options = ServeOptions(port=0, basic_auth="correct horse", cookie_secret="s" * 32)
    thread, url = start_server_thread(seeded_workspace, manager, options)
    try:
        status, final_url, html = _get(url)
    finally:
        thread.stop()
    assert "login" in final_url and "password" in html.lower()
    assert "SSE Studio</title>" not in html

