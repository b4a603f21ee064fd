"""A prepared statement writes and reads the same values as ``Connection.execute`` of the
same statement, and fails as it does: with SQLAlchemy's exception, the transaction undone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from cds_b12.store.prepared import Prepared
from cds_b12.store.schema import HeldCard, HookCall, IssuedCard

from .support import counts, new_card

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
