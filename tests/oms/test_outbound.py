"""The outbound client refuses non-public addresses before connecting, and follows no redirect.

Names resolve through a patched resolver (``fake_dns``) and ``socket.connect`` fails the test
for any address but loopback, so no traffic ever leaves for a private or link-local address.
"""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from oms import outbound
from oms.outbound import OutboundFailed, outbound_post, validate_outbound_url

NOT_PUBLIC = {
    "loopback": ["127.0.0.1"],
    "loopback elsewhere in 127/8": ["127.5.6.7"],
    "10/8": ["10.1.2.3"],
    "172.16/12": ["172.16.0.9"],
    "192.168/16": ["192.168.1.1"],
    "metadata service (link-local)": ["169.254.169.254"],
    "shared address space": ["100.64.0.1"],
    "unspecified": ["0.0.0.0"],
    "multicast": ["224.0.0.1"],
    "reserved": ["240.0.0.1"],
    "broadcast": ["255.255.255.255"],
    "IPv6 loopback": ["::1"],
    "IPv6 unique local (fc00::/7)": ["fd12:3456::1"],
    "IPv6 link-local": ["fe80::1"],
    "IPv6 multicast": ["ff02::1"],
    "IPv4-mapped loopback": ["::ffff:127.0.0.1"],
    "one public and one private": ["93.184.215.14", "10.0.0.1"],
}


@pytest.fixture
def nothing_allowed(settings):
    settings.OMS_OUTBOUND_ALLOW_ADDRESSES = []


def _post(url: str):
    return outbound_post(url, body=b"{}", headers={}, timeout=2)


@pytest.mark.parametrize("addresses", NOT_PUBLIC.values(), ids=NOT_PUBLIC.keys())
def test_a_host_resolving_to_a_non_public_address_is_refused_at_save_and_send(
    addresses, fake_dns, no_connections, nothing_allowed
):
    fake_dns["hooks.merchant.test"] = addresses
    with pytest.raises(ValidationError) as error:
        validate_outbound_url("https://hooks.merchant.test/oms")
    assert error.value.code == "address_not_allowed"
    with pytest.raises(OutboundFailed) as failed:
        _post("https://hooks.merchant.test/oms")
    assert failed.value.reason == "refused: address not allowed"
    assert no_connections == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8000/",
        "http://127.0.0.1:6379/",
        "http://0.0.0.0:5432/",
    ],
)
def test_an_address_literal_is_refused_without_a_connection(
    url, fake_dns, no_connections, nothing_allowed
):
    with pytest.raises(ValidationError):
        validate_outbound_url(url)
    with pytest.raises(OutboundFailed, match="refused: address not allowed"):
        _post(url)
    assert no_connections == []


def test_a_public_host_is_accepted(fake_dns, nothing_allowed):
    fake_dns["hooks.merchant.test"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    validate_outbound_url("https://hooks.merchant.test/oms")


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://hooks.merchant.test/x", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("https://user:pw@hooks.merchant.test/x", "credentials"),
        ("https://nowhere.merchant.test/x", "host_not_found"),
        ("https://hooks.merchant.test:99999/x", "invalid"),
    ],
)
def test_a_url_the_oms_would_not_call_is_refused_with_a_reason(url, code, fake_dns):
    fake_dns["hooks.merchant.test"] = ["93.184.215.14"]
    with pytest.raises(ValidationError) as error:
        validate_outbound_url(url)
    assert error.value.code == code


def test_a_name_that_changes_between_check_and_connect_is_refused(
    monkeypatch, no_connections, nothing_allowed
):
    """The hardened session resolves again, checks that answer and connects to it."""
    answers = iter(["93.184.215.14", "10.0.0.7"])

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), int(port or 0)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(OutboundFailed, match="refused: address not allowed"):
        _post("http://rebinding.merchant.test/")
    assert no_connections == []


class _Server:
    def __init__(self, handler_body) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                handler_body(self)

            def log_message(self, *args):
                pass

        self.hits = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_redirect_is_an_answer_not_followed(no_connections):
    target = _Server(lambda h: (h.send_response(200), h.end_headers()))
    hits: list[str] = []

    def redirect(handler):
        hits.append(handler.path)
        handler.send_response(302)
        handler.send_header("Location", target.url)
        handler.end_headers()

    source = _Server(redirect)
    try:
        response = _post(source.url)
    finally:
        source.close()
        target.close()
    assert response.status_code == 302
    assert hits == ["/hooks"] and len(no_connections) == 1  # the target never saw a request


def test_a_closed_port_is_a_plain_connection_failure(no_connections):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends
    with pytest.raises(OutboundFailed) as failed:
        _post(f"http://127.0.0.1:{port}/")
    assert failed.value.reason == "connection failed"
    assert str(port) not in str(failed.value)


def test_a_receiver_that_hangs_times_out(no_connections):
    server = _Server(lambda h: time.sleep(3))
    try:
        with pytest.raises(OutboundFailed) as failed:
            outbound_post(server.url, body=b"{}", headers={}, timeout=0.5)
    finally:
        server.close()
    assert failed.value.reason == "timed out"


def test_loopback_is_called_only_when_the_allow_list_names_it(settings, no_connections):
    server = _Server(lambda h: (h.send_response(204), h.end_headers()))
    try:
        settings.OMS_OUTBOUND_ALLOW_ADDRESSES = []
        with pytest.raises(OutboundFailed, match="refused"):
            _post(server.url)
        assert no_connections == []
        settings.OMS_OUTBOUND_ALLOW_ADDRESSES = ["127.0.0.0/8"]
        assert _post(server.url).status_code == 204
    finally:
        server.close()


def test_the_allow_list_takes_loopback_only(settings):
    for entry in ("10.0.0.0/8", "169.254.169.254", "93.184.215.14", "localhost"):
        settings.OMS_OUTBOUND_ALLOW_ADDRESSES = [entry]
        with pytest.raises(ImproperlyConfigured):
            outbound.allowed_networks()


def test_production_settings_allow_nothing_by_default():
    import importlib
    import os
    from unittest import mock

    env = {"DJANGO_SECRET_KEY": "k" * 60}
    with mock.patch.dict(os.environ, env):
        os.environ.pop("OMS_OUTBOUND_ALLOW_ADDRESSES", None)
        production = importlib.import_module("oms.settings_production")
        production = importlib.reload(production)
    assert production.OMS_OUTBOUND_ALLOW_ADDRESSES == []
