"""What a failed request says: a few fixed words chosen by what failed (the exception's type
and what it wraps), never by its message, which quotes the URL: a path with "timeout",
"certificate" or "refused" in it says nothing about why its connection failed."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest
from pytest_httpserver import HTTPServer

from cds_b12.net.http import HttpClient, HttpError, deadline_in
from cds_b12.net.urls import parse

from ..auth.tls import make_tls
from ..serving import free_port
from .support import DroppingServer, Listener, Scripted, hang, truncated

PATH = "/timeout/certificate/refused/fhir/Patient/1"  # words a message-matcher would key on
UNKNOWN_HOST = "no-such-host.example"


def reason(url: str, *, read_timeout: float = 5.0) -> str:
    client = HttpClient(connect_timeout=2, read_timeout=read_timeout)
    try:
        with pytest.raises(HttpError) as caught:
            client.request("GET", parse(url), deadline=deadline_in(10), max_bytes=1024)
    finally:
        client.close()
    return caught.value.reason


@pytest.fixture
def scripted() -> Iterator[Callable[..., Scripted]]:
    made: list[Scripted] = []

    def make(script: Callable[[socket.socket, threading.Event], None]) -> Scripted:
        made.append(Scripted(script))
        return made[-1]

    yield make
    for server in made:
        server.close()


def stalls_mid_body(conn: socket.socket, stopping: threading.Event) -> None:
    """Headers and half the body, then nothing."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}   ")
    stopping.wait(60)


def test_a_refused_connection():
    assert reason(f"http://127.0.0.1:{free_port()}{PATH}") == "connection refused"


def test_an_unknown_host_name(monkeypatch):
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if host == UNKNOWN_HOST:
            raise socket.gaierror(socket.EAI_NONAME, "Der Name oder der Dienst ist nicht bekannt")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    assert reason(f"http://{UNKNOWN_HOST}{PATH}") == "host name not found"


def test_a_connection_dropped_unanswered():
    server = DroppingServer(b"{}", answer=False)
    try:
        assert reason(server.url(PATH)) == "cannot connect"
    finally:
        server.close()


def test_no_answer_within_the_read_timeout(scripted):
    assert reason(scripted(hang).url(PATH), read_timeout=0.3) == "timed out"


def test_a_body_that_stops_within_the_read_timeout(scripted):
    assert reason(scripted(stalls_mid_body).url(PATH), read_timeout=0.3) == "timed out"


def test_a_body_cut_short(scripted):
    assert reason(scripted(truncated).url(PATH)) == "the answer was cut short"


def test_an_untrusted_tls_certificate(tmp_path):
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=make_tls(tmp_path)[0])
    server.start()
    try:
        url = f"https://127.0.0.1:{server.port}{PATH}"
        assert reason(url) == "the TLS certificate was not accepted"
    finally:
        server.stop()


def test_tls_to_a_server_that_speaks_plain_http():
    listener = Listener()
    try:
        assert reason(f"https://127.0.0.1:{listener.port}{PATH}") == "cannot connect"
    finally:
        listener.close()
