"""Feedback counts for a card only from the EHR it was issued to (issuer and tenant), at the
service that issued it, whichever of the card's audit row and the feedback is written first.
Feedback from anyone else is stored as about an unknown card, answered with the same 200."""

from __future__ import annotations

import random
import threading
import time

import pytest
from sqlalchemy import event, select

from cds_b12.hooks.feedback import parse_feedback
from cds_b12.store.db import Database
from cds_b12.store.records import CallRecord, record_calls, record_feedback
from cds_b12.store.report import UNKNOWN_CARD, report
from cds_b12.store.schema import Feedback

from ..auth.support import (
    FEEDBACK_AUD,
    ISS,
    ISS_TENANTED,
    SERVICE_PATH,
    TENANT,
    auth_app,
    bearer,
    issuer_config,
    make_token,
    prefetched_body,
)
from .support import accepted, new_card, overridden

PV, OS = "b12-patient-view", "b12-order-select"
A, B = "https://ehr-a.example.org", "https://ehr-b.example.org"
RULE = "R11-maintenance-overdue"


def call(card: str, issuer: str | None = A, tenant: str | None = None, service: str = PV):
    return CallRecord(
        service,
        "patient-view",
        f"hi-{card}",
        issuer,
        tenant,
        "k" * 64,
        "US",
        [(RULE, {"uuid": card, "indicator": "warning", "suggestions": []})],
    )


def send(db, card, issuer=A, tenant=None, service=PV, **entry) -> int:
    body = {"feedback": [overridden(card, code=entry.get("code", "not-relevant"))]}
    return record_feedback(db, service, parse_feedback(body), issuer=issuer, tenant=tenant)


def known(db: Database) -> list[tuple[str | None, str | None, bool]]:
    with db.session() as session:
        return [
            tuple(r)
            for r in session.execute(
                select(Feedback.issuer, Feedback.tenant, Feedback.known_card).order_by(Feedback.id)
            )
        ]


def rows(db: Database) -> list[tuple]:
    return [(r.rule, r.service, r.issued, r.feedback, r.overridden) for r in report(db)]


def test_another_issuers_feedback_is_unknown_and_does_not_hide_the_owners(store):
    """B could send feedback on A's card: it was stored as a known card under B, and A's own
    identical feedback was then dropped as a duplicate."""
    card = new_card()
    record_calls(store, [call(card, issuer=A)])
    assert send(store, card, issuer=B) == 1
    assert send(store, card, issuer=A) == 1  # not a duplicate of B's
    assert send(store, card, issuer=A) == 0  # a resend is
    assert known(store) == [(B, None, False), (A, None, True)]
    assert rows(store) == [(RULE, PV, 1, 1, 1), (UNKNOWN_CARD, PV, 0, 1, 1)]


@pytest.mark.parametrize(
    ("issued_to", "sent_by"),
    [
        ((A, "t1"), (A, "t2")),
        ((A, "t1"), (A, None)),
        ((A, None), (A, "t1")),
        ((None, None), (A, None)),  # a card issued with auth off, feedback with a token
        ((A, None), (None, None)),
    ],
    ids=["other-tenant", "no-tenant", "tenant-added", "issuer-added", "issuer-missing"],
)
def test_a_card_counts_only_for_its_own_issuer_and_tenant(store, issued_to, sent_by):
    card = new_card()
    record_calls(store, [call(card, *issued_to)])
    send(store, card, *sent_by)
    send(store, card, *issued_to)
    assert [k for *_, k in known(store)] == [False, True]
    assert rows(store) == [(RULE, PV, 1, 1, 1), (UNKNOWN_CARD, PV, 0, 1, 1)]


def test_feedback_at_another_service_is_not_about_its_card(store):
    card = new_card()
    record_calls(store, [call(card, service=PV)])
    send(store, card, service=OS)
    assert rows(store) == [(RULE, PV, 1, 0, 0), (UNKNOWN_CARD, OS, 0, 1, 1)]


def test_feedback_written_before_its_card_counts_once_the_card_is_written(store):
    """Another worker's (or replica's) audit writer has not written the card yet."""
    card, other = new_card(), new_card()
    send(store, card, issuer=A, tenant="t1")
    send(store, card, issuer=B)
    send(store, other, issuer=A)
    assert [k for *_, k in known(store)] == [False, False, False]
    record_calls(store, [call(card, A, "t1"), call(new_card())])
    assert [k for *_, k in known(store)] == [True, False, False]
    assert rows(store) == [(RULE, PV, 2, 1, 1), (UNKNOWN_CARD, PV, 0, 2, 2)]


