"""Plain http is allowed to ``localhost`` because it is this machine; the name is taken on
trust by the URL policy, so the connection itself checks it: one to ``localhost`` that lands
on an address off this machine (a resolver or hosts file pointing it elsewhere) is closed
before a byte, a bearer token least of all, is sent."""

from __future__ import annotations

import socket

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


def test_localhost_resolving_off_this_machine_is_not_sent_anything(monkeypatch):
    address = this_machines_other_address()
    assert not address.startswith("127.")
    listener = Listener(host=address)
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        return real(address if host == "localhost" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    try:
        with pytest.raises(HttpError, match="localhost is not this machine"):
            get(f"http://localhost:{listener.port}/fhir/metadata")
        assert get(f"http://{address}:{listener.port}/fhir/metadata") == b"{}"  # it serves
    finally:
        listener.close()
    assert listener.requests[-1].startswith(b"GET /fhir/metadata")
    assert not any(b"secret-token-1234" in r for r in listener.requests[:-1])


def test_localhost_on_this_machine_is_reached():
    listener = Listener()
    try:
        assert get(f"http://localhost:{listener.port}/fhir/metadata") == b"{}"
    finally:
        listener.close()
