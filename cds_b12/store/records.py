"""Writing: one hook call with its cards, and a batch of feedback entries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite

from ..hooks.feedback import Feedback as FeedbackEntry
from .db import Database
from .schema import Feedback, HookCall, IssuedCard


@dataclass(frozen=True, slots=True)
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


def record_calls(db: Database, calls: Sequence[CallRecord]) -> None:
    """Several hook calls and their cards in one transaction (Core inserts: no ORM session)."""
    with db.engine.begin() as conn:
        ids = (
            conn.execute(
                insert(HookCall).returning(HookCall.id, sort_by_parameter_order=True),
                [
                    {
                        "received_at": call.received_at,
                        "service_id": call.service_id,
                        "hook": call.hook,
                        "hook_instance": call.hook_instance[:200],
                        "issuer": call.issuer,
                        "tenant": call.tenant,
                        "patient_key": call.patient_key,
                        "profile": call.profile,
                    }
                    for call in calls
                ],
            )
            .scalars()
            .all()
        )
        cards = [
            {
                "uuid": card["uuid"],
                "call_id": call_id,
                "rule_id": rule,
                "indicator": card["indicator"],
                "suggestion_uuids": [s["uuid"] for s in card.get("suggestions", [])],
            }
            for call_id, call in zip(ids, calls, strict=True)
            for rule, card in call.cards
        ]
        if cards:
            conn.execute(insert(IssuedCard), cards)


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
    with db.session() as session:
        uuids = {e.card for e in entries}
        known = set(session.scalars(select(IssuedCard.uuid).where(IssuedCard.uuid.in_(uuids))))
        rows = [_row(service_id, e, now, e.card in known, issuer, tenant) for e in entries]
        dialect = postgresql if not db.is_sqlite else sqlite
        statement = (
            dialect.insert(Feedback)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["entry_key"])
            .returning(Feedback.id)
        )
        return len(session.execute(statement).all())


def _row(
    service_id: str,
    entry: FeedbackEntry,
    now: datetime,
    known: bool,
    issuer: str | None,
    tenant: str | None,
) -> dict:
    reason = entry.overrideReason.reason if entry.overrideReason else None
    accepted = [s.id for s in entry.acceptedSuggestions or ()]
    # the comment text is never kept, not even inside the hash of the entry
    fields = entry.model_dump(mode="json", exclude={"overrideReason": {"userComment"}})
    has_comment = bool(entry.overrideReason and entry.overrideReason.userComment)
    canonical = json.dumps([service_id, fields, has_comment], sort_keys=True)
    return {
        "entry_key": hashlib.sha256(canonical.encode()).hexdigest(),
        "received_at": now,
        "service_id": service_id,
        "card_uuid": entry.card,
        "known_card": known,
        "outcome": entry.outcome,
        "accepted_suggestions": accepted,
        "override_system": reason.system if reason else None,
        "override_code": reason.code if reason else None,
        "has_comment": has_comment,
        "outcome_at": datetime.fromisoformat(entry.outcomeTimestamp).astimezone(UTC),
        "issuer": issuer,
        "tenant": tenant,
    }
