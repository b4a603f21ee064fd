"""A prepared statement writes and reads the same values as ``Connection.execute`` of the
same statement, and fails as it does: with SQLAlchemy's exception, the transaction undone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from cds_b12.fatigue.fingerprint import Fingerprint
from cds_b12.fatigue.policy import Hold
from cds_b12.hooks.feedback import Feedback as FeedbackEntry
from cds_b12.hooks.feedback import parse_feedback
from cds_b12.store import records
from cds_b12.store.db import Database
from cds_b12.store.prepared import Prepared, pooled
from cds_b12.store.records import CallRecord, record_feedback
from cds_b12.store.schema import Feedback, HeldCard, HookCall, IssuedCard

from .support import UNREACHABLE, counts, new_card

WHEN = datetime(2026, 11, 21, 12, 30, 15, 123456, tzinfo=UTC)
CALL = {
    "received_at": WHEN,
    "service_id": "b12-patient-view",
    "hook": "patient-view",
    "hook_instance": "i1",
    "issuer": None,
    "tenant": "t1",
    "patient_key": "p" * 64,
    "profile": "US",
    "encounter": None,
}
CALL_ID = Prepared(insert(HookCall).returning(HookCall.id), column_keys=list(CALL))
CARD = Prepared(
    insert(IssuedCard),
    column_keys=["uuid", "call_id", "rule_id", "indicator", "suggestion_uuids"],
)
HELD = Prepared(insert(HeldCard), column_keys=["call_id", "rule_id", "why", "until"])
READ = select(HookCall.received_at, HookCall.issuer, IssuedCard.suggestion_uuids, HeldCard.until)
READ = READ.join(IssuedCard, IssuedCard.call_id == HookCall.id).join(
    HeldCard, HeldCard.call_id == HookCall.id
)


def test_what_is_written_and_read_is_what_core_writes_and_reads(store):
    def rows(call_id: int) -> tuple[list[dict], list[dict]]:
        card = {"uuid": new_card(), "call_id": call_id, "rule_id": "R1", "indicator": "info"}
        held = {"call_id": call_id, "rule_id": "R1", "why": "repeat", "until": WHEN}
        return [{**card, "suggestion_uuids": ["é", "b"]}], [held]

    with store.engine.begin() as conn:
        (prepared_id,) = CALL_ID.rows(conn, CALL)[0]
        cards, held = rows(prepared_id)
        CARD.run_many(conn, cards)
        HELD.run_many(conn, held)
        (core_id,) = conn.execute(insert(HookCall).returning(HookCall.id), CALL).one()
        cards, held = rows(core_id)
        conn.execute(insert(IssuedCard), cards)
        conn.execute(insert(HeldCard), held)
    with store.engine.connect() as conn:
        core = [tuple(r) for r in conn.execute(READ.order_by(HookCall.id))]
        prepared = Prepared(READ.order_by(HookCall.id)).rows(conn, {})
    assert prepared == core
    assert core[0] == core[1]
    assert core[0][2] == ["é", "b"] and core[0][3].replace(tzinfo=UTC) == WHEN


def test_a_failed_write_is_sqlalchemys_error_and_undoes_the_transaction(store):
    rows = [
        {"uuid": "same", "call_id": 0, "rule_id": "R1", "indicator": "info"},
        {"uuid": "same", "call_id": 0, "rule_id": "R2", "indicator": "info"},
    ]
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        call_id = CALL_ID.rows(conn, {**CALL, "received_at": WHEN - timedelta(days=1)})[0][0]
        CARD.run_many(conn, [{**r, "call_id": call_id, "suggestion_uuids": []} for r in rows])
    assert counts(store)["hook_call"] == 0
    with store.engine.begin() as conn:  # the pool's connection is still good
        CALL_ID.rows(conn, CALL)
    assert counts(store)["hook_call"] == 1


def _rows(db: Database) -> list[tuple]:
    with db.engine.connect() as conn:
        return [
            (name, *row)
            for name in ("hook_call", "issued_card", "held_card", "feedback")
            for row in conn.execute(text(f"SELECT * FROM {name} ORDER BY 1"))
        ]


def test_the_audit_on_a_pooled_connection_writes_the_rows_a_connection_writes(tmp_path):
    """SQLite's audit rows go through ``pooled``: the same rows, byte for byte, as the same
    statements in ``engine.begin()``, card feedback matched to its card included."""
    calls = [_call(f"i{n}", cards=n % 3, held=n % 2) for n in range(5)]
    pooled_db, core_db = (Database(f"sqlite:///{tmp_path / name}") for name in ("a", "b"))
    for db in (pooled_db, core_db):
        db.upgrade()
        record_feedback(db, "b12-patient-view", [_early_feedback()], issuer=None, tenant="t1")
        with db.engine.begin() as conn:  # stored at "now": the same now in both
            conn.execute(update(Feedback).values(received_at=WHEN))
    records.record_calls(pooled_db, calls)
    with core_db.engine.begin() as conn:
        ids = [records._INSERT_CALL.rows(conn, _call_row(call))[0][0] for call in calls]
        records._record_cards(conn, ids, calls)
    assert _rows(pooled_db) == _rows(core_db)
    with pooled_db.engine.connect() as conn:  # the early feedback now counts for its card
        assert conn.execute(select(Feedback.known_card)).scalars().all() == [True]
    for db in (pooled_db, core_db):
        db.dispose()


def test_a_failed_pooled_write_is_sqlalchemys_error_and_undoes_the_transaction(store):
    rows = [
        {"uuid": "same", "call_id": 0, "rule_id": "R1", "indicator": "info"},
        {"uuid": "same", "call_id": 0, "rule_id": "R2", "indicator": "info"},
    ]
    with pytest.raises(IntegrityError), pooled(store.engine, commit=True) as conn:
        call_id = CALL_ID.rows(conn, CALL)[0][0]
        CARD.run_many(conn, [{**r, "call_id": call_id, "suggestion_uuids": []} for r in rows])
    assert counts(store)["hook_call"] == 0
    with pooled(store.engine, commit=True) as conn:  # the pool's connection is still good
        CALL_ID.rows(conn, CALL)
    assert counts(store)["hook_call"] == 1


def test_a_pooled_connection_without_commit_writes_nothing(store):
    with pooled(store.engine) as conn:
        CALL_ID.rows(conn, CALL)
    assert counts(store)["hook_call"] == 0


def test_a_store_that_cannot_be_reached_is_sqlalchemys_error():
    down = Database(UNREACHABLE)
    with pytest.raises(OperationalError), pooled(down.engine):
        pass
    down.dispose()


def _call(instance: str, cards: int, held: int) -> CallRecord:
    return CallRecord(
        service_id="b12-patient-view",
        hook="patient-view",
        hook_instance=instance,
        issuer=None,
        tenant="t1",
        patient_key="k" * 64,
        profile="us",
        cards=[
            (
                f"R{n}",
                {
                    "uuid": f"{instance}-card-{n}",
                    "indicator": "warning",
                    "suggestions": [{"uuid": f"{instance}-s{n}"}],
                },
            )
            for n in range(cards)
        ],
        received_at=WHEN,
        encounter="e1",
        fingerprints={f"R{n}": Fingerprint(f"f{n}", f"e{n}") for n in range(cards)},
        held=[Hold(f"R{9 + n}", "repeat", WHEN) for n in range(held)],
    )


def _call_row(call: CallRecord) -> dict:
    return {
        "received_at": call.received_at,
        "service_id": call.service_id,
        "hook": call.hook,
        "hook_instance": call.hook_instance,
        "issuer": call.issuer,
        "tenant": call.tenant,
        "patient_key": call.patient_key,
        "profile": call.profile,
        "encounter": call.encounter,
    }


def _early_feedback() -> FeedbackEntry:
    """Feedback on a card that reaches the store before the card's own audit row."""
    entry = {"card": "i1-card-0", "outcome": "overridden", "outcomeTimestamp": WHEN.isoformat()}
    return parse_feedback({"feedback": [entry]})[0]
