"""The refuse-to-bind-publicly rule of ``ssestudio serve``."""

import pytest

from ssestudio.cli.main import main
from ssestudio.cli.serve import check_bind_address, is_loopback
from ssestudio.core.errors import UserInputError


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_addresses_are_allowed_without_auth(address):
    assert is_loopback(address)
    check_bind_address(address, auth_configured=False)


@pytest.mark.parametrize("address", ["0.0.0.0", "192.168.1.20", "::", "example.org"])
def test_public_addresses_need_auth(address):
    assert not is_loopback(address)
    with pytest.raises(UserInputError, match="--basic-auth"):
        check_bind_address(address, auth_configured=False)
    check_bind_address(address, auth_configured=True)


def test_serve_refuses_public_bind_before_touching_the_workspace(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SSESTUDIO_BASIC_AUTH", raising=False)
    ws = tmp_path / "ws"
    code = main(["serve", "--workspace", str(ws), "--address", "0.0.0.0", "--port", "0"])
    assert code == 2
    err = capsys.readouterr().err
    assert "refusing to listen on '0.0.0.0'" in err and "--basic-auth" in err
    assert not ws.exists()
