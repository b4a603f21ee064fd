"""Requests gunicorn refuses itself (a malformed header or request line) are logged
without what they carried: gunicorn's own warning quotes the offending line, which may
hold the caller's JWT or a SMART callback's ``code`` and ``state``. Through a real
``cds-b12 serve``, reading everything it wrote."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from gunicorn.config import Config

from cds_b12.net.worker import ErrorLog

from ..auth.support import make_token
from ..serving import ServeProcess, service_env, started

TOKEN = make_token()
CODE, STATE = "Secret-Auth-Code-4711", "Secret-State-0815"
HEAD = "GET /cds-services HTTP/1.1\r\nHost: x\r\n"
REFUSED = {
    "header-without-a-colon": f"{HEAD}Authorization Bearer {TOKEN}\r\n\r\n",
    "header-name-with-a-space": f"{HEAD}Authorization Bearer {TOKEN}: x\r\n\r\n",
    "oversized-authorization-header": f"{HEAD}Authorization: Bearer {TOKEN}{'A' * 9000}\r\n\r\n",
    "control-character-in-the-query": (
        f"GET /timeline/callback?code={CODE}&state={STATE}\x7f HTTP/1.1\r\nHost: x\r\n\r\n"
    ),
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    store = tmp_path_factory.mktemp("refused-requests")
    with started(service_env(store), store / "serve.log", workers=1) as running:
        yield running


def send(service: ServeProcess, data: str) -> bytes:
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
        sock.sendall(data.encode("latin-1"))
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("data", REFUSED.values(), ids=REFUSED)
def test_a_refused_request_is_logged_without_its_secrets(service, data):
    before = len(service.output())
    answer = send(service, data)
    assert answer.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 431 "))  # 431: over 8 KB
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["resourceType"] == "OperationOutcome"
    logged = service.output()[before:]
    assert "Invalid request from ip=127.0.0.1" in logged  # the refusal itself is still logged
    for secret in (*TOKEN.split(".")[1:], CODE, STATE):  # the header segment is no secret
        assert secret not in logged


def test_the_error_log_keeps_the_kind_of_refusal_and_the_path_only(capsys):
    """The same for a client on IPv6, and for gunicorn's line about a request that failed
    past the parser, which names its URI."""
    log = ErrorLog(Config())
    log.warning(f"Invalid request from ip=::1: Invalid HTTP Header: 'Authorization {TOKEN}'")
    try:
        raise RuntimeError("a failure")
    except RuntimeError:
        log.exception(
            "Error handling request %s %s", "GET", f"/timeline/callback?code={CODE}&state={STATE}"
        )
    logged = capsys.readouterr().err
    assert "Invalid request from ip=::1: Invalid HTTP Header\n" in logged
    assert "Error handling request GET /timeline/callback\n" in logged
    for secret in (*TOKEN.split(".")[1:], CODE, STATE):
        assert secret not in logged
