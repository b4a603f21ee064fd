"""Reading, on the request path: a patient's earlier cards and what clinicians did with them.

One statement per hook call, built once: the patient's calls from the same issuer and
tenant since the policy's look-back (``ix_hook_call_patient_key``), their cards
(``ix_issued_card_call_id``) and the feedback on each (``ix_feedback_card_uuid``; only
feedback that counts for the card, ``known_card``). Only cards someone answered, or shown in
this ``hookInstance`` or encounter, come back: a patient's unanswered history stays in the
database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import and_, bindparam, or_, select

from ..fatigue.policy import Past
from .db import Database
from .schema import Feedback, HookCall, IssuedCard

_HISTORY = (
    select(
        IssuedCard.rule_id,
        IssuedCard.fingerprint,
        IssuedCard.evidence,
        HookCall.received_at.label("shown_at"),
        HookCall.hook_instance,
        HookCall.encounter,
        Feedback.outcome,
        Feedback.override_code,
        Feedback.outcome_at,
        Feedback.received_at.label("answer_received"),
    )
    .join(IssuedCard, IssuedCard.call_id == HookCall.id)
    .outerjoin(Feedback, and_(Feedback.card_uuid == IssuedCard.uuid, Feedback.known_card.is_(True)))
    .where(
        HookCall.patient_key == bindparam("patient"),
        HookCall.received_at >= bindparam("since"),
        HookCall.issuer.is_not_distinct_from(bindparam("issuer")),
        HookCall.tenant.is_not_distinct_from(bindparam("tenant")),
        or_(
            Feedback.id.is_not(None),
            HookCall.hook_instance == bindparam("hook_instance"),
            HookCall.encounter == bindparam("encounter"),
        ),
    )
)


def history(
    db: Database,
    *,
    patient_key: str,
    issuer: str | None,
    tenant: str | None,
    hook_instance: str,
    encounter: str | None,
    since: datetime,
) -> Sequence[Past]:
    params = {
        "patient": patient_key,
        "since": since,
        "issuer": issuer,
        "tenant": tenant,
        "hook_instance": hook_instance[:200],
        "encounter": encounter,
    }
    with db.engine.connect() as conn:
        rows = conn.execute(_HISTORY, params).all()
    return [
        Past(
            rule=r.rule_id,
            fingerprint=r.fingerprint,
            evidence=r.evidence,
            shown_at=_utc(r.shown_at),
            hook_instance=r.hook_instance,
            encounter=r.encounter,
            outcome=r.outcome,
            reason=r.override_code,
            # the earlier of the answer's own time and its arrival: a fast clock gains nothing
            answered_at=(
                min(_utc(r.outcome_at), _utc(r.answer_received)) if r.outcome_at else None
            ),
        )
        for r in rows
    ]


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
