"""The history query reads only the answered cards and this visit's cards, by index, and
returns exactly what reading every call of the patient and keeping those rows returned."""

from __future__ import annotations

import itertools
import random
from dataclasses import astuple
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, bindparam, or_, select

from cds_b12.hooks.feedback import parse_feedback
from cds_b12.store.db import Database
from cds_b12.store.history import _HISTORY, history
from cds_b12.store.records import CallRecord, record_calls, record_feedback
from cds_b12.store.schema import Feedback, HookCall, IssuedCard

from .support import accepted, overridden

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
PATIENTS = ["p1", "p2"]
CALLERS = [(None, None), ("https://ehr.example", "t1"), ("https://ehr.example", "t2")]
INSTANCES = ["i1", "i2", "i3"]
ENCOUNTERS = [None, "e1", "e2"]


def every_call_of_the_patient(db, params: dict) -> list:
    """The query as it was: the patient's every call in the look-back, then the rows kept."""
    query = (
        select(
            IssuedCard.rule_id,
            IssuedCard.fingerprint,
            IssuedCard.evidence,
            HookCall.received_at,
            HookCall.hook_instance,
            HookCall.encounter,
            Feedback.outcome,
            Feedback.override_code,
            Feedback.outcome_at,
            Feedback.received_at,
        )
        .join(IssuedCard, IssuedCard.call_id == HookCall.id)
        .outerjoin(
            Feedback, and_(Feedback.card_uuid == IssuedCard.uuid, Feedback.known_card.is_(True))
        )
        .where(
            HookCall.patient_key == bindparam("patient_key"),
            HookCall.received_at >= bindparam("since"),
            HookCall.issuer.is_not_distinct_from(bindparam("issuer")),
            HookCall.tenant.is_not_distinct_from(bindparam("tenant")),
            or_(
                Feedback.id.is_not(None),
                HookCall.hook_instance == bindparam("hook_instance"),
                HookCall.encounter == bindparam("encounter"),  # no encounter: matches none
            ),
        )
    )
    with db.engine.connect() as conn:
        return conn.execute(query, params).all()


def test_history_is_what_reading_every_call_of_the_patient_kept(store):
    rng = random.Random(17)
    calls = []
    for n in range(60):
        issuer, tenant = rng.choice(CALLERS)
        calls.append(
            CallRecord(
                service_id="b12-patient-view",
                hook="patient-view",
                hook_instance=rng.choice(INSTANCES),
                issuer=issuer,
                tenant=tenant,
                patient_key=rng.choice(PATIENTS),
                profile="us",
                cards=[
                    (rule, {"uuid": f"card-{n}-{rule}", "indicator": "warning"})
                    for rule in rng.sample(["R1", "R2", "R3"], rng.randint(1, 2))
                ],
                received_at=NOW - timedelta(days=rng.choice([1, 10, 100, 400])),
                encounter=rng.choice(ENCOUNTERS),
            )
        )
    record_calls(store, calls[:40])
    # feedback on some cards: one answer, two answers, from the card's caller or another
    by_caller: dict[tuple, list[dict]] = {}
    for call in calls:
        for _rule, card in call.cards:
            if rng.random() < 0.4:
                caller = (call.issuer, call.tenant) if rng.random() < 0.8 else rng.choice(CALLERS)
                for _ in range(rng.choice([1, 1, 2])):
                    when = (NOW - timedelta(days=rng.randint(0, 30))).isoformat()
                    entry = (
                        accepted(card["uuid"], "s", when)
                        if rng.random() < 0.5
                        else overridden(
                            card["uuid"], rng.choice([None, "patient-declined"]), when=when
                        )
                    )
                    by_caller.setdefault(caller, []).append(entry)
    for (issuer, tenant), entries in by_caller.items():
        record_feedback(
            store,
            "b12-patient-view",
            parse_feedback({"feedback": entries}),
            issuer=issuer,
            tenant=tenant,
        )
    record_calls(store, calls[40:])  # these cards' feedback came first

    checked = 0
    for patient, (issuer, tenant), instance, encounter in itertools.product(
        PATIENTS, CALLERS, INSTANCES, ENCOUNTERS
    ):
        params = {
            "patient_key": patient,
            "issuer": issuer,
            "tenant": tenant,
            "hook_instance": instance,
            "encounter": encounter,
            "since": NOW - timedelta(days=365),
        }
        found = history(store, **params)
        expected = every_call_of_the_patient(store, params)
        assert sorted(_as_tuple(p) for p in found) == sorted(_expected(r) for r in expected)
        checked += len(found)
    assert checked > 100  # the data had something to find


def _as_tuple(p) -> tuple:
    return _sortable(astuple(p))  # Past's fields are in the order of the columns


def _expected(r) -> tuple:
    shown, outcome_at, received = (_utc(v) for v in (r[3], r[8], r[9]))
    answered = min(outcome_at, received) if outcome_at else None
    return _sortable((r[0], r[1], r[2], shown, r[4], r[5], r[6], r[7], answered))


def _utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def _sortable(row: tuple) -> tuple:
    return tuple((v is not None, v or 0) for v in row)


def test_sqlite_reads_the_history_by_its_indexes_only(tmp_path):
    """Not every call of the patient: the answers by patient, this visit's calls by patient
    and hookInstance or encounter (the form of the OR is what lets SQLite's planner see it)."""
    db = Database(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    db.upgrade()
    compiled = _HISTORY.compile(dialect=db.engine.dialect)
    values = {"patient": "p", "since": NOW, "hook_instance": "i", "encounter": "e"}
    params = [values.get(name) for name in compiled.positiontup]
    with db.engine.connect() as conn:
        plan = [
            row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(params))
        ]
    searches = [step for step in plan if step.startswith(("SEARCH", "SCAN"))]
    assert "SEARCH feedback USING INDEX ix_feedback_patient_key (patient_key=?)" in searches
    assert any(
        "ix_hook_call_patient_instance (patient_key=? AND hook_instance=?)" in s for s in searches
    )
    assert any(
        "ix_hook_call_patient_encounter (patient_key=? AND encounter=?)" in s for s in searches
    )
    assert not [s for s in searches if s.startswith("SCAN")]
    db.dispose()
