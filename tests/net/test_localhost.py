"""Plain http is allowed to ``localhost`` because it is this machine; the name is taken on
trust by the URL policy, so the connection itself checks it: one to ``localhost`` that lands
on an address off this machine (a resolver or hosts file pointing it elsewhere) is closed
before a byte, a bearer token least of all, is sent."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from cds_b12.net.http import HttpClient, HttpError, deadline_in
from cds_b12.net.urls import parse

from .support import Listener


def this_machines_other_address() -> str:
    """This machine's address on its default route: not loopback, yet reachable here."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("198.51.100.1", 9))  # no packet is sent for a UDP connect
        return probe.getsockname()[0]


def get(url: str) -> bytes:
    client = HttpClient(connect_timeout=5, read_timeout=5)
    try:
        answer = client.request(
            "GET",
            parse(url),
            deadline=deadline_in(10),
            max_bytes=1024,
            headers={"Authorization": "Bearer secret-token-1234"},
        )
    finally:
        client.close()
    return answer.body


@pytest.fixture
def elsewhere(monkeypatch: pytest.MonkeyPatch) -> Iterator[Listener]:
    """A listener on this machine's other address, where ``localhost`` now resolves."""
    address = this_machines_other_address()
    assert not address.startswith("127.")
    listener = Listener(host=address)
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        return real(address if host == "localhost" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    yield listener
    listener.close()


def test_localhost_resolving_off_this_machine_is_not_sent_anything(elsewhere):
    with pytest.raises(HttpError, match="localhost is not this machine"):
        get(f"http://localhost:{elsewhere.port}/fhir/metadata")
    assert get(f"http://{elsewhere.host}:{elsewhere.port}/fhir/metadata") == b"{}"  # it serves
    assert elsewhere.requests[-1].startswith(b"GET /fhir/metadata")
    assert not any(b"secret-token-1234" in r for r in elsewhere.requests[:-1])


def test_https_to_localhost_off_this_machine_sends_no_client_hello(elsewhere):
    """The TLS ClientHello names the host (SNI): the address is checked on the plain socket,
    before the handshake, so the listener reads nothing at all."""
    with pytest.raises(HttpError, match="localhost is not this machine"):
        get(f"https://localhost:{elsewhere.port}/fhir/metadata")
    # the client has closed already; wait for the listener's thread to accept and read it
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (
        elsewhere.connections == 0 or len(elsewhere.requests) < elsewhere.connections
    ):
        time.sleep(0.01)
    assert elsewhere.connections >= 1
    assert elsewhere.requests == [b""] * elsewhere.connections


def test_localhost_on_this_machine_is_reached():
    listener = Listener()
    try:
        assert get(f"http://localhost:{listener.port}/fhir/metadata") == b"{}"
    finally:
        listener.close()
