"""Two replicas behind nginx, sharing PostgreSQL and Redis: what an operator relies on.

Every call goes through real nginx running ``deploy/nginx.conf``, over TLS, from a client
address of its own (127.0.0.2), with a JWT of a trusted EHR addressed to the public URL.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from uuid import uuid4

import pytest
import requests
from sqlalchemy import create_engine, select, text

from cds_b12.store.schema import Feedback, HookCall

from ..api.support import scenario_named, scenario_request
from ..api.test_metrics import samples, value
from ..auth.support import REDIS_URL
from ..serving import CDS_B12
from ..store.support import LONG_AGO, accepted, fresh_pg_database
from .topology import (
    CLIENT_ADDRESS,
    METRICS_TOKEN,
    Topology,
    start_topology,
    stop_topology,
)

SERVICE = "b12-patient-view"
SERVICE_PATH = f"/cds-services/{SERVICE}"
FEEDBACK_PATH = f"{SERVICE_PATH}/feedback"
MAX_BODY = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def topology(tmp_path_factory) -> Iterator[Topology]:
    with fresh_pg_database() as database_url:
        started = start_topology(tmp_path_factory.mktemp("topology"), database_url, REDIS_URL)
        try:
            yield started
        finally:
            stop_topology(started)


def hook_body() -> dict:
    _, body = scenario_request(scenario_named("R1-start-neuro-loading"))
    return {**body, "hookInstance": str(uuid4())}


def call(topology: Topology, body: dict | None = None) -> tuple[requests.Response, int]:
    """One hook call through nginx; the answer and the replica that gave it."""
    request_id = str(uuid4())
    response = topology.post(SERVICE_PATH, body or hook_body(), **{"X-Request-ID": request_id})
    return response, topology.replica_of(request_id)


def on_the_other_replica(topology: Topology, path: str, body: dict, than: int) -> requests.Response:
    """Send ``body`` through nginx until it reaches the replica other than ``than``;
    meant for requests whose resending is harmless (feedback is stored once)."""
    for _ in range(20):
        request_id = str(uuid4())
        response = topology.post(path, body, **{"X-Request-ID": request_id})
        if topology.replica_of(request_id) != than:
            return response
    raise AssertionError("nginx never chose the other replica")


def test_both_replicas_started_together_on_an_empty_database(topology):
    """The fixture launched both at once against a database nobody had migrated."""
    engine = create_engine(topology.database_url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            tables = set(
                conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                ).scalars()
            )
    finally:
        engine.dispose()
    assert len(versions) == 1
    assert {"hook_call", "issued_card", "feedback"} <= tables
    for replica in topology.replicas:
        assert requests.get(f"{replica.base}/healthz", timeout=5).status_code == 200
    health = topology.session.get(topology.url("/healthz"), timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ok"


def test_calls_through_nginx_reach_both_replicas(topology):
    replicas = {call(topology)[1] for _ in range(6)}
    assert replicas == {0, 1}


def test_a_jwt_replayed_to_the_other_replica_is_refused(topology):
    headers = topology.issuer.bearer(topology.aud(SERVICE_PATH))
    a, b = topology.replicas
    first = requests.post(f"{a.base}{SERVICE_PATH}", json=hook_body(), headers=headers, timeout=30)
    assert first.status_code == 200
    again = requests.post(f"{b.base}{SERVICE_PATH}", json=hook_body(), headers=headers, timeout=30)
    assert again.status_code == 401 and again.content == b""

    # and through nginx, whichever replica each attempt reaches
    replayed = topology.issuer.bearer(topology.aud(SERVICE_PATH))
    seen = set()
    for expected in (200, 401, 401):
        request_id = str(uuid4())
        response = topology.session.post(
            topology.url(SERVICE_PATH),
            json=hook_body(),
            headers={**replayed, "X-Request-ID": request_id},
            timeout=30,
        )
        assert response.status_code == expected
        seen.add(topology.replica_of(request_id))
    assert seen == {0, 1}, "the replay never reached the other replica"


def test_feedback_through_the_other_replica_finds_the_card_and_is_reported_once(topology):
    response, issuer_replica = call(topology)
    assert response.status_code == 200
    card = response.json()["cards"][0]
    # answered long ago: it holds nothing, so the later tests still get this patient's card
    entry = accepted(card["uuid"], card["suggestions"][0]["uuid"], LONG_AGO)
    body = {"feedback": [entry]}
    stored = on_the_other_replica(topology, FEEDBACK_PATH, body, than=issuer_replica)
    assert stored.status_code == 200
    # the EHR resends (say it missed the answer): harmless, wherever it lands
    for _ in range(3):
        assert topology.post(FEEDBACK_PATH, body).status_code == 200

    engine = create_engine(topology.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Feedback.known_card, Feedback.outcome).where(
                    Feedback.card_uuid == card["uuid"]
                )
            ).all()
    finally:
        engine.dispose()
    assert rows == [(True, "accepted")], "feedback did not find the card the other replica issued"

    report = subprocess.run(
        [CDS_B12, "report", "--json"],
        env=topology.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert report.returncode == 0, report.stderr
    (r1,) = [
        r
        for r in json.loads(report.stdout)["rules"]
        if r["rule"] == "R1-start-neuro-loading" and r["service"] == SERVICE
    ]
    assert r1["accepted"] == 1 and r1["feedback"] == 1


def test_the_audience_is_the_public_url_whatever_the_headers_say(topology):
    body = hook_body()
    inside = topology.replicas[0].base + SERVICE_PATH  # what the replica itself sees
    forged_host = "https://cds.attacker.example" + SERVICE_PATH
    for aud, headers in (
        (inside, {}),
        (forged_host, {"X-Forwarded-Host": "cds.attacker.example", "Host": "cds.attacker.example"}),
    ):
        response = topology.session.post(
            topology.url(SERVICE_PATH),
            json=body,
            headers={**topology.issuer.bearer(aud), **headers},
            timeout=30,
        )
        assert response.status_code == 401

    request_id = str(uuid4())
    response = topology.post(
        SERVICE_PATH, body, **{"X-Request-ID": request_id, "X-Forwarded-For": "203.0.113.9"}
    )
    assert response.status_code == 200
    replica = topology.replicas[topology.replica_of(request_id)]
    (line,) = [r for r in topology.requests_of(replica) if r.get("requestId") == request_id]
    # the client nginx saw, not nginx itself, and not what the client claimed to be
    assert line["client"] == CLIENT_ADDRESS


def test_body_size_matches_the_service_cap(topology):
    def body_of(size: int) -> bytes:
        head = b'{"hook": "patient-view", "pad": "'
        return head + b"x" * (size - len(head) - 2) + b'"}'

    headers = {
        **topology.issuer.bearer(topology.aud(SERVICE_PATH)),
        "Content-Type": "application/json",
    }
    at_cap = topology.session.post(
        topology.url(SERVICE_PATH), data=body_of(MAX_BODY), headers=headers, timeout=60
    )
    assert at_cap.status_code == 400  # nginx let it through; the service read it
    headers = {**headers, **topology.issuer.bearer(topology.aud(SERVICE_PATH))}
    over = topology.session.post(
        topology.url(SERVICE_PATH), data=body_of(MAX_BODY + 1), headers=headers, timeout=60
    )
    assert over.status_code == 413
    assert over.json()["resourceType"] == "OperationOutcome"


def test_a_slow_client_never_holds_a_replica(topology):
    """nginx takes the whole body first: the replica sees a fast request."""
    body = json.dumps(hook_body()).encode()
    request_id = str(uuid4())
    head = (
        f"POST {SERVICE_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{topology.nginx.port}\r\n"
        f"Authorization: Bearer {topology.issuer.token(topology.aud(SERVICE_PATH))}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"X-Request-ID: {request_id}\r\nConnection: close\r\n\r\n"
    ).encode()
    context = ssl.create_default_context(cafile=topology.nginx.ca_file)
    raw = socket.create_connection(("127.0.0.1", topology.nginx.port), timeout=30)
    chunks = 8
    with context.wrap_socket(raw, server_hostname="127.0.0.1") as conn:
        conn.sendall(head)
        step = len(body) // chunks + 1
        for i in range(0, len(body), step):
            conn.sendall(body[i : i + step])
            time.sleep(0.25)  # the whole body takes about 2 s
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")
    replica = topology.replicas[topology.replica_of(request_id)]
    (line,) = [r for r in topology.requests_of(replica) if r.get("requestId") == request_id]
    assert line["latency_ms"] < 1000, line


def test_metrics_are_scraped_per_replica_and_never_through_nginx(topology):
    def total() -> float:
        got = 0.0
        for replica in topology.replicas:
            response = requests.get(
                f"{replica.base}/metrics",
                headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
                timeout=10,
            )
            assert response.status_code == 200
            got += value(
                samples(response.text), "cds_b12_hook_calls_total", service=SERVICE, status="200"
            )
        return got

    before = total()
    for _ in range(4):
        assert call(topology)[0].status_code == 200
    assert total() - before == 4
    outside = topology.session.get(
        topology.url("/metrics"), headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
    )
    assert outside.status_code == 404


def test_sigkill_of_a_replica_loses_no_acknowledged_feedback(topology):
    """A steady stream of hook calls, each followed by feedback on its card, while one
    replica is killed outright: only the calls in flight at that moment may fail."""
    # past nginx's fail_timeout (5 s) after the kill, so it probes the dead replica again
    clients, kill_after, run_for = 4, 1.5, 8.0
    acknowledged: list[str] = []
    outcomes: list[tuple[float, float, bool]] = []  # (started, ended, ok) per request
    lock = threading.Lock()
    started_at = time.monotonic()
    stop = started_at + run_for

    def client() -> None:
        session = topology.new_session()
        while time.monotonic() < stop:
            t0 = time.monotonic()
            try:
                response = session.post(
                    topology.url(SERVICE_PATH),
                    json=hook_body(),
                    headers=topology.issuer.bearer(topology.aud(SERVICE_PATH)),
                    timeout=30,
                )
                ok = response.status_code == 200
            except requests.RequestException:
                ok = False
            with lock:
                outcomes.append((t0, time.monotonic(), ok))
            if not ok:
                continue
            card = response.json()["cards"][0]
            # answered long ago: it holds nothing, so the next call gets its card again
            entry = accepted(card["uuid"], card["suggestions"][0]["uuid"], LONG_AGO)
            t0 = time.monotonic()
            try:
                fb = session.post(
                    topology.url(FEEDBACK_PATH),
                    json={"feedback": [entry]},
                    headers=topology.issuer.bearer(topology.aud(FEEDBACK_PATH)),
                    timeout=30,
                )
                ok = fb.status_code == 200
            except requests.RequestException:
                ok = False
            with lock:
                outcomes.append((t0, time.monotonic(), ok))
                if ok:
                    acknowledged.append(card["uuid"])
        session.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    victim = topology.replicas[1]
    try:
        time.sleep(kill_after)
        assert victim.proc is not None
        killed_at = time.monotonic()
        os.killpg(victim.proc.pid, signal.SIGKILL)
        for thread in threads:
            thread.join(timeout=60)
        victim.proc.wait(timeout=10)
        victim.proc = None
    finally:
        if victim.proc is None:
            victim.start()  # the other tests keep their two replicas

    failed = [o for o in outcomes if not o[2]]
    in_flight = [o for o in failed if o[0] <= killed_at + 0.1]
    after = [o for o in outcomes if o[0] > killed_at + 0.1]
    assert len(outcomes) > 20, "the stream was too thin to tell anything"
    assert len(failed) <= clients, f"{len(failed)} failures, more than the {clients} in flight"
    assert in_flight == failed, "a call that started after the kill failed"
    assert after and all(ok for *_, ok in after)

    engine = create_engine(topology.database_url)
    try:
        with engine.connect() as conn:
            stored = set(
                conn.execute(
                    select(Feedback.card_uuid).where(Feedback.card_uuid.in_(acknowledged))
                ).scalars()
            )
            calls = conn.execute(select(HookCall.id)).all()
    finally:
        engine.dispose()
    assert acknowledged and stored == set(acknowledged)
    assert calls
    # probing the dead replica, nginx found it refusing and sent those calls to the other one
    retried = [e for e in topology.nginx.access_log() if "," in e["upstream"]]
    assert retried and all(e["status"] == 200 for e in retried)
    assert all(e["upstream"].startswith(f"127.0.0.1:{victim.port}") for e in retried)
