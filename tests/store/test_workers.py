"""A real multi-worker ``cds-b12 serve`` on each backend: what one worker knows, the others
know too. A replayed token is refused whichever worker it reaches, one after another or all
at once; feedback finds its card whichever worker wrote (or has not yet written) the card.
Replicas behind a load balancer share the database the same way."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import date

import pytest
import requests
from sqlalchemy import create_engine, select, text

from cds_b12.store.db import Database
from cds_b12.store.report import report
from cds_b12.store.schema import Feedback

from ..api.support import scenario_named, scenario_request
from ..auth.support import ISS, PUBLIC_URL, SERVICE_PATH, issuer_config, make_token
from ..serving import ServeProcess, service_env
from .support import LONG_AGO, accepted, counts

WORKERS = 4


def request_lines(server: ServeProcess) -> list[dict]:
    lines = []
    for line in server.log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("logger") == "cds_b12.request":
                lines.append(record)
    return lines


def authenticating(start_server) -> ServeProcess:
    return start_server(
        workers=WORKERS,
        trusted_issuers=json.dumps({ISS: issuer_config()}),
        public_url=PUBLIC_URL,
    )


def r1_call() -> tuple[str, dict]:
    return scenario_request(scenario_named("R1-start-neuro-loading/pa-neuro"), as_of=date.today())


def test_a_replayed_token_is_refused_by_every_worker(start_server):
    """Without Redis: 2 of 20 were accepted on new connections, 2 of 16 concurrently, one
    per worker, when each worker kept the jti values it had seen in its own memory."""
    server = authenticating(start_server)
    _, body = r1_call()

    def call(token: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return requests.post(
            f"{server.base}{SERVICE_PATH}", json=body, headers=headers, timeout=30
        ).status_code

    token = make_token()
    one_by_one = [call(token) for _ in range(20)]  # a new connection each time
    assert sorted(one_by_one) == [200] + [401] * 19, server.output()

    token = make_token()
    start = threading.Barrier(16)
    at_once: list[int] = []

    def racer() -> None:
        start.wait()
        at_once.append(call(token))

    threads = [threading.Thread(target=racer) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(at_once) == [200] + [401] * 15, server.output()

    answered_by = {line["pid"] for line in request_lines(server) if line["path"] == SERVICE_PATH}
    assert len(answered_by) >= 2, "every call reached one worker: the test proved nothing"
    assert call(make_token()) == 200  # a fresh token still goes through


def test_feedback_finds_its_card_whichever_worker_it_reaches(start_server, db_url):
    server = start_server(workers=WORKERS)
    service, body = r1_call()
    feedback = f"/cds-services/{service}/feedback"
    cards = []
    for _ in range(12):
        response = server.post(f"/cds-services/{service}", body)
        assert response.status_code == 200, server.output()
        (card,) = response.json()["cards"]
        cards.append(card)
        # at once, on a new connection: often another worker, before the audit row is written;
        # answered long ago, so it holds nothing and the next call gets its card again
        entry = accepted(card["uuid"], card["suggestions"][0]["uuid"], LONG_AGO)
        assert server.post(feedback, {"feedback": [entry]}).status_code == 200
    assert_all_counted(Database(db_url), cards)
    assert len({line["pid"] for line in request_lines(server)}) >= 2


@pytest.fixture
def pg_server(pg_url, tmp_path) -> Iterator[ServeProcess]:
    env = service_env(database_url=pg_url, data_dir=str(tmp_path / "data"))
    server = ServeProcess(env, tmp_path / "serve.log", workers=WORKERS).start()
    yield server
    server.kill()


def test_on_postgresql_feedback_waits_for_no_audit_row_and_still_counts(pg_server, pg_url):
    """Deterministic: every worker's audit writer is held up (the hook_call table is locked),
    so each card's row is written after its feedback, by whichever worker issued it."""
    server = pg_server
    service, body = r1_call()
    holder = create_engine(pg_url)
    cards = []
    with holder.connect() as conn:
        conn.execute(text("LOCK TABLE hook_call IN EXCLUSIVE MODE"))  # readers still read
        for _ in range(6):
            response = server.post(f"/cds-services/{service}", body)
            assert response.status_code == 200, server.output()
            cards.append(response.json()["cards"][0])
        started = time.monotonic()
        for card in cards:
            entry = accepted(card["uuid"], card["suggestions"][0]["uuid"])
            response = server.post(f"/cds-services/{service}/feedback", {"feedback": [entry]})
            assert response.status_code == 200
        assert time.monotonic() - started < 20
        db = Database(pg_url)
        assert counts(db) == {"hook_call": 0, "issued_card": 0, "feedback": 6}
        conn.rollback()  # the writers go on
    holder.dispose()
    assert_all_counted(db, cards)


def assert_all_counted(db: Database, cards: list[dict]) -> None:
    deadline = time.monotonic() + 20
    while counts(db)["issued_card"] < len(cards):
        assert time.monotonic() < deadline, f"audit not written: {counts(db)}"
        time.sleep(0.05)
    with db.session() as session:
        assert set(session.scalars(select(Feedback.known_card))) == {True}
    (row,) = report(db)
    assert (row.rule, row.issued, row.feedback, row.accepted) == (
        "R1-start-neuro-loading",
        len(cards),
        len(cards),
        len(cards),
    )


def test_the_real_server_refuses_a_rebound_host_name(start_server):
    """What gunicorn passes on is what the app checks: the browser's own Host header.
    One server for every host name: starting one is most of the cost."""
    server = start_server(workers=1)
    port = server.base.rsplit(":", 1)[1]
    for host in ("rebind.example", "127.0.0.1.nip.io", "192.168.0.7"):
        refused = requests.get(
            f"{server.base}/cds-services", headers={"Host": f"{host}:{port}"}, timeout=10
        )
        assert refused.status_code == 400, host
        assert refused.json()["resourceType"] == "OperationOutcome", host
        assert requests.get(f"{server.base}/cds-services", timeout=10).status_code == 200
