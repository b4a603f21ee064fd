"""Reading: how each rule's cards fare with clinicians, and retention."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, delete, func, select

from .db import Database
from .schema import Feedback, HookCall, IssuedCard

UNKNOWN_CARD = "(unknown card)"
NO_REASON = "(no reason given)"
# feedback counts for a card only when it is about our card (``known_card``): another
# issuer's feedback on the same uuid is not
FOR_ITS_CARD = and_(Feedback.known_card.is_(True), IssuedCard.uuid == Feedback.card_uuid)


@dataclass(slots=True)
class RuleRow:
    rule: str
    service: str
    issued: int = 0
    feedback: int = 0
    accepted: int = 0
    overridden: int = 0
    override_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def acceptance_rate(self) -> float | None:
        return round(self.accepted / self.feedback, 3) if self.feedback else None

    def as_json(self) -> dict:
        return {**asdict(self), "acceptance_rate": self.acceptance_rate}


def report(db: Database, since: datetime | None = None) -> list[RuleRow]:
    """Per rule and service: cards issued since ``since``, and the feedback received since."""
    rows: dict[tuple[str, str], RuleRow] = {}

    def row(rule: str, service: str) -> RuleRow:
        return rows.setdefault((rule, service), RuleRow(rule, service))

    with db.session() as session:
        issued = (
            select(IssuedCard.rule_id, HookCall.service_id, func.count())
            .join(HookCall, IssuedCard.call_id == HookCall.id)
            .group_by(IssuedCard.rule_id, HookCall.service_id)
        )
        if since is not None:
            issued = issued.where(HookCall.received_at >= since)
        for rule, service, count in session.execute(issued):
            row(rule, service).issued = count

        outcomes = (
            select(
                IssuedCard.rule_id,
                Feedback.service_id,
                Feedback.outcome,
                Feedback.override_code,
                func.count(),
            )
            .outerjoin(IssuedCard, FOR_ITS_CARD)
            .group_by(
                IssuedCard.rule_id, Feedback.service_id, Feedback.outcome, Feedback.override_code
            )
        )
        if since is not None:
            outcomes = outcomes.where(Feedback.received_at >= since)
        reasons: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        for rule, service, outcome, code, count in session.execute(outcomes):
            target = row(rule or UNKNOWN_CARD, service)
            target.feedback += count
            if outcome == "accepted":
                target.accepted += count
            else:
                target.overridden += count
                key = code or NO_REASON
                bucket = reasons[(target.rule, service)]
                bucket[key] = bucket.get(key, 0) + count
    for key, counts in reasons.items():
        rows[key].override_reasons = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return sorted(rows.values(), key=lambda r: (_rule_order(r.rule), r.service))


def purge(db: Database, older_than_days: int) -> tuple[int, int]:
    """Delete hook calls (with their cards) and feedback received before the cut-off."""
    try:
        cutoff = datetime.now(UTC) - timedelta(days=older_than_days)
    except OverflowError:  # before the year 1: nothing is that old
        return 0, 0
    with db.session() as session:
        calls = session.execute(delete(HookCall).where(HookCall.received_at < cutoff)).rowcount
        feedback = session.execute(delete(Feedback).where(Feedback.received_at < cutoff)).rowcount
    return calls or 0, feedback or 0


def _rule_order(rule: str) -> tuple[int, str]:
    """R2 before R10; unknown cards last."""
    head = rule.split("-", 1)[0]
    return (int(head[1:]) if head[:1] == "R" and head[1:].isdigit() else 10_000, rule)
