"""The SSRF guard's answer is what the connection uses: no second DNS lookup to rebind."""

from __future__ import annotations

import ipaddress
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from cxloop.act.webhooks import PinnedTransport, deliver
from tests.act.conftest import Receiver

LOOPBACK = ipaddress.ip_address("127.0.0.1")


def _port(receiver: Receiver) -> str:
    return receiver.url.rsplit(":", 1)[1]


def test_a_host_name_that_resolves_to_loopback_is_refused(receiver: Receiver) -> None:
    result = deliver(f"http://localhost:{_port(receiver)}/hook", b"{}", {}, timeout=5)
    assert not result.ok and not result.retryable
    assert result.error is not None and result.error.startswith("refused: localhost resolves to")
    assert "loopback" in result.error
    assert receiver.requests == []


def test_a_loopback_host_name_is_called_when_an_admin_allows_private_targets(
    receiver: Receiver,
) -> None:
    url = f"http://localhost:{_port(receiver)}/hook"
    result = deliver(url, b'{"a": 1}', {}, timeout=5, allow_private=True)
    assert result.ok and result.status == 200
    (got,) = receiver.requests
    assert (got.path, got.body, got.headers["host"]) == (
        "/hook",
        b'{"a": 1}',
        f"localhost:{_port(receiver)}",
    )


def test_the_transport_connects_to_the_pinned_address_keeping_the_host_header(
    receiver: Receiver,
) -> None:
    # .invalid never resolves (RFC 2606): the answer can only come from the pinned address
    url = f"http://rebind.invalid:{_port(receiver)}/hook"
    with httpx.Client(transport=PinnedTransport(LOOPBACK), trust_env=False) as client:
        assert client.post(url, content=b"x").status_code == 200
    (got,) = receiver.requests
    assert got.headers["host"] == f"rebind.invalid:{_port(receiver)}"


def test_delivery_uses_the_address_the_guard_checked() -> None:
    seen: list[httpx.Request] = []

    def network(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    lookups = iter([["93.184.216.34"], ["127.0.0.1"]])  # a rebinding DNS server's answers
    result = deliver(
        "https://hooks.example.com/cx",
        b"{}",
        {},
        resolve=lambda host, port: next(lookups),
        transport=httpx.MockTransport(network),
    )
    assert result.ok
    (request,) = seen
    assert request.url.host == "93.184.216.34"
    assert request.headers["host"] == "hooks.example.com"
    assert request.extensions["sni_hostname"] == "hooks.example.com"


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path, list[str | None]]]:
    """An HTTPS server on 127.0.0.1 whose certificate names only ``hooks.test``; it records
    the TLS server name each client asked for."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=hooks.test", "-addext", "subjectAltName=DNS:hooks.test"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1], cert, names
    finally:
        server.shutdown()
        server.server_close()


def test_tls_checks_the_certificate_of_the_url_host_not_of_the_pinned_address(
    tls_server: tuple[int, Path, list[str | None]],
) -> None:
    port, cert, names = tls_server
    trust = ssl.create_default_context(cafile=str(cert))

    def client() -> httpx.Client:
        inner = httpx.HTTPTransport(verify=trust, trust_env=False)
        return httpx.Client(transport=PinnedTransport(LOOPBACK, inner), trust_env=False)

    with client() as c:
        assert c.get(f"https://hooks.test:{port}/").status_code == 200
    assert names[-1] == "hooks.test"
    with client() as c, pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        c.get(f"https://other.test:{port}/")  # pinned to the same server, wrong name
    assert names[-1] == "other.test"
