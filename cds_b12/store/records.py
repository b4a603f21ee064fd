"""Writing: hook calls with their cards, and batches of feedback entries.

Feedback counts for a card only when it comes to the service that issued the card, from
the issuer and tenant the card was issued to (``known_card``). Anything else (a card we
never issued, or another EHR's) is stored with ``known_card`` false and reported apart.

The two writes may meet in either order: a card's audit row is written by the worker (or
replica) that answered the hook call, off the request path, and its feedback may reach
another one first. So each side checks for the other inside its own transaction, and on
PostgreSQL both take an advisory lock per card, so that of two concurrent transactions the
second always sees the first. On SQLite, transactions that write are serialized already.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Connection, bindparam, exists, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from ..fatigue.fingerprint import Fingerprint
from ..fatigue.policy import Hold
from ..hooks.feedback import Feedback as FeedbackEntry
from .db import Database
from .prepared import Pooled, Prepared, pooled
from .schema import Feedback, HeldCard, HookCall, IssuedCard


# not frozen: a frozen dataclass sets each field through object.__setattr__, and building
# one took 27 K instructions (12 K now). Nothing changes a record once built.
@dataclass(slots=True)
class CallRecord:
    service_id: str
    hook: str
    hook_instance: str
    issuer: str | None
    tenant: str | None
    patient_key: str
    profile: str
    cards: Sequence[tuple[str, dict]]  # (rule id, card as sent)
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    encounter: str | None = None
    fingerprints: Mapping[str, Fingerprint] = field(default_factory=dict)  # by rule id
    held: Sequence[Hold] = ()  # the cards this call did not show (fatigue/policy.py)


def record_calls(db: Database, calls: Sequence[CallRecord]) -> None:
    """Several hook calls and their cards in one transaction: each statement built and
    compiled once (``prepared``: no ORM session, and none of Core's per-execution work)."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        # on a pooled connection, with no Connection around it (``prepared.pooled``)
        with pooled(engine, commit=True) as conn:
            write_calls(conn, calls)
        return
    with engine.begin() as conn:
        write_calls(conn, calls)


def write_calls(conn: Connection | Pooled, calls: Sequence[CallRecord]) -> None:
    """``record_calls`` in the transaction the caller ends: on SQLite a ``Pooled``
    connection, on PostgreSQL a ``Connection`` (``KeptConnection`` keeps either)."""
    rows = [
        {
            "received_at": call.received_at,
            "service_id": call.service_id,
            "hook": call.hook,
            "hook_instance": call.hook_instance[:200],
            "issuer": call.issuer,
            "tenant": call.tenant,
            "patient_key": call.patient_key,
            "profile": call.profile,
            "encounter": call.encounter[:200] if call.encounter else None,
        }
        for call in calls
    ]
    if isinstance(conn, Pooled):
        # one row at a time: on this connection's own file no round trip is saved by more
        ids = [_INSERT_CALL.rows(conn, row)[0][0] for row in rows]
    else:
        ids = conn.execute(_INSERT_CALL_IN_ORDER, rows).scalars().all()
    _record_cards(conn, ids, calls)


def _record_cards(
    conn: Connection | Pooled, ids: Sequence[int], calls: Sequence[CallRecord]
) -> None:
    """Each call's cards and held cards, and the feedback that came before its card."""
    cards = []
    held = []
    for call_id, call in zip(ids, calls, strict=True):
        for rule, card in call.cards:
            fp = call.fingerprints.get(rule)
            cards.append(
                {
                    "uuid": card["uuid"],
                    "call_id": call_id,
                    "rule_id": rule,
                    "indicator": card["indicator"],
                    "suggestion_uuids": [s["uuid"] for s in card.get("suggestions", ())],
                    "fingerprint": fp.facts if fp else None,
                    "evidence": fp.evidence if fp else None,
                }
            )
        for hold in call.held:
            held.append(
                {
                    "call_id": call_id,
                    "rule_id": hold.rule,
                    "why": hold.why,
                    "reason": hold.reason,
                    "until": hold.until,
                }
            )
    if held:
        _INSERT_HELD.run_many(conn, held)
    if cards:
        _INSERT_CARD.run_many(conn, cards)
        uuids = [card["uuid"] for card in cards]
        _lock_cards(conn, uuids)  # after the insert: see the module docstring
        _FEEDBACK_BEFORE_ITS_CARD.run_many(conn, [{"uuid": u} for u in uuids])


_CALL_COLUMNS = [
    "received_at",
    "service_id",
    "hook",
    "hook_instance",
    "issuer",
    "tenant",
    "patient_key",
    "profile",
    "encounter",
]
_INSERT_CALL = Prepared(insert(HookCall).returning(HookCall.id), column_keys=_CALL_COLUMNS)
_INSERT_CALL_IN_ORDER = insert(HookCall).returning(HookCall.id, sort_by_parameter_order=True)
_INSERT_CARD = Prepared(
    insert(IssuedCard),
    column_keys=[
        "uuid",
        "call_id",
        "rule_id",
        "indicator",
        "suggestion_uuids",
        "fingerprint",
        "evidence",
    ],
)
_INSERT_HELD = Prepared(
    insert(HeldCard), column_keys=["call_id", "rule_id", "why", "reason", "until"]
)


def record_feedback(
    db: Database,
    service_id: str,
    entries: Sequence[FeedbackEntry],
    *,
    issuer: str | None,
    tenant: str | None,
) -> int:
    """Store every entry in one transaction; returns how many were new (a resend is a no-op)."""
    now = datetime.now(UTC)
    rows = [_row(service_id, e, now, issuer, tenant) for e in entries]
    dialect = postgresql if not db.is_sqlite else sqlite
    with db.engine.begin() as conn:
        _lock_cards(conn, {e.card for e in entries})
        new = (
            conn.execute(
                dialect.insert(Feedback)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["entry_key"])
                .returning(Feedback.id)
            )
            .scalars()
            .all()
        )
        if new:
            conn.execute(_FEEDBACK_ON_A_KNOWN_CARD, {"ids": new})
    return len(new)


