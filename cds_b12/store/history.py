"""Reading, on the request path: a patient's earlier cards and what clinicians did with them.

One statement per hook call, built once, that reads only what a hold can come from: the
patient's answered cards (feedback that counts for its card, ``known_card``, found by its
``patient_key``: ``ix_feedback_patient_key``), and the patient's unanswered cards shown in
this ``hookInstance`` or encounter (``ix_hook_call_patient_instance``,
``ix_hook_call_patient_encounter``); both from the same issuer and tenant since the
policy's look-back. A patient's unanswered history elsewhere is not read at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, bindparam, cast, exists, null, or_, select, union_all

from ..fatigue.policy import Past
from .db import Database, as_utc
from .prepared import Prepared, pooled
from .schema import Feedback, HookCall, IssuedCard


def _card_columns() -> list[ColumnElement]:
    return [
        IssuedCard.rule_id,
        IssuedCard.fingerprint,
        IssuedCard.evidence,
        HookCall.received_at.label("shown_at"),
        HookCall.hook_instance,
        HookCall.encounter,
    ]


def _same_caller() -> ColumnElement[bool]:
    return and_(
        HookCall.received_at >= bindparam("since"),
        HookCall.issuer.is_not_distinct_from(bindparam("issuer")),
        HookCall.tenant.is_not_distinct_from(bindparam("tenant")),
    )


_ANSWERED = (
    select(
        *_card_columns(),
        Feedback.outcome,
        Feedback.override_code,
        Feedback.outcome_at,
        Feedback.received_at.label("answer_received"),
    )
    .select_from(Feedback)
    .join(IssuedCard, IssuedCard.uuid == Feedback.card_uuid)
    .join(HookCall, HookCall.id == IssuedCard.call_id)
    .where(Feedback.patient_key == bindparam("patient"), Feedback.known_card.is_(True))
    .where(_same_caller())
)
_SHOWN_HERE = (
    select(
        *_card_columns(),
        cast(null(), Feedback.outcome.type),
        cast(null(), Feedback.override_code.type),
        cast(null(), Feedback.outcome_at.type),
        cast(null(), Feedback.received_at.type),
    )
    .select_from(HookCall)
    .join(IssuedCard, IssuedCard.call_id == HookCall.id)
    .where(
        or_(  # each branch whole, so that each has its index (SQLite's planner)
            and_(
                HookCall.patient_key == bindparam("patient"),
                HookCall.hook_instance == bindparam("hook_instance"),
            ),
            and_(
                HookCall.patient_key == bindparam("patient"),
                HookCall.encounter == bindparam("encounter"),
            ),
        ),
        ~exists().where(Feedback.card_uuid == IssuedCard.uuid, Feedback.known_card.is_(True)),
    )
    .where(_same_caller())
)
_HISTORY = union_all(_ANSWERED, _SHOWN_HERE)
_PREPARED = Prepared(_HISTORY)  # no cache key or result object per call: ``prepared``


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
    reader = db.kept_reader()
    if reader is not None:
        rows = _PREPARED.rows(reader, params)
    else:
        with pooled(db.engine) as conn:
            rows = _PREPARED.rows(conn, params)
    return [
        Past(
            rule=rule,
            fingerprint=facts,
            evidence=evidence,
            shown_at=as_utc(shown_at),
            hook_instance=hook_instance,
            encounter=encounter,
            outcome=outcome,
            reason=reason,
            # the earlier of the answer's own time and its arrival: a fast clock gains nothing
            answered_at=as_utc(min(outcome_at, received)) if outcome_at else None,
        )
        for (
            rule,
            facts,
            evidence,
            shown_at,
            hook_instance,
            encounter,
            outcome,
            reason,
            outcome_at,
            received,
        ) in rows
    ]
