"""Slow FHIR servers and slow clients do not stall ``cds-b12 serve``.

Functional, not timed: each test checks what happens while a slow peer is still
slow (a call answered while others are stuck, a thread gone after the deadline),
with deadlines far longer than the work should take.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from functools import partial

import pytest
import requests

from cds_b12.hooks.fetch import FetchError, FhirClient, FhirServer, Limits
from cds_b12.net.worker import HEAD_SECONDS, wanted

from ..auth.support import (
    ISS,
    JKU_KEY,
    JKU_KID,
    PUBLIC_URL,
    fetching_body,
    issuer_config,
    make_token,
    prefetched_body,
)
from ..serving import ServeProcess, service_env, started
from .support import Scripted, Tricklers, drip

SERVICE = "/cds-services/b12-patient-view"
SLOW_ISS = "https://slow-keys-ehr.example.com"
QUERIES = {f"key{i}": f"Observation?i={i}" for i in range(8)}


@pytest.fixture
def dripping() -> Iterator[Scripted]:
    server = Scripted(partial(drip, every=1.0))
    yield server
    server.close()


def fetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("fhir-fetch")]


def test_no_fetch_thread_outlives_the_deadline(dripping):
    client = FhirClient(Limits(connect_timeout=2, read_timeout=5, deadline=1.5))
    try:
        results = client.fetch_all(FhirServer(dripping.url("/fhir"), "tok"), QUERIES)
        assert fetch_threads() == []  # checked the moment the call returns
    finally:
        client.session.close()
    assert all(isinstance(r, FetchError) for r in results.values())
    assert {r.reason for r in results.values()} == {"no answer within the 1.5 s deadline"}
    dripping.wait_idle()  # and the sockets were shut, not left dripping


def test_a_call_with_no_slot_for_its_server_gets_its_answer_at_once(dripping):
    client = FhirClient(Limits(deadline=120, calls_per_server=1, calls=8))
    server = FhirServer(dripping.url("/fhir"))
    pool = ThreadPoolExecutor(2)
    try:
        fetching = pool.submit(client.fetch_all, server, QUERIES)
        dripping.wait_open()
        waiting = pool.submit(client.fetch_all, server, QUERIES)
        while client.bulkhead.busy()["waiting"] < 1:
            threading.Event().wait(0.01)
        refused = client.fetch_all(server, QUERIES)  # no room to wait: answered now
        assert not fetching.done() and not waiting.done()
    finally:
        dripping.close()  # the stuck fetches end
        wait([fetching, waiting], timeout=60)
        pool.shutdown()
        client.session.close()
    assert {r.reason for r in refused.values()} == {
        "2 calls are already fetching from or waiting for this FHIR server"
    }


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    store = tmp_path_factory.mktemp("slow-peers")
    env = service_env(store, fhir_deadline="15")  # the largest allowed: stuck for the whole test
    with started(env, store / "serve.log") as running:
        yield running


def test_full_prefetch_calls_are_answered_while_fallback_calls_are_stuck(service, dripping):
    """16 calls whose data must come from a FHIR server that drips: a few per worker hold
    a slot until their deadline, the rest get 412 at once, and a call with full prefetch
    is answered meanwhile."""
    stuck_body = json.dumps(fetching_body(dripping.url("/fhir"))).encode()
    post = partial(
        requests.post,
        service.base + SERVICE,
        headers={"Content-Type": "application/json"},
        timeout=120,
    )
    pool = ThreadPoolExecutor(16)
    try:
        stuck = [pool.submit(post, data=stuck_body) for _ in range(16)]
        dripping.wait_open()
        wait(stuck, timeout=30, return_when="FIRST_COMPLETED")
        answered = post(json=prefetched_body())
        pending = sum(not f.done() for f in stuck)
        refused_at_once = [f.result() for f in stuck if f.done()]
    finally:
        dripping.close()
        wait(stuck, timeout=120)
        pool.shutdown()
    assert answered.status_code == 200 and answered.json()["cards"]
    assert pending > 0, "the full-prefetch call should not have waited for the stuck calls"
    assert len(refused_at_once) >= 4  # each worker admits 3 fetching and 3 waiting
    for response in refused_at_once:
        assert response.status_code == 412
        assert "this FHIR server" in response.json()["issue"][0]["diagnostics"]


def test_health_probes_are_answered_while_32_clients_trickle_their_headers(service):
    tricklers = Tricklers(
        int(service.base.rsplit(":", 1)[1]),
        count=32,
        every=1.0,
        payload=b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"x" * 200,
    )
    try:
        tricklers.wait_connected(32)
        probes = [requests.get(service.base + "/healthz", timeout=10) for _ in range(10)]
    finally:
        tricklers.stop()
    assert [p.status_code for p in probes] == [200] * 10


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Name: b\r\n\r\n", 400),
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-%d: a\r\n" % i for i in range(120))
            + b"\r\n",
            431,
        ),
    ],
    ids=["nul-in-header", "space-in-name", "long-line", "too-many-headers"],
)
def test_errors_gunicorn_answers_itself_are_operation_outcomes(service, request_bytes, status):
    port = int(service.base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request_bytes)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ", 2)[1] == str(status).encode()
    assert b"Content-Type: application/fhir+json" in head
    outcome = json.loads(body)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["severity"] == "error"
    assert b"<html>" not in answer


def test_a_request_head_that_never_ends_gets_408_and_the_connection_closed(service):
    port = int(service.base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=HEAD_SECONDS + 30) as sock:
        sock.sendall(b"POST /cds-services/b12-patient-view HTTP/1.1\r\nHost: x\r\n")
        answer = b""
        while chunk := sock.recv(65536):  # returns once the service hangs up
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert json.loads(body)["issue"][0]["code"] == "timeout"


@pytest.mark.parametrize(
    ("data", "body"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n", None),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0),
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", 5),
        (b"POST / HTTP/1.1\r\ncontent-length:5\r\n\r\n", 5),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 0),
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n", 0),
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 0),
        (b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 0),
    ],
    ids=["partial-head", "head", "body", "body-lower-case", "chunked", "expect", "two", "huge"],
)
def test_the_worker_buffers_a_head_and_a_small_body_and_nothing_else(data, body):
    """How much the event loop reads before a thread takes the request (the head, and the
    body it announces): a chunked body, one awaiting 100 Continue, an ambiguous length or
    a large body are left to the thread."""
    head = data.find(b"\r\n\r\n") + 4
    assert wanted(data) == (None if body is None else head + body)


@pytest.fixture(scope="module")
def slow_keys() -> Iterator[Scripted]:
    server = Scripted(partial(drip, every=1.0))
    yield server
    server.close()


@pytest.fixture(scope="module")
def authenticating(tmp_path_factory, slow_keys) -> Iterator[ServeProcess]:
    issuers = {SLOW_ISS: {"jwks_url": slow_keys.url("/jwks.json")}, ISS: issuer_config()}
    store = tmp_path_factory.mktemp("slow-keys")
    env = service_env(store, trusted_issuers=json.dumps(issuers), public_url=PUBLIC_URL)
    with started(env, store / "serve.log") as running:
        yield running


def test_a_slow_jwks_leaves_health_probes_and_other_issuers_answered(authenticating, slow_keys):
    post = partial(requests.post, authenticating.base + SERVICE, json=prefetched_body())
    slow_token = partial(make_token, iss=SLOW_ISS, key=JKU_KEY, kid=JKU_KID)
    pool = ThreadPoolExecutor(40)
    try:
        stuck = [
            pool.submit(post, headers={"Authorization": f"Bearer {slow_token()}"}, timeout=120)
            for _ in range(40)
        ]
        slow_keys.wait_open()
        probes = [requests.get(authenticating.base + "/healthz", timeout=10) for _ in range(5)]
        other = post(headers={"Authorization": f"Bearer {make_token()}"}, timeout=10)
        still_fetching = slow_keys.open
    finally:
        slow_keys.close()
        wait(stuck, timeout=120)
        pool.shutdown()
    assert [p.status_code for p in probes] == [200] * 5
    assert other.status_code == 200 and other.json()["cards"]
    assert still_fetching >= 1  # all that while, the slow key fetch was still dripping
    assert {f.result().status_code for f in stuck} == {401}


def test_a_head_ended_by_bare_newlines_goes_to_the_parser_at_once():
    data = b"GET / HTTP/1.1\nHost: x\n\n"
    assert wanted(data) == len(data)  # gunicorn's parser answers it (400), not a 408 later


def test_requests_kept_alive_or_pipelined_on_one_connection_are_each_answered(service):
    """The worker reads a kept-alive connection's next request as soon as the poller has
    seen it readable, and one sent right behind another (pipelined) is answered after it."""
    port = int(service.base.rsplit(":", 1)[1])
    probe = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        statuses = []
        for data in (probe, probe, probe * 2):
            sock.sendall(data)
            statuses += _responses(sock, data.count(b"GET "))
    assert statuses == [b"200"] * 4


def _responses(sock: socket.socket, count: int) -> list[bytes]:
    """The status codes of the next ``count`` responses on ``sock`` (each with a length)."""
    data, statuses = b"", []
    while len(statuses) < count:
        head, found, rest = data.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n")[0]) if found else 0
        if found and len(rest) >= length:
            statuses.append(head.split(b" ", 2)[1])
            data = rest[length:]
            continue
        chunk = sock.recv(65536)
        assert chunk, "the service closed the connection"
        data += chunk
    return statuses