def _issued() -> ColumnElement[bool]:
    """The feedback row's card was issued by its service to its issuer and tenant."""
    return exists(
        select(IssuedCard.uuid)
        .join(HookCall, IssuedCard.call_id == HookCall.id)
        .where(
            IssuedCard.uuid == Feedback.card_uuid,
            HookCall.service_id == Feedback.service_id,
            HookCall.issuer.is_not_distinct_from(Feedback.issuer),
            HookCall.tenant.is_not_distinct_from(Feedback.tenant),
        )
    )


# the patient of the feedback row's card, kept with it: history finds the answers by index
_COUNTS_FOR_ITS_CARD = {
    "known_card": True,
    "patient_key": (
        select(HookCall.patient_key)
        .join(IssuedCard, IssuedCard.call_id == HookCall.id)
        .where(IssuedCard.uuid == Feedback.card_uuid)
        .scalar_subquery()
    ),
}

# built once: a statement built per call costs more CPU than the write itself
_FEEDBACK_BEFORE_ITS_CARD = Prepared(
    update(Feedback)
    .where(
        Feedback.card_uuid == bindparam("uuid"),
        Feedback.known_card.is_(False),
        _issued(),
    )
    .values(_COUNTS_FOR_ITS_CARD)
)
_FEEDBACK_ON_A_KNOWN_CARD = (
    update(Feedback)
    .where(Feedback.id.in_(bindparam("ids", expanding=True)), _issued())
    .values(_COUNTS_FOR_ITS_CARD)
)

_CARD_LOCKS = 0xB12  # advisory lock namespace (the two-key form: apart from the migration's)


def _lock_cards(conn: Connection | Pooled, uuids: Iterable[str]) -> None:
    """PostgreSQL: a transaction-scoped lock per card uuid (a 32-bit hash of it: a collision
    only serializes two unrelated transactions), taken in one order to rule out deadlocks."""
    if conn.dialect.name != "postgresql":
        return
    keys = sorted(
        {int.from_bytes(hashlib.sha256(u.encode()).digest()[:4], "big", signed=True) for u in uuids}
    )
    if keys:
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:space, k) FROM unnest(CAST(:keys AS integer[])) k"),
            {"space": _CARD_LOCKS, "keys": keys},
        )


def _row(
    service_id: str, entry: FeedbackEntry, now: datetime, issuer: str | None, tenant: str | None
) -> dict:
    reason = entry.overrideReason.reason if entry.overrideReason else None
    accepted = [s.id for s in entry.acceptedSuggestions or ()]
    # the comment text is never kept, not even inside the hash of the entry
    fields = entry.model_dump(mode="json", exclude={"overrideReason": {"userComment"}})
    has_comment = bool(entry.overrideReason and entry.overrideReason.userComment)
    # the same entry from another issuer or tenant is another entry
    canonical = json.dumps([service_id, issuer, tenant, fields, has_comment], sort_keys=True)
    return {
        "entry_key": hashlib.sha256(canonical.encode()).hexdigest(),
        "received_at": now,
        "service_id": service_id,
        "card_uuid": entry.card,
        "known_card": False,  # until _issued() says otherwise, in the same transaction
        "outcome": entry.outcome,
        "accepted_suggestions": accepted,
        "override_system": reason.system if reason else None,
        "override_code": reason.code if reason else None,
        "has_comment": has_comment,
        "outcome_at": entry.outcome_at,
        "issuer": issuer,
        "tenant": tenant,
    }