def test_cards_and_their_feedback_racing_each_other_always_meet(store):
    """Two writers at once, one with the cards and one with their feedback, each in its own
    transaction: on PostgreSQL a transaction cannot see the other's uncommitted rows, so
    without a lock both could miss each other."""
    cards = [new_card() for _ in range(60)]
    order = cards[:]
    random.Random(12).shuffle(order)
    start = threading.Barrier(2)
    errors: list[BaseException] = []
    writers = [Database(store.url), Database(store.url)]

    def issue() -> None:
        start.wait()
        for card in cards:
            record_calls(writers[0], [call(card)])

    def feed() -> None:
        start.wait()
        for card in order:
            send(writers[1], card)

    def run(target):
        try:
            target()
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in (issue, feed)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert [k for *_, k in known(store)] == [True] * len(cards)
    assert rows(store) == [(RULE, PV, 60, 60, 60)]
    for db in writers:
        db.dispose()


def test_on_postgresql_the_later_transaction_waits_and_sees_the_earlier(pg_url):
    """The one interleaving that loses a match under READ COMMITTED, forced: the audit
    writer has inserted the card, then the feedback is inserted and checked (no card yet:
    uncommitted), and before the feedback commits the writer checks for feedback (none
    yet: uncommitted). The per-card lock makes the writer wait for the feedback's commit.
    (SQLite serializes writing transactions, so there this cannot happen.)"""
    store = Database(pg_url)
    store.upgrade()
    card = new_card()
    cards_in, feedback_checked = threading.Event(), threading.Event()
    writer, receiver = Database(pg_url), Database(pg_url)

    @event.listens_for(writer.engine, "before_cursor_execute")
    def after_the_insert(conn, cursor, statement, *args) -> None:
        if not cards_in.is_set() and statement.lstrip().upper().startswith(
            ("SELECT PG_", "UPDATE")
        ):
            cards_in.set()
            assert feedback_checked.wait(10)

    @event.listens_for(receiver.engine, "commit")
    def before_the_commit(conn) -> None:
        feedback_checked.set()
        time.sleep(1.0)  # the writer's check runs now, unless it waits for this commit

    def feed() -> None:
        assert cards_in.wait(10)
        send(receiver, card)

    threads = [
        threading.Thread(target=record_calls, args=(writer, [call(card)])),
        threading.Thread(target=feed),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert feedback_checked.is_set()
    assert known(store) == [(A, None, True)]
    for db in (writer, receiver, store):
        db.dispose()


def test_through_the_service_with_two_issuers_and_real_tokens(db_url):
    """Both EHRs are trusted; the second sends feedback on the first's card (it might have
    seen the uuid in a shared log): 200 for both, and only the first's counts."""
    app = auth_app(
        {ISS: issuer_config(), ISS_TENANTED: issuer_config(tenants=[TENANT])},
        database_url=db_url,
    )
    client = app.test_client()
    issued = client.post(SERVICE_PATH, json=prefetched_body(), headers=bearer(make_token()))
    (card,) = issued.get_json()["cards"]
    entry = accepted(card["uuid"], card["suggestions"][0]["uuid"])
    feedback = f"{SERVICE_PATH}/feedback"
    other = make_token(FEEDBACK_AUD, iss=ISS_TENANTED, tenant=TENANT)
    own = make_token(FEEDBACK_AUD)
    assert (
        client.post(feedback, json={"feedback": [entry]}, headers=bearer(other)).status_code == 200
    )
    assert client.post(feedback, json={"feedback": [entry]}, headers=bearer(own)).status_code == 200
    db = app.extensions["cds_b12"].db
    assert known(db) == [(ISS_TENANTED, TENANT, False), (ISS, None, True)]
    (ours, unknown) = report(db)
    assert (ours.rule, ours.issued, ours.feedback, ours.accepted) == (
        "R1-start-neuro-loading",
        1,
        1,
        1,
    )
    assert (unknown.rule, unknown.feedback) == (UNKNOWN_CARD, 1)
