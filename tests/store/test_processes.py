"""Real ``cds-b12 serve`` processes on each backend: what a 200 promised survives kill -9 of
every process, and parallel clients through several workers store each entry exactly once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from itertools import cycle

import requests
from sqlalchemy import select

from cds_b12.store.db import Database
from cds_b12.store.report import report
from cds_b12.store.schema import Feedback

from ..api.support import scenario_named, scenario_request
from .support import LONG_AGO, accepted, counts, new_card, overridden

PV = "b12-patient-view"
FEEDBACK = f"/cds-services/{PV}/feedback"
START = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


def stored_cards(db_url: str) -> list[str]:
    with Database(db_url).session() as session:
        return list(session.scalars(select(Feedback.card_uuid)))


def audited(db: Database, calls: int) -> None:
    """Wait for the workers' audit writers: a call's row follows its answer within moments
    (it was never acknowledged, so it is not part of what kill -9 must preserve)."""
    deadline = time.monotonic() + 10
    while counts(db)["hook_call"] < calls:
        assert time.monotonic() < deadline, f"audit of {calls} calls not written: {counts(db)}"
        time.sleep(0.02)


def test_what_was_acknowledged_survives_kill_9_of_master_and_workers(start_server, db_url):
    server = start_server(workers=2)
    service, call = scenario_request(
        scenario_named("R1-start-neuro-loading/pa-neuro"), as_of=date.today()
    )
    response = server.post(f"/cds-services/{service}", call)
    assert response.status_code == 200, server.output()
    (card,) = response.json()["cards"]
    # answered long ago: no hold, so the call after the restart gets its card again
    body = {"feedback": [accepted(card["uuid"], card["suggestions"][0]["uuid"], LONG_AGO)]}
    db = Database(db_url)
    audited(db, 1)
    assert server.post(FEEDBACK, body).status_code == 200

    server.kill()  # SIGKILL to the whole process group, the moment the 200 arrived

    assert counts(db) == {"hook_call": 1, "issued_card": 1, "feedback": 1}
    (row,) = report(db)
    assert (row.rule, row.service, row.issued, row.feedback, row.accepted) == (
        "R1-start-neuro-loading",
        PV,
        1,
        1,
        1,
    )

    restarted = start_server(workers=2)  # on the same store, which it finds intact
    assert restarted.post(FEEDBACK, body).status_code == 200  # a resend after the crash
    assert restarted.post(f"/cds-services/{service}", call).status_code == 200
    audited(db, 2)
    assert counts(db) == {"hook_call": 2, "issued_card": 2, "feedback": 1}
    assert stored_cards(db_url) == [card["uuid"]]


def _entries(n: int) -> list[dict]:
    """Distinct cards and outcome times; both outcomes, with and without a reason."""
    made = []
    for i in range(n):
        when = (START + timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
        if i % 3 == 0:
            made.append(accepted(new_card(), new_card(), when=when))
        else:
            made.append(
                overridden(
                    new_card(),
                    code=f"reason-{i % 4}" if i % 2 else None,
                    comment=None if i % 2 else "seen",
                    when=when,
                )
            )
    return made


def _batches(entries: list[dict], sizes: tuple[int, ...] = (3, 4, 5, 6, 7)) -> list[dict]:
    batches, i = [], 0
    for size in cycle(sizes):
        if i >= len(entries):
            return batches
        batches.append({"feedback": entries[i : i + size]})
        i += size
    raise AssertionError("unreachable")


def test_eight_parallel_clients_store_500_entries_each_exactly_once(start_server, db_url):
    server = start_server(workers=2)
    entries = _entries(500)
    batches = _batches(entries)
    local = threading.local()

    def send(body: dict) -> int:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return server.post(FEEDBACK, body, local.session).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, batches))
    assert statuses == [200] * len(batches), server.output()
    cards = stored_cards(db_url)
    assert len(cards) == 500
    assert sorted(cards) == sorted(e["card"] for e in entries)


def test_the_same_body_sent_twice_at_the_same_moment_is_stored_once(start_server, db_url):
    server = start_server(workers=2)
    sessions = [requests.Session(), requests.Session()]
    for session in sessions:  # connections open before the race starts
        assert session.get(f"{server.base}/healthz", timeout=10).status_code == 200
    bodies = [{"feedback": _entries(3)} for _ in range(10)]
    for body in bodies:
        barrier = threading.Barrier(2)

        def send(
            session: requests.Session, body: dict = body, barrier: threading.Barrier = barrier
        ) -> int:
            barrier.wait(timeout=10)
            return server.post(FEEDBACK, body, session).status_code

        with ThreadPoolExecutor(max_workers=2) as pool:
            assert list(pool.map(send, sessions)) == [200, 200], server.output()
    cards = stored_cards(db_url)
    assert sorted(cards) == sorted(e["card"] for body in bodies for e in body["feedback"])
